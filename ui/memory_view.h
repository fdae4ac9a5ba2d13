// MemoryView: what the session's MemLong memory holds of each book, painted by hand. One bar per
// document runs along its length in tokens; each memory entry is a segment coloured by how often
// it was retrieved (pale = never, deep = most often), evicted entries are grey, and the entries
// cited by the current answer carry a red frame and a marker above the bar. Parts of a book with
// no entry show the bare track. Clicking an entry asks to open it in the Reader.
// Colours come from colorFor*() so tests can check painted pixels; the track follows the palette.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QColor>
#include <QPalette>
#include <QSet>
#include <QWidget>
#include <vector>

#include "core/assistant/assistant_types.h"

namespace memlong::ui {

struct MemoryRow {
  qint64 docId = 0;
  QString title;
  qint64 nTokens = 0;
  std::vector<memlong::MemoryMapEntry> entries;
};

class MemoryView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMargin = 8;
  static constexpr int kLabelWidth = 180;
  static constexpr int kRowHeight = 44;
  static constexpr int kBarHeight = 14;
  static constexpr int kLegendHeight = 24;

  explicit MemoryView(QWidget* parent = nullptr);

  void setRows(std::vector<MemoryRow> rows);
  // Replaces one document's entries (a memory_map result); adds the row if it is new.
  void setEntries(qint64 docId, const QString& title, qint64 nTokens,
                  const std::vector<memlong::MemoryMapEntry>& entries);
  void setCitedEntries(const QSet<qint64>& entryIds);
  const std::vector<MemoryRow>& rows() const { return m_rows; }

  // Geometry and colours (public so tests can check pixels).
  static QRect barRect(int row, const QRect& area);
  static QColor colorForHits(uint32_t hits, uint32_t maxHits);
  static QColor colorEvicted();
  static QColor colorCited();
  static QColor colorTrack(const QPalette& palette);
  // Paints everything into `area` with `painter` (no antialiasing on the bars).
  static void paintMap(QPainter& painter, const QRect& area, const std::vector<MemoryRow>& rows,
                       const QSet<qint64>& cited, const QPalette& palette);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  void entryClicked(qint64 docId, qint64 entryId);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  // The entry under `pos`, or {-1, nullptr}.
  std::pair<int, const memlong::MemoryMapEntry*> entryAt(const QPoint& pos) const;

  std::vector<MemoryRow> m_rows;
  QSet<qint64> m_cited;
};

}  // namespace memlong::ui
