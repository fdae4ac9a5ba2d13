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
  // the ingestion and the answer start with their tokens already cancelled and must stop at once.
  void cancelWhileQueuedStopsIngestAndAnswer() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir lib;
    const QString book = test::writeShortBook(lib.path(), QStringLiteral("book.txt"), 20000);
    QVERIFY(!book.isEmpty());
    EngineController engine;
    Outcome opened, ingested, answered;
    test::track(&engine, engine.open(test::testOptions(lib.path() + QStringLiteral("/lib"))),
                &opened);
    const quint64 ingestId = engine.ingest({book});
    test::track(&engine, ingestId, &ingested);
    memlong::AskOptions ask;
    ask.max_tokens = 200;
    const quint64 askId = engine.ask(QStringLiteral("Who is Sir Walter Elliot?"), ask);
    test::track(&engine, askId, &answered);
    QSignalSpy report(engine.worker(), &EngineWorker::ingestFinished);
    QSignalSpy answer(engine.worker(), &EngineWorker::answerFinished);
    engine.cancel(EngineController::JobKind::kIngest);
    engine.cancel(EngineController::JobKind::kAnswer);
    QTRY_VERIFY_WITH_TIMEOUT(opened.finished, 120000);
    QVERIFY2(!opened.error, qPrintable(test::describe(opened)));
    QElapsedTimer t;
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(ingested.finished && answered.finished, 30000);
    qInfo("cancelled ingest + answer finished %lld ms after the model was loaded", t.elapsed());
    // Ingestion: Cancelled per file in the report, or the call's own Cancelled.
    if (ingested.error) {
      QVERIFY2(ingested.error->code == memlong::StatusCode::kCancelled,
               qPrintable(test::describe(ingested)));
    } else {
      QCOMPARE(report.count(), 1);
      const auto r = report.at(0).at(1).value<memlong::IngestReport>();
      QCOMPARE(r.files.size(), size_t{1});
      QCOMPARE(r.files[0].outcome, memlong::IngestStage::kCancelled);
    }
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
