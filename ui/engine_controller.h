// EngineController: the GUI thread's handle on the engine. It owns the named engine thread
// ("memlong-engine") and the EngineWorker that lives on it, turns each request into a queued call
// on the worker (the GUI thread never waits for the engine), and keeps the cancel and pause sources
// of the running jobs so that Cancel and Pause act at once, from the GUI thread, while the worker's
// event loop is busy. Results arrive through the worker's signals (connect to worker()).
//
// Lifetime: the destructor cancels every job, resumes a paused ingestion, asks the thread to quit
// and waits for it; the worker (and the Assistant it owns) is destroyed on the engine thread.
// Thread-safety: GUI thread only.
#pragma once

#include <QHash>
#include <QObject>
#include <QThread>
#include <memory>

#include "core/common/cancel.h"
#include "core/common/pause.h"
#include "ui/engine_worker.h"

namespace memlong::ui {

class EngineController : public QObject {
  Q_OBJECT

 public:
  enum class JobKind { kOther, kOpen, kIngest, kAnswer, kSummary };

  explicit EngineController(QObject* parent = nullptr);
  ~EngineController() override;

  EngineWorker* worker() const { return m_worker; }
  QThread* engineThread() { return &m_thread; }

  // Each request returns its id; the worker's signals carry it.
  quint64 open(const memlong::AssistantOptions& options);
  quint64 close();
  quint64 refreshStatus();
  quint64 listDocuments();
  quint64 ingest(const QStringList& paths);
  quint64 reingest(qint64 docId, const QString& path);
  quint64 removeDocument(qint64 docId);
  quint64 documentText(qint64 docId);
  quint64 search(const QString& query, int k);
  quint64 ask(const QString& question, const memlong::AskOptions& options);
  quint64 summarize(qint64 docId, int firstChapter, int lastChapter);
  quint64 listSessions();
  quint64 newSession(const QString& name);
  quint64 loadSession(qint64 sessionId);
  quint64 forkSession(qint64 sessionId, const QString& name);
  quint64 renameSession(qint64 sessionId, const QString& name);
  quint64 deleteSession(qint64 sessionId);
  quint64 exportSession(qint64 sessionId, const QString& file);
  quint64 importSession(const QString& file);
  quint64 loadConversation();
  quint64 memoryMap(qint64 docId);
  quint64 writeFile(const QString& file, const QByteArray& data);

  // Cancel every job of one kind (running or still queued); sets the tokens directly.
  void cancel(JobKind kind);
  void cancelAll();
  void setIngestPaused(bool paused);
  bool isIngestPaused() const { return m_pause.is_paused(); }

  bool isBusy() const { return !m_jobs.isEmpty(); }
  bool hasJob(JobKind kind) const;
  int queuedJobs() const { return static_cast<int>(m_jobs.size()); }

 signals:
  // Emitted when the set of queued and running jobs changes; `what` names the running one.
  void busyChanged(bool busy, const QString& what);
  void jobsChanged();

 private:
  struct Job {
    JobKind kind = JobKind::kOther;
    std::shared_ptr<memlong::CancelSource> cancel;
  };
  // Registers a job and queues `call(worker, id, cancelToken)` on the engine thread.
  template <typename Call>
  quint64 post(JobKind kind, Call call);
  void onJobStarted(quint64 req, const QString& what);
  void onJobFinished(quint64 req);

  QThread m_thread;
  EngineWorker* m_worker = nullptr;  // owned by the engine thread (deleteLater on finished)
  memlong::PauseSource m_pause;
  QHash<quint64, Job> m_jobs;
  quint64 m_nextId = 1;
  QString m_running;
};

}  // namespace memlong::ui
