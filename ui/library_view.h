// LibraryView: the Library tab. A table of the library's documents (LibraryModel) with a progress
// bar per document while it is read (percent, tokens/s, time left), buttons to add files or
// folders, remove a document, read it again, and pause, resume or cancel ingestion. Files and
// folders dropped on the table are added. The view only emits requests; MainWindow sends them to
// the engine.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QWidget>

#include "core/assistant/assistant_types.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;

namespace memlong::ui {

class LibraryModel;

class LibraryView : public QWidget {
  Q_OBJECT

 public:
  explicit LibraryView(LibraryModel* model, QWidget* parent = nullptr);

  QTableView* table() const { return m_table; }
  // Shows the run's overall progress (or hides it when `running` is false).
  void setIngesting(bool running);
  void setPaused(bool paused);
  void showOverallProgress(const memlong::IngestProgress& progress);
  void setEngineReady(bool ready);
  qint64 selectedDocument() const;

 signals:
  void addPathsRequested(const QStringList& paths);
  void removeRequested(qint64 docId);
  void reingestRequested(qint64 docId, const QString& path);
  void pauseRequested(bool pause);
  void cancelRequested();
  void openInReaderRequested(qint64 docId);
  void summarizeRequested(qint64 docId);

 public slots:
  void addFiles();
  void addFolder();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void updateButtons();

  LibraryModel* m_model;
  QTableView* m_table;
  QPushButton* m_addFiles;
  QPushButton* m_addFolder;
  QPushButton* m_remove;
  QPushButton* m_reingest;
  QPushButton* m_pause;
  QPushButton* m_cancel;
  QProgressBar* m_overall;
  QLabel* m_overallLabel;
  QLabel* m_dropHint;
  bool m_ingesting = false;
  bool m_paused = false;
  bool m_ready = false;
};

}  // namespace memlong::ui
