// SummarizeView: the Summarize tab. Pick a book, the whole book or a chapter range, start, watch
// the progress (chapter n of N, tokens/s), cancel; the result is shown (Markdown) and can be
// exported to a .md file (summary_to_markdown). Core saves each summary in the session.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QWidget>

#include "core/assistant/assistant_types.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QTextBrowser;
class QAbstractItemModel;

namespace memlong::ui {

class SummarizeView : public QWidget {
  Q_OBJECT

 public:
  // `library` is the LibraryModel (titles in column 0, ids in LibraryModel::kDocIdRole).
  explicit SummarizeView(QAbstractItemModel* library, QWidget* parent = nullptr);

  void setRunning(bool running);
  void setEngineReady(bool ready);
  void selectDocument(qint64 docId);
  void showProgress(const memlong::SummaryProgress& progress);
  void showSummary(const memlong::Summary& summary);
  QString resultMarkdown() const { return m_markdown; }

 signals:
  void summarizeRequested(qint64 docId, int firstChapter, int lastChapter);
  void cancelRequested();
  // The user chose a file to export the shown summary to.
  void exportRequested(const QString& file, const QByteArray& markdown);

 private:
  void updateButtons();

  QComboBox* m_doc;
  QRadioButton* m_whole;
  QRadioButton* m_range;
  QSpinBox* m_first;
  QSpinBox* m_last;
  QPushButton* m_start;
  QPushButton* m_cancel;
  QPushButton* m_export;
  QProgressBar* m_progress;
  QLabel* m_progressLabel;
  QTextBrowser* m_result;
  QString m_markdown;
  QString m_title;
  bool m_running = false;
  bool m_ready = false;
};

}  // namespace memlong::ui
