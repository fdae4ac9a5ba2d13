#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "core/common/paths.h"
#include "ui/chat_model.h"
#include "ui/conversation_view.h"
#include "ui/error_text.h"
#include "ui/library_model.h"
#include "ui/library_view.h"
#include "ui/memory_view.h"
#include "ui/reader_view.h"
#include "ui/session_model.h"
#include "ui/sessions_view.h"
#include "ui/settings_dialog.h"
#include "ui/summarize_view.h"

namespace memlong::ui {

namespace {
// The first-run sample (resources/sample/, compiled into the app).
constexpr const char* kSampleResource = ":/memlong/sample/persuasion-chapters-1-6.txt";
constexpr const char* kSampleFileName = "persuasion-chapters-1-6.txt";

QString formatBytes(qint64 bytes) {
  return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}
}  // namespace

MainWindow::MainWindow(const AppSettings& settings, QWidget* parent)
    : QMainWindow(parent), m_settings(settings) {
  setObjectName(QStringLiteral("memlongMainWindow"));
  setWindowTitle(tr("MemLong"));
  m_engine = new EngineController(this);
  m_library = new LibraryModel(this);
  m_chat = new ChatModel(this);
  m_sessions = new SessionModel(this);
  buildPages();
  buildMenus();
  connectEngine();
  connectViews();

  QSettings store;
  restoreGeometry(store.value("window/geometry", settingDefault("window/geometry")).toByteArray());
  restoreState(store.value("window/state", settingDefault("window/state")).toByteArray());
  m_tabs->setCurrentIndex(store.value("window/tab", settingDefault("window/tab")).toInt());
  if (store.value("window/geometry").toByteArray().isEmpty()) resize(1100, 720);
  showPage(Page::kLoading);
  setReady(false);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildPages() {
  m_pages = new QStackedWidget(this);
  setCentralWidget(m_pages);

  // Loading.
  m_loadingPage = new QWidget(m_pages);
  m_loadingLabel = new QLabel(tr("Loading the model…"), m_loadingPage);
  m_loadingLabel->setAlignment(Qt::AlignCenter);
  auto* ll = new QVBoxLayout(m_loadingPage);
  ll->addWidget(m_loadingLabel);
  m_pages->addWidget(m_loadingPage);

  // Setup: the model could not be loaded.
  m_setupPage = new QWidget(m_pages);
  m_setupPage->setObjectName(QStringLiteral("setupPage"));
  auto* title = new QLabel(QStringLiteral("<h2>%1</h2>").arg(tr("MemLong needs its model files")),
                           m_setupPage);
  m_setupText = new QLabel(m_setupPage);
  m_setupText->setWordWrap(true);
  m_setupText->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_setupCommand = new QLabel(m_setupPage);
  m_setupCommand->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
  m_setupCommand->setFont(mono);
  m_setupCommand->setFrameShape(QFrame::StyledPanel);
  m_setupCommand->setMargin(8);
  auto* retry = new QPushButton(tr("&Try again"), m_setupPage);
  retry->setObjectName(QStringLiteral("retryButton"));
  auto* choose = new QPushButton(tr("&Settings…"), m_setupPage);
  auto* sl = new QVBoxLayout(m_setupPage);
  sl->addStretch(1);
  sl->addWidget(title);
  sl->addWidget(m_setupText);
  sl->addWidget(new QLabel(tr("To get the default models, run in a terminal:"), m_setupPage));
  sl->addWidget(m_setupCommand);
  auto* sb = new QHBoxLayout;
  sb->addWidget(retry);
  sb->addWidget(choose);
  sb->addStretch(1);
  sl->addLayout(sb);
  sl->addStretch(2);
  sl->setContentsMargins(48, 24, 48, 24);
  connect(retry, &QPushButton::clicked, this, &MainWindow::start);
  connect(choose, &QPushButton::clicked, this, &MainWindow::openSettings);
  m_pages->addWidget(m_setupPage);

  // Main: banner + tabs.
  m_mainPage = new QWidget(m_pages);
  m_banner = new QFrame(m_mainPage);
  m_banner->setObjectName(QStringLiteral("banner"));
  m_banner->setFrameShape(QFrame::StyledPanel);
  m_banner->setAutoFillBackground(true);
  m_bannerLabel = new QLabel(m_banner);
  m_bannerLabel->setWordWrap(true);
  m_bannerLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_bannerAction = new QPushButton(m_banner);
  auto* dismiss = new QPushButton(tr("Dismiss"), m_banner);
  auto* bl = new QHBoxLayout(m_banner);
  bl->addWidget(m_bannerLabel, 1);
  bl->addWidget(m_bannerAction);
  bl->addWidget(dismiss);
  connect(dismiss, &QPushButton::clicked, this, &MainWindow::hideBanner);
  connect(m_bannerAction, &QPushButton::clicked, this, [this] {
    auto callback = m_bannerCallback;
    hideBanner();
    if (callback) callback();
  });
  m_banner->hide();

  m_tabs = new QTabWidget(m_mainPage);
  m_tabs->setObjectName(QStringLiteral("mainTabs"));
  m_tabs->setDocumentMode(true);
  m_libraryView = new LibraryView(m_library, m_tabs);
  m_conversationView = new ConversationView(m_chat, m_tabs);
  m_readerView = new ReaderView(m_tabs);
  m_sessionsView = new SessionsView(m_sessions, m_tabs);
  m_summarizeView = new SummarizeView(m_library, m_tabs);
  m_memoryView = new MemoryView;
  auto* memoryScroll = new QScrollArea(m_tabs);
  memoryScroll->setWidget(m_memoryView);
  memoryScroll->setWidgetResizable(true);
  m_tabs->addTab(m_libraryView, tr("&Library"));
  m_tabs->addTab(m_conversationView, tr("C&onversation"));
  m_tabs->addTab(m_readerView, tr("&Reader"));
  m_tabs->addTab(m_sessionsView, tr("S&essions"));
  m_tabs->addTab(m_summarizeView, tr("Su&mmarize"));
  m_tabs->addTab(memoryScroll, tr("&Memory"));
  auto* ml = new QVBoxLayout(m_mainPage);
  ml->setContentsMargins(0, 0, 0, 0);
  ml->addWidget(m_banner);
  ml->addWidget(m_tabs, 1);
  m_pages->addWidget(m_mainPage);

  // Status bar.
  m_statusModel = new QLabel(this);
  m_statusDevice = new QLabel(this);
  m_statusMemory = new QLabel(this);
  m_statusSpeed = new QLabel(this);
  m_statusJob = new QLabel(this);
  m_statusJob->setObjectName(QStringLiteral("statusJob"));
  statusBar()->addWidget(m_statusJob, 1);
  statusBar()->addPermanentWidget(m_statusModel);
  statusBar()->addPermanentWidget(m_statusDevice);
  statusBar()->addPermanentWidget(m_statusMemory);
  statusBar()->addPermanentWidget(m_statusSpeed);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* addFiles = file->addAction(tr("Add &files…"), m_libraryView, &LibraryView::addFiles);
  addFiles->setShortcut(QKeySequence::Open);
  QAction* addFolder = file->addAction(tr("Add f&older…"), m_libraryView, &LibraryView::addFolder);
  addFolder->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  file->addSeparator();
  file->addAction(tr("&Import session…"), m_sessionsView, &SessionsView::importSession);
  file->addAction(tr("&Export session…"), m_sessionsView, &SessionsView::exportSession);
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* edit = menuBar()->addMenu(tr("&Edit"));
  QAction* find = edit->addAction(tr("&Find in document"), this, [this] {
    showTab(kReaderTab);
    m_readerView->focusFind();
  });
  find->setShortcut(QKeySequence::Find);
  QAction* findNext = edit->addAction(tr("Find &next"), m_readerView, &ReaderView::findNext);
  findNext->setShortcut(QKeySequence::FindNext);
  QAction* findPrev =
      edit->addAction(tr("Find &previous"), m_readerView, &ReaderView::findPrevious);
  findPrev->setShortcut(QKeySequence::FindPrevious);
  edit->addSeparator();
  QAction* settings = edit->addAction(tr("&Settings…"), this, &MainWindow::openSettings);
  settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
  settings->setMenuRole(QAction::PreferencesRole);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  const QStringList names = {tr("Library"),  tr("Conversation"), tr("Reader"),
                             tr("Sessions"), tr("Summarize"),    tr("Memory")};
  for (int i = 0; i < names.size(); ++i) {
    QAction* a = view->addAction(names[i], this, [this, i] { showTab(static_cast<Tab>(i)); });
    a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
  }

  QMenu* session = menuBar()->addMenu(tr("&Session"));
  QAction* ask = session->addAction(tr("&Ask a question"), this, [this] {
    showTab(kConversationTab);
    m_conversationView->focusQuestion();
  });
  ask->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
  QAction* stop = session->addAction(tr("&Stop"), this, [this] {
    m_engine->cancel(EngineController::JobKind::kAnswer);
    m_engine->cancel(EngineController::JobKind::kSummary);
  });
  stop->setShortcut(QKeySequence(Qt::Key_Escape));
  QAction* newSession =
      session->addAction(tr("&New session…"), m_sessionsView, &SessionsView::newSession);
  newSession->setShortcut(QKeySequence::New);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About MemLong"), this, [this] {
    QMessageBox::about(this, tr("About MemLong"),
                       tr("<h3>MemLong %1</h3><p>Ask questions about your books on your own "
                          "computer. Long-context memory after MemLong (arXiv 2408.16967).</p>")
                           .arg(QStringLiteral(MEMLONG_VERSION)));
  });
}

