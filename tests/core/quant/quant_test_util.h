// Shared helpers for the quant tests: fixture loading (format in scripts/gen_quant_fixtures.py)
// and the naive double-precision reference dot product.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/common/dtype.h"
#include "core/quant/quant.h"

namespace memlong::quant::testing {

struct Fixture {
  uint32_t type_id = 0;
  std::vector<uint8_t> raw;   // quantized bytes
  std::vector<float> floats;  // dequantized values (dequant_*) or the input (quantize_*)
};

inline Fixture load_fixture(const std::string& name) {
  const std::string path = std::string(MEMLONG_TEST_DATA_DIR) + "/quant/" + name;
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << "missing fixture " << path << " (run scripts/gen_quant_fixtures.py)";
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Fixture fx;
  if (bytes.size() < 20 || std::memcmp(bytes.data(), "MLQF", 4) != 0) {
    ADD_FAILURE() << "bad fixture header in " << path;
    return fx;
  }
  uint32_t hdr[4];
  std::memcpy(hdr, bytes.data() + 4, 16);
  const uint32_t n_elems = hdr[2], n_bytes = hdr[3];
  if (hdr[0] != 1 || bytes.size() != 20 + n_bytes + 4ull * n_elems) {
    ADD_FAILURE() << "bad fixture size in " << path;
    return fx;
  }
  fx.type_id = hdr[1];
  fx.raw.assign(bytes.begin() + 20, bytes.begin() + 20 + n_bytes);
  fx.floats.resize(n_elems);
  std::memcpy(fx.floats.data(), bytes.data() + 20 + n_bytes, 4ull * n_elems);
  return fx;
}

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

inline size_t row_bytes(DType t, int64_t n) {
  return static_cast<size_t>(*dtype_row_bytes(t, n));
}

// An activation row in vec_dot_type(t), plus its dequantized values (what the kernel really sees).
struct Activation {
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};

inline Activation make_activation(DType weight_type, const std::vector<float>& x) {
  const DType xt = vec_dot_type(weight_type);
  const auto n = static_cast<int64_t>(x.size());
  Activation a;
  a.bytes.resize(row_bytes(xt, n));
  quantize_row(xt, x.data(), a.bytes.data(), n);
  a.values.resize(x.size());
  dequantize_row(xt, a.bytes.data(), a.values.data(), n);
  return a;
}

// Naive reference: sum of dequantized weight times dequantized activation, in double. *abs_sum
// gets sum |w x|, the scale that float rounding errors are measured against.
inline double naive_dot(const float* w, const float* x, int64_t n, double* abs_sum) {
  double s = 0.0, a = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    s += static_cast<double>(w[i]) * x[i];
    a += std::fabs(static_cast<double>(w[i]) * x[i]);
  }
  *abs_sum = a;
  return s;
}

}  // namespace memlong::quant::testing
