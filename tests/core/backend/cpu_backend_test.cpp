// CPU backend ops against naive loops written here (double precision), including GQA attention
// against explicit head replication and both RoPE layouts against the textbook formulas.
#include "core/backend/cpu_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/model/model_file.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

WeightHandle f32_weight(const std::vector<float>& data, int64_t n_in, int64_t n_out) {
  WeightHandle w;
  w.dtype = DType::kF32;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_bytes = static_cast<size_t>(n_in) * 4;
  w.data = data.data();
  return w;
}

TEST(CpuBackend, RmsNormMatchesNaive) {
  CpuBackend b(2);
  const int n = 5, d = 96;
  auto x = random_vec(n * d, 1);
  auto w = random_vec(d, 2);
  std::vector<float> out(n * d);
  b.rms_norm(x.data(), f32_weight(w, d, 1), 1e-5f, n, d, out.data());
  for (int i = 0; i < n; ++i) {
    double ss = 0;
    for (int j = 0; j < d; ++j) ss += double(x[i * d + j]) * x[i * d + j];
    const double inv = 1.0 / std::sqrt(ss / d + 1e-5);
    for (int j = 0; j < d; ++j) EXPECT_NEAR(out[i * d + j], x[i * d + j] * inv * w[j], 1e-5);
  }
}

TEST(CpuBackend, MatmulF32AndQuantizedMatchNaive) {
  CpuBackend b(2);
  const int n = 7, k = 128, n_out = 37;
  auto x = random_vec(n * k, 3);
  auto wf = random_vec(n_out * k, 4, 0.1f);
  auto bias = random_vec(n_out, 5);
  std::vector<float> y(n * n_out);
  WeightHandle bh = f32_weight(bias, n_out, 1);
  b.matmul(f32_weight(wf, k, n_out), x.data(), n, y.data(), &bh);
  for (int i = 0; i < n; ++i) {
    for (int r = 0; r < n_out; ++r) {
      double s = bias[r];
      for (int j = 0; j < k; ++j) s += double(wf[r * k + j]) * x[i * k + j];
      EXPECT_NEAR(y[i * n_out + r], s, 1e-4);
    }
  }
  // Q8_0 weights: compare with the dequantized weights times f32 activations; the difference is
  // the 8-bit rounding of the activations (relative error ~1/127 per block, summed).
  const size_t row_bytes = *dtype_row_bytes(DType::kQ8_0, k);
  std::vector<uint8_t> wq(row_bytes * n_out);
  for (int r = 0; r < n_out; ++r)
    quant::quantize_row(DType::kQ8_0, &wf[r * k], &wq[r * row_bytes], k);
  WeightHandle qh;
  qh.dtype = DType::kQ8_0;
  qh.n_in = k;
  qh.n_out = n_out;
  qh.row_bytes = row_bytes;
  qh.data = wq.data();
  std::vector<float> deq(k);
  for (bool exact : {false, true}) {
    CpuBackend be(2, exact);
    be.matmul(qh, x.data(), n, y.data(), nullptr);
    for (int r = 0; r < n_out; ++r) {
      quant::dequantize_row(DType::kQ8_0, &wq[r * row_bytes], deq.data(), k);
      for (int i = 0; i < n; ++i) {
        double s = 0, mag = 0;
        for (int j = 0; j < k; ++j) {
          s += double(deq[j]) * x[i * k + j];
          mag += std::fabs(double(deq[j]) * x[i * k + j]);
        }
        EXPECT_NEAR(y[i * n_out + r], s, exact ? 1e-4 : 1e-2 * mag + 1e-4) << "exact=" << exact;
      }
    }
  }
}

TEST(CpuBackend, RopeBothLayoutsMatchFormula) {
  CpuBackend b(2);
  const int n = 3, H = 2, dh = 8;
  const float theta = 10000.0f;
  const std::vector<int32_t> pos = {0, 5, 123};
  for (bool interleaved : {true, false}) {
    auto x = random_vec(n * H * dh, 6);
    auto y = x;
    RopeParams p;
    p.head_dim = dh;
    p.n_rot = dh;
    p.theta = theta;
    p.interleaved = interleaved;
    b.rope(y.data(), n, H, pos.data(), p);
    for (int i = 0; i < n; ++i) {
      for (int h = 0; h < H; ++h) {
        const float* v = &x[(i * H + h) * dh];
        for (int j = 0; j < dh / 2; ++j) {
          const double a = pos[i] * std::pow(double(theta), -2.0 * j / dh);
          const int i0 = interleaved ? 2 * j : j, i1 = interleaved ? 2 * j + 1 : j + dh / 2;
          EXPECT_NEAR(y[(i * H + h) * dh + i0], v[i0] * std::cos(a) - v[i1] * std::sin(a), 1e-4);
          EXPECT_NEAR(y[(i * H + h) * dh + i1], v[i0] * std::sin(a) + v[i1] * std::cos(a), 1e-4);
        }
      }
    }
  }
}

