#include "ui/conversation_view.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/chat_model.h"
#include "ui/qt_types.h"

namespace memlong::ui {

ConversationView::ConversationView(ChatModel* model, QWidget* parent)
    : QWidget(parent), m_model(model) {
  m_transcript = new QTextBrowser(this);
  m_transcript->setObjectName(QStringLiteral("transcript"));
  m_transcript->setOpenLinks(false);
  m_question = new QPlainTextEdit(this);
  m_question->setObjectName(QStringLiteral("questionEdit"));
  m_question->setPlaceholderText(tr("Ask about your books… (Ctrl+Enter to ask)"));
  m_question->setMaximumHeight(90);
  m_question->installEventFilter(this);
  m_ask = new QPushButton(tr("&Ask"), this);
  m_ask->setObjectName(QStringLiteral("askButton"));
  m_stop = new QPushButton(tr("&Stop"), this);
  m_stop->setObjectName(QStringLiteral("stopButton"));
  m_stop->setToolTip(tr("Stop the answer (Esc)"));
  m_citationList = new QListWidget(this);
  m_citationList->setObjectName(QStringLiteral("citationList"));
  m_citationList->setWordWrap(true);
  m_citationList->setToolTip(tr("Double-click a citation to open the passage in the Reader"));
  m_stats = new QLabel(this);

  auto* citationsBox = new QWidget(this);
  auto* cl = new QVBoxLayout(citationsBox);
  cl->setContentsMargins(0, 0, 0, 0);
  cl->addWidget(new QLabel(tr("Citations of the latest answer"), citationsBox));
  cl->addWidget(m_citationList, 1);

  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(m_transcript);
  split->addWidget(citationsBox);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);

  auto* input = new QHBoxLayout;
  input->addWidget(m_question, 1);
  auto* buttons = new QVBoxLayout;
  buttons->addWidget(m_ask);
  buttons->addWidget(m_stop);
  buttons->addStretch(1);
  input->addLayout(buttons);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split, 1);
  layout->addWidget(m_stats);
  layout->addLayout(input);

  connect(m_ask, &QPushButton::clicked, this, &ConversationView::ask);
  connect(m_stop, &QPushButton::clicked, this, &ConversationView::stopRequested);
  connect(m_citationList, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    const int i = item->data(Qt::UserRole).toInt();
    if (i >= 0 && i < static_cast<int>(m_citations.size()))
      emit citationActivated(m_citations[static_cast<size_t>(i)]);
  });
  connect(m_model, &QAbstractItemModel::modelReset, this, &ConversationView::render);
  connect(m_model, &QAbstractItemModel::rowsInserted, this, &ConversationView::render);
  // Streaming pieces arrive many times a second: repaint the transcript at most every 40 ms.
  m_renderTimer.setSingleShot(true);
  m_renderTimer.setInterval(40);
  connect(&m_renderTimer, &QTimer::timeout, this, &ConversationView::render);
  connect(m_model, &QAbstractItemModel::dataChanged, this, [this] {
    if (!m_model->isStreaming()) {
      render();  // the answer ended: show it and its citations at once
    } else if (!m_renderTimer.isActive()) {
      m_renderTimer.start();
    }
  });
  setAnswering(false);
  render();
}

void ConversationView::focusQuestion() {
  m_question->setFocus();
}

