// EngineWorker: the one object that owns the memlong::Assistant. It lives on the engine thread
// (EngineController moves it there) and every member below runs on that thread, called through
// queued calls; results go back to the GUI as signals that carry values (copies), never pointers
// into engine state. Long jobs take a CancelToken (and ingestion a PauseToken) whose source the
// GUI keeps and triggers directly, because this thread's event loop is busy while a job runs.
//
// Every request carries a request id chosen by the caller; each request ends with exactly one of
// `failed(id, ...)` or its own result signal, and then `jobFinished(id)`.
// Thread-safety: create on any thread, then use only from the thread it lives on.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

#include "core/assistant/assistant.h"
#include "ui/qt_types.h"

namespace memlong::ui {

class EngineWorker : public QObject {
  Q_OBJECT

 public:
  explicit EngineWorker(QObject* parent = nullptr);
  ~EngineWorker() override;

  bool isOpen() const { return m_assistant != nullptr; }

  // ---- requests (run on the worker thread) ----
  // Closes any open Assistant, then opens one with `options`; emits opened() or failed().
  void open(quint64 req, const memlong::AssistantOptions& options);
  void close(quint64 req);
  void refreshStatus(quint64 req);
  void listDocuments(quint64 req);
  void ingest(quint64 req, const QStringList& paths, const memlong::CancelToken& cancel,
              const memlong::PauseToken& pause);
  // Removes the document from the library and reads its file again.
  void reingest(quint64 req, qint64 docId, const QString& path, const memlong::CancelToken& cancel,
                const memlong::PauseToken& pause);
  void removeDocument(quint64 req, qint64 docId);
  void documentText(quint64 req, qint64 docId);
  void search(quint64 req, const QString& query, int k);
  void ask(quint64 req, const QString& question, const memlong::AskOptions& options,
           const memlong::CancelToken& cancel);
  void summarize(quint64 req, qint64 docId, int firstChapter, int lastChapter,
                 const memlong::CancelToken& cancel);
  void listSessions(quint64 req);
  void newSession(quint64 req, const QString& name);
  void loadSession(quint64 req, qint64 sessionId);
  void forkSession(quint64 req, qint64 sessionId, const QString& name);
  void renameSession(quint64 req, qint64 sessionId, const QString& name);
  void deleteSession(quint64 req, qint64 sessionId);
  void exportSession(quint64 req, qint64 sessionId, const QString& file);
  void importSession(quint64 req, const QString& file);
  void loadConversation(quint64 req);
  void memoryMap(quint64 req, qint64 docId);
  // Writes `data` to `file` (temporary name, then renamed into place): exports and the sample book.
  void writeFile(quint64 req, const QString& file, const QByteArray& data);

 signals:
  void jobStarted(quint64 req, const QString& what);
  void jobFinished(quint64 req);
  void failed(quint64 req, const memlong::ui::ErrorInfo& error);
  void opened(quint64 req, const memlong::AssistantStatus& status);
  void closed(quint64 req);
  void statusChanged(const memlong::AssistantStatus& status);
  void documentsListed(quint64 req, const std::vector<memlong::DocumentInfo>& docs);
  void ingestProgress(quint64 req, const memlong::IngestProgress& progress);
  void ingestFinished(quint64 req, const memlong::IngestReport& report);
  void documentRemoved(quint64 req, qint64 docId);
  void documentTextReady(quint64 req, const memlong::DocumentText& text);
  void searchFinished(quint64 req, const std::vector<memlong::LibraryHit>& hits);
  void answerPiece(quint64 req, const QString& piece);
  void answerFinished(quint64 req, const memlong::Answer& answer);
  void summaryProgress(quint64 req, const memlong::SummaryProgress& progress);
  void summaryFinished(quint64 req, const memlong::Summary& summary);
  void sessionsListed(quint64 req, const std::vector<memlong::SessionInfo>& sessions);
  // The current session changed (new, load, fork, import) or was renamed.
  void sessionChanged(quint64 req, const memlong::SessionInfo& current);
  // An imported session joins the list; the current session stays as it was.
  void sessionImported(quint64 req, const memlong::SessionInfo& imported);
  void sessionDeleted(quint64 req, qint64 sessionId);
  void sessionExported(quint64 req, const QString& file);
  void conversationLoaded(quint64 req, const std::vector<memlong::ConversationMessage>& messages);
  void memoryMapReady(quint64 req, qint64 docId, const std::vector<memlong::MemoryMapEntry>& map);
  void fileWritten(quint64 req, const QString& file);

 private:
  // Runs `body` as job `req`: announces it, requires an open Assistant unless `needsAssistant` is
  // false, turns an escaped exception into Internal (plus a log line), and ends with jobFinished.
  void run(quint64 req, const QString& what, bool needsAssistant,
           const std::function<void()>& body);
  void ingestNow(quint64 req, const QStringList& paths, const memlong::CancelToken& cancel,
                 const memlong::PauseToken& pause);
  void fail(quint64 req, const QString& what, const memlong::Status& status);
  void emitStatus();

  std::unique_ptr<memlong::Assistant> m_assistant;
};

}  // namespace memlong::ui
