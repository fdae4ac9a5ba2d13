// MemoryView: painting into a QImage puts the documented colours at the token positions of each
// entry (hits shade, evicted grey, bare track, cited frame and marker).
#include <QImage>
#include <QPainter>
#include <QtTest>

#include "ui/memory_view.h"

using memlong::MemoryMapEntry;
using memlong::ui::MemoryRow;
using memlong::ui::MemoryView;

namespace {
MemoryMapEntry entry(int64_t id, int64_t begin, int64_t end, uint32_t hits, bool inMemory) {
  MemoryMapEntry e;
  e.entry_id = id;
  e.token_begin = begin;
  e.token_end = end;
  e.hits = hits;
  e.in_memory = inMemory;
  return e;
}
}  // namespace

class MemoryViewTest : public QObject {
  Q_OBJECT

 private slots:
  void colours() {
    QCOMPARE(MemoryView::colorForHits(0, 4), QColor(160, 200, 240));
    QCOMPARE(MemoryView::colorForHits(4, 4), QColor(20, 70, 180));
    QCOMPARE(MemoryView::colorForHits(2, 4), QColor(90, 135, 210));
    QCOMPARE(MemoryView::colorForHits(3, 0), QColor(160, 200, 240));
  }

  void paintsEntriesAtTheirTokenPositions() {
    const QRect area(0, 0, 188 + 400 + 8, 120);  // bar: x 188..587, 400 px for 1000 tokens
    std::vector<MemoryRow> rows(2);
    rows[0].docId = 1;
    rows[0].title = QStringLiteral("Persuasion");
    rows[0].nTokens = 1000;
    rows[0].entries = {entry(10, 0, 250, 0, true), entry(11, 250, 500, 4, true),
                       entry(12, 500, 750, 2, false)};
    rows[1].docId = 2;
    rows[1].title = QStringLiteral("Emma");
    rows[1].nTokens = 2000;
    rows[1].entries = {entry(20, 1000, 2000, 2, true)};
    QPalette palette;
    palette.setColor(QPalette::Midlight, QColor(230, 230, 230));
    palette.setColor(QPalette::Base, Qt::white);
    QImage img(area.size(), QImage::Format_RGB32);
    img.fill(Qt::white);
    {
      QPainter p(&img);
      MemoryView::paintMap(p, area, rows, QSet<qint64>{11}, palette);
    }
    const QRect bar0 = MemoryView::barRect(0, area);
    QCOMPARE(bar0.left(), 188);
    QCOMPARE(bar0.width(), 400);
    const int y0 = bar0.center().y();
    auto at = [&](int x, int y) { return QColor(img.pixel(x, y)); };
    QCOMPARE(at(188 + 50, y0), MemoryView::colorForHits(0, 4));   // tokens 0..250
    QCOMPARE(at(188 + 150, y0), MemoryView::colorForHits(4, 4));  // tokens 250..500 (centre)
    QCOMPARE(at(188 + 250, y0), MemoryView::colorEvicted());      // tokens 500..750
    QCOMPARE(at(188 + 350, y0), QColor(230, 230, 230));           // no entry: the track
    // The cited entry has a red frame inside its edges and a marker above the bar.
    QCOMPARE(at(188 + 150, bar0.top() + 1), MemoryView::colorCited());
    QCOMPARE(at(188 + 101, y0), MemoryView::colorCited());
    QCOMPARE(at(188 + 150, bar0.top() - 3), MemoryView::colorCited());
    // Uncited entries have no marker.
    QCOMPARE(at(188 + 50, bar0.top() - 3), QColor(Qt::white));
    // Second row: 2000 tokens, one entry on the second half, hits 2 of max 4.
    const QRect bar1 = MemoryView::barRect(1, area);
    QCOMPARE(bar1.top() - bar0.top(), MemoryView::kRowHeight);
    QCOMPARE(at(188 + 100, bar1.center().y()), QColor(230, 230, 230));
    QCOMPARE(at(188 + 300, bar1.center().y()), MemoryView::colorForHits(2, 4));
  }

  void widgetPaintsAndReportsClicks() {
    MemoryView view;
    view.resize(596, 140);
    view.setEntries(7, QStringLiteral("Book"), 100,
                    {entry(70, 0, 50, 1, true), entry(71, 50, 100, 0, false)});
    QCOMPARE(view.rows().size(), size_t{1});
    const QImage img = view.grab().toImage();
    const QRect bar = MemoryView::barRect(0, view.rect());
    QCOMPARE(QColor(img.pixel(bar.left() + bar.width() / 4, bar.center().y())),
             MemoryView::colorForHits(1, 1));
    QSignalSpy clicked(&view, &MemoryView::entryClicked);
    QTest::mouseClick(&view, Qt::LeftButton, {},
                      QPoint(bar.left() + bar.width() * 3 / 4, bar.center().y()));
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.at(0).at(0).toLongLong(), 7);
    QCOMPARE(clicked.at(0).at(1).toLongLong(), 71);
  }
};

QTEST_MAIN(MemoryViewTest)
#include "memory_view_qtest.moc"