void MainWindow::connectEngine() {
  EngineWorker* w = m_engine->worker();
  connect(m_engine, &EngineController::busyChanged, this, &MainWindow::updateBusy);
  connect(w, &EngineWorker::opened, this, [this](quint64 req, const memlong::AssistantStatus& s) {
    if (req != m_openReq) return;
    updateStatus(s);
    showPage(Page::kMain);
    setReady(true);
    m_engine->listDocuments();
    m_engine->listSessions();
    m_engine->loadConversation();
    emit engineReady();
  });
  connect(w, &EngineWorker::statusChanged, this, &MainWindow::updateStatus);
  connect(w, &EngineWorker::failed, this, [this](quint64 req, const ErrorInfo& e) {
    if (req == m_openReq) {
      setReady(false);
      m_setupText->setText(ErrorText::describe(e));
      m_setupCommand->setText(
          QStringLiteral("scripts/setup        # from the source folder\n"
                         "memlong-fetch-models # installed MemLong"));
      showPage(Page::kSetup);
      emit errorShown(m_setupText->text());
      return;
    }
    if (req == m_askReq) {
      m_chat->failAnswer(e.code == memlong::StatusCode::kCancelled
                             ? QString()
                             : tr("(no answer: %1)").arg(e.message));
    }
    if (req == m_summaryReq) m_summarizeView->setRunning(false);
    if (m_ingestReqs.contains(req)) m_library->clearProgress();
    if (e.code == memlong::StatusCode::kCancelled) {
      statusBar()->showMessage(tr("%1: cancelled").arg(e.operation), 5000);
      return;
    }
    showError(e);
  });
  connect(w, &EngineWorker::jobFinished, this, [this](quint64 req) {
    if (req == m_askReq) {
      m_askReq = 0;
      m_conversationView->setAnswering(false);
    }
    if (req == m_summaryReq) {
      m_summaryReq = 0;
      m_summarizeView->setRunning(false);
    }
    if (m_ingestReqs.remove(req) && m_ingestReqs.isEmpty()) {
      m_library->clearProgress();
      m_libraryView->setIngesting(false);
      m_engine->setIngestPaused(false);
      m_libraryView->setPaused(false);
    }
  });
  connect(w, &EngineWorker::documentsListed, this,
          [this](quint64, const std::vector<memlong::DocumentInfo>& docs) {
            m_library->setDocuments(docs);
            offerSampleIfFirstRun();
            if (m_tabs->currentIndex() == kMemoryTab) refreshMemoryView();
          });
  connect(w, &EngineWorker::ingestProgress, this,
          [this](quint64, const memlong::IngestProgress& p) {
            m_library->applyProgress(p);
            m_libraryView->showOverallProgress(p);
          });
  connect(w, &EngineWorker::ingestFinished, this, [this](quint64, const memlong::IngestReport& r) {
    m_engine->listSessions();
    int done = 0, skipped = 0, failed = 0;
    QStringList failures;
    for (const auto& f : r.files) {
      if (f.outcome == memlong::IngestStage::kDone) ++done;
      if (f.outcome == memlong::IngestStage::kSkipped) ++skipped;
      if (f.outcome == memlong::IngestStage::kFailed) {
        ++failed;
        failures << QStringLiteral("%1: %2").arg(QFileInfo(qstr(f.path)).fileName(), qstr(f.error));
      }
    }
    statusBar()->showMessage(tr("Added %1, unchanged %2, failed %3 (%4 tokens in %5 s)")
                                 .arg(done)
                                 .arg(skipped)
                                 .arg(failed)
                                 .arg(r.tokens_read)
                                 .arg(r.seconds, 0, 'f', 1),
                             10000);
    if (!failures.isEmpty()) {
      showError(ErrorInfo{tr("Adding documents"), memlong::StatusCode::kCorrupt,
                          failures.join(QLatin1Char('\n'))});
    }
  });
  connect(w, &EngineWorker::documentRemoved, this,
          [this](quint64, qint64) { m_engine->listDocuments(); });
  connect(w, &EngineWorker::documentTextReady, this,
          [this](quint64 req, const memlong::DocumentText& t) {
            if (req != m_readerReq) return;
            m_readerView->setDocument(t);
            applyReaderHighlights();
            if (m_readerPendingEntry != 0) m_readerView->showEntry(m_readerPendingEntry);
            m_readerPendingEntry = 0;
          });
  connect(w, &EngineWorker::answerPiece, this, [this](quint64 req, const QString& piece) {
    if (req == m_askReq) m_chat->appendPiece(piece);
  });
  connect(w, &EngineWorker::answerFinished, this, [this](quint64 req, const memlong::Answer& a) {
    if (req != m_askReq) return;
    m_chat->finishAnswer(a);
    m_conversationView->setAnswerStats(a);
    m_lastCitations = a.citations;
    QSet<qint64> cited;
    for (const auto& c : a.citations) cited.insert(c.passage.entry_id);
    m_memoryView->setCitedEntries(cited);
    applyReaderHighlights();
    emit answerFinished(a);
  });
  connect(w, &EngineWorker::summaryProgress, this,
          [this](quint64, const memlong::SummaryProgress& p) { m_summarizeView->showProgress(p); });
  connect(w, &EngineWorker::summaryFinished, this,
          [this](quint64, const memlong::Summary& s) { m_summarizeView->showSummary(s); });
  connect(
      w, &EngineWorker::sessionsListed, this,
      [this](quint64, const std::vector<memlong::SessionInfo>& s) { m_sessions->setSessions(s); });
  connect(w, &EngineWorker::sessionChanged, this, [this](quint64, const memlong::SessionInfo& s) {
    const bool switched = s.id != m_sessions->currentId();
    m_sessions->setCurrent(s);
    if (switched) refreshSession();
  });
  connect(w, &EngineWorker::sessionDeleted, this,
          [this](quint64, qint64 id) { m_sessions->removeSession(id); });
  connect(w, &EngineWorker::sessionImported, this, [this](quint64, const memlong::SessionInfo& s) {
    statusBar()->showMessage(
        tr("Imported the session “%1”; load it from the Sessions tab").arg(qstr(s.name)), 10000);
    m_engine->listSessions();
  });
  connect(w, &EngineWorker::sessionExported, this, [this](quint64, const QString& file) {
    statusBar()->showMessage(tr("Session exported to %1").arg(file), 8000);
  });
  connect(w, &EngineWorker::conversationLoaded, this,
          [this](quint64, const std::vector<memlong::ConversationMessage>& m) {
            if (!m_chat->isStreaming()) m_chat->setConversation(m);
          });
  connect(w, &EngineWorker::memoryMapReady, this,
          [this](quint64, qint64 docId, const std::vector<memlong::MemoryMapEntry>& entries) {
            const int row = m_library->rowOfDocument(docId);
            const memlong::DocumentInfo* d = m_library->document(row);
            if (d == nullptr) return;
            m_memoryView->setEntries(docId, qstr(d->title), d->n_tokens, entries);
          });
  connect(w, &EngineWorker::fileWritten, this, [this](quint64 req, const QString& file) {
    if (req == m_sampleReq) {
      m_sampleReq = 0;
      addPaths({file});
      return;
    }
    statusBar()->showMessage(tr("Saved %1").arg(file), 8000);
  });
}

