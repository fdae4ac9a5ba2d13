// The CPU backend's retriever encoder ops (layer_norm, encoder_attention, gelu_erf,
// pool_sequences, l2_normalize) against naive double-precision loops written from their
// definitions in core/backend/backend.h, on random inputs of odd sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/backend/backend.h"
#include "core/model/model_file.h"

namespace memlong {
namespace {

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
  auto w = b.upload_weight(t);
  EXPECT_TRUE(w.is_ok()) << w.status().to_string();
  return std::move(w).value();
}

// max |got - want| <= tol * max(1, max |want|).
void expect_close(const std::vector<double>& want, const float* got, double tol, const char* what) {
  double scale = 1.0, err = 0.0;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::fabs(want[i] - got[i]));
  EXPECT_LE(err, tol * scale) << what;
}

TEST(CpuEncoderOps, LayerNormWithAndWithoutResidualMatchesDouble) {
  auto b = make_cpu_backend(2);
  for (int dim : {37, 384}) {
    const int n = 45;  // enough work for the thread pool at dim 384
    const auto x = random_vec(static_cast<size_t>(n) * dim, 1, 2.0f, 0.7f);
    const auto r = random_vec(static_cast<size_t>(n) * dim, 2, 1.0f);
    const auto wv = random_vec(static_cast<size_t>(dim), 3, 0.5f, 1.0f);
    const auto bv = random_vec(static_cast<size_t>(dim), 4, 0.2f);
    const WeightHandle w = vector_weight(*b, wv), bias = vector_weight(*b, bv);
    for (bool with_residual : {false, true}) {
      std::vector<double> want(x.size());
      for (int i = 0; i < n; ++i) {
        std::vector<double> z(static_cast<size_t>(dim));
        double mean = 0.0, var = 0.0;
        for (int j = 0; j < dim; ++j) {
          z[j] = double(x[i * dim + j]) + (with_residual ? double(r[i * dim + j]) : 0.0);
          mean += z[j];
        }
        mean /= dim;
        for (int j = 0; j < dim; ++j) var += (z[j] - mean) * (z[j] - mean);
        var /= dim;
        for (int j = 0; j < dim; ++j)
          want[i * dim + j] = (z[j] - mean) / std::sqrt(var + 1e-12) * wv[j] + bv[j];
      }
      std::vector<float> out(x.size(), -1.0f), in_place = x;
      b->layer_norm(x.data(), with_residual ? r.data() : nullptr, w, bias, 1e-12f, n, dim,
                    out.data());
      expect_close(want, out.data(), 2e-6, "layer_norm");
      b->layer_norm(in_place.data(), with_residual ? r.data() : nullptr, w, bias, 1e-12f, n, dim,
                    in_place.data());
      EXPECT_EQ(in_place, out) << "in place equals out of place, dim " << dim;
    }
  }
}

TEST(CpuEncoderOps, GeluErfMatchesDouble) {
  auto b = make_cpu_backend(2);
  std::vector<float> x;
  for (int i = -6000; i <= 6000; ++i) x.push_back(static_cast<float>(i) * 1e-3f);
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    want[i] = 0.5 * x[i] * (1.0 + std::erf(double(x[i]) / std::sqrt(2.0)));
  std::vector<float> out = x;
  b->gelu_erf(out.data(), static_cast<int64_t>(out.size()), out.data());
  expect_close(want, out.data(), 1e-6, "gelu_erf");
  EXPECT_FLOAT_EQ(out[6000], 0.0f);  // gelu(0) = 0
  EXPECT_NEAR(out[0], 0.0f, 1e-7f);  // gelu(-6) ~ -6e-9
}

// Packed sequences of these lengths (one of 1 token, the longest not a power of two).
const std::vector<int32_t> kLengths = {7, 1, 19, 3, 12};

std::vector<int32_t> offsets_of(const std::vector<int32_t>& lengths) {
  std::vector<int32_t> off(1, 0);
  for (int32_t l : lengths) off.push_back(off.back() + l);
  return off;
}

