// AppSettings: an empty store reads the defaults table; a save/load round trip keeps every field;
// the core option structs carry the values; needsReopen() tells engine settings from answer ones.
#include <QTemporaryDir>
#include <QtTest>

#include "ui/settings.h"
#include "ui/settings_dialog.h"

using memlong::ui::AppSettings;

namespace {
AppSettings custom() {
  AppSettings s = memlong::ui::defaultSettings();
  s.modelPath = QStringLiteral("/models/모델.gguf");
  s.retrieverPath = QStringLiteral("/models/e5.bin");
  s.libraryDir = QStringLiteral("/data/library");
  s.device = QStringLiteral("cpu");
  s.threads = 3;
  s.memoryTokens = 65536;
  s.topK = 5;
  s.entryTokens = 256;
  s.positionMode = QStringLiteral("zero");
  s.evictionPolicy = QStringLiteral("fifo_half");
  s.answerMode = QStringLiteral("memory");
  s.maxAnswerTokens = 100;
  s.language = QStringLiteral("ko");
  return s;
}

bool hasOverride(const memlong::AssistantOptions& o, const std::string& k, const std::string& v) {
  for (const auto& [key, value] : o.memlong_overrides) {
    if (key == k && value == v) return true;
  }
  return false;
}
}  // namespace

class SettingsTest : public QObject {
  Q_OBJECT

 private slots:
  void emptyStoreGivesDefaults() {
    QTemporaryDir dir;
    QSettings store(dir.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
    const AppSettings s = memlong::ui::loadSettings(store);
    QCOMPARE(s, memlong::ui::defaultSettings());
    QCOMPARE(s.device.toStdString(), memlong::AssistantOptions{}.device);
    QCOMPARE(s.topK, memlong::AskOptions{}.top_k);
    QCOMPARE(s.maxAnswerTokens, memlong::AskOptions{}.max_tokens);
    QCOMPARE(s.memoryTokens, memlong::AssistantOptions{}.session_capacity_tokens);
    QCOMPARE(s.answerMode, QStringLiteral("text"));
    QCOMPARE(memlong::ui::settingDefault("memory/entryTokens").toInt(), s.entryTokens);
  }

  void roundTrip() {
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("s.ini"));
    const AppSettings s = custom();
    {
      QSettings store(file, QSettings::IniFormat);
      memlong::ui::saveSettings(store, s);
    }
    QSettings again(file, QSettings::IniFormat);
    QCOMPARE(memlong::ui::loadSettings(again), s);
  }

  void dialogShowsAndReturnsTheSameSettings() {
    const AppSettings s = custom();
    memlong::ui::SettingsDialog dialog(s);
    QCOMPARE(dialog.settings(), s);
    dialog.setSettings(memlong::ui::defaultSettings());
    QCOMPARE(dialog.settings(), memlong::ui::defaultSettings());
  }

  void coreOptions() {
    const AppSettings s = custom();
    const memlong::AssistantOptions o = memlong::ui::toAssistantOptions(s);
    QCOMPARE(QString::fromStdString(o.model_path), s.modelPath);
    QCOMPARE(QString::fromStdString(o.library_dir.string()), s.libraryDir);
    QCOMPARE(o.device, std::string("cpu"));
    QCOMPARE(o.n_threads, 3);
    QCOMPARE(o.session_capacity_tokens, int64_t{65536});
    QVERIFY(hasOverride(o, "top_k", "5"));
    QVERIFY(hasOverride(o, "entry_tokens", "256"));
    QVERIFY(hasOverride(o, "position_mode", "zero"));
    QVERIFY(hasOverride(o, "eviction", "fifo_half"));
    // "Model default" adds no override.
    AppSettings d = memlong::ui::defaultSettings();
    const memlong::AssistantOptions od = memlong::ui::toAssistantOptions(d);
    for (const auto& [k, v] : od.memlong_overrides) {
      QVERIFY(k != "position_mode");
      QVERIFY(k != "eviction");
    }
    const memlong::AskOptions a = memlong::ui::toAskOptions(s);
    QCOMPARE(a.mode, memlong::AnswerMode::kMemory);
    QCOMPARE(a.top_k, 5);
    QCOMPARE(a.max_tokens, 100);
  }

  void reopenOnlyForEngineSettings() {
    const AppSettings a = custom();
    AppSettings b = a;
    b.answerMode = QStringLiteral("text");
    b.maxAnswerTokens = 300;
    b.language = QStringLiteral("en");
    QVERIFY(!memlong::ui::needsReopen(a, b));
    b.device = QStringLiteral("cuda");
    QVERIFY(memlong::ui::needsReopen(a, b));
    b = a;
    b.entryTokens = 64;
    QVERIFY(memlong::ui::needsReopen(a, b));
  }
};

QTEST_MAIN(SettingsTest)
#include "settings_qtest.moc"
