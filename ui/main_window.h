// MainWindow: the desktop app's window. It owns the EngineController (and so the engine thread),
// the item models and the views: Library, Conversation, Reader, Sessions, Summarize and Memory
// tabs, a status bar (model, device, memory, speed, running job), and two pages shown instead of
// the tabs while the model loads and when it cannot be loaded (with the command that fixes it).
// It routes view requests to the engine and engine results to the models; errors appear in a
// banner above the tabs with a hint the user can act on (ErrorText), never in a blocking dialog.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QHash>
#include <QMainWindow>
#include <QSet>

#include "ui/engine_controller.h"
#include "ui/settings.h"

class QLabel;
class QStackedWidget;
class QTabWidget;
class QPushButton;
class QFrame;

namespace memlong::ui {

class ChatModel;
class ConversationView;
class LibraryModel;
class LibraryView;
class MemoryView;
class ReaderView;
class SessionModel;
class SessionsView;
class SummarizeView;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Tab { kLibraryTab, kConversationTab, kReaderTab, kSessionsTab, kSummarizeTab, kMemoryTab };
  enum class Page { kLoading, kSetup, kMain };

  // `settings` are the saved settings with this run's command-line overrides applied;
  // `persistent` says whether changes made in the Settings dialog are written back.
  explicit MainWindow(const AppSettings& settings, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens the Assistant with the current settings (on the engine thread).
  void start();

  // For tests and screenshots.
  EngineController* engine() const { return m_engine; }
  LibraryModel* libraryModel() const { return m_library; }
  ChatModel* chatModel() const { return m_chat; }
  SessionModel* sessionModel() const { return m_sessions; }
  LibraryView* libraryView() const { return m_libraryView; }
  ConversationView* conversationView() const { return m_conversationView; }
  ReaderView* readerView() const { return m_readerView; }
  SessionsView* sessionsView() const { return m_sessionsView; }
  SummarizeView* summarizeView() const { return m_summarizeView; }
  MemoryView* memoryView() const { return m_memoryView; }
  QTabWidget* tabs() const { return m_tabs; }
  Page page() const { return m_page; }
  bool isEngineReady() const { return m_ready; }
  QString bannerText() const;
  // The error shown in the banner ("" when none, or when the banner shows information).
  QString errorText() const { return m_errorText; }
  QString setupText() const;
  const memlong::AssistantStatus& assistantStatus() const { return m_status; }
  void showTab(Tab tab);

 public slots:
  void addPaths(const QStringList& paths);
  void ask(const QString& question);
  void openSettings();
  void addSampleBook();

 signals:
  void engineReady();
  void answerFinished(const memlong::Answer& answer);
  void errorShown(const QString& text);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;

 private:
  void buildPages();
  void buildMenus();
  void connectEngine();
  void connectViews();
  void showPage(Page page);
  void showError(const ErrorInfo& error);
  void showInfo(const QString& text, const QString& actionText = {},
                const std::function<void()>& action = {});
  void hideBanner();
  void setReady(bool ready);
  void updateStatus(const memlong::AssistantStatus& status);
  void updateBusy(bool busy, const QString& what);
  void refreshMemoryView();
  void openCitation(const memlong::Citation& citation);
  void openDocument(qint64 docId, qint64 entryId);
  void applyReaderHighlights();
  void refreshSession();
  void offerSampleIfFirstRun();

  AppSettings m_settings;
  EngineController* m_engine;
  LibraryModel* m_library;
  ChatModel* m_chat;
  SessionModel* m_sessions;

  QStackedWidget* m_pages;
  QWidget* m_loadingPage;
  QLabel* m_loadingLabel;
  QWidget* m_setupPage;
  QLabel* m_setupText;
  QLabel* m_setupCommand;
  QWidget* m_mainPage;
  QFrame* m_banner;
  QLabel* m_bannerLabel;
  QPushButton* m_bannerAction;
  std::function<void()> m_bannerCallback;
  QTabWidget* m_tabs;
  LibraryView* m_libraryView;
  ConversationView* m_conversationView;
  ReaderView* m_readerView;
  SessionsView* m_sessionsView;
  SummarizeView* m_summarizeView;
  MemoryView* m_memoryView;
  QLabel* m_statusModel;
  QLabel* m_statusDevice;
  QLabel* m_statusMemory;
  QLabel* m_statusSpeed;
  QLabel* m_statusJob;

  Page m_page = Page::kLoading;
  bool m_ready = false;
  memlong::AssistantStatus m_status;
  quint64 m_openReq = 0;
  quint64 m_askReq = 0;
  quint64 m_summaryReq = 0;
  quint64 m_sampleReq = 0;
  quint64 m_readerReq = 0;
  qint64 m_readerPendingEntry = 0;
  QSet<quint64> m_ingestReqs;
  std::vector<memlong::Citation> m_lastCitations;
  QString m_lastQuestion;
  QString m_errorText;
};

}  // namespace memlong::ui
