// The arithmetic the retriever encoder kernels run (cuda/kernels/encoder_math.h, compiled here as
// plain C++) against the CPU backend's encoder ops on the same inputs. The kernels' reductions
// are emulated as they run on the device (256 threads each owning a strided set of columns, the
// per-thread double partials added in thread order), so what differs from the CPU is exactly the
// order of the double additions. Runs without a GPU.
#include "cuda/kernels/encoder_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/backend/backend.h"
#include "core/model/model_file.h"

namespace memlong {
namespace {

constexpr int kThreads = 256;  // encoder.cu's block size

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f, float shift = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(shift, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

WeightHandle vector_weight(Backend& b, const std::vector<float>& v) {
  TensorView t;
  t.name = "vec";
  t.dtype = DType::kF32;
  t.n_dims = 1;
  t.ne = {static_cast<int64_t>(v.size()), 1, 1, 1};
  t.data = v.data();
  t.n_bytes = v.size() * sizeof(float);
  return std::move(b.upload_weight(t)).value();
}

// Sum of per-thread strided partials, as block_sum() adds them (thread order after shuffles is a
// tree; any order of doubles of float products agrees with the CPU to ~1e-16 relative).
template <typename F>
double strided_sum(int dim, F term) {
  double total = 0.0;
  for (int t = 0; t < kThreads; ++t) {
    double part = 0.0;
    for (int j = t; j < dim; j += kThreads) part += term(j);
    total += part;
  }
  return total;
}

TEST(CudaEncoderMath, LayerNormKernelArithmeticMatchesCpuBackend) {
  auto cpu = make_cpu_backend(1);
  const int n = 4;
  for (int dim : {32, 384, 1000}) {
    const auto x = random_vec(static_cast<size_t>(n) * dim, 1, 3.0f, 1.5f);
    const auto r = random_vec(static_cast<size_t>(n) * dim, 2);
    const auto wv = random_vec(static_cast<size_t>(dim), 3, 0.3f, 1.0f);
    const auto bv = random_vec(static_cast<size_t>(dim), 4, 0.1f);
    std::vector<float> ref(x.size());
    cpu->layer_norm(x.data(), r.data(), vector_weight(*cpu, wv), vector_weight(*cpu, bv), 1e-12f, n,
                    dim, ref.data());
    float max_err = 0.0f;
    for (int i = 0; i < n; ++i) {
      std::vector<float> z(static_cast<size_t>(dim));
      for (int j = 0; j < dim; ++j) z[j] = x[i * dim + j] + r[i * dim + j];
      const float mean =
          cuda_encoder::layer_norm_mean(strided_sum(dim, [&](int j) { return double(z[j]); }), dim);
      const double var = strided_sum(dim, [&](int j) {
        const float d = z[j] - mean;
        return static_cast<double>(d) * d;
      });
      const float inv = cuda_encoder::layer_norm_inv_std(var, dim, 1e-12f);
      for (int j = 0; j < dim; ++j) {
        const float got = cuda_encoder::layer_norm_apply(z[j], mean, inv, wv[j], bv[j]);
        max_err = std::max(max_err, std::fabs(got - ref[i * dim + j]));
      }
    }
    EXPECT_LE(max_err, 2e-6f) << "dim " << dim;
  }
}

TEST(CudaEncoderMath, GeluMatchesCpuBackendBitForBit) {
  auto cpu = make_cpu_backend(1);
  std::vector<float> x;
  for (int i = -5000; i <= 5000; ++i) x.push_back(static_cast<float>(i) * 1.7e-3f);
  std::vector<float> ref(x.size());
  cpu->gelu_erf(x.data(), static_cast<int64_t>(x.size()), ref.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(cuda_encoder::gelu_erf(x[i]), ref[i]) << x[i];
}

TEST(CudaEncoderMath, SequenceOfRowFindsEveryRowsSequence) {
  for (const std::vector<int32_t>& lengths :
       {std::vector<int32_t>{5}, std::vector<int32_t>{1, 1, 1}, std::vector<int32_t>{3, 1, 17, 2},
        std::vector<int32_t>(37, 4)}) {
    std::vector<int32_t> off(1, 0);
    for (int32_t l : lengths) off.push_back(off.back() + l);
    const int n_seq = static_cast<int>(lengths.size());
    for (int32_t row = 0; row < off.back(); ++row) {
      int want = 0;
      while (off[want + 1] <= row) ++want;
      ASSERT_EQ(cuda_encoder::sequence_of_row(off.data(), n_seq, row), want) << row;
    }
  }
}

TEST(CudaEncoderMath, PoolingAndL2MatchCpuBackend) {
  auto cpu = make_cpu_backend(1);
  const std::vector<int32_t> off = {0, 7, 8, 27, 30};
  const int n_seq = 4, dim = 96;
  const auto x = random_vec(static_cast<size_t>(off.back()) * dim, 5, 2.0f, 0.4f);
  for (auto mode : {Backend::SequencePooling::kMean, Backend::SequencePooling::kFirst}) {
    std::vector<float> ref(static_cast<size_t>(n_seq) * dim);
    cpu->pool_sequences(x.data(), off.data(), n_seq, dim, mode, ref.data());
    std::vector<float> got(ref.size());
    for (int s = 0; s < n_seq; ++s) {
      for (int c = 0; c < dim; ++c) {
        got[s * dim + c] = cuda_encoder::pool_column(x.data(), off.data(), s, dim, c,
                                                     mode == Backend::SequencePooling::kFirst);
      }
    }
    EXPECT_EQ(got, ref) << "same float additions in the same order";
    cpu->l2_normalize(ref.data(), n_seq, dim);
    for (int s = 0; s < n_seq; ++s) {
      const float* row = got.data() + s * dim;
      const float inv = cuda_encoder::l2_inv_norm(
          strided_sum(dim, [&](int j) { return static_cast<double>(row[j]) * row[j]; }));
      for (int c = 0; c < dim; ++c) EXPECT_NEAR(got[s * dim + c] * inv, ref[s * dim + c], 1e-7f);
    }
  }
  EXPECT_EQ(cuda_encoder::l2_inv_norm(0.0), 1e12f);  // zero rows stay zero, as on the CPU
}

}  // namespace
}  // namespace memlong