bool ConversationView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == m_question && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
        (key->modifiers() & Qt::ControlModifier)) {
      ask();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void ConversationView::ask() {
  const QString q = m_question->toPlainText().trimmed();
  if (q.isEmpty() || m_answering || !m_ready) return;
  m_question->clear();
  emit askRequested(q);
}

void ConversationView::setAnswering(bool answering) {
  m_answering = answering;
  m_ask->setEnabled(!answering && m_ready);
  m_stop->setEnabled(answering);
}

void ConversationView::setEngineReady(bool ready) {
  m_ready = ready;
  setAnswering(m_answering);
}

void ConversationView::setAnswerStats(const memlong::Answer& a) {
  QString mode = a.mode == memlong::AnswerMode::kMemory ? tr("memory")
                 : a.mode == memlong::AnswerMode::kText ? tr("retrieved text")
                                                        : tr("no context");
  m_stats->setText(tr("%1 tokens in, %2 out · first token after %3 s · %4 tok/s · mode: %5%6")
                       .arg(a.n_prompt_tokens)
                       .arg(a.n_tokens)
                       .arg(a.time_to_first_token_s, 0, 'f', 2)
                       .arg(a.tokens_per_s, 0, 'f', 1)
                       .arg(mode)
                       .arg(a.cancelled ? tr(" · stopped") : QString()));
}

QString ConversationView::transcriptText() const {
  return m_transcript->toPlainText();
}

void ConversationView::render() {
  m_renderTimer.stop();
  QString html;
  const QString userLabel = tr("You");
  const QString botLabel = tr("MemLong");
  for (int row = 0; row < m_model->rowCount(); ++row) {
    const ChatModel::Message* m = m_model->message(row);
    const bool user = m->role == QLatin1String("user");
    QString body = m->text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
    if (m->streaming) body += QStringLiteral(" ▍");
    if (m->cancelled && !m->streaming)
      body += QStringLiteral(" <i>(") + tr("stopped") + QStringLiteral(")</i>");
    if (!m->citations.empty()) {
      body += QStringLiteral("<br><small>");
      for (size_t i = 0; i < m->citations.size(); ++i) {
        const memlong::Citation& c = m->citations[i];
        body += QStringLiteral("[%1] %2").arg(i + 1).arg(qstr(c.passage.doc_title).toHtmlEscaped());
        if (!c.passage.section_title.empty())
          body += QStringLiteral(" — ") + qstr(c.passage.section_title).toHtmlEscaped();
        body += QStringLiteral("&nbsp;&nbsp; ");
      }
      body += QStringLiteral("</small>");
    }
    html += QStringLiteral("<p><b>%1:</b> %2</p>").arg(user ? userLabel : botLabel, body);
  }
  if (m_model->rowCount() == 0) {
    html = QStringLiteral("<p><i>") +
           tr("Ask a question about the books in this session. Answers cite the passages they "
              "use; double-click a citation to read it in context.")
               .toHtmlEscaped() +
           QStringLiteral("</i></p>");
  }
  QScrollBar* bar = m_transcript->verticalScrollBar();
  const bool atEnd = bar->value() >= bar->maximum() - 4;
  m_transcript->setHtml(html);
  if (atEnd) bar->setValue(bar->maximum());
  const int last = m_model->lastAnswerRow();
  const ChatModel::Message* m = m_model->message(last);
  showCitations(m != nullptr ? m->citations : std::vector<memlong::Citation>{});
}

void ConversationView::showCitations(const std::vector<memlong::Citation>& citations) {
  const bool same = citations.size() == m_citations.size() &&
                    std::equal(citations.begin(), citations.end(), m_citations.begin(),
                               [](const memlong::Citation& a, const memlong::Citation& b) {
                                 return a.passage.entry_id == b.passage.entry_id;
                               });
  if (same) return;
  m_citations = citations;
  m_citationList->clear();
  for (size_t i = 0; i < citations.size(); ++i) {
    const memlong::Citation& c = citations[i];
    QString where = qstr(c.passage.doc_title);
    if (!c.passage.section_title.empty())
      where += QStringLiteral(" — ") + qstr(c.passage.section_title);
    if (c.passage.page > 0) where += tr(", page %1").arg(c.passage.page);
    QString quote = qstr(c.quote.empty() ? c.passage.text : c.quote).simplified();
    if (quote.size() > 240) quote = quote.left(240) + QStringLiteral("…");
    auto* item = new QListWidgetItem(QStringLiteral("[%1] %2\n“%3”").arg(i + 1).arg(where, quote),
                                     m_citationList);
    item->setData(Qt::UserRole, static_cast<int>(i));
    item->setToolTip(tr("score %1").arg(c.retrieval_score, 0, 'f', 3));
  }
  emit citationsShown(m_citations);
}

}  // namespace memlong::ui
