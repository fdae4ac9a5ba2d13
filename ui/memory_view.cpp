#include "ui/memory_view.h"

#include <QHelpEvent>
#include <QLocale>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace memlong::ui {

MemoryView::MemoryView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent, false);
}

void MemoryView::setRows(std::vector<MemoryRow> rows) {
  m_rows = std::move(rows);
  updateGeometry();
  update();
}

void MemoryView::setEntries(qint64 docId, const QString& title, qint64 nTokens,
                            const std::vector<memlong::MemoryMapEntry>& entries) {
  auto it = std::find_if(m_rows.begin(), m_rows.end(),
                         [docId](const MemoryRow& r) { return r.docId == docId; });
  if (it == m_rows.end()) {
    m_rows.push_back(MemoryRow{docId, title, nTokens, entries});
    updateGeometry();
  } else {
    it->title = title;
    it->nTokens = nTokens;
    it->entries = entries;
  }
  update();
}

void MemoryView::setCitedEntries(const QSet<qint64>& entryIds) {
  m_cited = entryIds;
  update();
}

QRect MemoryView::barRect(int row, const QRect& area) {
  // The bar sits in the upper part of its row; a caption (tokens, entries) runs below it.
  const int top = area.top() + kMargin + row * kRowHeight + 6;
  const int left = area.left() + kMargin + kLabelWidth;
  return QRect(left, top, std::max(1, area.width() - 2 * kMargin - kLabelWidth), kBarHeight);
}

QColor MemoryView::colorForHits(uint32_t hits, uint32_t maxHits) {
  // Pale blue (never retrieved) to deep blue (retrieved most often).
  const QColor pale(160, 200, 240);
  const QColor deep(20, 70, 180);
  const double t = maxHits == 0 ? 0.0 : std::min(1.0, static_cast<double>(hits) / maxHits);
  return QColor(static_cast<int>(pale.red() + t * (deep.red() - pale.red())),
                static_cast<int>(pale.green() + t * (deep.green() - pale.green())),
                static_cast<int>(pale.blue() + t * (deep.blue() - pale.blue())));
}

QColor MemoryView::colorEvicted() {
  return QColor(150, 150, 150);
}

QColor MemoryView::colorCited() {
  return QColor(220, 40, 40);
}

QColor MemoryView::colorTrack(const QPalette& palette) {
  return palette.color(QPalette::Midlight);
}

