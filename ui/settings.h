// AppSettings: the user's choices for the engine (model, retriever, device, threads, memory shape)
// and for answers, read from and written to QSettings. Every key and its default live in one table
// (settings.cpp, kSettingDefaults); core never sees QSettings, only the plain option structs built
// here (toAssistantOptions, toAskOptions).
// Thread-safety: plain values; load/save touch QSettings and run on the GUI thread.
#pragma once

#include <QSettings>
#include <QString>
#include <QVariant>

#include "core/assistant/assistant.h"

namespace memlong::ui {

struct AppSettings {
  QString modelPath;        // "" = the default model
  QString retrieverPath;    // "" = the default retriever
  QString libraryDir;       // "" = default_library_dir()
  QString device;           // "auto", "cpu", "cuda"
  int threads = 0;          // <= 0: one per core
  qint64 memoryTokens = 0;  // session memory capacity (tokens)
  int topK = 0;             // retrieved passages / memory entries per question
  int entryTokens = 0;      // memory entry size E
  QString positionMode;     // "" (model default), "zero", "contiguous"
  QString evictionPolicy;   // "" (model default), "counter", "fifo_half"
  QString answerMode;       // "text", "memory", "none"
  int maxAnswerTokens = 0;  // answer length limit
  QString language;         // "" = system, "en", "ko"

  bool operator==(const AppSettings&) const = default;
};

// One row of the defaults table: the QSettings key and its default value.
struct SettingDefault {
  const char* key;
  QVariant value;
};
// The defaults table (the only place defaults are written down).
const std::vector<SettingDefault>& settingDefaults();
QVariant settingDefault(const char* key);

AppSettings defaultSettings();
AppSettings loadSettings(QSettings& store);
void saveSettings(QSettings& store, const AppSettings& s);

// Core option structs built from the settings.
memlong::AssistantOptions toAssistantOptions(const AppSettings& s);
memlong::AskOptions toAskOptions(const AppSettings& s);

// True when going from `a` to `b` needs a new Assistant (model, retriever, device, memory shape).
bool needsReopen(const AppSettings& a, const AppSettings& b);

// Answer modes as stored in settings ("text", "memory", "none").
memlong::AnswerMode answerModeFromString(const QString& s);

}  // namespace memlong::ui
