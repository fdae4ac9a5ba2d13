#include "ui/summarize_view.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "ui/library_model.h"
#include "ui/qt_types.h"

namespace memlong::ui {

SummarizeView::SummarizeView(QAbstractItemModel* library, QWidget* parent) : QWidget(parent) {
  m_doc = new QComboBox(this);
  m_doc->setObjectName(QStringLiteral("summaryDocCombo"));
  m_doc->setModel(library);
  m_doc->setModelColumn(LibraryModel::kTitle);
  m_whole = new QRadioButton(tr("Whole book"), this);
  m_range = new QRadioButton(tr("Chapters"), this);
  m_whole->setChecked(true);
  m_first = new QSpinBox(this);
  m_last = new QSpinBox(this);
  m_first->setRange(1, 100000);
  m_last->setRange(1, 100000);
  m_last->setValue(3);
  m_start = new QPushButton(tr("&Summarize"), this);
  m_start->setObjectName(QStringLiteral("summarizeButton"));
  m_cancel = new QPushButton(tr("&Cancel"), this);
  m_export = new QPushButton(tr("&Export Markdown…"), this);
  m_progress = new QProgressBar(this);
  m_progressLabel = new QLabel(this);
  m_result = new QTextBrowser(this);
  m_result->setObjectName(QStringLiteral("summaryResult"));
  m_result->setPlaceholderText(
      tr("The summary appears here. Summaries are also saved in the session."));

  auto* range = new QHBoxLayout;
  range->addWidget(m_whole);
  range->addSpacing(16);
  range->addWidget(m_range);
  range->addWidget(m_first);
  range->addWidget(new QLabel(tr("to"), this));
  range->addWidget(m_last);
  range->addStretch(1);
  auto* form = new QFormLayout;
  form->addRow(tr("Book:"), m_doc);
  form->addRow(tr("Range:"), range);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_start);
  buttons->addWidget(m_cancel);
  buttons->addWidget(m_progress, 1);
  buttons->addWidget(m_progressLabel, 1);
  buttons->addWidget(m_export);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addWidget(m_result, 1);

  connect(m_start, &QPushButton::clicked, this, [this] {
    const qint64 id = m_doc->currentData(LibraryModel::kDocIdRole).toLongLong();
    if (id == 0) return;
    if (m_whole->isChecked()) {
      emit summarizeRequested(id, 0, -1);
    } else {
      const int first = std::min(m_first->value(), m_last->value()) - 1;
      const int last = std::max(m_first->value(), m_last->value()) - 1;
      emit summarizeRequested(id, first, last);
    }
  });
  connect(m_cancel, &QPushButton::clicked, this, &SummarizeView::cancelRequested);
  connect(m_export, &QPushButton::clicked, this, [this] {
    QString name = m_title.isEmpty() ? QStringLiteral("summary") : m_title;
    name.replace(QRegularExpression(QStringLiteral("[^\\w\\- ]")), QString());
    const QString file =
        QFileDialog::getSaveFileName(this, tr("Export summary"), name + QStringLiteral(".md"),
                                     tr("Markdown (*.md);;All files (*)"));
    if (!file.isEmpty()) emit exportRequested(file, m_markdown.toUtf8());
  });
  connect(m_range, &QRadioButton::toggled, this, &SummarizeView::updateButtons);
  connect(library, &QAbstractItemModel::modelReset, this, &SummarizeView::updateButtons);
  connect(library, &QAbstractItemModel::rowsInserted, this, &SummarizeView::updateButtons);
  setRunning(false);
}

void SummarizeView::setRunning(bool running) {
  m_running = running;
  m_progress->setVisible(running);
  if (!running) m_progressLabel->clear();
  updateButtons();
}

void SummarizeView::setEngineReady(bool ready) {
  m_ready = ready;
  updateButtons();
}

void SummarizeView::selectDocument(qint64 docId) {
  const int i = m_doc->findData(QVariant::fromValue<qint64>(docId), LibraryModel::kDocIdRole);
  if (i >= 0) m_doc->setCurrentIndex(i);
}

void SummarizeView::showProgress(const memlong::SummaryProgress& p) {
  if (!m_running) setRunning(true);
  m_progress->setRange(0, std::max(1, p.n_chapters + 1));
  m_progress->setValue(p.chapter_index);
  QString what = p.chapter_index >= p.n_chapters ? tr("Summarizing the whole book")
                                                 : tr("Chapter %1 of %2: %3")
                                                       .arg(p.chapter_index + 1)
                                                       .arg(p.n_chapters)
                                                       .arg(qstr(p.chapter_title));
  if (p.tokens_per_s > 0)
    what += QStringLiteral(" · ") + tr("%1 tok/s").arg(p.tokens_per_s, 0, 'f', 1);
  m_progressLabel->setText(what);
}

void SummarizeView::showSummary(const memlong::Summary& summary) {
  m_markdown = qstr(memlong::summary_to_markdown(summary));
  m_title = qstr(summary.doc_title);
  m_result->setMarkdown(m_markdown);
  if (summary.cancelled) m_progressLabel->setText(tr("Stopped; the part done so far is shown."));
  updateButtons();
}

void SummarizeView::updateButtons() {
  m_first->setEnabled(m_range->isChecked());
  m_last->setEnabled(m_range->isChecked());
  m_start->setEnabled(m_ready && !m_running && m_doc->count() > 0);
  m_cancel->setEnabled(m_running);
  m_export->setEnabled(!m_markdown.isEmpty());
}

}  // namespace memlong::ui
