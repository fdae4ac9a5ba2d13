// The SIMD activation quantizer must be bit-exact with the scalar reference (roundf semantics),
// including exact .5 ties, zeros and blocks of one sign.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/common/dtype.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x, bool scalar) {
  quant::force_scalar_for_testing(scalar);
  std::vector<uint8_t> out(*dtype_row_bytes(t, x.size()));
  quant::quantize_row(t, x.data(), out.data(), static_cast<int64_t>(x.size()));
  quant::force_scalar_for_testing(false);
  return out;
}

TEST(QuantizeSimd, Q8BlocksMatchScalarBitForBit) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> x(32 * 64);
  for (float& v : x) v = dist(rng);
  // Block 0: exact ties after scaling (amax 127 -> scale 1): k + 0.5 of both signs.
  for (int j = 0; j < 32; ++j) x[j] = (j % 2 ? -1.0f : 1.0f) * (static_cast<float>(j) + 0.5f);
  x[31] = 127.0f;
  // Block 1: all zero. Block 2: all negative. Block 3: one huge value.
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);
  for (int j = 64; j < 96; ++j) x[j] = -std::abs(x[j]) - 0.1f;
  x[100] = 1e6f;
  for (DType t : {DType::kQ8_0, DType::kQ8_1}) {
    const auto a = quantize(t, x, false), b = quantize(t, x, true);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << dtype_name(t);
  }
}

}  // namespace
}  // namespace memlong
