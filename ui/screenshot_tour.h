// ScreenshotTour: drives a MainWindow through its main views and saves a PNG of each
// (`memlong-desktop --screenshots DIR`, used by scripts/screenshots for docs/screenshots/). With
// the model present it adds the sample book when the library is empty, asks one question, opens
// the first citation in the Reader, summarizes the first chapter, fills the Memory view, then
// grabs every tab; when the model
// cannot be loaded it grabs the setup screen. Each step waits until the engine is idle.
// Thread-safety: GUI thread only.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

namespace memlong::ui {

class MainWindow;

class ScreenshotTour : public QObject {
  Q_OBJECT

 public:
  ScreenshotTour(MainWindow* window, const QString& outDir, const QString& question,
                 QObject* parent = nullptr);
  // Starts polling; call before (or right after) MainWindow::start().
  void start();

 signals:
  // 0 when every picture was written.
  void finished(int exitCode);

 private:
  enum class Stage { kWaitOpen, kAddSample, kAsk, kReader, kSummary, kMemory, kCapture, kDone };
  void poll();
  bool idle();
  bool save(const QString& name);
  void advance(Stage next);

  MainWindow* m_window;
  QString m_outDir;
  QString m_question;
  QTimer m_timer;
  Stage m_stage = Stage::kWaitOpen;
  int m_idlePolls = 0;
  int m_polls = 0;
  bool m_ok = true;
};

}  // namespace memlong::ui
