// The CUDA backend's launch and storage arithmetic (cuda/launch_shape.h, no CUDA headers):
// when a product takes the mat-vec path, shared-memory staging, GEMM scratch chunking and grid
// sizes. Runs without a GPU.
#include "cuda/launch_shape.h"

#include <gtest/gtest.h>

#include "core/common/dtype.h"

namespace memlong {
namespace {

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
