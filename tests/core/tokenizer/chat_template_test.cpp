// Chat templates against jinja2 renderings of the official templates (chat_cases.json).
#include "core/tokenizer/chat_template.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/core/tokenizer/fixtures.h"

namespace memlong {
namespace {

TEST(ChatTemplate, MatchesJinja) {
  auto cases = testing::load_json(testing::tokenizer_data("chat_cases.json"));
  ASSERT_GT(cases.size(), 20u);
  for (const auto& c : cases) {
    const std::string name = c["template_name"].get<std::string>();
    ChatTemplate t = detect_chat_template(c["template"].get<std::string>(), "", nullptr);
    std::vector<ChatMessage> msgs;
    for (const auto& m : c["messages"])
      msgs.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    const bool gen = c["add_generation_prompt"].get<bool>();
    EXPECT_EQ(apply_chat_template(t, msgs, gen), c["expected"].get<std::string>())
        << name << " with " << msgs.size() << " messages, generation prompt " << gen;
  }
}

TEST(ChatTemplate, Detection) {
  auto cases = testing::load_json(testing::tokenizer_data("chat_cases.json"));
  std::map<std::string, ChatFamily> want = {{"smollm2", ChatFamily::kChatML},
                                            {"chatml", ChatFamily::kChatML},
                                            {"llama2", ChatFamily::kLlama2},
                                            {"llama3", ChatFamily::kLlama3},
                                            {"gemma", ChatFamily::kGemma}};
  for (const auto& c : cases) {
    const std::string name = c["template_name"].get<std::string>();
    ChatTemplate t = detect_chat_template(c["template"].get<std::string>(), "", nullptr);
    EXPECT_EQ(t.family, want[name]) << name;
    EXPECT_FALSE(t.stop_strings.empty()) << name;
    if (name == "smollm2") {
      EXPECT_EQ(t.default_system,
                "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
    } else {
      EXPECT_EQ(t.default_system, "") << name;
    }
  }
  EXPECT_EQ(detect_chat_template("", "gemma3", nullptr).family, ChatFamily::kGemma);
  EXPECT_EQ(detect_chat_template("", "qwen2", nullptr).family, ChatFamily::kChatML);
  EXPECT_EQ(detect_chat_template("{{ messages }}", "gpt2", nullptr).family, ChatFamily::kNone);
  EXPECT_EQ(detect_chat_template("", "", nullptr).stop_strings.size(), 0u);
  EXPECT_EQ(chat_family_name(ChatFamily::kLlama3), "llama3");
}

TEST(ChatTemplate, StopStrings) {
  EXPECT_EQ(detect_chat_template("<|im_start|>", "", nullptr).stop_strings,
            std::vector<std::string>{"<|im_end|>"});
  EXPECT_EQ(detect_chat_template("<start_of_turn>", "", nullptr).stop_strings,
            std::vector<std::string>{"<end_of_turn>"});
  EXPECT_EQ(detect_chat_template("<|start_header_id|>", "", nullptr).stop_strings.front(),
            "<|eot_id|>");
}

TEST(ChatTemplate, DefaultSystemExtraction) {
  EXPECT_EQ(extract_default_system("{% if messages[0]['role'] != 'system' %}{{ "
                                   "'<|im_start|>system\\nBe kind.<|im_end|>\\n' }}{% endif %}"),
            "Be kind.");
  EXPECT_EQ(extract_default_system("{{'<|im_start|>' + message['role'] + '\\n'}}"), "");
}

TEST(ChatTemplate, GemmaFoldsSystemIntoFirstTurn) {
  ChatTemplate t = detect_chat_template("<start_of_turn>", "", nullptr);
  std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi"}};
  EXPECT_EQ(apply_chat_template(t, msgs, true),
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
}

}  // namespace
}  // namespace memlong