void MainWindow::connectViews() {
  connect(m_libraryView, &LibraryView::addPathsRequested, this, &MainWindow::addPaths);
  connect(m_libraryView, &LibraryView::removeRequested, m_engine,
          &EngineController::removeDocument);
  connect(m_libraryView, &LibraryView::reingestRequested, this,
          [this](qint64 id, const QString& path) {
            m_ingestReqs.insert(m_engine->reingest(id, path));
            m_libraryView->setIngesting(true);
          });
  connect(m_libraryView, &LibraryView::pauseRequested, this, [this](bool pause) {
    m_engine->setIngestPaused(pause);
    m_libraryView->setPaused(pause);
  });
  connect(m_libraryView, &LibraryView::cancelRequested, this, [this] {
    m_engine->setIngestPaused(false);
    m_engine->cancel(EngineController::JobKind::kIngest);
    m_libraryView->setPaused(false);
  });
  connect(m_libraryView, &LibraryView::openInReaderRequested, this,
          [this](qint64 id) { openDocument(id, 0); });
  connect(m_conversationView, &ConversationView::askRequested, this, &MainWindow::ask);
  connect(m_conversationView, &ConversationView::stopRequested, this,
          [this] { m_engine->cancel(EngineController::JobKind::kAnswer); });
  connect(m_conversationView, &ConversationView::citationActivated, this,
          &MainWindow::openCitation);
  connect(m_sessionsView, &SessionsView::newRequested, m_engine, &EngineController::newSession);
  connect(m_sessionsView, &SessionsView::loadRequested, m_engine, &EngineController::loadSession);
  connect(m_sessionsView, &SessionsView::forkRequested, m_engine, &EngineController::forkSession);
  connect(m_sessionsView, &SessionsView::renameRequested, this,
          [this](qint64 id, const QString& name) {
            m_engine->renameSession(id, name);
            m_engine->listSessions();
          });
  connect(m_sessionsView, &SessionsView::deleteRequested, m_engine,
          &EngineController::deleteSession);
  connect(m_sessionsView, &SessionsView::exportRequested, m_engine,
          &EngineController::exportSession);
  connect(m_sessionsView, &SessionsView::importRequested, m_engine,
          &EngineController::importSession);
  connect(m_summarizeView, &SummarizeView::summarizeRequested, this,
          [this](qint64 id, int first, int last) {
            m_summaryReq = m_engine->summarize(id, first, last);
            m_summarizeView->setRunning(true);
          });
  connect(m_summarizeView, &SummarizeView::cancelRequested, this,
          [this] { m_engine->cancel(EngineController::JobKind::kSummary); });
  connect(m_summarizeView, &SummarizeView::exportRequested, m_engine, &EngineController::writeFile);
  connect(m_memoryView, &MemoryView::entryClicked, this,
          [this](qint64 docId, qint64 entryId) { openDocument(docId, entryId); });
  connect(m_tabs, &QTabWidget::currentChanged, this, [this](int tab) {
    if (tab == kMemoryTab && m_ready) refreshMemoryView();
    if (tab == kSessionsTab && m_ready) m_engine->listSessions();
  });
}

