// SessionModel: the library's sessions for the Sessions view; the current one is shown in bold.
// Thread-safety: GUI thread only (it is an item model).
#pragma once

#include <QAbstractListModel>
#include <vector>

#include "core/assistant/assistant_types.h"

namespace memlong::ui {

class SessionModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role { kSessionIdRole = Qt::UserRole + 1, kNameRole, kIsCurrentRole };

  explicit SessionModel(QObject* parent = nullptr);

  void setSessions(const std::vector<memlong::SessionInfo>& sessions);
  // Marks `current` (and updates or adds its row).
  void setCurrent(const memlong::SessionInfo& current);
  void removeSession(qint64 sessionId);
  const memlong::SessionInfo* session(int row) const;
  qint64 currentId() const { return m_currentId; }
  int rowOf(qint64 sessionId) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 private:
  std::vector<memlong::SessionInfo> m_sessions;
  qint64 m_currentId = 0;
};

}  // namespace memlong::ui