// Naive causal attention with K/V heads replicated explicitly to H heads (the GQA mapping
// h -> h / (H / Hkv) must equal replication).
TEST(CpuBackend, GqaAttentionMatchesReplicatedHeads) {
  CpuBackend b(2);
  const int H = 6, Hkv = 2, dh = 16, n_past = 9, n = 4, n_kv = n_past + n;
  auto q = random_vec(n * H * dh, 7);
  auto kc = random_vec(n_kv * Hkv * dh, 8);
  auto vc = random_vec(n_kv * Hkv * dh, 9);
  std::vector<float> out(n * H * dh);
  AttentionParams p;
  p.n_head = H;
  p.n_head_kv = Hkv;
  p.head_dim = dh;
  p.scale = 0.25f;
  p.n_query = n;
  p.q_pos0 = n_past;
  p.n_kv = n_kv;
  b.attention(q.data(), kc.data(), vc.data(), p, out.data());
  // replicate
  std::vector<double> kr(n_kv * H * dh), vr(n_kv * H * dh);
  for (int t = 0; t < n_kv; ++t)
    for (int h = 0; h < H; ++h)
      for (int j = 0; j < dh; ++j) {
        kr[(t * H + h) * dh + j] = kc[(t * Hkv + h / (H / Hkv)) * dh + j];
        vr[(t * H + h) * dh + j] = vc[(t * Hkv + h / (H / Hkv)) * dh + j];
      }
  for (int i = 0; i < n; ++i) {
    for (int h = 0; h < H; ++h) {
      const int vis = n_past + i + 1;
      std::vector<double> s(vis);
      double mx = -1e300;
      for (int t = 0; t < vis; ++t) {
        double d = 0;
        for (int j = 0; j < dh; ++j) d += q[(i * H + h) * dh + j] * kr[(t * H + h) * dh + j];
        s[t] = d * 0.25;
        mx = std::max(mx, s[t]);
      }
      double z = 0;
      for (double& e : s) z += (e = std::exp(e - mx));
      for (int j = 0; j < dh; ++j) {
        double o = 0;
        for (int t = 0; t < vis; ++t) o += s[t] / z * vr[(t * H + h) * dh + j];
        EXPECT_NEAR(out[(i * H + h) * dh + j], o, 1e-5);
      }
    }
  }
}

// MemLong retrieval attention (MEMLONG.md §5.1): ONE softmax over [memory ; local causal],
// memory fully visible, GQA mapping for both, against a double loop with replicated heads.
TEST(CpuBackend, JointMemoryAttentionMatchesNaiveSingleSoftmax) {
  CpuBackend b(2);
  const int H = 6, Hkv = 3, dh = 8, M = 5, n = 4, n_past = 2, n_kv = n_past + n, g = H / Hkv;
  auto q = random_vec(n * H * dh, 21);
  auto kc = random_vec(n_kv * Hkv * dh, 22), vc = random_vec(n_kv * Hkv * dh, 23);
  auto mk = random_vec(M * Hkv * dh, 24), mv = random_vec(M * Hkv * dh, 25);
  std::vector<float> out(n * H * dh), mass(n * H);
  AttentionParams p;
  p.n_head = H;
  p.n_head_kv = Hkv;
  p.head_dim = dh;
  p.scale = 0.3f;
  p.n_query = n;
  p.q_pos0 = n_past;
  p.n_kv = n_kv;
  p.mem_k = mk.data();
  p.mem_v = mv.data();
  p.n_mem = M;
  p.mem_mass = mass.data();
  b.attention(q.data(), kc.data(), vc.data(), p, out.data());
  for (int i = 0; i < n; ++i) {
    for (int h = 0; h < H; ++h) {
      const int hk = h / g, vis = n_past + i + 1;
      std::vector<double> s;
      std::vector<const float*> vals;
      for (int t = 0; t < M; ++t) {
        double d = 0;
        for (int j = 0; j < dh; ++j) d += q[(i * H + h) * dh + j] * mk[(t * Hkv + hk) * dh + j];
        s.push_back(d * 0.3);
        vals.push_back(&mv[(t * Hkv + hk) * dh]);
      }
      for (int t = 0; t < vis; ++t) {
        double d = 0;
        for (int j = 0; j < dh; ++j) d += q[(i * H + h) * dh + j] * kc[(t * Hkv + hk) * dh + j];
        s.push_back(d * 0.3);
        vals.push_back(&vc[(t * Hkv + hk) * dh]);
      }
      double mx = -1e300, z = 0, mem = 0;
      for (double x : s) mx = std::max(mx, x);
      for (double& x : s) z += (x = std::exp(x - mx));
      for (int t = 0; t < M; ++t) mem += s[t] / z;
      EXPECT_NEAR(mass[i * H + h], mem, 1e-5);
      for (int j = 0; j < dh; ++j) {
        double o = 0;
        for (size_t t = 0; t < s.size(); ++t) o += s[t] / z * vals[t][j];
        EXPECT_NEAR(out[(i * H + h) * dh + j], o, 1e-5);
      }
    }
  }
}

