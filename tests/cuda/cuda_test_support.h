// Shared by the GPU parity tests (tests/cuda/*_parity_test.cpp): one CUDA backend for the whole
// test binary (or the reason there is none), the skip macro, and host <-> device helpers.
// Every GPU test starts with MEMLONG_REQUIRE_GPU(b), which skips with "skipped: no GPU (...)"
// where no usable device exists (scripts/gpu-check runs them where one does).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/backend/backend_loader.h"

namespace memlong::cuda_test {

struct CudaEnv {
  std::unique_ptr<Backend> backend;
  std::string reason;  // why backend is null
};

inline Result<std::unique_ptr<Backend>> open_cuda() {
#ifdef MEMLONG_CUDA_MODULE_PATH
  return make_backend(BackendOptions{"cuda", 1, MEMLONG_CUDA_MODULE_PATH});
#else
  return not_found("the CUDA module was not built (nvcc not found at configure time)");
#endif
}

inline CudaEnv& cuda_env() {
  static CudaEnv env = [] {
    CudaEnv e;
    auto b = open_cuda();
    if (b.is_ok()) {
      e.backend = std::move(b).value();
    } else {
      e.reason = b.status().message();
    }
    return e;
  }();
  return env;
}

#define MEMLONG_REQUIRE_GPU(var)                                                           \
  if (::memlong::cuda_test::cuda_env().backend == nullptr) {                               \
    GTEST_SKIP() << "skipped: no GPU (" << ::memlong::cuda_test::cuda_env().reason << ")"; \
  }                                                                                        \
  Backend& var = *::memlong::cuda_test::cuda_env().backend

// n values from normal(shift, scale), deterministic in seed.
inline std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f,
                                     float shift = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(shift, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

template <typename T>
DeviceBuffer upload(Backend& b, const std::vector<T>& host) {
  auto buf = b.alloc(std::max<size_t>(host.size() * sizeof(T), 1));
  MEMLONG_ASSERT(buf.is_ok());
  if (!host.empty()) b.copy_to_device(buf->data(), host.data(), host.size() * sizeof(T));
  return std::move(buf).value();
}

inline std::vector<float> download(Backend& b, const void* src, size_t n) {
  std::vector<float> out(n);
  const Status s = b.copy_to_host(out.data(), src, n * sizeof(float));
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return out;
}

inline std::vector<float> download(Backend& b, const DeviceBuffer& buf, size_t n) {
  return download(b, buf.data(), n);
}

// Max |got - ref| must stay within rel * max(1, max |ref|). Prints the measured error.
inline void expect_close(const std::vector<float>& ref, const std::vector<float>& got, float rel,
                         const std::string& what) {
  ASSERT_EQ(ref.size(), got.size()) << what;
  float scale = 1.0f, max_err = 0.0f;
  size_t worst = 0;
  for (float r : ref) scale = std::max(scale, std::fabs(r));
  for (size_t i = 0; i < ref.size(); ++i) {
    const float e = std::fabs(ref[i] - got[i]);
    if (!(e <= max_err)) {  // NaN counts as the worst
      max_err = std::isnan(e) ? INFINITY : e;
      worst = i;
    }
  }
  std::printf("[ parity   ] %-48s max err %.3g of scale %.3g (allowed %.3g)\n", what.c_str(),
              static_cast<double>(max_err), static_cast<double>(scale),
              static_cast<double>(rel * scale));
  EXPECT_LE(max_err, rel * scale) << what << ": worst at " << worst << " ref " << ref[worst]
                                  << " got " << got[worst];
}

}  // namespace memlong::cuda_test
