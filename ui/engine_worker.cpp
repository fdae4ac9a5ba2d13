#include "ui/engine_worker.h"

#include <QDebug>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSaveFile>
#include <exception>

namespace memlong::ui {

namespace {
// Progress callbacks can fire per chunk (hundreds a second); the GUI repaints at most this often,
// except on a change of file or stage, which always goes through.
constexpr qint64 kProgressIntervalMs = 100;
}  // namespace

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {
  registerMetaTypes();
}

EngineWorker::~EngineWorker() = default;

void EngineWorker::run(quint64 req, const QString& what, bool needsAssistant,
                       const std::function<void()>& body) {
  emit jobStarted(req, what);
  if (needsAssistant && !m_assistant) {
    fail(req, what,
         memlong::Status(memlong::StatusCode::kNotFound,
                         "no model is loaded; open the settings and choose a model, or run "
                         "scripts/setup to get the default one"));
  } else {
    try {
      body();
    } catch (const std::exception& e) {
      qWarning("memlong: engine worker: %s escaped: %s", qPrintable(what), e.what());
      fail(req, what, memlong::internal_error(std::string("unexpected error: ") + e.what()));
    } catch (...) {
      qWarning("memlong: engine worker: %s escaped with an unknown exception", qPrintable(what));
      fail(req, what, memlong::internal_error("unexpected error of unknown kind"));
    }
  }
  emit jobFinished(req);
}

void EngineWorker::fail(quint64 req, const QString& what, const memlong::Status& status) {
  emit failed(req, ErrorInfo{what, status.code(), qstr(status.message())});
}

void EngineWorker::emitStatus() {
  if (m_assistant) emit statusChanged(m_assistant->status());
}

void EngineWorker::open(quint64 req, const memlong::AssistantOptions& options) {
  run(req, tr("Opening the model"), false, [&] {
    m_assistant.reset();  // free the old model before loading the new one
    auto opened = memlong::Assistant::open(options);
    if (!opened) return fail(req, tr("Opening the model"), opened.status());
    m_assistant = std::move(opened).value();
    const memlong::AssistantStatus status = m_assistant->status();
    emit this->opened(req, status);
    emit statusChanged(status);
  });
}

void EngineWorker::close(quint64 req) {
  run(req, tr("Closing the model"), false, [&] {
    m_assistant.reset();
    emit closed(req);
  });
}

void EngineWorker::refreshStatus(quint64 req) {
  run(req, tr("Reading the status"), true, [&] { emitStatus(); });
}

void EngineWorker::listDocuments(quint64 req) {
  run(req, tr("Listing the library"), true, [&] {
    auto docs = m_assistant->documents();
    if (!docs) return fail(req, tr("Listing the library"), docs.status());
    emit documentsListed(req, docs.value());
  });
}

void EngineWorker::ingest(quint64 req, const QStringList& paths, const memlong::CancelToken& cancel,
                          const memlong::PauseToken& pause) {
  run(req, tr("Adding documents"), true, [&] { ingestNow(req, paths, cancel, pause); });
}

void EngineWorker::ingestNow(quint64 req, const QStringList& paths,
                             const memlong::CancelToken& cancel, const memlong::PauseToken& pause) {
  std::vector<std::filesystem::path> files;
  files.reserve(static_cast<size_t>(paths.size()));
  for (const QString& p : paths) files.push_back(fspath(p));
  QElapsedTimer since;
  since.start();
  int32_t lastFile = -1;
  memlong::IngestStage lastStage = memlong::IngestStage::kParsing;
  auto onProgress = [&](const memlong::IngestProgress& p) {
    const bool changed = p.file_index != lastFile || p.stage != lastStage;
    if (!changed && since.elapsed() < kProgressIntervalMs) return;
    lastFile = p.file_index;
    lastStage = p.stage;
    since.restart();
    emit ingestProgress(req, p);
  };
  auto report = m_assistant->ingest(files, onProgress, cancel, pause);
  if (!report) return fail(req, tr("Adding documents"), report.status());
  emit ingestFinished(req, report.value());
  emitStatus();
  auto docs = m_assistant->documents();
  if (docs) emit documentsListed(req, docs.value());
}

void EngineWorker::reingest(quint64 req, qint64 docId, const QString& path,
                            const memlong::CancelToken& cancel, const memlong::PauseToken& pause) {
  run(req, tr("Reading a document again"), true, [&] {
    memlong::Status removed = m_assistant->remove_document(docId);
    if (!removed) return fail(req, tr("Reading a document again"), removed);
    emit documentRemoved(req, docId);
    ingestNow(req, QStringList{path}, cancel, pause);
  });
}

void EngineWorker::removeDocument(quint64 req, qint64 docId) {
  run(req, tr("Removing a document"), true, [&] {
    memlong::Status removed = m_assistant->remove_document(docId);
    if (!removed) return fail(req, tr("Removing a document"), removed);
    emit documentRemoved(req, docId);
    emitStatus();
  });
}

void EngineWorker::documentText(quint64 req, qint64 docId) {
  run(req, tr("Opening a document"), true, [&] {
    auto text = m_assistant->document_text(docId);
    if (!text) return fail(req, tr("Opening a document"), text.status());
    emit documentTextReady(req, text.value());
  });
}

void EngineWorker::search(quint64 req, const QString& query, int k) {
  run(req, tr("Searching"), true, [&] {
    auto hits = m_assistant->search(stdstr(query), k);
    if (!hits) return fail(req, tr("Searching"), hits.status());
    emit searchFinished(req, hits.value());
  });
}

void EngineWorker::ask(quint64 req, const QString& question, const memlong::AskOptions& options,
                       const memlong::CancelToken& cancel) {
  run(req, tr("Answering"), true, [&] {
    auto onPiece = [&](std::string_view piece) {
      emit answerPiece(req, QString::fromUtf8(piece.data(), static_cast<qsizetype>(piece.size())));
      return !cancel.is_cancelled();
    };
    auto answer = m_assistant->ask(stdstr(question), options, onPiece, cancel);
    if (!answer) return fail(req, tr("Answering"), answer.status());
    emit answerFinished(req, answer.value());
    emitStatus();
  });
}

void EngineWorker::summarize(quint64 req, qint64 docId, int firstChapter, int lastChapter,
                             const memlong::CancelToken& cancel) {
  run(req, tr("Summarizing"), true, [&] {
    QElapsedTimer since;
    since.start();
    int32_t lastChapterSeen = -1;
    auto onProgress = [&](const memlong::SummaryProgress& p) {
      if (p.chapter_index == lastChapterSeen && since.elapsed() < kProgressIntervalMs) return;
      lastChapterSeen = p.chapter_index;
      since.restart();
      emit summaryProgress(req, p);
    };
    auto summary = m_assistant->summarize(docId, firstChapter, lastChapter, onProgress, cancel);
    if (!summary) return fail(req, tr("Summarizing"), summary.status());
    emit summaryFinished(req, summary.value());
    emitStatus();
  });
}

void EngineWorker::listSessions(quint64 req) {
  run(req, tr("Listing sessions"), true, [&] {
    auto list = m_assistant->sessions();
    if (!list) return fail(req, tr("Listing sessions"), list.status());
    emit sessionsListed(req, list.value());
    auto current = m_assistant->current_session();
    if (current) emit sessionChanged(req, current.value());
  });
}

void EngineWorker::newSession(quint64 req, const QString& name) {
  run(req, tr("Starting a session"), true, [&] {
    auto s = m_assistant->new_session(stdstr(name));
    if (!s) return fail(req, tr("Starting a session"), s.status());
    emit sessionChanged(req, s.value());
    emitStatus();
  });
}

void EngineWorker::loadSession(quint64 req, qint64 sessionId) {
  run(req, tr("Loading a session"), true, [&] {
    auto s = m_assistant->load_session(sessionId);
    if (!s) return fail(req, tr("Loading a session"), s.status());
    emit sessionChanged(req, s.value());
    auto messages = m_assistant->conversation();
    if (messages) emit conversationLoaded(req, messages.value());
    emitStatus();
  });
}

void EngineWorker::forkSession(quint64 req, qint64 sessionId, const QString& name) {
  run(req, tr("Forking a session"), true, [&] {
    auto s = m_assistant->fork_session(sessionId, stdstr(name));
    if (!s) return fail(req, tr("Forking a session"), s.status());
    emit sessionChanged(req, s.value());
    emitStatus();
  });
}

void EngineWorker::renameSession(quint64 req, qint64 sessionId, const QString& name) {
  run(req, tr("Renaming a session"), true, [&] {
    memlong::Status st = m_assistant->rename_session(sessionId, stdstr(name));
    if (!st) return fail(req, tr("Renaming a session"), st);
    auto current = m_assistant->current_session();
    if (current) emit sessionChanged(req, current.value());
  });
}

void EngineWorker::deleteSession(quint64 req, qint64 sessionId) {
  run(req, tr("Deleting a session"), true, [&] {
    memlong::Status st = m_assistant->delete_session(sessionId);
    if (!st) return fail(req, tr("Deleting a session"), st);
    emit sessionDeleted(req, sessionId);
  });
}

void EngineWorker::exportSession(quint64 req, qint64 sessionId, const QString& file) {
  run(req, tr("Exporting a session"), true, [&] {
    memlong::Status st = m_assistant->export_session(sessionId, fspath(file));
    if (!st) return fail(req, tr("Exporting a session"), st);
    emit sessionExported(req, file);
  });
}

void EngineWorker::importSession(quint64 req, const QString& file) {
  run(req, tr("Importing a session"), true, [&] {
    auto s = m_assistant->import_session(fspath(file));
    if (!s) return fail(req, tr("Importing a session"), s.status());
    emit sessionImported(req, s.value());
  });
}

void EngineWorker::loadConversation(quint64 req) {
  run(req, tr("Loading the conversation"), true, [&] {
    auto messages = m_assistant->conversation();
    if (!messages) return fail(req, tr("Loading the conversation"), messages.status());
    emit conversationLoaded(req, messages.value());
  });
}

void EngineWorker::memoryMap(quint64 req, qint64 docId) {
  run(req, tr("Reading the memory map"), true, [&] {
    auto map = m_assistant->memory_map(docId);
    if (!map) return fail(req, tr("Reading the memory map"), map.status());
    emit memoryMapReady(req, docId, map.value());
  });
}

void EngineWorker::writeFile(quint64 req, const QString& file, const QByteArray& data) {
  run(req, tr("Saving a file"), false, [&] {
    QDir().mkpath(QFileInfo(file).absolutePath());
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(data) != data.size() || !out.commit()) {
      return fail(
          req, tr("Saving a file"),
          memlong::io_error("cannot write " + stdstr(file) + ": " + stdstr(out.errorString())));
    }
    emit fileWritten(req, file);
  });
}

}  // namespace memlong::ui
