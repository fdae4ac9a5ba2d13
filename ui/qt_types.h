// Qt glue for core's plain value types: UTF-8 std::string <-> QString, and metatype declarations
// so the values can travel in queued signals between the engine worker thread and the GUI thread.
// Thread-safety: free functions on values; safe from any thread.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <filesystem>
#include <string>
#include <vector>

#include "core/assistant/assistant_types.h"
#include "core/common/status.h"

namespace memlong::ui {

inline QString qstr(const std::string& s) {
  return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}
inline std::string stdstr(const QString& s) {
  const QByteArray b = s.toUtf8();
  return std::string(b.constData(), static_cast<size_t>(b.size()));
}
inline std::filesystem::path fspath(const QString& s) {
  return std::filesystem::path(stdstr(s));
}

// A failed request, as the GUI shows it: which operation, the core code, and the core message.
struct ErrorInfo {
  QString operation;  // "Opening the model", "Ingesting", ... (translated)
  memlong::StatusCode code = memlong::StatusCode::kInternal;
  QString message;  // core's message (English, says what failed and where)
};

// Registers every type below with Qt's meta-type system (idempotent; call before connecting).
void registerMetaTypes();

}  // namespace memlong::ui

Q_DECLARE_METATYPE(memlong::ui::ErrorInfo)
Q_DECLARE_METATYPE(memlong::AssistantStatus)
Q_DECLARE_METATYPE(memlong::DocumentInfo)
Q_DECLARE_METATYPE(std::vector<memlong::DocumentInfo>)
Q_DECLARE_METATYPE(memlong::IngestProgress)
Q_DECLARE_METATYPE(memlong::IngestReport)
Q_DECLARE_METATYPE(memlong::DocumentText)
Q_DECLARE_METATYPE(memlong::Answer)
Q_DECLARE_METATYPE(std::vector<memlong::LibraryHit>)
Q_DECLARE_METATYPE(memlong::SummaryProgress)
Q_DECLARE_METATYPE(memlong::Summary)
Q_DECLARE_METATYPE(memlong::SessionInfo)
Q_DECLARE_METATYPE(std::vector<memlong::SessionInfo>)
Q_DECLARE_METATYPE(std::vector<memlong::ConversationMessage>)
Q_DECLARE_METATYPE(std::vector<memlong::MemoryMapEntry>)