void MainWindow::start() {
  hideBanner();
  m_loadingLabel->setText(tr("Loading the model…"));
  showPage(Page::kLoading);
  setReady(false);
  m_openReq = m_engine->open(toAssistantOptions(m_settings));
}

void MainWindow::showPage(Page page) {
  m_page = page;
  m_pages->setCurrentWidget(page == Page::kLoading ? m_loadingPage
                            : page == Page::kSetup ? m_setupPage
                                                   : m_mainPage);
}

void MainWindow::showTab(Tab tab) {
  if (m_page == Page::kMain) m_tabs->setCurrentIndex(tab);
}

void MainWindow::setReady(bool ready) {
  m_ready = ready;
  m_libraryView->setEngineReady(ready);
  m_conversationView->setEngineReady(ready);
  m_sessionsView->setEngineReady(ready);
  m_summarizeView->setEngineReady(ready);
}

void MainWindow::showError(const ErrorInfo& error) {
  const QString text = ErrorText::describe(error);
  m_errorText = text;
  m_bannerLabel->setText(text);
  m_bannerAction->setVisible(false);
  QPalette p = m_banner->palette();
  p.setColor(QPalette::Window, QColor(QStringLiteral("#f8d7da")));
  p.setColor(QPalette::WindowText, QColor(QStringLiteral("#58151c")));
  m_banner->setPalette(p);
  m_bannerLabel->setPalette(p);
  m_banner->show();
  emit errorShown(text);
}

