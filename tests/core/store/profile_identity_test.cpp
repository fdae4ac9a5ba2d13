// make_profile_identity: memory-relevant settings change the identity, reading settings do not.
#include "core/store/profile_identity.h"

#include <gtest/gtest.h>

namespace memlong {
namespace {

TEST(StoreProfileIdentity, OnlyMemoryRelevantSettingsCount) {
  LlamaConfig model;
  model.n_head_kv = 3;
  model.head_dim = 64;
  MemLongConfig c = default_memlong_config(30);
  const ProfileIdentity base = make_profile_identity("smollm2", "e5", model, c, 384);
  EXPECT_EQ(base.memory_layer, c.memory_layer);
  EXPECT_EQ(base.entry_tokens, 128);
  EXPECT_EQ(base.dtype, "bf16");
  EXPECT_EQ(base.n_head_kv, 3);
  EXPECT_EQ(base.head_dim, 64);
  EXPECT_EQ(base.emb_dim, 384);
  MemLongConfig reading = c;
  reading.top_k = 3;
  reading.capacity_tokens = 1000;
  reading.last_context = 77;
  reading.position_mode = PositionMode::kContiguous;
  EXPECT_EQ(make_profile_identity("smollm2", "e5", model, reading, 384).identity(),
            base.identity());
  MemLongConfig layer = c;
  layer.memory_layer += 1;
  EXPECT_NE(make_profile_identity("smollm2", "e5", model, layer, 384).identity(), base.identity());
  MemLongConfig f16 = c;
  f16.mem_dtype = MemoryDType::kF16;
  EXPECT_EQ(make_profile_identity("smollm2", "e5", model, f16, 384).dtype, "f16");
  EXPECT_NE(make_profile_identity("smollm2", "bge", model, c, 384).identity(), base.identity());
  // Field separators inside ids cannot make two different profiles collide.
  EXPECT_NE(make_profile_identity("a;retriever=b", "c", model, c, 384).identity(),
            make_profile_identity("a", "b;retriever=c", model, c, 384).identity());
}

}  // namespace
}  // namespace memlong
