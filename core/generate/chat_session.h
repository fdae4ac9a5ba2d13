// ChatSession: a conversation with a model. Keeps the messages, renders them with the model's chat
// template, and reuses the KV cache: each turn evaluates only the tokens after the longest prefix
// it shares with what the context already holds.
// Thread-safety: one thread at a time (the engine worker).
#pragma once

#include <string>
#include <vector>

#include "core/generate/generator.h"
#include "core/tokenizer/chat_template.h"

namespace memlong {

class ChatSession {
 public:
  // `ctx` and `tokenizer` must outlive the session. An empty system prompt uses the template's
  // default (if any).
  ChatSession(InferenceContext& ctx, const Tokenizer& tokenizer, ChatTemplate tmpl,
              std::string system_prompt = {});

  // Adds the user's message, generates the assistant's reply (streamed to on_text) and adds it.
  // When the conversation no longer fits, the oldest turns are dropped (the system prompt stays).
  Result<GenerateResult> send(const std::string& user_text, const GenerateOptions& options,
                              const TextCallback& on_text, const CancelToken& cancel);

  const std::vector<ChatMessage>& messages() const { return messages_; }
  const ChatTemplate& chat_template() const { return tmpl_; }
  void clear();

 private:
  std::vector<int32_t> render_tokens(bool add_generation_prompt) const;

  InferenceContext& ctx_;
  const Tokenizer& tokenizer_;
  ChatTemplate tmpl_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> cached_;  // the tokens whose K/V the context holds, in order
};

}  // namespace memlong
