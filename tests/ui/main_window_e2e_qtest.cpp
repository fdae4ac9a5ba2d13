// End to end, on the real window (run under Xvfb by CTest): the missing-model screen; then, with
// the default model, drop a short book on the Library, wait for it to be read, ask a question in
// the Conversation tab, get a cited answer, open the citation in the Reader, export the session,
// switch to a new session and load the first one back with its conversation.
#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QListView>
#include <QListWidget>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "qtest_support.h"
#include "ui/chat_model.h"
#include "ui/conversation_view.h"
#include "ui/library_model.h"
#include "ui/library_view.h"
#include "ui/main_window.h"
#include "ui/reader_view.h"
#include "ui/session_model.h"
#include "ui/sessions_view.h"

using namespace memlong::ui;

namespace {
constexpr int kLoadMs = 120000;
constexpr int kIngestMs = 300000;
constexpr int kAnswerMs = 300000;

int rowOfPath(const LibraryModel* m, const QString& path) {
  for (int r = 0; r < m->rowCount(); ++r) {
    if (m->index(r, 0).data(LibraryModel::kPathRole).toString() == path) return r;
  }
  return -1;
}

// Largest gap between ticks of a 10 ms timer on the GUI thread (first gap excluded).
struct StallMeter {
  QElapsedTimer clock;
  QTimer timer;
  qint64 last = -1;
  qint64 maxGapMs = 0;
  int ticks = 0;
  StallMeter() {
    timer.setTimerType(Qt::PreciseTimer);
    QObject::connect(&timer, &QTimer::timeout, [this] {
      const qint64 now = clock.elapsed();
      if (last >= 0 && ticks >= 1) maxGapMs = std::max(maxGapMs, now - last);
      ++ticks;
      last = now;
    });
    clock.start();
    timer.start(10);
  }
};

bool isReady(const LibraryModel* m, const QString& path) {
  const int r = rowOfPath(m, path);
  return r >= 0 && m->index(r, 0).data(LibraryModel::kStatusRole).toInt() ==
                       static_cast<int>(memlong::DocumentStatus::kReady);
}
}  // namespace

class MainWindowE2eTest : public QObject {
  Q_OBJECT

 private slots:
  void missingModelShowsTheSetupScreen() {
    QTemporaryDir tmp;
    AppSettings s = defaultSettings();
    s.libraryDir = tmp.filePath(QStringLiteral("lib"));
    s.modelPath = tmp.filePath(QStringLiteral("missing.gguf"));
    MainWindow w(s);
    w.show();
    w.start();
    QTRY_COMPARE_WITH_TIMEOUT(w.page(), MainWindow::Page::kSetup, kLoadMs);
    QVERIFY2(w.setupText().contains(QStringLiteral("missing.gguf")), qPrintable(w.setupText()));
    QVERIFY(w.setupText().contains(QStringLiteral("scripts/setup")));
    QVERIFY(w.setupText().contains(QStringLiteral("memlong-fetch-models")));
    QVERIFY(!w.isEngineReady());
  }

