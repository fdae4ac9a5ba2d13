// EngineWorker through EngineController: the worker runs on the named engine thread, every request
// ends with one outcome, errors carry core's code and an actionable message, and Cancel (set
// directly from the GUI thread) stops ingestion and answers. Uses the real default model.
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include "qtest_support.h"
#include "ui/error_text.h"

using namespace memlong::ui;
using memlong::ui::test::Outcome;

namespace {
// Ingestion that was cancelled reports Cancelled per file, or fails as a whole with Cancelled.
void assertIngestCancelled(const Outcome& ingested, const QSignalSpy& report) {
  if (ingested.error) {
    QVERIFY2(ingested.error->code == memlong::StatusCode::kCancelled,
             qPrintable(test::describe(ingested)));
    return;
  }
  QCOMPARE(report.count(), 1);
  const auto r = report.at(0).at(1).value<memlong::IngestReport>();
  QCOMPARE(r.files.size(), size_t{1});
  QCOMPARE(r.files[0].outcome, memlong::IngestStage::kCancelled);
}
}  // namespace

class EngineWorkerTest : public QObject {
  Q_OBJECT

 private slots:
  void requestsBeforeOpenFailWithNotFound() {
    EngineController engine;
    Outcome o;
    test::track(&engine, engine.listDocuments(), &o);
    QTRY_VERIFY_WITH_TIMEOUT(o.finished, 10000);
    QVERIFY(o.error.has_value());
    QCOMPARE(o.error->code, memlong::StatusCode::kNotFound);
    QVERIFY(ErrorText::describe(*o.error).contains(QStringLiteral("scripts/setup")));
    QVERIFY(!engine.isBusy());
  }

  void missingModelSaysWhatToDo() {
    QTemporaryDir lib;
    EngineController engine;
    memlong::AssistantOptions options = test::testOptions(lib.path());
    options.model_path = lib.filePath(QStringLiteral("no-such-model.gguf")).toStdString();
    Outcome o;
    test::track(&engine, engine.open(options), &o);
    QTRY_VERIFY_WITH_TIMEOUT(o.finished, 20000);
    QVERIFY(o.error.has_value());
    QVERIFY2(o.error->code == memlong::StatusCode::kNotFound ||
                 o.error->code == memlong::StatusCode::kIoError,
             qPrintable(test::describe(o)));
    QVERIFY2(o.error->message.contains(QStringLiteral("no-such-model.gguf")),
             qPrintable(o.error->message));
    QVERIFY(!ErrorText::hint(o.error->code, o.error->message).isEmpty());
  }

  void opensTheRealModelOnTheEngineThread() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    EngineController engine;
    QString threadName;
    connect(
        engine.worker(), &EngineWorker::jobStarted, engine.worker(),
        [&threadName] { threadName = QThread::currentThread()->objectName(); },
        Qt::DirectConnection);
    QSignalSpy opened(engine.worker(), &EngineWorker::opened);
    Outcome o;
    const quint64 id = engine.open(test::testOptions(lib.path()));
    test::track(&engine, id, &o);
    QVERIFY(engine.isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(o.finished, 120000);
    QVERIFY2(!o.error, qPrintable(test::describe(o)));
    QCOMPARE(opened.count(), 1);
    const auto status = opened.at(0).at(1).value<memlong::AssistantStatus>();
    QVERIFY(!status.model_name.empty());
    QVERIFY(!status.device.empty());
    QCOMPARE(QString::fromStdString(status.library_dir), lib.path());
    QCOMPARE(threadName, QStringLiteral("memlong-engine"));
    QTRY_VERIFY(!engine.isBusy());
  }

