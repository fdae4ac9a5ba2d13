// core/common/half.h against values computed another way: a 16-bit pattern's value from its
// fields with ldexp (decode), and rounding with std::nearbyint on the format's quantum followed by
// a search in the table of all finite values (encode). The host and the CUDA K/V pool both use
// these functions, so this is the reference for both.
#include "core/common/half.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace memlong {
namespace {

// A 16-bit float format: `mant_bits` stored mantissa bits, `exp_bits` exponent bits.
struct Format {
  int mant_bits;
  int exp_bits;
  int bias() const { return (1 << (exp_bits - 1)) - 1; }
  int max_exp_field() const { return (1 << exp_bits) - 1; }
  uint16_t sign_bit() const { return 0x8000; }
  uint16_t inf_bits() const { return static_cast<uint16_t>(max_exp_field() << mant_bits); }
};
constexpr Format kHalf{10, 5};
constexpr Format kBFloat{7, 8};

// The value of a pattern, from its sign, exponent and mantissa fields.
double value_of(const Format& fmt, uint16_t h) {
  const bool negative = (h & 0x8000) != 0;
  const int exp = (h >> fmt.mant_bits) & fmt.max_exp_field();
  const int mant = h & ((1 << fmt.mant_bits) - 1);
  double v;
  if (exp == fmt.max_exp_field()) {
    v = mant != 0 ? std::numeric_limits<double>::quiet_NaN()
                  : std::numeric_limits<double>::infinity();
  } else if (exp == 0) {
    v = std::ldexp(mant, 1 - fmt.bias() - fmt.mant_bits);
  } else {
    v = std::ldexp((1 << fmt.mant_bits) + mant, exp - fmt.bias() - fmt.mant_bits);
  }
  return negative ? -v : v;
}

// The values of patterns 0 .. inf_bits - 1 (every finite non-negative one, ascending).
const std::vector<double>& finite_values(const Format& fmt) {
  static const auto make = [](const Format& f) {
    std::vector<double> v;
    for (uint32_t h = 0; h < f.inf_bits(); ++h) v.push_back(value_of(f, static_cast<uint16_t>(h)));
    return v;
  };
  static const std::vector<double> half = make(kHalf), bfloat = make(kBFloat);
  return fmt.mant_bits == kHalf.mant_bits ? half : bfloat;
}

// The pattern nearest to x, ties to the even pattern (IEEE round-to-nearest-even).
uint16_t reference_encode(const Format& fmt, float x) {
  const uint16_t sign = std::signbit(x) ? fmt.sign_bit() : 0;
  if (std::isnan(x)) return static_cast<uint16_t>(sign | fmt.inf_bits() | 1);  // some NaN
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return static_cast<uint16_t>(sign | fmt.inf_bits());
  // Quantum: 2^(e - p) for a = m * 2^e with m in [0.5, 1) and p significant bits, never below
  // the subnormal spacing.
  int e = 0;
  std::frexp(a, &e);
  const int min_q = 1 - fmt.bias() - fmt.mant_bits;
  const double q = std::ldexp(1.0, std::max(e - (fmt.mant_bits + 1), min_q));
  const double r = std::nearbyint(a / q) * q;  // default rounding mode: ties to even
  // All finite non-negative patterns, ascending in value: find r among them.
  const std::vector<double>& table = finite_values(fmt);
  const auto it = std::lower_bound(table.begin(), table.end(), r);
  if (it == table.end()) return static_cast<uint16_t>(sign | fmt.inf_bits());  // overflow
  EXPECT_EQ(*it, r) << "the rounded value must be representable";
  return static_cast<uint16_t>(sign | (it - table.begin()));
}

bool is_nan_pattern(const Format& fmt, uint16_t h) {
  return ((h & ~fmt.sign_bit()) > fmt.inf_bits());
}

void expect_same_value(double got, double want, uint32_t h) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << h;
    return;
  }
  ASSERT_EQ(got, want) << "pattern " << h;
  ASSERT_EQ(std::signbit(got), std::signbit(want)) << "pattern " << h;
}

