// matmul_rows throughput on the default model's hot shapes: SmolLM2-135M's Q4_1 projections
// (k = 576 or 1536) and the Q8_0 tied LM head (49152 x 576). Single thread; n_cols = 1 is decode,
// n_cols = 64 is a prefill batch. Counters: GOPS = 2 * rows * k * n_cols per second.
//   ./quant_bench --benchmark_filter='Q4_1|Q8_0'   (MEMLONG_QUANT_SCALAR=1: scalar path;
//   MEMLONG_QUANT_NO_VNNI=1: AVX2 without the AVX512-VNNI kernels)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "core/common/dtype.h"
#include "core/quant/quant.h"
#include "core/quant/quant_kernels.h"

namespace memlong::quant {
namespace {

void bm_matmul(benchmark::State& state, DType t) {
  const int64_t k = state.range(0), n_rows = state.range(1), n_cols = state.range(2);
  if (std::getenv("MEMLONG_QUANT_SCALAR") != nullptr) force_scalar_for_testing(true);
  if (std::getenv("MEMLONG_QUANT_NO_VNNI") != nullptr) detail::disable_vnni_for_testing(true);
  const DType xt = vec_dot_type(t);
  const size_t wb = *dtype_row_bytes(t, k), xb = *dtype_row_bytes(xt, k);
  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> row(k);
  std::vector<uint8_t> w(wb * n_rows), x(xb * n_cols);
  // Quantize a few distinct rows and repeat them: realistic bytes without a slow setup.
  for (int64_t r = 0; r < n_rows; ++r) {
    if (r < 64) {
      for (float& v : row) v = dist(rng);
      quantize_row(t, row.data(), w.data() + r * wb, k);
    } else {
      std::copy_n(w.data() + (r % 64) * wb, wb, w.data() + r * wb);
    }
  }
  for (int64_t c = 0; c < n_cols; ++c) {
    for (float& v : row) v = dist(rng);
    quantize_row(xt, row.data(), x.data() + c * xb, k);
  }
  std::vector<float> y(n_rows * n_cols);
  for (auto _ : state) {
    matmul_rows(t, k, w.data(), wb, 0, n_rows, x.data(), xb, n_cols, y.data(), n_rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * k * n_rows * n_cols, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.SetLabel(simd_path_name());
  force_scalar_for_testing(false);
  detail::disable_vnni_for_testing(false);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"k", "rows", "cols"});
  for (const int64_t cols : {1, 64}) {
    b->Args({576, 576, cols})->Args({576, 1536, cols})->Args({1536, 576, cols});
  }
  b->Args({576, 49152, 1});
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(bm_matmul, Q4_1, DType::kQ4_1)->Apply(shapes);
BENCHMARK_CAPTURE(bm_matmul, Q8_0, DType::kQ8_0)->Apply(shapes)->Args({576, 49152, 64});
BENCHMARK_CAPTURE(bm_matmul, Q4_0, DType::kQ4_0)
    ->Args({576, 1536, 1})
    ->Args({576, 1536, 64})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_matmul, Q4_K, DType::kQ4_K)
    ->Args({1536, 576, 1})
    ->Args({1536, 576, 64})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(bm_matmul, Q6_K, DType::kQ6_K)
    ->Args({1536, 576, 1})
    ->Args({1536, 576, 64})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace memlong::quant

BENCHMARK_MAIN();
