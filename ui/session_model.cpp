#include "ui/session_model.h"

#include <QDateTime>
#include <QFont>
#include <QLocale>

#include "ui/qt_types.h"

namespace memlong::ui {

SessionModel::SessionModel(QObject* parent) : QAbstractListModel(parent) {}

void SessionModel::setSessions(const std::vector<memlong::SessionInfo>& sessions) {
  beginResetModel();
  m_sessions = sessions;
  endResetModel();
}

int SessionModel::rowOf(qint64 sessionId) const {
  for (size_t i = 0; i < m_sessions.size(); ++i) {
    if (m_sessions[i].id == sessionId) return static_cast<int>(i);
  }
  return -1;
}

void SessionModel::setCurrent(const memlong::SessionInfo& current) {
  const int oldRow = rowOf(m_currentId);
  m_currentId = current.id;
  int row = rowOf(current.id);
  if (row < 0) {
    row = static_cast<int>(m_sessions.size());
    beginInsertRows({}, row, row);
    m_sessions.push_back(current);
    endInsertRows();
  } else {
    m_sessions[static_cast<size_t>(row)] = current;
    emit dataChanged(index(row), index(row));
  }
  if (oldRow >= 0 && oldRow != row) emit dataChanged(index(oldRow), index(oldRow));
}

void SessionModel::removeSession(qint64 sessionId) {
  const int row = rowOf(sessionId);
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  m_sessions.erase(m_sessions.begin() + row);
  endRemoveRows();
}

const memlong::SessionInfo* SessionModel::session(int row) const {
  if (row < 0 || row >= static_cast<int>(m_sessions.size())) return nullptr;
  return &m_sessions[static_cast<size_t>(row)];
}

int SessionModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_sessions.size());
}

QVariant SessionModel::data(const QModelIndex& index, int role) const {
  const memlong::SessionInfo* s = session(index.row());
  if (!index.isValid() || s == nullptr) return {};
  switch (role) {
    case Qt::DisplayRole: {
      QDateTime updated = QDateTime::fromString(qstr(s->updated_at), Qt::ISODate);
      const QString when = updated.isValid()
                               ? QLocale().toString(updated.toLocalTime(), QLocale::ShortFormat)
                               : qstr(s->updated_at);
      return tr("%1  —  documents: %2, messages: %3, updated %4")
          .arg(qstr(s->name))
          .arg(s->n_documents)
          .arg(s->n_messages)
          .arg(when);
    }
    case kSessionIdRole:
      return QVariant::fromValue<qint64>(s->id);
    case kNameRole:
      return qstr(s->name);
    case kIsCurrentRole:
      return s->id == m_currentId;
    case Qt::FontRole:
      if (s->id == m_currentId) {
        QFont f;
        f.setBold(true);
        return f;
      }
      return {};
    default:
      return {};
  }
}

}  // namespace memlong::ui