TEST(Half, DecodeEvery16BitPatternEqualsItsFieldValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto u = static_cast<uint16_t>(h);
    expect_same_value(f16_to_f32(u), value_of(kHalf, u), h);
    expect_same_value(bf16_to_f32(u), value_of(kBFloat, u), h);
  }
}

// The floats that decide rounding: every midpoint between two neighbouring finite patterns
// (exact in f32: one more significant bit) and the floats just beside it, plus specials and
// random bit patterns of every exponent.
std::vector<float> encode_inputs(const Format& fmt) {
  std::vector<float> xs = {0.0f,
                           -0.0f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::quiet_NaN(),
                           -std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::min(),
                           std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max()};
  for (uint32_t h = 0; h + 1 < fmt.inf_bits(); ++h) {
    const double lo = value_of(fmt, static_cast<uint16_t>(h));
    const double hi = value_of(fmt, static_cast<uint16_t>(h + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);
    for (float m : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)}) {
      xs.push_back(m);
      xs.push_back(-m);
    }
  }
  // Past the largest finite pattern: the midpoint to the next power of two rounds to infinity.
  const double max_finite = value_of(fmt, static_cast<uint16_t>(fmt.inf_bits() - 1));
  const double next = value_of(fmt, static_cast<uint16_t>(fmt.inf_bits() - 2));
  const auto over = static_cast<float>(max_finite + (max_finite - next) / 2);
  if (std::isfinite(over)) {
    xs.push_back(over);
    xs.push_back(std::nextafter(over, 0.0f));
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    xs.push_back(f);
  }
  return xs;
}

TEST(Half, F16EncodeRoundsToNearestEvenLikeTheReference) {
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  for (float x : encode_inputs(kHalf)) {
    const uint16_t got = f32_to_f16(x);
    const uint16_t want = reference_encode(kHalf, x);
    if (is_nan_pattern(kHalf, want)) {
      ASSERT_TRUE(is_nan_pattern(kHalf, got)) << x;
      EXPECT_NE(got & 0x200, 0) << "a quiet NaN";
      continue;
    }
    ASSERT_EQ(got, want) << "x = " << x;
  }
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);            // the tie above the largest rounds up: inf
  EXPECT_EQ(f32_to_f16(1.0f + 1.0f / 2048), 0x3C00);  // tie, to even
  EXPECT_EQ(f32_to_f16(1.0f + 3.0f / 2048), 0x3C02);  // tie, to even (up)
}

TEST(Half, Bf16EncodeRoundsToNearestEvenLikeTheReference) {
  for (float x : encode_inputs(kBFloat)) {
    const uint16_t got = f32_to_bf16(x);
    const uint16_t want = reference_encode(kBFloat, x);
    if (is_nan_pattern(kBFloat, want)) {
      ASSERT_TRUE(is_nan_pattern(kBFloat, got)) << x;
      EXPECT_EQ(got & 0x8000, want & 0x8000) << "the sign of a NaN is kept";
      EXPECT_NE(got & 0x40, 0) << "a quiet NaN";
      continue;
    }
    ASSERT_EQ(got, want) << "x = " << x;
  }
}

// Every finite 16-bit value survives the trip through f32 unchanged (decode is exact).
TEST(Half, RoundTripOfEveryFinitePatternIsExact) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto u = static_cast<uint16_t>(h);
    if (!is_nan_pattern(kHalf, u)) {
      ASSERT_EQ(f32_to_f16(f16_to_f32(u)), u) << h;
    }
    if (!is_nan_pattern(kBFloat, u)) {
      ASSERT_EQ(f32_to_bf16(bf16_to_f32(u)), u) << h;
    }
  }
}

}  // namespace
}  // namespace memlong
