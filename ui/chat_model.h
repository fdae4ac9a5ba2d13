// ChatModel: the session's conversation for the Conversation view. An answer streams in piece by
// piece (appendPiece, from the worker's queued answerPiece signal) into the last assistant row,
// then finishAnswer() replaces it with the final text and its citations.
// Thread-safety: GUI thread only (it is an item model).
#pragma once

#include <QAbstractListModel>
#include <vector>

#include "core/assistant/assistant_types.h"

namespace memlong::ui {

class ChatModel : public QAbstractListModel {
  Q_OBJECT

 public:
  enum Role {
    kRoleRole = Qt::UserRole + 1,  // "user" or "assistant"
    kTextRole,
    kCitationCountRole,
    kStreamingRole,  // bool: this answer is still arriving
    kCancelledRole,  // bool: the answer was stopped
  };
  struct Message {
    QString role;
    QString text;
    std::vector<memlong::Citation> citations;
    bool streaming = false;
    bool cancelled = false;
  };

  explicit ChatModel(QObject* parent = nullptr);

  void setConversation(const std::vector<memlong::ConversationMessage>& messages);
  void clear();
  // Appends the user's question and an empty, streaming assistant row.
  void beginExchange(const QString& question);
  // Appends text to the streaming row (ignored when no row is streaming).
  void appendPiece(const QString& piece);
  // Ends the streaming row with the final answer.
  void finishAnswer(const memlong::Answer& answer);
  // Ends the streaming row with an error note (the answer failed).
  void failAnswer(const QString& note);

  bool isStreaming() const;
  const Message* message(int row) const;
  int lastAnswerRow() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;

 private:
  std::vector<Message> m_messages;
};

}  // namespace memlong::ui