void MainWindow::showInfo(const QString& text, const QString& actionText,
                          const std::function<void()>& action) {
  m_errorText.clear();
  m_bannerLabel->setText(text);
  m_bannerCallback = action;
  m_bannerAction->setText(actionText);
  m_bannerAction->setVisible(!actionText.isEmpty());
  m_banner->setPalette(palette());
  m_bannerLabel->setPalette(palette());
  QPalette p = m_banner->palette();
  p.setColor(QPalette::Window, palette().color(QPalette::AlternateBase));
  m_banner->setPalette(p);
  m_banner->show();
}

void MainWindow::hideBanner() {
  m_errorText.clear();
  m_banner->hide();
  m_bannerCallback = nullptr;
}

QString MainWindow::bannerText() const {
  return m_banner->isVisibleTo(m_mainPage) ? m_bannerLabel->text() : QString();
}

QString MainWindow::setupText() const {
  return m_setupText->text() + QLatin1Char('\n') + m_setupCommand->text();
}

void MainWindow::updateStatus(const memlong::AssistantStatus& s) {
  m_status = s;
  m_statusModel->setText(tr("Model: %1").arg(qstr(s.model_name)));
  m_statusModel->setToolTip(qstr(s.model_path) + QLatin1Char('\n') +
                            tr("Retriever: %1").arg(qstr(s.retriever_name)));
  m_statusDevice->setText(tr("Device: %1").arg(qstr(s.device)));
  m_statusMemory->setText(
      tr("Memory: %1 / %2 tokens (%3)")
          .arg(QLocale().toString(static_cast<qint64>(s.memory_tokens)))
          .arg(QLocale().toString(static_cast<qint64>(s.memory_capacity_tokens)))
          .arg(formatBytes(s.memory_bytes)));
  m_statusSpeed->setText(
      s.last_tokens_per_s > 0 ? tr("%1 tok/s").arg(s.last_tokens_per_s, 0, 'f', 1) : QString());
  setWindowTitle(s.session_name.empty() ? tr("MemLong")
                                        : tr("MemLong — %1").arg(qstr(s.session_name)));
}

