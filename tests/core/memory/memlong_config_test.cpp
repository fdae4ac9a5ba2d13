#include "core/memory/memlong_config.h"

#include <gtest/gtest.h>

namespace memlong {
namespace {

TEST(MemLongConfig, SpecRuleForAnyDepth) {
  // MEMLONG.md §6: L = 26 gives exactly the reference {13, 17, 21, 25}; SmolLM2 (30) {15..27}.
  const MemLongConfig a = default_memlong_config(26);
  EXPECT_EQ(a.memory_layer, 13);
  EXPECT_EQ(a.retrieval_layers, (std::vector<int32_t>{13, 17, 21, 25}));
  const MemLongConfig b = default_memlong_config(30);
  EXPECT_EQ(b.memory_layer, 15);
  EXPECT_EQ(b.retrieval_layers, (std::vector<int32_t>{15, 19, 23, 27}));
  const MemLongConfig g = default_memlong_config(18);
  EXPECT_EQ(g.retrieval_layers, (std::vector<int32_t>{9, 13, 17}));
  EXPECT_EQ(a.entry_tokens, 128);
  EXPECT_EQ(a.top_k, 8);
  EXPECT_EQ(a.capacity_tokens, 32768);
  EXPECT_EQ(a.eviction, EvictionPolicy::kCounter);
}

TEST(MemLongConfig, UntunedProfileThenModelSettingsThenOverrides) {
  ModelFile m;
  m.path = "model.gguf";
  m.config.n_layer = 30;
  auto untuned = memlong_config_for(m);
  ASSERT_TRUE(untuned.is_ok());
  EXPECT_EQ(untuned->position_mode, PositionMode::kContiguous);
  EXPECT_EQ(untuned->retrieval_layers, (std::vector<int32_t>{15}));
  EXPECT_EQ(untuned->profile, "untuned");

  m.memlong_settings = {{"memory_layer", "12"},
                        {"retrieval_layers", "12,16,20"},
                        {"position_mode", "zero"},
                        {"entry_tokens", "256"}};
  auto tuned = memlong_config_for(m, {"top_k=4", "eviction=fifo_half"});
  ASSERT_TRUE(tuned.is_ok()) << tuned.status().to_string();
  EXPECT_EQ(tuned->memory_layer, 12);
  EXPECT_EQ(tuned->retrieval_layers, (std::vector<int32_t>{12, 16, 20}));
  EXPECT_EQ(tuned->position_mode, PositionMode::kZero);
  EXPECT_EQ(tuned->entry_tokens, 256);
  EXPECT_EQ(tuned->top_k, 4);
  EXPECT_EQ(tuned->eviction, EvictionPolicy::kFifoHalf);
}

TEST(MemLongConfig, BadSettingsAreClearErrors) {
  ModelFile m;
  m.path = "model.gguf";
  m.config.n_layer = 30;
  for (const char* o : {"memory_layer=30", "retrieval_layers=3", "position_mode=absolute",
                        "top_k=x", "nonsense=1", "eviction=lru", "noequals"}) {
    auto r = memlong_config_for(m, {o});
    ASSERT_FALSE(r.is_ok()) << o;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << o;
  }
  m.memlong_settings = {{"memory_layer", "-3"}};
  auto r = memlong_config_for(m);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("memlong.memory_layer"), std::string::npos);
}

}  // namespace
}  // namespace memlong
