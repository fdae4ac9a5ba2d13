// The GUI thread never blocks: while the engine worker does long real work (loading the default
// model; ingesting a short book and answering a question), a 10 ms QTimer on the GUI thread keeps
// ticking. The test measures the gaps between ticks (the first one excluded: it includes the time
// to start the timer) and requires the 99th percentile to stay under 50 ms and the largest gap
// under 100 ms. A GUI thread that waited for the engine would show gaps as long as the job
// (seconds); the looser bound on the single largest gap allows for the scheduler of a loaded
// 2-core machine (runs here with a load average of ~12 from parallel builds saw single gaps of
// 23-60 ms while loading the model). The worker runs with one thread, so the GUI thread has a
// core of its own; the numbers are printed.
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <algorithm>
#include <functional>
#include <vector>

#include "qtest_support.h"

using namespace memlong::ui;
using memlong::ui::test::Outcome;

namespace {
constexpr int kTickMs = 10;
constexpr qint64 kP99StallMs = 50;
constexpr qint64 kMaxStallMs = 100;

struct Stall {
  qint64 maxGapMs = 0;
  qint64 p99GapMs = 0;
  qint64 meanGapUs = 0;
  int ticks = 0;
  qint64 jobMs = 0;
};

// Runs the event loop until `done()` while a 10 ms timer ticks; returns the gaps.
Stall measure(const std::function<bool()>& done, int timeoutMs) {
  Stall s;
  QElapsedTimer clock;
  clock.start();
  qint64 last = -1;
  qint64 sum = 0;
  std::vector<qint64> gaps;
  QTimer timer;
  timer.setTimerType(Qt::PreciseTimer);
  QObject::connect(&timer, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed() / 1000;
    if (last >= 0 && s.ticks >= 1) {  // exclude the first tick's gap
      s.maxGapMs = std::max(s.maxGapMs, (now - last + 500) / 1000);
      gaps.push_back((now - last + 500) / 1000);
      sum += now - last;
    }
    ++s.ticks;
    last = now;
  });
  timer.start(kTickMs);
  while (!done() && clock.elapsed() < timeoutMs) {
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
  }
  timer.stop();
  s.jobMs = clock.elapsed();
  s.meanGapUs = s.ticks > 1 ? sum / (s.ticks - 1) : 0;
  if (!gaps.empty()) {
    std::sort(gaps.begin(), gaps.end());
    s.p99GapMs = gaps[std::min(gaps.size() - 1, gaps.size() * 99 / 100)];
  }
  return s;
}

// The loop above sleeps until the next event (the timer wakes it every 10 ms), so it adds no
// stall and burns no CPU; a gap means the GUI thread could not run.
void report(const char* what, const Stall& s) {
  qInfo("%s: job %lld ms, %d ticks, max gap %lld ms, p99 gap %lld ms, mean gap %.2f ms", what,
        s.jobMs, s.ticks, s.maxGapMs, s.p99GapMs, s.meanGapUs / 1000.0);
}

void checkStall(const Stall& s) {
  QVERIFY2(s.p99GapMs < kP99StallMs, qPrintable(QStringLiteral("p99 gap %1 ms").arg(s.p99GapMs)));
  QVERIFY2(s.maxGapMs < kMaxStallMs, qPrintable(QStringLiteral("max gap %1 ms").arg(s.maxGapMs)));
}
}  // namespace

class EventLoopStallTest : public QObject {
  Q_OBJECT

 private slots:
  void whileLoadingTheModel() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    EngineController engine;
    Outcome o;
    test::track(&engine, engine.open(test::testOptions(lib.path())), &o);
    const Stall s = measure([&] { return o.finished; }, 120000);
    report("load model", s);
    QVERIFY(o.finished);
    QVERIFY2(!o.error, qPrintable(test::describe(o)));
    QVERIFY(s.ticks > 5);
    checkStall(s);
  }

  void whileIngesting() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 6000);
    QVERIFY(!book.isEmpty());
    EngineController engine;
    Outcome opened, ingested;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    QTRY_VERIFY_WITH_TIMEOUT(opened.finished, 120000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QSignalSpy progress(engine.worker(), &EngineWorker::ingestProgress);
    test::track(&engine, engine.ingest({book}), &ingested);
    const Stall s = measure([&] { return ingested.finished; }, 300000);
    report("ingest", s);
    QVERIFY2(!ingested.error, qPrintable(test::describe(ingested)));
    QVERIFY(progress.count() > 0);
    QVERIFY(s.ticks > 5);
    checkStall(s);
  }

  void whileAnswering() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 4000);
    QVERIFY(!book.isEmpty());
    EngineController engine;
    Outcome opened, ingested, answered;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    test::track(&engine, engine.ingest({book}), &ingested);
    QTRY_VERIFY_WITH_TIMEOUT(ingested.finished, 300000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QVERIFY2(!ingested.error, qPrintable(test::describe(ingested)));
    QSignalSpy pieces(engine.worker(), &EngineWorker::answerPiece);
    memlong::AskOptions ask;
    ask.max_tokens = 48;
    test::track(&engine, engine.ask(QStringLiteral("Who is Sir Walter Elliot?"), ask), &answered);
    const Stall s = measure([&] { return answered.finished; }, 300000);
    report("answer", s);
    QVERIFY2(!answered.error, qPrintable(test::describe(answered)));
    QVERIFY(pieces.count() > 0);
    checkStall(s);
  }
};

QTEST_MAIN(EventLoopStallTest)
#include "event_loop_stall_qtest.moc"
