#include "ui/chat_model.h"

#include "ui/qt_types.h"

namespace memlong::ui {

ChatModel::ChatModel(QObject* parent) : QAbstractListModel(parent) {}

void ChatModel::setConversation(const std::vector<memlong::ConversationMessage>& messages) {
  beginResetModel();
  m_messages.clear();
  for (const memlong::ConversationMessage& m : messages) {
    m_messages.push_back(Message{qstr(m.role), qstr(m.text), m.citations, false, false});
  }
  endResetModel();
}

void ChatModel::clear() {
  beginResetModel();
  m_messages.clear();
  endResetModel();
}

void ChatModel::beginExchange(const QString& question) {
  const int first = static_cast<int>(m_messages.size());
  beginInsertRows({}, first, first + 1);
  m_messages.push_back(Message{QStringLiteral("user"), question, {}, false, false});
  m_messages.push_back(Message{QStringLiteral("assistant"), QString(), {}, true, false});
  endInsertRows();
}

bool ChatModel::isStreaming() const {
  return !m_messages.empty() && m_messages.back().streaming;
}

void ChatModel::appendPiece(const QString& piece) {
  if (!isStreaming()) return;
  m_messages.back().text += piece;
  const QModelIndex last = index(static_cast<int>(m_messages.size()) - 1);
  emit dataChanged(last, last, {Qt::DisplayRole, kTextRole});
}

void ChatModel::finishAnswer(const memlong::Answer& answer) {
  if (!isStreaming()) return;
  Message& m = m_messages.back();
  // The final text is authoritative (the stream may have been cut by a stop string).
  if (!answer.text.empty() || m.text.isEmpty()) m.text = qstr(answer.text);
  m.citations = answer.citations;
  m.streaming = false;
  m.cancelled = answer.cancelled;
  const QModelIndex last = index(static_cast<int>(m_messages.size()) - 1);
  emit dataChanged(last, last);
}

void ChatModel::failAnswer(const QString& note) {
  if (!isStreaming()) return;
  Message& m = m_messages.back();
  m.streaming = false;
  m.cancelled = true;
  if (!note.isEmpty()) m.text += (m.text.isEmpty() ? QString() : QStringLiteral("\n\n")) + note;
  const QModelIndex last = index(static_cast<int>(m_messages.size()) - 1);
  emit dataChanged(last, last);
}

const ChatModel::Message* ChatModel::message(int row) const {
  if (row < 0 || row >= static_cast<int>(m_messages.size())) return nullptr;
  return &m_messages[static_cast<size_t>(row)];
}

int ChatModel::lastAnswerRow() const {
  for (int i = static_cast<int>(m_messages.size()) - 1; i >= 0; --i) {
    if (m_messages[static_cast<size_t>(i)].role == QLatin1String("assistant")) return i;
  }
  return -1;
}

int ChatModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_messages.size());
}

QVariant ChatModel::data(const QModelIndex& index, int role) const {
  const Message* m = message(index.row());
  if (!index.isValid() || m == nullptr) return {};
  switch (role) {
    case Qt::DisplayRole:
    case kTextRole:
      return m->text;
    case kRoleRole:
      return m->role;
    case kCitationCountRole:
      return static_cast<int>(m->citations.size());
    case kStreamingRole:
      return m->streaming;
    case kCancelledRole:
      return m->cancelled;
    default:
      return {};
  }
}

QHash<int, QByteArray> ChatModel::roleNames() const {
  return {{Qt::DisplayRole, "display"},  {kRoleRole, "role"},
          {kTextRole, "text"},           {kCitationCountRole, "citations"},
          {kStreamingRole, "streaming"}, {kCancelledRole, "cancelled"}};
}

}  // namespace memlong::ui