void MainWindow::updateBusy(bool busy, const QString& what) {
  m_statusJob->setText(busy && !what.isEmpty() ? what + QStringLiteral("…") : QString());
}

void MainWindow::addPaths(const QStringList& paths) {
  if (!m_ready || paths.isEmpty()) return;
  if (m_errorText.isEmpty()) hideBanner();  // the first-run offer is answered by adding books
  m_ingestReqs.insert(m_engine->ingest(paths));
  m_libraryView->setIngesting(true);
  if (m_engine->isIngestPaused()) m_libraryView->setPaused(true);
  showTab(kLibraryTab);
}

void MainWindow::ask(const QString& question) {
  if (!m_ready || m_askReq != 0) return;
  m_lastQuestion = question;
  m_chat->beginExchange(question);
  m_askReq = m_engine->ask(question, toAskOptions(m_settings));
  m_conversationView->setAnswering(true);
  showTab(kConversationTab);
}

void MainWindow::openSettings() {
  SettingsDialog dialog(m_settings, this);
  if (dialog.exec() != QDialog::Accepted) return;
  const AppSettings next = dialog.settings();
  const bool reopen = needsReopen(m_settings, next) || m_page != Page::kMain;
  m_settings = next;
  QSettings store;
  saveSettings(store, next);
  if (reopen) {
    m_engine->cancelAll();
    m_chat->failAnswer(QString());
    start();
  }
}

