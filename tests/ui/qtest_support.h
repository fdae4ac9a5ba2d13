// Helpers shared by the Qt tests: the real default model (tests that need it fail with the setup
// hint when it is missing; they never skip), a short book made from the repository's sample text,
// and a recorder of one request's outcome on an EngineController.
#pragma once

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QString>
#include <QtTest>
#include <optional>

#include "core/common/paths.h"
#include "ui/engine_controller.h"

namespace memlong::ui::test {

inline bool defaultModelsPresent(QString* why) {
  const QString model = QString::fromStdString(memlong::default_model_path());
  const QString retriever = QString::fromStdString(memlong::default_retriever_path());
  if (!QFileInfo::exists(model) || !QFileInfo::exists(retriever)) {
    *why = QStringLiteral("the default model or retriever is missing (%1, %2): run scripts/setup")
               .arg(model, retriever);
    return false;
  }
  return true;
}

// Writes the first `bytes` of the sample book (cut at a paragraph end) to dir/name; returns the
// path.
inline QString writeShortBook(const QString& dir, const QString& name, int bytes) {
  QFile in(QStringLiteral(MEMLONG_SOURCE_DIR "/resources/sample/persuasion-chapters-1-6.txt"));
  if (!in.open(QIODevice::ReadOnly)) return {};
  QByteArray text = in.readAll();
  const qsizetype cut = text.indexOf("\n\n", bytes);
  text.truncate(cut > 0 ? cut : bytes);
  const QString path = QDir(dir).filePath(name);
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly) || out.write(text) != text.size()) return {};
  return path;
}

// Options for a test Assistant: default model, `libraryDir`, one thread (the GUI thread keeps a
// core).
inline memlong::AssistantOptions testOptions(const QString& libraryDir) {
  memlong::AssistantOptions o;
  o.library_dir = libraryDir.toStdString();
  o.n_threads = 1;
  o.device = "cpu";
  return o;
}

// Records how request `id` ended.
struct Outcome {
  bool finished = false;
  std::optional<ErrorInfo> error;
};

inline void track(EngineController* engine, quint64 id, Outcome* outcome) {
  QObject::connect(engine->worker(), &EngineWorker::failed, engine,
                   [id, outcome](quint64 req, const ErrorInfo& e) {
                     if (req == id) outcome->error = e;
                   });
  QObject::connect(engine->worker(), &EngineWorker::jobFinished, engine,
                   [id, outcome](quint64 req) {
                     if (req == id) outcome->finished = true;
                   });
}

inline QString describe(const Outcome& o) {
  if (!o.error) return QStringLiteral("ok");
  return QStringLiteral("%1: [%2] %3")
      .arg(o.error->operation)
      .arg(memlong::status_code_name(o.error->code))
      .arg(o.error->message);
}

}  // namespace memlong::ui::test
