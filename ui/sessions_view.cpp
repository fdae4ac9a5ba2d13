#include "ui/sessions_view.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QListView>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/session_model.h"

namespace memlong::ui {

SessionsView::SessionsView(SessionModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
  m_list = new QListView(this);
  m_list->setObjectName(QStringLiteral("sessionList"));
  m_list->setModel(model);
  m_new = new QPushButton(tr("&New…"), this);
  m_load = new QPushButton(tr("&Load"), this);
  m_fork = new QPushButton(tr("&Fork…"), this);
  m_rename = new QPushButton(tr("&Rename…"), this);
  m_delete = new QPushButton(tr("&Delete"), this);
  m_export = new QPushButton(tr("&Export…"), this);
  m_import = new QPushButton(tr("&Import…"), this);
  m_load->setObjectName(QStringLiteral("loadSessionButton"));
  m_load->setToolTip(
      tr("Make the selected session the current one (its books, memory and conversation)"));
  m_fork->setToolTip(tr("Copy the selected session under a new name and continue there"));

  auto* buttons = new QVBoxLayout;
  for (QPushButton* b : {m_new, m_load, m_fork, m_rename, m_delete, m_export, m_import})
    buttons->addWidget(b);
  buttons->addStretch(1);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(m_list, 1);
  layout->addLayout(buttons);

  connect(m_new, &QPushButton::clicked, this, &SessionsView::newSession);
  connect(m_load, &QPushButton::clicked, this, [this] {
    if (qint64 id = selectedSession()) emit loadRequested(id);
  });
  connect(m_list, &QListView::doubleClicked, this, [this] {
    if (qint64 id = selectedSession()) emit loadRequested(id);
  });
  connect(m_fork, &QPushButton::clicked, this, [this] {
    const qint64 id = selectedSession();
    if (id == 0) return;
    bool ok = false;
    const QString old = m_list->currentIndex().data(SessionModel::kNameRole).toString();
    const QString name = QInputDialog::getText(this, tr("Fork session"), tr("Name of the copy:"),
                                               QLineEdit::Normal, tr("%1 (copy)").arg(old), &ok);
    if (ok && !name.trimmed().isEmpty()) emit forkRequested(id, name.trimmed());
  });
  connect(m_rename, &QPushButton::clicked, this, [this] {
    const qint64 id = selectedSession();
    if (id == 0) return;
    bool ok = false;
    const QString old = m_list->currentIndex().data(SessionModel::kNameRole).toString();
    const QString name = QInputDialog::getText(this, tr("Rename session"), tr("New name:"),
                                               QLineEdit::Normal, old, &ok);
    if (ok && !name.trimmed().isEmpty()) emit renameRequested(id, name.trimmed());
  });
  connect(m_delete, &QPushButton::clicked, this, [this] {
    const qint64 id = selectedSession();
    if (id == 0) return;
    if (id == m_model->currentId()) {
      QMessageBox::information(this, tr("Delete session"),
                               tr("This is the current session. Load or start another session "
                                  "first, then delete this one."));
      return;
    }
    const QString name = m_list->currentIndex().data(SessionModel::kNameRole).toString();
    if (QMessageBox::question(this, tr("Delete session"),
                              tr("Delete the session “%1” and its conversation? The books stay in "
                                 "the library.")
                                  .arg(name)) == QMessageBox::Yes) {
      emit deleteRequested(id);
    }
  });
  connect(m_export, &QPushButton::clicked, this, &SessionsView::exportSession);
  connect(m_import, &QPushButton::clicked, this, &SessionsView::importSession);
  connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &SessionsView::updateButtons);
  connect(model, &QAbstractItemModel::modelReset, this, &SessionsView::updateButtons);
  updateButtons();
}

qint64 SessionsView::selectedSession() const {
  const QModelIndex i = m_list->currentIndex();
  return i.isValid() ? i.data(SessionModel::kSessionIdRole).toLongLong() : 0;
}

void SessionsView::setEngineReady(bool ready) {
  m_ready = ready;
  updateButtons();
}

void SessionsView::newSession() {
  bool ok = false;
  const QString name =
      QInputDialog::getText(this, tr("New session"), tr("Name:"), QLineEdit::Normal,
                            tr("Session %1").arg(m_model->rowCount() + 1), &ok);
  if (ok && !name.trimmed().isEmpty()) emit newRequested(name.trimmed());
}

void SessionsView::exportSession() {
  qint64 id = selectedSession();
  if (id == 0) id = m_model->currentId();
  if (id == 0) return;
  const QString file = QFileDialog::getSaveFileName(
      this, tr("Export session"), QStringLiteral("session.memlong-session"),
      tr("MemLong sessions (*.memlong-session);;All files (*)"));
  if (!file.isEmpty()) emit exportRequested(id, file);
}

void SessionsView::importSession() {
  const QString file =
      QFileDialog::getOpenFileName(this, tr("Import session"), QString(),
                                   tr("MemLong sessions (*.memlong-session);;All files (*)"));
  if (!file.isEmpty()) emit importRequested(file);
}

void SessionsView::updateButtons() {
  const bool sel = selectedSession() != 0;
  m_new->setEnabled(m_ready);
  m_import->setEnabled(m_ready);
  for (QPushButton* b : {m_load, m_fork, m_rename, m_delete}) b->setEnabled(m_ready && sel);
  m_export->setEnabled(m_ready && (sel || m_model->currentId() != 0));
}

}  // namespace memlong::ui