void MainWindow::offerSampleIfFirstRun() {
  QSettings store;
  if (m_library->totalDocuments() > 0 ||
      store.value("ui/sampleOffered", settingDefault("ui/sampleOffered")).toBool())
    return;
  store.setValue("ui/sampleOffered", true);
  showInfo(tr("Your library is empty. Add a sample book (the first chapters of Jane Austen's "
              "Persuasion, public domain) to try MemLong, or drop your own books on the Library."),
           tr("Add the sample book"), [this] { addSampleBook(); });
}

void MainWindow::addSampleBook() {
  hideBanner();  // the first-run offer, when the sample came from elsewhere (menu, tour)
  QFile sample(QString::fromLatin1(kSampleResource));
  if (!sample.open(QIODevice::ReadOnly)) {  // compiled-in resource: reading it is memory only
    showError(ErrorInfo{tr("Adding the sample book"), memlong::StatusCode::kInternal,
                        tr("the sample book is missing from this build")});
    return;
  }
  const QString dir = m_status.library_dir.empty() ? qstr(memlong::default_library_dir().string())
                                                   : qstr(m_status.library_dir);
  m_sampleReq = m_engine->writeFile(
      dir + QStringLiteral("/samples/") + QLatin1String(kSampleFileName), sample.readAll());
}

void MainWindow::refreshMemoryView() {
  for (int row = 0; row < m_library->rowCount(); ++row) {
    const memlong::DocumentInfo* d = m_library->document(row);
    if (d != nullptr && d->id != 0 && d->status == memlong::DocumentStatus::kReady)
      m_engine->memoryMap(d->id);
  }
}

void MainWindow::openCitation(const memlong::Citation& c) {
  openDocument(c.passage.doc_id, c.passage.entry_id);
}

void MainWindow::openDocument(qint64 docId, qint64 entryId) {
  showTab(kReaderTab);
  if (m_readerView->documentId() == docId && docId != 0) {
    applyReaderHighlights();
    if (entryId != 0) m_readerView->showEntry(entryId);
    return;
  }
  m_readerPendingEntry = entryId;
  m_readerReq = m_engine->documentText(docId);
}

void MainWindow::applyReaderHighlights() {
  QSet<qint64> cited;
  for (size_t i = 0; i < m_lastCitations.size(); ++i) {
    const auto& c = m_lastCitations[i];
    if (c.passage.doc_id == m_readerView->documentId()) cited.insert(c.passage.entry_id);
  }
  // The facade reports only the cited passages of an answer; they are also the retrieved ones
  // shown to the user, so both sets are the citations here.
  m_readerView->setHighlights(cited, cited);
}

void MainWindow::refreshSession() {
  m_lastCitations.clear();
  m_memoryView->setCitedEntries({});
  m_memoryView->setRows({});
  m_engine->loadConversation();
  m_engine->listDocuments();
  m_engine->listSessions();
  m_engine->refreshStatus();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings store;
  store.setValue("window/geometry", saveGeometry());
  store.setValue("window/state", saveState());
  store.setValue("window/tab", m_tabs->currentIndex());
  m_engine->cancelAll();
  event->accept();
}

void MainWindow::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) {
    // Light/dark switch: custom painting and highlights read the palette again.
    m_memoryView->update();
    applyReaderHighlights();
  }
  QMainWindow::changeEvent(event);
}

}  // namespace memlong::ui
