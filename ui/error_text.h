// Turns a failed request (core's StatusCode and message) into text a user can act on: what failed,
// core's own message (which names the file or setting), and what to do next for that kind of error.
// Thread-safety: pure functions; GUI thread (they call tr()).
#pragma once

#include <QCoreApplication>
#include <QString>

#include "ui/qt_types.h"

namespace memlong::ui {

class ErrorText {
  Q_DECLARE_TR_FUNCTIONS(ErrorText)

 public:
  // The suggestion for a code ("Check that the file exists ..."); "" for Cancelled.
  static QString hint(memlong::StatusCode code, const QString& message);
  // "<operation> failed: <message>\n<hint>" as rich text-free plain text.
  static QString describe(const ErrorInfo& error);
};

}  // namespace memlong::ui
