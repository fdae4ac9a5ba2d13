// ConversationView: the Conversation tab. The transcript (from ChatModel) with the answer growing
// as it streams, a question box (Ctrl+Enter asks), a Stop button while an answer runs, and the
// citations of the latest answer; activating a citation asks to open its passage in the Reader.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QTimer>
#include <QWidget>
#include <vector>

#include "core/assistant/assistant_types.h"

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;

namespace memlong::ui {

class ChatModel;

class ConversationView : public QWidget {
  Q_OBJECT

 public:
  explicit ConversationView(ChatModel* model, QWidget* parent = nullptr);

  void setAnswering(bool answering);
  void setEngineReady(bool ready);
  void setAnswerStats(const memlong::Answer& answer);
  QString transcriptText() const;
  const std::vector<memlong::Citation>& shownCitations() const { return m_citations; }
  QPlainTextEdit* questionEdit() const { return m_question; }

 signals:
  void askRequested(const QString& question);
  void stopRequested();
  void citationActivated(const memlong::Citation& citation);
  void citationsShown(const std::vector<memlong::Citation>& citations);

 public slots:
  void ask();
  void focusQuestion();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void render();
  void showCitations(const std::vector<memlong::Citation>& citations);

  ChatModel* m_model;
  QTextBrowser* m_transcript;
  QPlainTextEdit* m_question;
  QPushButton* m_ask;
  QPushButton* m_stop;
  QListWidget* m_citationList;
  QLabel* m_stats;
  QTimer m_renderTimer;
  std::vector<memlong::Citation> m_citations;
  bool m_answering = false;
  bool m_ready = false;
};

}  // namespace memlong::ui
