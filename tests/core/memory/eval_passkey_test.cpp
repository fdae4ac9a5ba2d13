// Passkey evaluation: the prompt layout, and the shortcut that encodes each filler entry once and
// reuses it across trials, checked against reading every trial's whole prompt with
// MemLongReader::read_call (the reference order of operations, MEMLONG.md §2.1).
#include "core/memory/eval_passkey.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/common/paths.h"

namespace memlong {
namespace {

TEST(PasskeyPrompt, KeyOverwritesFillerAndKeepsEveryOtherPosition) {
  const std::vector<int32_t> head = {1, 2};
  std::vector<int32_t> filler(40);
  for (int i = 0; i < 40; ++i) filler[i] = 100 + i;
  const std::vector<int32_t> key = {7, 8, 9};
  const std::vector<int32_t> tail = {5};
  const std::vector<int32_t> p = passkey_prompt(head, filler, /*start=*/10, /*n=*/20, key,
                                                /*at=*/4, tail);
  const std::vector<int32_t> want = {1,   2,   110, 111, 112, 113, 7,   8,   9,   117, 118, 119,
                                     120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 5};
  EXPECT_EQ(p, want);
}

class PasskeyRealModel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(default_model_path())) << "run scripts/setup";
    auto engine = Engine::load(EngineOptions{.model_path = "", .n_threads = 2});
    ASSERT_TRUE(engine.is_ok()) << engine.status().to_string();
    engine_ = std::move(engine).value();
    auto embedder = load_embedder(default_retriever_path(), 2);
    ASSERT_TRUE(embedder.is_ok()) << embedder.status().to_string();
    embedder_ = std::move(embedder).value();
  }
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Embedder> embedder_;
};

TEST_F(PasskeyRealModel, ReusedFillerEntriesEqualReadingEachWholePrompt) {
  PasskeyOptions o;
  o.filler_paths = {std::string(MEMLONG_SOURCE_DIR) +
                    "/resources/sample/persuasion-chapters-1-6.txt"};
  o.lengths = {330};
  // 0 %: the key shares an entry with the instruction; 60 %: a middle entry; 100 %: the tail.
  o.depths_percent = {0, 60, 100};
  o.trials = 2;
  o.seed = 3;
  o.use_memory = true;
  o.max_new_tokens = 4;
  auto config =
      memlong_config_for(engine_->file(), {"entry_tokens=32", "last_context=64", "top_k=3"});
  ASSERT_TRUE(config.is_ok()) << config.status().to_string();
  o.memlong = *config;

  auto reused = run_passkey_eval(*engine_, embedder_.get(), o);
  ASSERT_TRUE(reused.is_ok()) << reused.status().to_string();
  o.reuse_filler_entries = false;
  auto reread = run_passkey_eval(*engine_, embedder_.get(), o);
  ASSERT_TRUE(reread.is_ok()) << reread.status().to_string();

  ASSERT_EQ(reused->trials.size(), 6u);
  ASSERT_EQ(reread->trials.size(), 6u);
  int retrieved = 0;
  for (size_t i = 0; i < reused->trials.size(); ++i) {
    const PasskeyTrial& a = reused->trials[i];
    const PasskeyTrial& b = reread->trials[i];
    SCOPED_TRACE("trial " + std::to_string(i));
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.key_in_memory, b.key_in_memory);
    EXPECT_EQ(a.key_retrieved, b.key_retrieved);
    EXPECT_EQ(a.key_rank, b.key_rank);
    EXPECT_EQ(a.key_rank_by_question, b.key_rank_by_question);
    EXPECT_EQ(a.answer, b.answer);
    EXPECT_FALSE(a.answer.empty());
    retrieved += a.key_retrieved ? 1 : 0;
    // Where the key fell: in memory for 0 % and 60 %, in the tail (local context) for 100 %.
    EXPECT_EQ(a.key_in_memory, a.depth_percent != 100);
    if (!a.key_in_memory) {
      EXPECT_FALSE(a.key_retrieved);
    }
  }
  // The question is about the pass key and top_k = 3 of ~10 entries: the key's entry is found
  // at least once (the check that key_retrieved can be true at all).
  EXPECT_GT(retrieved, 0);
  ASSERT_EQ(reused->cells.size(), 3u);
  EXPECT_EQ(reused->cells[0].n_trials, 2);
}

}  // namespace
}  // namespace memlong
