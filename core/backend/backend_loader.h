// Backend selection: "cpu", "cuda", "cuda:N" or "auto", and the dlopen() boundary to the optional
// CUDA module (libmemlong_cuda.so, built from cuda/ where nvcc exists).
//
// core links no CUDA: the CUDA backend lives in a shared module that is loaded at run time and
// hands back a plain Backend through one extern "C" factory (the ABI below). The module is looked
// up, in order, beside the running executable (/proc/self/exe's folder), in ../lib/memlong/ from
// there (the installed layout), then at $MEMLONG_CUDA_BACKEND (a file path); an explicit
// BackendOptions::cuda_module_path replaces the search.
// Once loaded the module stays loaded for the life of the process (buffers it returns carry
// deleters that live in its code), so a module is opened at most once per path.
// Thread-safety: make_backend may be called from any thread; the returned backend is driven by
// one thread at a time (backend.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/common/status.h"

namespace memlong {

struct BackendOptions {
  // "cpu": the CPU backend. "cuda" / "cuda:N": the CUDA module on device N (0), an error when it
  // cannot be used. "auto": CUDA device 0 when usable, else the CPU with a note saying why.
  std::string device = "cpu";
  int n_threads = 0;             // CPU backend threads (<= 0: one per core)
  std::string cuda_module_path;  // empty: the search described above
};

// Creates the backend `options.device` names. When "auto" falls back to the CPU, *note (if given)
// receives the reason ("CUDA unavailable: no CUDA device: cudaGetDeviceCount returned ...; using
// the CPU"); otherwise it is cleared.
// Errors: InvalidArgument (unknown device string); for "cuda": NotFound (module not built or not
// found, naming the places searched), Unsupported (no driver / no GPU / ABI mismatch, with the
// CUDA error), OutOfMemory.
Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& options,
                                              std::string* note = nullptr);

// The places searched for the module, in order (tests and `memlong --device` diagnostics).
std::vector<std::string> cuda_module_candidates();

// ---- module ABI (shared with cuda/cuda_module.cpp; bump kMemlongCudaAbiVersion on any change to
// these structs or to the Backend class layout) ----
inline constexpr uint32_t kMemlongCudaAbiVersion =
    4;  // 2: device K/V pool ops; 3: retriever encoder ops; 4: decode steps, sampling

extern "C" {
// Host helpers the module borrows from core, so it needs no copy of core/quant.
struct MemlongCudaHostFns {
  // quant::dequantize_row with the DType as its GGUF id.
  void (*dequantize_row)(uint32_t dtype, const void* src, float* dst, int64_t n);
};
struct MemlongCudaOptions {
  uint32_t abi_version;  // kMemlongCudaAbiVersion
  uint32_t struct_size;  // sizeof(MemlongCudaOptions)
  int32_t device_index;
  MemlongCudaHostFns host;
};
struct MemlongCudaError {
  int32_t code;  // a StatusCode value
  char message[1024];
};
// Returns a new backend (owned by the caller; delete through Backend's virtual destructor), or
// null with *error filled in.
using MemlongCreateCudaBackendFn = memlong::Backend* (*)(const MemlongCudaOptions* options,
                                                         MemlongCudaError* error);
}
inline constexpr const char* kMemlongCudaFactorySymbol = "memlong_create_cuda_backend";
inline constexpr const char* kMemlongCudaModuleFile = "libmemlong_cuda.so";

}  // namespace memlong