// Zero mode (§5.3): local positions 1..n with memory unrotated at 0 is the same attention as
// local positions a..a+n-1 with memory keys rotated to a-1 (RoPE scores depend on offsets only).
TEST(CpuBackend, ZeroModeEqualsShiftedWindowWithMemoryJustBefore) {
  CpuBackend b(2);
  const int H = 4, Hkv = 2, dh = 16, M = 3, n = 5, a = 37;
  RopeParams rp;
  rp.head_dim = dh;
  rp.n_rot = dh;
  rp.theta = 10000.0f;
  rp.interleaved = true;
  auto q0 = random_vec(n * H * dh, 31), k0 = random_vec(n * Hkv * dh, 32);
  auto v = random_vec(n * Hkv * dh, 33), mk0 = random_vec(M * Hkv * dh, 34);
  auto mv = random_vec(M * Hkv * dh, 35);
  auto run = [&](int first_pos, int mem_pos) {
    auto q = q0, k = k0, mk = mk0;
    std::vector<int32_t> pos(n), mpos(M, mem_pos);
    for (int i = 0; i < n; ++i) pos[i] = first_pos + i;
    b.rope(q.data(), n, H, pos.data(), rp);
    b.rope(k.data(), n, Hkv, pos.data(), rp);
    b.rope(mk.data(), M, Hkv, mpos.data(), rp);
    AttentionParams p;
    p.n_head = H;
    p.n_head_kv = Hkv;
    p.head_dim = dh;
    p.scale = 0.25f;
    p.n_query = n;
    p.n_kv = n;
    p.mem_k = mk.data();
    p.mem_v = mv.data();
    p.n_mem = M;
    std::vector<float> out(n * H * dh);
    b.attention(q.data(), k.data(), v.data(), p, out.data());
    return out;
  };
  const auto zero_mode = run(1, 0), shifted = run(a, a - 1);
  for (size_t i = 0; i < zero_mode.size(); ++i) EXPECT_NEAR(zero_mode[i], shifted[i], 2e-5);
  // And the test can tell positions apart: memory at a-5 instead of a-1 changes the output.
  const auto other = run(a, a - 5);
  double diff = 0;
  for (size_t i = 0; i < other.size(); ++i)
    diff = std::max(diff, double(std::fabs(other[i] - shifted[i])));
  EXPECT_GT(diff, 1e-3);
}

TEST(CpuBackend, SwigluAndAdd) {
  CpuBackend b(2);
  auto g = random_vec(100, 10), u = random_vec(100, 11);
  std::vector<float> out(100);
  b.swiglu(g.data(), u.data(), 100, out.data());
  for (int i = 0; i < 100; ++i)
    EXPECT_NEAR(out[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i], 1e-6);
  auto y = g;
  b.add(y.data(), u.data(), 100);
  for (int i = 0; i < 100; ++i) EXPECT_FLOAT_EQ(y[i], g[i] + u[i]);
}

TEST(CpuBackend, UploadRejectsUnsupportedTypes) {
  CpuBackend b(1);
  std::vector<uint8_t> bytes(256 * 84);
  TensorView t;
  t.name = "blk.0.attn_q.weight";
  t.dtype = DType::kQ2_K;
  t.n_dims = 2;
  t.ne = {256, 1, 1, 1};
  t.data = bytes.data();
  auto w = b.upload_weight(t);
  ASSERT_FALSE(w.is_ok());
  EXPECT_EQ(w.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(w.status().message().find("blk.0.attn_q.weight"), std::string::npos);
}

TEST(CpuBackend, AllocIsZeroedAndAligned) {
  CpuBackend b(1);
  auto buf = b.alloc(1000);
  ASSERT_TRUE(buf.is_ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buf->data()) % 64, 0u);
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(static_cast<uint8_t*>(buf->data())[i], 0);
}

}  // namespace
}  // namespace memlong