TEST(CpuEncoderOps, EncoderAttentionMatchesDoubleSoftmaxPerSequence) {
  auto b = make_cpu_backend(2);
  const std::vector<int32_t> off = offsets_of(kLengths);
  const int rows = off.back(), H = 3, dh = 20, stride = H * dh;
  const auto q = random_vec(static_cast<size_t>(rows) * stride, 10);
  auto k = random_vec(static_cast<size_t>(rows) * stride, 11);
  const auto v = random_vec(static_cast<size_t>(rows) * stride, 12);
  const float scale = 1.0f / std::sqrt(float(dh));
  Backend::EncoderAttentionParams p;
  p.seq_offsets = off.data();
  p.n_seq = static_cast<int32_t>(kLengths.size());
  p.n_rows = rows;
  p.max_seq_len = *std::max_element(kLengths.begin(), kLengths.end());
  p.n_head = H;
  p.head_dim = dh;
  p.scale = scale;
  std::vector<float> out(q.size(), NAN);
  b->encoder_attention(q.data(), k.data(), v.data(), p, out.data());

  std::vector<double> want(q.size());
  for (size_t s = 0; s < kLengths.size(); ++s) {
    for (int i = off[s]; i < off[s + 1]; ++i) {
      for (int h = 0; h < H; ++h) {
        std::vector<double> w;
        double mx = -INFINITY, sum = 0.0;
        for (int j = off[s]; j < off[s + 1]; ++j) {
          double d = 0.0;
          for (int c = 0; c < dh; ++c)
            d += double(q[i * stride + h * dh + c]) * k[j * stride + h * dh + c];
          w.push_back(d * scale);
          mx = std::max(mx, w.back());
        }
        for (double& e : w) sum += (e = std::exp(e - mx));
        for (int c = 0; c < dh; ++c) {
          double acc = 0.0;
          for (int j = off[s]; j < off[s + 1]; ++j)
            acc += w[j - off[s]] / sum * v[j * stride + h * dh + c];
          want[i * stride + h * dh + c] = acc;
        }
      }
    }
  }
  expect_close(want, out.data(), 2e-6, "encoder_attention");
  // A one-token sequence attends to itself only: its output is its value row.
  for (int c = 0; c < stride; ++c) EXPECT_EQ(out[off[1] * stride + c], v[off[1] * stride + c]);

  // Keys of the first sequence do not reach the others.
  for (int j = 0; j < off[1] * stride; ++j) k[j] += 5.0f;
  std::vector<float> out2(q.size());
  b->encoder_attention(q.data(), k.data(), v.data(), p, out2.data());
  EXPECT_TRUE(std::equal(out.begin() + off[1] * stride, out.end(), out2.begin() + off[1] * stride));
  EXPECT_FALSE(std::equal(out.begin(), out.begin() + off[1] * stride, out2.begin()));
}

TEST(CpuEncoderOps, PoolSequencesMeanAndFirstMatchDouble) {
  auto b = make_cpu_backend(2);
  const std::vector<int32_t> off = offsets_of(kLengths);
  const int dim = 33, n_seq = static_cast<int>(kLengths.size());
  const auto x = random_vec(static_cast<size_t>(off.back()) * dim, 20, 1.0f, 0.3f);
  std::vector<double> want_mean(static_cast<size_t>(n_seq) * dim), want_first(want_mean.size());
  for (int s = 0; s < n_seq; ++s) {
    for (int c = 0; c < dim; ++c) {
      double acc = 0.0;
      for (int t = off[s]; t < off[s + 1]; ++t) acc += x[t * dim + c];
      want_mean[s * dim + c] = acc / kLengths[s];
      want_first[s * dim + c] = x[off[s] * dim + c];
    }
  }
  std::vector<float> out(want_mean.size());
  b->pool_sequences(x.data(), off.data(), n_seq, dim, Backend::SequencePooling::kMean, out.data());
  expect_close(want_mean, out.data(), 1e-6, "mean pooling");
  b->pool_sequences(x.data(), off.data(), n_seq, dim, Backend::SequencePooling::kFirst, out.data());
  expect_close(want_first, out.data(), 0.0, "first-row pooling");
}

TEST(CpuEncoderOps, L2NormalizeMatchesDoubleAndKeepsZeroRows) {
  auto b = make_cpu_backend(2);
  const int n = 6, dim = 384;
  auto x = random_vec(static_cast<size_t>(n) * dim, 30, 4.0f);
  std::fill(x.begin() + 2 * dim, x.begin() + 3 * dim, 0.0f);  // row 2: zero
  std::vector<double> want(x.size());
  for (int i = 0; i < n; ++i) {
    double ss = 0.0;
    for (int c = 0; c < dim; ++c) ss += double(x[i * dim + c]) * x[i * dim + c];
    const double norm = std::max(std::sqrt(ss), 1e-12);
    for (int c = 0; c < dim; ++c) want[i * dim + c] = x[i * dim + c] / norm;
  }
  b->l2_normalize(x.data(), n, dim);
  expect_close(want, x.data(), 1e-6, "l2_normalize");
  for (int c = 0; c < dim; ++c) EXPECT_EQ(x[2 * dim + c], 0.0f);
  double ss = 0.0;
  for (int c = 0; c < dim; ++c) ss += double(x[c]) * x[c];
  EXPECT_NEAR(ss, 1.0, 1e-6);
}

}  // namespace
}  // namespace memlong
