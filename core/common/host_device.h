// MEMLONG_HD marks a function that both the host and the CUDA kernels compile: __host__
// __device__ under nvcc, plain `inline` for the host compiler. Headers shared with cuda/kernels/
// (core/common/half.h, cuda/kernels/*_math.h, block_dequant.h, ...) use it, so that one
// definition serves the CPU code, the kernels and the host-side tests of the kernels' arithmetic.
#pragma once

#ifdef __CUDACC__
#define MEMLONG_HD __host__ __device__ __forceinline__
#else
#define MEMLONG_HD inline
#endif
