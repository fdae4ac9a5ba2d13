// The module's one export: the factory core/backend/backend_loader.cpp finds with dlsym. Nothing
// may escape it as an exception (the caller is plain C ABI), so it catches everything.
#include <cstdio>
#include <exception>
#include <new>

#include "core/backend/backend_loader.h"
#include "cuda/cuda_backend.h"

namespace {

void set_error(memlong::MemlongCudaError* err, memlong::StatusCode code, const std::string& msg) {
  if (err == nullptr) return;
  err->code = static_cast<int32_t>(code);
  std::snprintf(err->message, sizeof(err->message), "%s", msg.c_str());
}

}  // namespace

extern "C" __attribute__((visibility("default"))) memlong::Backend* memlong_create_cuda_backend(
    const memlong::MemlongCudaOptions* options, memlong::MemlongCudaError* error) {
  using memlong::StatusCode;
  try {
    if (options == nullptr || options->abi_version != memlong::kMemlongCudaAbiVersion ||
        options->struct_size != sizeof(memlong::MemlongCudaOptions)) {
      set_error(error, StatusCode::kUnsupported,
                "the CUDA module was built for a different MemLong version (module ABI " +
                    std::to_string(memlong::kMemlongCudaAbiVersion) +
                    "); rebuild or reinstall it with the application");
      return nullptr;
    }
    auto b = memlong::CudaBackend::create(options->device_index, options->host);
    if (!b.is_ok()) {
      set_error(error, b.status().code(), b.status().message());
      return nullptr;
    }
    return std::move(b).value().release();
  } catch (const std::bad_alloc&) {
    set_error(error, StatusCode::kOutOfMemory, "out of host memory creating the CUDA backend");
  } catch (const std::exception& e) {
    set_error(error, StatusCode::kInternal, std::string("creating the CUDA backend: ") + e.what());
  } catch (...) {
    set_error(error, StatusCode::kInternal, "creating the CUDA backend: unknown exception");
  }
  return nullptr;
}
