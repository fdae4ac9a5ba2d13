// vec_dot and matmul_rows on every weight type, on the AVX2 and the forced scalar path, against a
// naive double-precision loop over the dequantized weights (checked against gguf-py in
// quant_test.cpp) and the dequantized activations.
//
// Tolerance: 2e-5 * sum|w x| for float summation order, plus, for Q4_1/Q5_1, 2e-3 * sum_b |m_b *
// sum_b(x)|: those kernels use the activation's precomputed s = f16(d * sum q) (ggml's Q8_1), which
// differs from the sum of the dequantized x by the f16 rounding of d and of s.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "core/common/half.h"
#include "core/quant/quant.h"
#include "core/quant/quant_kernels.h"
#include "tests/core/quant/quant_test_util.h"

namespace memlong::quant {
namespace {

using testing::Activation;

// The kernel families under test: the best one on this CPU, AVX2 without VNNI, and scalar.
enum class Path { kBest, kAvx2, kScalar };

struct ScopedPath {
  explicit ScopedPath(Path p) {
    force_scalar_for_testing(p == Path::kScalar);
    detail::disable_vnni_for_testing(p == Path::kAvx2);
  }
  ~ScopedPath() {
    force_scalar_for_testing(false);
    detail::disable_vnni_for_testing(false);
  }
  // True when this CPU cannot run the requested SIMD path (the test then skips).
  static bool unavailable(Path p) {
    return p != Path::kScalar && std::string(simd_path_name()) == "scalar";
  }
};

std::string path_suffix(Path p) {
  return p == Path::kBest ? "_best" : p == Path::kAvx2 ? "_avx2" : "_scalar";
}
const auto kPaths = ::testing::Values(Path::kBest, Path::kAvx2, Path::kScalar);

bool has_min(DType t) {
  return t == DType::kQ4_1 || t == DType::kQ5_1;
}

// Reference value and tolerance for one weight row (k elements at w_bytes) and one activation.
std::pair<double, double> reference(DType t, const uint8_t* w_bytes, int64_t k,
                                    const Activation& x) {
  std::vector<float> w(static_cast<size_t>(k));
  dequantize_row(t, w_bytes, w.data(), k);
  double abs_sum;
  const double ref = testing::naive_dot(w.data(), x.values.data(), k, &abs_sum);
  double tol = 2e-5 * abs_sum + 1e-7;
  if (has_min(t)) {
    const size_t block_bytes = traits(t).block_bytes;
    for (int64_t b = 0; b < k / 32; ++b) {
      uint16_t m;
      std::memcpy(&m, w_bytes + b * block_bytes + 2, 2);
      double sx = 0;
      for (int j = 0; j < 32; ++j) sx += x.values[b * 32 + j];
      tol += 2e-3 * std::fabs(f16_to_f32(m) * sx);
    }
  }
  return {ref, tol};
}

class QuantDot : public ::testing::TestWithParam<std::tuple<const char*, Path>> {};

TEST_P(QuantDot, VecDotMatchesNaiveOnGgufPyBlocks) {
  const auto [name, path] = GetParam();
  ScopedPath scoped(path);
  if (ScopedPath::unavailable(path)) GTEST_SKIP() << "no AVX2 here";
  DType t = DType::kF32;
  std::vector<uint8_t> weights;
  int64_t n_elems = 512;
  if (std::string(name) == "F32") {
    const auto f = testing::random_floats(n_elems, 3);
    weights.resize(4 * f.size());
    std::memcpy(weights.data(), f.data(), weights.size());
  } else {
    const auto fx = testing::load_fixture(std::string("dequant_") + name + ".bin");
    ASSERT_FALSE(fx.raw.empty());
    t = static_cast<DType>(fx.type_id);
    weights = fx.raw;
    n_elems = static_cast<int64_t>(fx.floats.size());
  }
  const int64_t n_rows = 2, k = n_elems / n_rows;
  const size_t w_row_bytes = testing::row_bytes(t, k);
  const Activation x = testing::make_activation(t, testing::random_floats(k, 5, 2.0f));
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* w_row = weights.data() + r * w_row_bytes;
    const auto [ref, tol] = reference(t, w_row, k, x);
    EXPECT_NEAR(vec_dot(t, k, w_row, x.bytes.data()), ref, tol) << name << " row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(QuantAllTypes, QuantDot,
                         ::testing::Combine(::testing::Values("F32", "F16", "BF16", "Q4_0", "Q4_1",
                                                              "Q5_0", "Q5_1", "Q8_0", "Q4_K",
                                                              "Q5_K", "Q6_K"),
                                            kPaths),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) +
                                  path_suffix(std::get<1>(info.param));
                         });

// matmul_rows edge cases: n_cols not a multiple of the 4-column tile, a row range that is not a
// multiple of the 4-row tile, k of one block, and y written only inside [r_begin, r_end).
class QuantMatmul : public ::testing::TestWithParam<std::tuple<DType, Path>> {};

