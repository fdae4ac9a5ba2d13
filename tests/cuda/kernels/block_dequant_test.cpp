// The element decoder the CUDA kernels run (cuda/kernels/block_dequant.h, compiled here as plain
// C++) against core's quant::dequantize_row on the same bytes, for every kept weight format; and
// the storage plan of cuda/launch_shape.h against core's row sizes. Runs without a GPU.
#include "cuda/kernels/block_dequant.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/common/dtype.h"
#include "core/quant/quant.h"
#include "cuda/launch_shape.h"

namespace memlong {
namespace {

constexpr DType kKept[] = {DType::kF32,  DType::kF16,  DType::kQ4_0, DType::kQ4_1,
                           DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

std::vector<float> random_row(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  v[3] = 7.5f;  // an outlier so block scales differ
  return v;
}

float row_elem(DType t, const uint8_t* row, int64_t c) {
  float out = 0.0f;
  const bool known = cuda_blocks::dispatch_kept_type(
      static_cast<uint32_t>(t), [&]<uint32_t T>() { out = cuda_blocks::row_elem<T>(row, c); });
  EXPECT_TRUE(known);
  return out;
}

TEST(CudaBlockDequant, EveryKeptTypeDecodesLikeCore) {
  const int64_t k = 256;
  for (DType t : kKept) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    const std::vector<float> src = random_row(k, 11 + static_cast<uint32_t>(t));
    std::vector<uint8_t> q(*dtype_row_bytes(t, k));
    quant::quantize_row(t, src.data(), q.data(), k);
    std::vector<float> ref(static_cast<size_t>(k));
    quant::dequantize_row(t, q.data(), ref.data(), k);
    for (int64_t c = 0; c < k; ++c) {
      // Same f16 scale, same integer: the products agree to the last bit or one rounding.
      ASSERT_NEAR(row_elem(t, q.data(), c), ref[static_cast<size_t>(c)],
                  1e-6f * std::max(1.0f, std::fabs(ref[static_cast<size_t>(c)])))
          << "element " << c;
    }
  }
}

TEST(CudaBlockDequant, BlockSizesMatchCoreTables) {
  for (DType t : kKept) {
    const int64_t k = 96 * 32;
    const auto plan = cuda_shape::plan_weight(static_cast<uint32_t>(t), k, false);
    EXPECT_FALSE(plan.is_converted) << dtype_name(t);
    EXPECT_EQ(plan.dtype, static_cast<uint32_t>(t));
    EXPECT_EQ(plan.row_bytes, *dtype_row_bytes(t, k)) << dtype_name(t);
  }
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kBF16}) {
    const auto plan = cuda_shape::plan_weight(static_cast<uint32_t>(t), 512, false);
    EXPECT_TRUE(plan.is_converted) << dtype_name(t);
    EXPECT_EQ(plan.dtype, static_cast<uint32_t>(DType::kF16));
    EXPECT_EQ(plan.row_bytes, 1024u);
  }
  const auto norm = cuda_shape::plan_weight(static_cast<uint32_t>(DType::kF16), 576, true);
  EXPECT_EQ(norm.dtype, static_cast<uint32_t>(DType::kF32));
  EXPECT_EQ(norm.row_bytes, 576u * 4);
  EXPECT_TRUE(norm.is_converted);
}

}  // namespace
}  // namespace memlong