void MemoryView::paintMap(QPainter& p, const QRect& area, const std::vector<MemoryRow>& rows,
                          const QSet<qint64>& cited, const QPalette& palette) {
  p.save();
  p.setRenderHint(QPainter::Antialiasing, false);
  uint32_t maxHits = 0;
  for (const MemoryRow& r : rows) {
    for (const auto& e : r.entries) maxHits = std::max(maxHits, e.hits);
  }
  if (rows.empty()) {
    p.setPen(palette.color(QPalette::PlaceholderText));
    p.drawText(area.adjusted(kMargin, kMargin, -kMargin, -kMargin),
               Qt::AlignCenter | Qt::TextWordWrap,
               tr("No memory yet: add a book in the Library and it appears here."));
    p.restore();
    return;
  }
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    const MemoryRow& r = rows[static_cast<size_t>(i)];
    const QRect bar = barRect(i, area);
    const QRect label(area.left() + kMargin, bar.top() - 6, kLabelWidth - kMargin, kBarHeight + 12);
    p.setPen(palette.color(QPalette::WindowText));
    p.drawText(label, Qt::AlignVCenter | Qt::AlignLeft,
               p.fontMetrics().elidedText(r.title, Qt::ElideRight, label.width()));
    p.fillRect(bar, colorTrack(palette));
    int nEvicted = 0;
    for (const auto& e : r.entries) nEvicted += e.in_memory ? 0 : 1;
    QFont small = p.font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    p.save();
    p.setFont(small);
    p.setPen(palette.color(QPalette::PlaceholderText));
    p.drawText(QRect(bar.left(), bar.bottom() + 2, bar.width(), kRowHeight - kBarHeight - 8),
               Qt::AlignLeft | Qt::AlignTop,
               tr("%1 tokens · %2 entries · %3 evicted")
                   .arg(QLocale().toString(r.nTokens))
                   .arg(r.entries.size())
                   .arg(nEvicted));
    p.restore();
    if (r.nTokens <= 0) continue;
    const double scale = static_cast<double>(bar.width()) / static_cast<double>(r.nTokens);
    auto xOf = [&](int64_t token) {
      return bar.left() + static_cast<int>(std::clamp<int64_t>(token, 0, r.nTokens) * scale);
    };
    for (const auto& e : r.entries) {
      const int x0 = xOf(e.token_begin);
      const int x1 = std::max(x0 + 1, xOf(e.token_end));
      const QRect seg(x0, bar.top(), x1 - x0, bar.height());
      p.fillRect(seg, e.in_memory ? colorForHits(e.hits, maxHits) : colorEvicted());
      // Entry boundaries, where entries are wide enough to tell apart.
      if (seg.width() >= 4)
        p.fillRect(QRect(x0, bar.top(), 1, bar.height()), palette.color(QPalette::Base));
    }
    // Citations on top, so a cited entry next to others stays visible.
    for (const auto& e : r.entries) {
      if (!cited.contains(e.entry_id)) continue;
      const int x0 = xOf(e.token_begin);
      const int x1 = std::max(x0 + 1, xOf(e.token_end));
      const QRect seg(x0, bar.top(), x1 - x0, bar.height());
      p.setPen(QPen(colorCited(), 2));
      p.setBrush(Qt::NoBrush);
      p.drawRect(seg.adjusted(1, 1, -1, -1));
      const int cx = (x0 + x1) / 2;
      const QPoint tri[3] = {QPoint(cx - 4, bar.top() - 6), QPoint(cx + 4, bar.top() - 6),
                             QPoint(cx, bar.top() - 1)};
      p.setPen(Qt::NoPen);
      p.setBrush(colorCited());
      p.drawPolygon(tri, 3);
    }
  }
  // Legend.
  const int y = area.top() + kMargin + static_cast<int>(rows.size()) * kRowHeight + 6;
  int x = area.left() + kMargin;
  auto swatch = [&](const QColor& c, const QString& text, bool frame) {
    const QRect box(x, y + 4, 14, 12);
    p.fillRect(box, frame ? colorTrack(palette) : c);
    if (frame) {
      p.setPen(QPen(c, 2));
      p.setBrush(Qt::NoBrush);
      p.drawRect(box.adjusted(1, 1, -1, -1));
    }
    p.setPen(palette.color(QPalette::WindowText));
    const int w = p.fontMetrics().horizontalAdvance(text);
    p.drawText(QRect(x + 18, y, w + 4, kLegendHeight - 4), Qt::AlignVCenter, text);
    x += 18 + w + 16;
  };
  swatch(colorForHits(0, 1), tr("in memory, never retrieved"), false);
  swatch(colorForHits(1, 1), tr("retrieved most"), false);
  swatch(colorEvicted(), tr("evicted"), false);
  swatch(colorCited(), tr("cited by the answer"), true);
  p.restore();
}

QSize MemoryView::sizeHint() const {
  return QSize(640, 2 * kMargin +
                        static_cast<int>(std::max<size_t>(1, m_rows.size())) * kRowHeight +
                        kLegendHeight + 8);
}

QSize MemoryView::minimumSizeHint() const {
  return QSize(kLabelWidth + 120, 2 * kMargin + kRowHeight + kLegendHeight);
}

void MemoryView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  paintMap(p, rect(), m_rows, m_cited, palette());
}

std::pair<int, const memlong::MemoryMapEntry*> MemoryView::entryAt(const QPoint& pos) const {
  for (int i = 0; i < static_cast<int>(m_rows.size()); ++i) {
    const QRect bar = barRect(i, rect());
    if (!bar.adjusted(0, -4, 0, 4).contains(pos)) continue;
    const MemoryRow& r = m_rows[static_cast<size_t>(i)];
    if (r.nTokens <= 0) return {i, nullptr};
    const double token = static_cast<double>(pos.x() - bar.left()) * r.nTokens / bar.width();
    for (const auto& e : r.entries) {
      if (token >= e.token_begin && token < e.token_end) return {i, &e};
    }
    return {i, nullptr};
  }
  return {-1, nullptr};
}

void MemoryView::mousePressEvent(QMouseEvent* event) {
  auto [row, entry] = entryAt(event->position().toPoint());
  if (row >= 0 && entry != nullptr) {
    emit entryClicked(m_rows[static_cast<size_t>(row)].docId, entry->entry_id);
  }
  QWidget::mousePressEvent(event);
}

bool MemoryView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    auto [row, entry] = entryAt(help->pos());
    if (row >= 0 && entry != nullptr) {
      QToolTip::showText(help->globalPos(),
                         tr("Tokens %1–%2, retrieved %3 time(s), %4")
                             .arg(entry->token_begin)
                             .arg(entry->token_end)
                             .arg(entry->hits)
                             .arg(entry->in_memory ? tr("in memory") : tr("evicted")),
                         this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace memlong::ui
