#include "ui/engine_controller.h"

namespace memlong::ui {

EngineController::EngineController(QObject* parent) : QObject(parent) {
  registerMetaTypes();
  m_thread.setObjectName(QStringLiteral("memlong-engine"));
  m_worker = new EngineWorker;  // no parent: it moves to the engine thread
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
  connect(m_worker, &EngineWorker::jobStarted, this, &EngineController::onJobStarted);
  connect(m_worker, &EngineWorker::jobFinished, this, &EngineController::onJobFinished);
  m_thread.start();
}

EngineController::~EngineController() {
  cancelAll();
  m_pause.resume();
  m_thread.quit();
  m_thread.wait();
}

template <typename Call>
quint64 EngineController::post(JobKind kind, Call call) {
  const quint64 id = m_nextId++;
  Job job;
  job.kind = kind;
  job.cancel = std::make_shared<memlong::CancelSource>();
  m_jobs.insert(id, job);
  const memlong::CancelToken token = job.cancel->token();
  EngineWorker* w = m_worker;
  QMetaObject::invokeMethod(
      w, [w, id, token, call]() { call(w, id, token); }, Qt::QueuedConnection);
  emit jobsChanged();
  if (m_jobs.size() == 1) emit busyChanged(true, m_running);
  return id;
}

void EngineController::onJobStarted(quint64, const QString& what) {
  m_running = what;
  emit busyChanged(true, what);
}

void EngineController::onJobFinished(quint64 req) {
  m_jobs.remove(req);
  emit jobsChanged();
  if (m_jobs.isEmpty()) {
    m_running.clear();
    emit busyChanged(false, QString());
  }
}

bool EngineController::hasJob(JobKind kind) const {
  for (const Job& j : m_jobs) {
    if (j.kind == kind) return true;
  }
  return false;
}

void EngineController::cancel(JobKind kind) {
  for (Job& j : m_jobs) {
    if (j.kind == kind) j.cancel->cancel();
  }
}

void EngineController::cancelAll() {
  for (Job& j : m_jobs) j.cancel->cancel();
}

void EngineController::setIngestPaused(bool paused) {
  if (paused)
    m_pause.pause();
  else
    m_pause.resume();
}

quint64 EngineController::open(const memlong::AssistantOptions& options) {
  return post(JobKind::kOpen, [options](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->open(id, options);
  });
}

quint64 EngineController::close() {
  return post(JobKind::kOther,
              [](EngineWorker* w, quint64 id, const memlong::CancelToken&) { w->close(id); });
}

quint64 EngineController::refreshStatus() {
  return post(JobKind::kOther, [](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->refreshStatus(id);
  });
}

quint64 EngineController::listDocuments() {
  return post(JobKind::kOther, [](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->listDocuments(id);
  });
}

quint64 EngineController::ingest(const QStringList& paths) {
  const memlong::PauseToken pause = m_pause.token();
  return post(JobKind::kIngest,
              [paths, pause](EngineWorker* w, quint64 id, const memlong::CancelToken& cancel) {
                w->ingest(id, paths, cancel, pause);
              });
}

quint64 EngineController::reingest(qint64 docId, const QString& path) {
  const memlong::PauseToken pause = m_pause.token();
  return post(JobKind::kIngest, [docId, path, pause](EngineWorker* w, quint64 id,
                                                     const memlong::CancelToken& cancel) {
    w->reingest(id, docId, path, cancel, pause);
  });
}

quint64 EngineController::removeDocument(qint64 docId) {
  return post(JobKind::kOther, [docId](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->removeDocument(id, docId);
  });
}

quint64 EngineController::documentText(qint64 docId) {
  return post(JobKind::kOther, [docId](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->documentText(id, docId);
  });
}

quint64 EngineController::search(const QString& query, int k) {
  return post(JobKind::kOther,
              [query, k](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->search(id, query, k);
              });
}

quint64 EngineController::ask(const QString& question, const memlong::AskOptions& options) {
  return post(JobKind::kAnswer,
              [question, options](EngineWorker* w, quint64 id, const memlong::CancelToken& cancel) {
                w->ask(id, question, options, cancel);
              });
}

quint64 EngineController::summarize(qint64 docId, int firstChapter, int lastChapter) {
  return post(JobKind::kSummary,
              [=](EngineWorker* w, quint64 id, const memlong::CancelToken& cancel) {
                w->summarize(id, docId, firstChapter, lastChapter, cancel);
              });
}

quint64 EngineController::listSessions() {
  return post(JobKind::kOther, [](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->listSessions(id);
  });
}

quint64 EngineController::newSession(const QString& name) {
  return post(JobKind::kOther, [name](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->newSession(id, name);
  });
}

quint64 EngineController::loadSession(qint64 sessionId) {
  return post(JobKind::kOther,
              [sessionId](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->loadSession(id, sessionId);
              });
}

quint64 EngineController::forkSession(qint64 sessionId, const QString& name) {
  return post(JobKind::kOther,
              [sessionId, name](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->forkSession(id, sessionId, name);
              });
}

quint64 EngineController::renameSession(qint64 sessionId, const QString& name) {
  return post(JobKind::kOther,
              [sessionId, name](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->renameSession(id, sessionId, name);
              });
}

quint64 EngineController::deleteSession(qint64 sessionId) {
  return post(JobKind::kOther,
              [sessionId](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->deleteSession(id, sessionId);
              });
}

quint64 EngineController::exportSession(qint64 sessionId, const QString& file) {
  return post(JobKind::kOther,
              [sessionId, file](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->exportSession(id, sessionId, file);
              });
}

quint64 EngineController::importSession(const QString& file) {
  return post(JobKind::kOther, [file](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->importSession(id, file);
  });
}

quint64 EngineController::loadConversation() {
  return post(JobKind::kOther, [](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->loadConversation(id);
  });
}

quint64 EngineController::memoryMap(qint64 docId) {
  return post(JobKind::kOther, [docId](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
    w->memoryMap(id, docId);
  });
}

quint64 EngineController::writeFile(const QString& file, const QByteArray& data) {
  return post(JobKind::kOther,
              [file, data](EngineWorker* w, quint64 id, const memlong::CancelToken&) {
                w->writeFile(id, file, data);
              });
}

}  // namespace memlong::ui
