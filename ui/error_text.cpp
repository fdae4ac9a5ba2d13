#include "ui/error_text.h"

namespace memlong::ui {

QString ErrorText::hint(memlong::StatusCode code, const QString& message) {
  switch (code) {
    case memlong::StatusCode::kOk:
    case memlong::StatusCode::kCancelled:
      return {};
    case memlong::StatusCode::kInvalidArgument:
      return tr("Check the value you entered, or the settings (Edit ▸ Settings).");
    case memlong::StatusCode::kNotFound:
      if (message.contains(QLatin1String("model")) ||
          message.contains(QLatin1String("retriever"))) {
        return tr(
            "Get the default models with scripts/setup (or memlong-fetch-models), or choose "
            "a model file in Edit ▸ Settings.");
      }
      return tr("Check that the file or item still exists, then try again.");
    case memlong::StatusCode::kCorrupt:
      return tr(
          "The file is damaged or not in the expected format: get a fresh copy of it, or "
          "remove it from the library.");
    case memlong::StatusCode::kUnsupported:
      if (message.contains(QLatin1String("not available in this build"))) {
        return tr(
            "This version of MemLong does not have this feature yet; update MemLong to use "
            "it.");
      }
      return tr(
          "This file type or setting is not supported; convert the file (for example to "
          "EPUB, PDF or plain text) or change the setting.");
    case memlong::StatusCode::kIoError:
      return tr(
          "Check free disk space and that the library folder is writable (Edit ▸ Settings "
          "shows it).");
    case memlong::StatusCode::kOutOfMemory:
      return tr(
          "Close other programs, lower the memory size or the thread count in Edit ▸ "
          "Settings, or choose the CPU device.");
    case memlong::StatusCode::kInternal:
      return tr(
          "This is a bug in MemLong. Please report it with the message above; restarting "
          "the app usually helps meanwhile.");
  }
  return {};
}

QString ErrorText::describe(const ErrorInfo& error) {
  QString text = tr("%1 failed: %2").arg(error.operation, error.message);
  const QString h = hint(error.code, error.message);
  if (!h.isEmpty()) text += QLatin1Char('\n') + h;
  return text;
}

}  // namespace memlong::ui
