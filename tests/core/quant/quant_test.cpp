// core/quant against gguf-py (fixtures from scripts/gen_quant_fixtures.py): dequantization of
// every weight type and the activation quantizers. The dot products are in quant_dot_test.cpp.
#include "core/quant/quant.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/common/half.h"
#include "tests/core/quant/quant_test_util.h"

namespace memlong::quant {
namespace {

using testing::Fixture;
using testing::load_fixture;

class QuantDequantize : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantDequantize, MatchesGgufPy) {
  const Fixture fx = load_fixture(std::string("dequant_") + GetParam() + ".bin");
  ASSERT_FALSE(fx.floats.empty());
  const auto t = static_cast<DType>(fx.type_id);
  ASSERT_EQ(dtype_name(t), GetParam());
  const auto n = static_cast<int64_t>(fx.floats.size());
  ASSERT_EQ(testing::row_bytes(t, n), fx.raw.size());
  std::vector<float> got(fx.floats.size());
  dequantize_row(t, fx.raw.data(), got.data(), n);
  int n_bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float want = fx.floats[i];
    // Same float operations in the same order as gguf-py, so equal up to 1 ulp-ish.
    if (std::fabs(got[i] - want) > 1e-6f * std::fabs(want) + 1e-30f && n_bad++ < 5) {
      ADD_FAILURE() << GetParam() << " element " << i << ": got " << got[i] << ", want " << want;
    }
  }
  EXPECT_EQ(n_bad, 0);
}

INSTANTIATE_TEST_SUITE_P(QuantAllTypes, QuantDequantize,
                         ::testing::Values("F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                                           "Q4_K", "Q5_K", "Q6_K"),
                         [](const auto& info) { return std::string(info.param); });

// Q8_0 is gguf-py's own quantizer; Q8_1 and Q8_K are ggml's reference definitions written in
// numpy by the generator. Expected bit-exact: both sides round the same float32 values.
class QuantQuantizeActivation : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantQuantizeActivation, MatchesReference) {
  const Fixture fx = load_fixture(std::string("quantize_") + GetParam() + ".bin");
  ASSERT_FALSE(fx.floats.empty());
  const auto t = static_cast<DType>(fx.type_id);
  const auto n = static_cast<int64_t>(fx.floats.size());
  ASSERT_EQ(testing::row_bytes(t, n), fx.raw.size());
  std::vector<uint8_t> got(fx.raw.size());
  quantize_row(t, fx.floats.data(), got.data(), n);
  // Compare field-wise so a failure names the field; quants may differ by 1 only on exact ties.
  std::vector<float> got_f(fx.floats.size()), want_f(fx.floats.size());
  dequantize_row(t, got.data(), got_f.data(), n);
  dequantize_row(t, fx.raw.data(), want_f.data(), n);
  int n_diff_bytes = 0;
  for (size_t i = 0; i < got.size(); ++i) n_diff_bytes += got[i] != fx.raw[i];
  EXPECT_EQ(n_diff_bytes, 0) << GetParam() << ": bytes differ from the reference";
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_NEAR(got_f[i], want_f[i], 1e-6f * std::fabs(want_f[i]) + 1e-30f)
        << GetParam() << " " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(QuantActivations, QuantQuantizeActivation,
                         ::testing::Values("Q8_0", "Q8_1", "Q8_K"),
                         [](const auto& info) { return std::string(info.param); });

TEST(QuantQuantize, Q8_1SumField) {
  // s must be d * sum(q): the Q4_1/Q5_1 dots rely on it for the min term.
  const auto x = testing::random_floats(64, 7);
  std::vector<uint8_t> q(testing::row_bytes(DType::kQ8_1, 64));
  quantize_row(DType::kQ8_1, x.data(), q.data(), 64);
  for (int b = 0; b < 2; ++b) {
    const uint8_t* blk = q.data() + 36 * b;
    uint16_t d, s;
    std::memcpy(&d, blk, 2);
    std::memcpy(&s, blk + 2, 2);
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += static_cast<int8_t>(blk[4 + j]);
    EXPECT_NEAR(f16_to_f32(s), f16_to_f32(d) * sum, 2e-3 * std::fabs(f16_to_f32(d) * sum) + 1e-6);
  }
}

// The simple weight quantizers: a round trip must land within about one quantization step.
TEST(QuantQuantize, WeightRoundTrip) {
  struct Case {
    DType t;
    double max_rel_rms;
  };
  for (const Case c : {Case{DType::kF32, 0}, Case{DType::kF16, 1e-3}, Case{DType::kBF16, 5e-3},
                       Case{DType::kQ4_0, 0.15}, Case{DType::kQ4_1, 0.12}, Case{DType::kQ5_0, 0.07},
                       Case{DType::kQ5_1, 0.06}, Case{DType::kQ8_0, 0.01}, Case{DType::kQ4_K, 0.15},
                       Case{DType::kQ5_K, 0.08}, Case{DType::kQ6_K, 0.04}}) {
    const int64_t n = 512;
    const auto x = testing::random_floats(n, 11);
    std::vector<uint8_t> q(testing::row_bytes(c.t, n));
    quantize_row(c.t, x.data(), q.data(), n);
    std::vector<float> y(n);
    dequantize_row(c.t, q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
      err += (y[i] - x[i]) * (y[i] - x[i]);
      ref += x[i] * x[i];
    }
    EXPECT_LE(std::sqrt(err / ref), c.max_rel_rms) << dtype_name(c.t);
  }
}

TEST(QuantTypes, VecDotTypesAndSupport) {
  EXPECT_EQ(vec_dot_type(DType::kQ4_1), DType::kQ8_1);
  EXPECT_EQ(vec_dot_type(DType::kQ8_0), DType::kQ8_0);
  EXPECT_EQ(vec_dot_type(DType::kQ6_K), DType::kQ8_K);
  EXPECT_EQ(vec_dot_type(DType::kBF16), DType::kF32);
  EXPECT_TRUE(is_supported_weight_type(DType::kQ5_K));
  EXPECT_FALSE(is_supported_weight_type(DType::kQ2_K));
  EXPECT_FALSE(is_supported_weight_type(DType::kQ8_K));
}

}  // namespace
}  // namespace memlong::quant