  void addBookAskAndReloadTheSession() {
    QString why;
    QVERIFY2(test::defaultModelsPresent(&why), qPrintable(why));
    QTemporaryDir tmp;
    const QString book =
        test::writeShortBook(tmp.path(), QStringLiteral("persuasion-opening.txt"), 4000);
    QVERIFY(!book.isEmpty());
    AppSettings s = defaultSettings();
    s.libraryDir = tmp.filePath(QStringLiteral("lib"));
    s.maxAnswerTokens = 64;
    MainWindow w(s);
    w.resize(1100, 760);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.start();
    QTRY_COMPARE_WITH_TIMEOUT(w.page(), MainWindow::Page::kMain, kLoadMs);
    QVERIFY(!w.assistantStatus().model_name.empty());

    // The whole window stays responsive while the book is read and the answer streams in; the
    // strict 50 ms bound is event_loop_stall_qtest's, this run also paints the real views.
    StallMeter stall;
    // Drop the book on the Library table.
    w.showTab(MainWindow::kLibraryTab);
    QWidget* viewport = w.libraryView()->table()->viewport();
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(book)});
    const QPoint at = viewport->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(viewport, &drop);
    QVERIFY(drop.isAccepted());
    QTRY_VERIFY_WITH_TIMEOUT(isReady(w.libraryModel(), book) || !w.errorText().isEmpty(),
                             kIngestMs);
    QVERIFY2(isReady(w.libraryModel(), book), qPrintable(w.errorText()));

    // Ask in the Conversation tab.
    QSignalSpy answered(&w, &MainWindow::answerFinished);
    w.showTab(MainWindow::kConversationTab);
    const QString question = QStringLiteral("Who is Sir Walter Elliot?");
    QTest::keyClicks(w.conversationView()->questionEdit(), question);
    QTest::mouseClick(w.conversationView()->findChild<QPushButton*>(QStringLiteral("askButton")),
                      Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(answered.count() == 1 || !w.errorText().isEmpty(), kAnswerMs);
    QVERIFY2(answered.count() == 1, qPrintable(w.errorText()));
    const auto answer = answered.at(0).at(0).value<memlong::Answer>();
    stall.timer.stop();
    qInfo("window event loop during ingest + answer: %d ticks, max gap %lld ms", stall.ticks,
          stall.maxGapMs);
    QVERIFY2(stall.maxGapMs < 200, qPrintable(QStringLiteral("max gap %1 ms").arg(stall.maxGapMs)));
    qInfo("answer (%d tokens, %.1f tok/s): %s", answer.n_tokens, answer.tokens_per_s,
          answer.text.c_str());
    QVERIFY(!answer.text.empty());
    QVERIFY(!answer.citations.empty());
    QCOMPARE(w.chatModel()->rowCount(), 2);
    QCOMPARE(w.chatModel()->index(1).data().toString(), QString::fromStdString(answer.text));
    QVERIFY(w.conversationView()->transcriptText().contains(question));
    auto* citations = w.conversationView()->findChild<QListWidget*>(QStringLiteral("citationList"));
    QCOMPARE(citations->count(), static_cast<int>(answer.citations.size()));

    // Open the first citation in the Reader: the passage is highlighted.
    citations->setCurrentRow(0);
    QTest::keyClick(citations, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(w.readerView()->documentId(), answer.citations[0].passage.doc_id,
                              30000);
    QCOMPARE(w.tabs()->currentIndex(), static_cast<int>(MainWindow::kReaderTab));
    QVERIFY(w.readerView()->highlightCount() >= 1);
    QVERIFY(w.readerView()->entryRange(answer.citations[0].passage.entry_id).first >= 0);

    // Save (export) the session, start a new one, then load the first back.
    QTRY_VERIFY_WITH_TIMEOUT(w.sessionModel()->currentId() != 0, 30000);
    const qint64 first = w.sessionModel()->currentId();
    const QString exported = tmp.filePath(QStringLiteral("first.memlong-session"));
    emit w.sessionsView()->exportRequested(first, exported);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(exported) || !w.errorText().isEmpty(), 30000);
    QVERIFY2(QFileInfo::exists(exported), qPrintable(w.errorText()));
    emit w.sessionsView()->newRequested(QStringLiteral("Second"));
    QTRY_VERIFY_WITH_TIMEOUT(w.sessionModel()->currentId() != first, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w.chatModel()->rowCount(), 0, 30000);
    w.showTab(MainWindow::kSessionsTab);
    QListView* list = w.sessionsView()->list();
    QTRY_VERIFY_WITH_TIMEOUT(w.sessionModel()->rowOf(first) >= 0, 30000);
    list->setCurrentIndex(w.sessionModel()->index(w.sessionModel()->rowOf(first)));
    QTest::mouseClick(
        w.sessionsView()->findChild<QPushButton*>(QStringLiteral("loadSessionButton")),
        Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(w.sessionModel()->currentId(), first, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(w.chatModel()->rowCount(), 2, 30000);
    QCOMPARE(w.chatModel()->index(0).data().toString(), question);
    QCOMPARE(w.chatModel()->index(1).data().toString(), QString::fromStdString(answer.text));
    QVERIFY(w.chatModel()->index(1).data(ChatModel::kCitationCountRole).toInt() > 0);
    // The exported file imports as another session.
    const int before = w.sessionModel()->rowCount();
    emit w.sessionsView()->importRequested(exported);
    QTRY_VERIFY_WITH_TIMEOUT(w.sessionModel()->rowCount() > before || !w.errorText().isEmpty(),
                             30000);
    QVERIFY2(w.errorText().isEmpty(), qPrintable(w.errorText()));
  }
};

int main(int argc, char** argv) {
  // Settings of this test stay in a temporary folder, not in the user's.
  QTemporaryDir config;
  qputenv("XDG_CONFIG_HOME", config.path().toUtf8());
  QApplication app(argc, argv);
  QCoreApplication::setOrganizationName(QStringLiteral("memlong-test"));
  QCoreApplication::setApplicationName(QStringLiteral("memlong-desktop-e2e"));
  MainWindowE2eTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "main_window_e2e_qtest.moc"