  // Cancel is set from the GUI thread while the worker is busy with an earlier job (the open), so
  // the ingestion starts with its token already cancelled and must stop at once.
  void cancelWhileQueuedStopsIngestion() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 20000);
    QVERIFY(!book.isEmpty());
    EngineController engine;
    Outcome opened, ingested, listed;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    test::track(&engine, engine.ingest({book}), &ingested);
    QSignalSpy report(engine.worker(), &EngineWorker::ingestFinished);
    engine.cancel(EngineController::JobKind::kIngest);
    QTRY_VERIFY_WITH_TIMEOUT(opened.finished, 120000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QElapsedTimer t;
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(ingested.finished, 30000);
    qInfo("cancelled ingestion finished %lld ms after the model was loaded", t.elapsed());
    assertIngestCancelled(ingested, report);
    // The store holds no ready document afterwards.
    QSignalSpy docs(engine.worker(), &EngineWorker::documentsListed);
    test::track(&engine, engine.listDocuments(), &listed);
    QTRY_VERIFY_WITH_TIMEOUT(listed.finished, 30000);
    QVERIFY2(!listed.error, qPrintable(test::describe(listed)));
    for (const auto& d : docs.at(0).at(1).value<std::vector<memlong::DocumentInfo>>())
      QVERIFY(d.status != memlong::DocumentStatus::kReady);
  }

  // Cancel in the middle of a running ingestion: it stops within a second or two.
  void cancelDuringIngestion() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 60000);
    EngineController engine;
    Outcome opened, ingested;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    QTRY_VERIFY_WITH_TIMEOUT(opened.finished, 120000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QSignalSpy progress(engine.worker(), &EngineWorker::ingestProgress);
    QSignalSpy report(engine.worker(), &EngineWorker::ingestFinished);
    test::track(&engine, engine.ingest({book}), &ingested);
    QTRY_VERIFY_WITH_TIMEOUT(
        ingested.finished ||
            std::any_of(progress.begin(), progress.end(),
                        [](const QList<QVariant>& args) {
                          const auto p = args.at(1).value<memlong::IngestProgress>();
                          return p.stage == memlong::IngestStage::kReading && p.chunks_done > 0;
                        }),
        120000);
    QVERIFY2(!ingested.finished, "the ingestion ended before it could be cancelled");
    QElapsedTimer t;
    t.start();
    engine.cancel(EngineController::JobKind::kIngest);
    QTRY_VERIFY_WITH_TIMEOUT(ingested.finished, 30000);
    qInfo("ingestion stopped %lld ms after Cancel", t.elapsed());
    QVERIFY(t.elapsed() < 5000);
    assertIngestCancelled(ingested, report);
  }

  void cancelWhileQueuedStopsAnAnswer() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    EngineController engine;
    Outcome opened, answered;
    test::track(&engine, engine.open(test::testOptions(lib.path())), &opened);
    QSignalSpy answer(engine.worker(), &EngineWorker::answerFinished);
    test::track(&engine,
                engine.ask(QStringLiteral("Who is Sir Walter Elliot?"), memlong::AskOptions{}),
                &answered);
    engine.cancel(EngineController::JobKind::kAnswer);
    QTRY_VERIFY_WITH_TIMEOUT(answered.finished, 120000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    if (answered.error) {
      QVERIFY2(answered.error->code == memlong::StatusCode::kCancelled,
               qPrintable(test::describe(answered)));
    } else {
      QCOMPARE(answer.count(), 1);
      QVERIFY(answer.at(0).at(1).value<memlong::Answer>().cancelled);
    }
  }

  // Cancel in the middle of a running answer: the stream stops within a second.
  void cancelDuringAnswer() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 3000);
    EngineController engine;
    Outcome opened, ingested, answered;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    test::track(&engine, engine.ingest({book}), &ingested);
    QTRY_VERIFY_WITH_TIMEOUT(ingested.finished, 180000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QVERIFY2(!ingested.error, qPrintable(test::describe(ingested)));
    memlong::AskOptions ask;
    ask.max_tokens = 400;
    QSignalSpy pieces(engine.worker(), &EngineWorker::answerPiece);
    QSignalSpy answer(engine.worker(), &EngineWorker::answerFinished);
    test::track(&engine, engine.ask(QStringLiteral("Describe Sir Walter Elliot in detail."), ask),
                &answered);
    QTRY_VERIFY_WITH_TIMEOUT(pieces.count() >= 2 || answered.finished, 120000);
    QVERIFY2(!answered.finished, "the answer ended before it could be cancelled");
    QElapsedTimer t;
    t.start();
    engine.cancel(EngineController::JobKind::kAnswer);
    QTRY_VERIFY_WITH_TIMEOUT(answered.finished, 10000);
    qInfo("answer stopped %lld ms after Cancel, after %lld pieces", t.elapsed(),
          static_cast<long long>(pieces.count()));
    QVERIFY(t.elapsed() < 2000);
    if (answered.error) {
      QCOMPARE(answered.error->code, memlong::StatusCode::kCancelled);
    } else {
      QVERIFY(answer.at(0).at(1).value<memlong::Answer>().cancelled);
    }
  }

  void pauseIsSetAtOnce() {
    EngineController engine;
    QVERIFY(!engine.isIngestPaused());
    engine.setIngestPaused(true);
    QVERIFY(engine.isIngestPaused());
    engine.setIngestPaused(false);
    QVERIFY(!engine.isIngestPaused());
  }
};

QTEST_MAIN(EngineWorkerTest)
#include "engine_worker_qtest.moc"
