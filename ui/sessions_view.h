// SessionsView: the Sessions tab. Lists the library's sessions (SessionModel) with buttons to start
// a new one, load, fork, rename, delete, export to a file and import from one. It only asks for
// names and files and emits requests; MainWindow sends them to the engine.
// Thread-safety: GUI thread only (it is a widget).
#pragma once

#include <QWidget>

class QListView;
class QPushButton;

namespace memlong::ui {

class SessionModel;

class SessionsView : public QWidget {
  Q_OBJECT

 public:
  explicit SessionsView(SessionModel* model, QWidget* parent = nullptr);
  void setEngineReady(bool ready);
  qint64 selectedSession() const;
  QListView* list() const { return m_list; }

 signals:
  void newRequested(const QString& name);
  void loadRequested(qint64 id);
  void forkRequested(qint64 id, const QString& name);
  void renameRequested(qint64 id, const QString& name);
  void deleteRequested(qint64 id);
  void exportRequested(qint64 id, const QString& file);
  void importRequested(const QString& file);

 public slots:
  void newSession();
  void importSession();
  void exportSession();

 private:
  void updateButtons();

  SessionModel* m_model;
  QListView* m_list;
  QPushButton* m_new;
  QPushButton* m_load;
  QPushButton* m_fork;
  QPushButton* m_rename;
  QPushButton* m_delete;
  QPushButton* m_export;
  QPushButton* m_import;
  bool m_ready = false;
};

}  // namespace memlong::ui
