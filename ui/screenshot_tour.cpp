#include "ui/screenshot_tour.h"

#include <QApplication>
#include <QDir>
#include <QPixmap>
#include <QTabWidget>

#include "ui/chat_model.h"
#include "ui/conversation_view.h"
#include "ui/library_model.h"
#include "ui/library_view.h"
#include "ui/main_window.h"
#include "ui/summarize_view.h"

namespace memlong::ui {

namespace {
constexpr int kPollMs = 250;
constexpr int kMaxPolls = 4 * 60 * 15;  // 15 minutes
}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, const QString& outDir, const QString& question,
                               QObject* parent)
    : QObject(parent), m_window(window), m_outDir(outDir), m_question(question) {
  connect(&m_timer, &QTimer::timeout, this, &ScreenshotTour::poll);
}

void ScreenshotTour::start() {
  QDir().mkpath(m_outDir);
  m_timer.start(kPollMs);
}

bool ScreenshotTour::idle() {
  m_idlePolls = m_window->engine()->isBusy() ? 0 : m_idlePolls + 1;
  return m_idlePolls >= 3;
}

void ScreenshotTour::advance(Stage next) {
  m_stage = next;
  m_idlePolls = 0;
}

bool ScreenshotTour::save(const QString& name) {
  QApplication::processEvents();
  const QString file = QDir(m_outDir).filePath(name + QStringLiteral(".png"));
  const bool ok = m_window->grab().save(file);
  qInfo("memlong-desktop: %s %s", ok ? "wrote" : "could not write", qPrintable(file));
  m_ok = m_ok && ok;
  return ok;
}

void ScreenshotTour::poll() {
  if (++m_polls > kMaxPolls) {
    qWarning("memlong-desktop: screenshot tour timed out in stage %d", static_cast<int>(m_stage));
    m_ok = false;
    advance(Stage::kCapture);
  }
  switch (m_stage) {
    case Stage::kWaitOpen:
      if (m_window->page() == MainWindow::Page::kSetup) {
        save(QStringLiteral("setup"));
        advance(Stage::kDone);
      } else if (m_window->page() == MainWindow::Page::kMain && idle()) {
        advance(Stage::kAddSample);
        if (m_window->libraryModel()->totalDocuments() == 0) m_window->addSampleBook();
      }
      break;
    case Stage::kAddSample:
      if (!idle()) break;
      if (!m_question.isEmpty()) m_window->ask(m_question);
      advance(Stage::kAsk);
      break;
    case Stage::kAsk:
      if (!idle()) break;
      {
        const ChatModel::Message* m =
            m_window->chatModel()->message(m_window->chatModel()->lastAnswerRow());
        if (m != nullptr && !m->citations.empty()) {
          emit m_window->conversationView()->citationActivated(m->citations.front());
        } else if (const memlong::DocumentInfo* d = m_window->libraryModel()->document(0);
                   d != nullptr && d->id != 0) {
          emit m_window->libraryView()->openInReaderRequested(d->id);
        }
      }
      advance(Stage::kReader);
      break;
    case Stage::kReader:
      if (!idle()) break;
      // Summarize the first chapter of the first book (section 1: section 0 is the title page).
      if (const memlong::DocumentInfo* d = m_window->libraryModel()->document(0);
          d != nullptr && d->id != 0) {
        m_window->showTab(MainWindow::kSummarizeTab);
        m_window->summarizeView()->selectDocument(d->id);
        emit m_window->summarizeView()->summarizeRequested(d->id, 1, 1);
      }
      advance(Stage::kSummary);
      break;
    case Stage::kSummary:
      if (!idle()) break;
      m_window->showTab(MainWindow::kMemoryTab);
      advance(Stage::kMemory);
      break;
    case Stage::kMemory:
      if (!idle()) break;
      advance(Stage::kCapture);
      break;
    case Stage::kCapture: {
      const QStringList names = {QStringLiteral("library"),   QStringLiteral("conversation"),
                                 QStringLiteral("reader"),    QStringLiteral("sessions"),
                                 QStringLiteral("summarize"), QStringLiteral("memory")};
      for (int i = 0; i < names.size(); ++i) {
        m_window->showTab(static_cast<MainWindow::Tab>(i));
        save(names[i]);
      }
      advance(Stage::kDone);
      break;
    }
    case Stage::kDone:
      break;
  }
  if (m_stage == Stage::kDone) {
    m_timer.stop();
    emit finished(m_ok ? 0 : 1);
  }
}

}  // namespace memlong::ui
