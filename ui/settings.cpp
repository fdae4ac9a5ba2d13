#include "ui/settings.h"

#include "ui/qt_types.h"

namespace memlong::ui {

// Defaults: the device follows AssistantOptions (core keeps "cpu" until the CUDA backend has passed
// its parity checks); answer mode, top-k and answer length follow AskOptions
// (core/assistant/assistant_types.h, "the measured default"); the memory size follows
// AssistantOptions::session_capacity_tokens; the entry size is MemLongConfig's E = 128 (MEMLONG.md
// §6).
const std::vector<SettingDefault>& settingDefaults() {
  static const std::vector<SettingDefault> kSettingDefaults = {
      {"engine/modelPath", QString()},
      {"engine/retrieverPath", QString()},
      {"engine/libraryDir", QString()},
      {"engine/device", qstr(memlong::AssistantOptions{}.device)},
      {"engine/threads", 0},
      {"memory/capacityTokens", qint64(memlong::AssistantOptions{}.session_capacity_tokens)},
      {"memory/entryTokens", 128},
      {"memory/positionMode", QString()},
      {"memory/evictionPolicy", QString()},
      {"answers/topK", memlong::AskOptions{}.top_k},
      {"answers/mode", QStringLiteral("text")},
      {"answers/maxTokens", memlong::AskOptions{}.max_tokens},
      {"ui/language", QString()},
      {"ui/sampleOffered", false},
      {"window/geometry", QByteArray()},
      {"window/state", QByteArray()},
      {"window/tab", 0},
  };
  return kSettingDefaults;
}

QVariant settingDefault(const char* key) {
  for (const SettingDefault& d : settingDefaults()) {
    if (qstrcmp(d.key, key) == 0) return d.value;
  }
  Q_ASSERT_X(false, "settingDefault", key);
  return {};
}

namespace {
QVariant get(QSettings& store, const char* key) {
  return store.value(QLatin1String(key), settingDefault(key));
}
}  // namespace

AppSettings loadSettings(QSettings& store) {
  AppSettings s;
  s.modelPath = get(store, "engine/modelPath").toString();
  s.retrieverPath = get(store, "engine/retrieverPath").toString();
  s.libraryDir = get(store, "engine/libraryDir").toString();
  s.device = get(store, "engine/device").toString();
  s.threads = get(store, "engine/threads").toInt();
  s.memoryTokens = get(store, "memory/capacityTokens").toLongLong();
  s.entryTokens = get(store, "memory/entryTokens").toInt();
  s.positionMode = get(store, "memory/positionMode").toString();
  s.evictionPolicy = get(store, "memory/evictionPolicy").toString();
  s.topK = get(store, "answers/topK").toInt();
  s.answerMode = get(store, "answers/mode").toString();
  s.maxAnswerTokens = get(store, "answers/maxTokens").toInt();
  s.language = get(store, "ui/language").toString();
  if (s.device.isEmpty()) s.device = settingDefault("engine/device").toString();
  if (s.memoryTokens <= 0) s.memoryTokens = settingDefault("memory/capacityTokens").toLongLong();
  if (s.entryTokens <= 0) s.entryTokens = settingDefault("memory/entryTokens").toInt();
  if (s.topK <= 0) s.topK = settingDefault("answers/topK").toInt();
  if (s.maxAnswerTokens <= 0) s.maxAnswerTokens = settingDefault("answers/maxTokens").toInt();
  return s;
}

AppSettings defaultSettings() {
  AppSettings s;
  s.device = settingDefault("engine/device").toString();
  s.threads = settingDefault("engine/threads").toInt();
  s.memoryTokens = settingDefault("memory/capacityTokens").toLongLong();
  s.entryTokens = settingDefault("memory/entryTokens").toInt();
  s.topK = settingDefault("answers/topK").toInt();
  s.answerMode = settingDefault("answers/mode").toString();
  s.maxAnswerTokens = settingDefault("answers/maxTokens").toInt();
  return s;
}

void saveSettings(QSettings& store, const AppSettings& s) {
  store.setValue("engine/modelPath", s.modelPath);
  store.setValue("engine/retrieverPath", s.retrieverPath);
  store.setValue("engine/libraryDir", s.libraryDir);
  store.setValue("engine/device", s.device);
  store.setValue("engine/threads", s.threads);
  store.setValue("memory/capacityTokens", s.memoryTokens);
  store.setValue("memory/entryTokens", s.entryTokens);
  store.setValue("memory/positionMode", s.positionMode);
  store.setValue("memory/evictionPolicy", s.evictionPolicy);
  store.setValue("answers/topK", s.topK);
  store.setValue("answers/mode", s.answerMode);
  store.setValue("answers/maxTokens", s.maxAnswerTokens);
  store.setValue("ui/language", s.language);
}

memlong::AssistantOptions toAssistantOptions(const AppSettings& s) {
  memlong::AssistantOptions o;
  o.model_path = stdstr(s.modelPath);
  o.retriever_path = stdstr(s.retrieverPath);
  o.library_dir = fspath(s.libraryDir);
  o.n_threads = s.threads;
  o.device = s.device.isEmpty() ? memlong::AssistantOptions{}.device : stdstr(s.device);
  o.session_capacity_tokens = s.memoryTokens;
  o.memlong_overrides.emplace_back("top_k", std::to_string(s.topK));
  o.memlong_overrides.emplace_back("entry_tokens", std::to_string(s.entryTokens));
  if (!s.positionMode.isEmpty())
    o.memlong_overrides.emplace_back("position_mode", stdstr(s.positionMode));
  if (!s.evictionPolicy.isEmpty())
    o.memlong_overrides.emplace_back("eviction", stdstr(s.evictionPolicy));
  return o;
}

memlong::AnswerMode answerModeFromString(const QString& s) {
  if (s == QLatin1String("memory")) return memlong::AnswerMode::kMemory;
  if (s == QLatin1String("none")) return memlong::AnswerMode::kNone;
  return memlong::AnswerMode::kText;
}

memlong::AskOptions toAskOptions(const AppSettings& s) {
  memlong::AskOptions o;
  o.mode = answerModeFromString(s.answerMode);
  o.top_k = s.topK;
  o.max_tokens = s.maxAnswerTokens;
  return o;
}

bool needsReopen(const AppSettings& a, const AppSettings& b) {
  return a.modelPath != b.modelPath || a.retrieverPath != b.retrieverPath ||
         a.libraryDir != b.libraryDir || a.device != b.device || a.threads != b.threads ||
         a.memoryTokens != b.memoryTokens || a.topK != b.topK || a.entryTokens != b.entryTokens ||
         a.positionMode != b.positionMode || a.evictionPolicy != b.evictionPolicy;
}

}  // namespace memlong::ui
