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

TEST(CudaLaunchShape, MatvecOnlyForKeptTypesFewRowsWholeBlocksAlignedInput) {
  const auto q4 = static_cast<uint32_t>(DType::kQ4_0);
  EXPECT_TRUE(cuda_shape::use_matvec(q4, 1, 576, 256));
  EXPECT_TRUE(cuda_shape::use_matvec(q4, 8, 576, 256));
  EXPECT_FALSE(cuda_shape::use_matvec(q4, 9, 576, 256));
  EXPECT_FALSE(cuda_shape::use_matvec(q4, 0, 576, 256));
  EXPECT_FALSE(cuda_shape::use_matvec(q4, 1, 80, 256));       // partial block
  EXPECT_FALSE(cuda_shape::use_matvec(q4, 1, 576, 256 + 4));  // not float4-aligned
  EXPECT_FALSE(cuda_shape::use_matvec(static_cast<uint32_t>(DType::kQ6_K), 1, 576, 256));
  EXPECT_EQ(cuda_shape::matvec_blocks(576), 72);
  EXPECT_EQ(cuda_shape::matvec_blocks(577), 73);
  EXPECT_EQ(cuda_shape::matvec_smem_bytes(1, 2048), 8192u);
  EXPECT_EQ(cuda_shape::matvec_smem_bytes(1, 12288), 49152u);  // exactly 48 KiB: shared
  EXPECT_EQ(cuda_shape::matvec_smem_bytes(8, 2048), 0u);       // 64 KiB: global
}

TEST(CudaLaunchShape, GemmChunksStayWithinTheScratchAndCoverAllRows) {
  const size_t budget = size_t{64} << 20;
  for (int64_t k : {64, 576, 2048, 8192, 1 << 20, 1 << 26}) {
    for (int64_t n_out : {1, 63, 576, 49152, 128256}) {
      const int64_t rows = cuda_shape::gemm_chunk_rows(n_out, k, budget);
      ASSERT_GE(rows, 1);
      ASSERT_LE(rows, n_out);
      if (k * 2 <= static_cast<int64_t>(budget)) {
        EXPECT_LE(static_cast<size_t>(rows * k * 2), budget) << k << " " << n_out;
      }
      if (rows < n_out && rows >= 64) {
        EXPECT_EQ(rows % 64, 0);
      }
    }
  }
  EXPECT_EQ(cuda_shape::gemm_chunk_rows(128256, 2048, budget), 16384);
  EXPECT_EQ(cuda_shape::elementwise_blocks(0, 256), 1);
  EXPECT_EQ(cuda_shape::elementwise_blocks(257, 256), 2);
  EXPECT_EQ(cuda_shape::elementwise_blocks(int64_t{1} << 40, 256), 65535);
}

}  // namespace
}  // namespace memlong