TEST_P(QuantMatmul, EdgeCasesMatchNaive) {
  const auto [t, path] = GetParam();
  ScopedPath scoped(path);
  if (ScopedPath::unavailable(path)) GTEST_SKIP() << "no AVX2 here";
  const int64_t block = traits(vec_dot_type(t)).block_elems > traits(t).block_elems
                            ? traits(vec_dot_type(t)).block_elems
                            : std::max<int64_t>(traits(t).block_elems, 32);
  const int64_t n_rows = 11, y_stride = 13;
  for (const int64_t k : {block, 3 * block}) {
    const size_t w_row_bytes = testing::row_bytes(t, k);
    std::vector<uint8_t> w(w_row_bytes * n_rows);
    const auto wf = testing::random_floats(k * n_rows, 17);
    for (int64_t r = 0; r < n_rows; ++r)
      quantize_row(t, wf.data() + r * k, w.data() + r * w_row_bytes, k);
    for (const int64_t n_cols : {1, 2, 5, 7, 9}) {
      std::vector<Activation> xs;
      const DType xt = vec_dot_type(t);
      const size_t x_row_bytes = testing::row_bytes(xt, k);
      std::vector<uint8_t> x(x_row_bytes * n_cols);
      for (int64_t c = 0; c < n_cols; ++c) {
        xs.push_back(testing::make_activation(t, testing::random_floats(k, 100 + c, 1.5f)));
        std::memcpy(x.data() + c * x_row_bytes, xs.back().bytes.data(), x_row_bytes);
      }
      for (const auto& [r_begin, r_end] :
           {std::pair<int64_t, int64_t>{2, 9}, {0, n_rows}, {10, 11}}) {
        std::vector<float> y(static_cast<size_t>(y_stride * n_cols),
                             std::numeric_limits<float>::quiet_NaN());
        matmul_rows(t, k, w.data(), w_row_bytes, r_begin, r_end, x.data(), x_row_bytes, n_cols,
                    y.data(), y_stride);
        for (int64_t c = 0; c < n_cols; ++c) {
          for (int64_t r = 0; r < y_stride; ++r) {
            const float got = y[c * y_stride + r];
            if (r < r_begin || r >= r_end) {
              EXPECT_TRUE(std::isnan(got)) << "wrote outside the row range at r=" << r;
              continue;
            }
            const auto [ref, tol] = reference(t, w.data() + r * w_row_bytes, k, xs[c]);
            EXPECT_NEAR(got, ref, tol)
                << dtype_name(t) << " k=" << k << " n_cols=" << n_cols << " r=" << r << " c=" << c;
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    QuantAllTypes, QuantMatmul,
    ::testing::Combine(::testing::Values(DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0,
                                         DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                                         DType::kQ4_K, DType::kQ5_K, DType::kQ6_K),
                       kPaths),
    [](const auto& info) {
      return std::string(dtype_name(std::get<0>(info.param))) +
             path_suffix(std::get<1>(info.param));
    });

// The two paths agree closely with each other on a larger, realistic shape (SmolLM2's k = 576).
TEST(QuantMatmulPaths, SimdAgreesWithScalarAtModelShape) {
  if (ScopedPath::unavailable(Path::kBest)) GTEST_SKIP() << "no AVX2 here";
  for (const DType t : {DType::kQ4_1, DType::kQ8_0, DType::kQ4_0, DType::kQ6_K, DType::kQ4_K}) {
    const int64_t k = t == DType::kQ4_1 || t == DType::kQ8_0 || t == DType::kQ4_0 ? 576 : 768;
    const int64_t n_rows = 37, n_cols = 6;
    const size_t wb = testing::row_bytes(t, k), xb = testing::row_bytes(vec_dot_type(t), k);
    std::vector<uint8_t> w(wb * n_rows), x(xb * n_cols);
    const auto wf = testing::random_floats(k * n_rows, 1),
               xf = testing::random_floats(k * n_cols, 2);
    for (int64_t r = 0; r < n_rows; ++r) quantize_row(t, wf.data() + r * k, w.data() + r * wb, k);
    for (int64_t c = 0; c < n_cols; ++c)
      quantize_row(vec_dot_type(t), xf.data() + c * k, x.data() + c * xb, k);
    std::vector<float> y_simd(n_rows * n_cols), y_scalar(n_rows * n_cols);
    matmul_rows(t, k, w.data(), wb, 0, n_rows, x.data(), xb, n_cols, y_simd.data(), n_rows);
    {
      ScopedPath scalar(Path::kScalar);
      matmul_rows(t, k, w.data(), wb, 0, n_rows, x.data(), xb, n_cols, y_scalar.data(), n_rows);
    }
    for (size_t i = 0; i < y_simd.size(); ++i) {
      EXPECT_NEAR(y_simd[i], y_scalar[i], 1e-4 * (std::fabs(y_scalar[i]) + 1.0))
          << dtype_name(t) << " " << i;
    }
  }
}

}  // namespace
}  // namespace memlong::quant
