// The K/V slot pool's codec and addressing (cuda/kernels/kv_pool_codec.h), compiled as host C++:
// the code cuda/kernels/kv_pool.cu runs, against the CPU backend's kv_pool_* ops.
#include "cuda/kernels/kv_pool_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/half.h"

namespace memlong {
namespace {

uint32_t bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}

// The conversions themselves are core/common/half.h's (tests/core/common/half_test.cpp); here:
// each pool type dispatches to its own conversion, and the type codes are DType's.
TEST(KvPoolCodec, EachTypeUsesItsOwnConversion) {
  for (uint32_t h = 0; h < 65536; h += 7) {
    const auto u = static_cast<uint16_t>(h);
    ASSERT_EQ(bits(kv_pool_codec::decode(kv_pool_codec::kF16, u)), bits(f16_to_f32(u))) << h;
    ASSERT_EQ(bits(kv_pool_codec::decode(kv_pool_codec::kBF16, u)), bits(bf16_to_f32(u))) << h;
  }
  // 1 + 2^-9 is exact in f16 and rounds away in bf16 (7 mantissa bits), so the two differ.
  const float f = 1.0f + 1.0f / 512.0f;
  EXPECT_EQ(kv_pool_codec::encode(kv_pool_codec::kF16, f), 0x3C02);
  EXPECT_EQ(kv_pool_codec::encode(kv_pool_codec::kBF16, f), 0x3F80);
  EXPECT_EQ(kv_pool_codec::kF16, static_cast<uint32_t>(DType::kF16));
  EXPECT_EQ(kv_pool_codec::kBF16, static_cast<uint32_t>(DType::kBF16));
}

TEST(KvPoolCodec, SlotAddressingMatchesTheCpuBackendsOps) {
  constexpr int32_t kRow = 6;
  std::vector<uint16_t> dev(3 * 2 * kRow), host(2 * 2 * kRow);
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, 0), dev.data());
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, 2),
            dev.data() + 2 * 2 * kRow);
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, 3), host.data());
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, 4),
            host.data() + 2 * kRow);
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, 5), nullptr);
  EXPECT_EQ(kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, -1), nullptr);

  // The CPU backend stores where slot_row says, encoded as encode() says.
  auto backend = make_cpu_backend(1);
  Backend::KvPoolView v;
  v.device = dev.data();
  v.host = host.data();
  v.n_device = 3;
  v.n_host = 2;
  v.dtype = DType::kBF16;
  v.row_elems = kRow;
  const int32_t slots[2] = {4, 1};
  std::vector<float> k(2 * kRow), val(2 * kRow);
  for (int i = 0; i < 2 * kRow; ++i) {
    k[static_cast<size_t>(i)] = 0.1f * static_cast<float>(i) - 0.3f;
    val[static_cast<size_t>(i)] = 7.0f / static_cast<float>(i + 1);
  }
  backend->kv_pool_store(v, slots, 2, k.data(), val.data());
  ASSERT_TRUE(backend->synchronize().is_ok());
  for (int r = 0; r < 2; ++r) {
    const uint16_t* row = kv_pool_codec::slot_row(dev.data(), host.data(), 3, 2, kRow, slots[r]);
    for (int j = 0; j < kRow; ++j) {
      EXPECT_EQ(row[j],
                kv_pool_codec::encode(kv_pool_codec::kBF16, k[static_cast<size_t>(r * kRow + j)]));
      EXPECT_EQ(row[kRow + j], kv_pool_codec::encode(kv_pool_codec::kBF16,
                                                     val[static_cast<size_t>(r * kRow + j)]));
    }
  }
}

}  // namespace
}  // namespace memlong
