#include "core/backend/backend_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "core/common/paths.h"
#include "core/quant/quant.h"

namespace memlong {
namespace {

void dequantize_row_by_id(uint32_t dtype, const void* src, float* dst, int64_t n) {
  quant::dequantize_row(static_cast<DType>(dtype), src, dst, n);
}

// Opens the module once per path and keeps it open (see the header). Returns the factory.
Result<MemlongCreateCudaBackendFn> open_module(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, MemlongCreateCudaBackendFn> opened;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = opened.find(path); it != opened.end()) return it->second;
  // RTLD_LOCAL: the module's copies of core helpers and CUDA symbols stay private to it.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return unsupported("cannot load the CUDA module " + path + ": " +
                       (why != nullptr ? why : "unknown dlopen error") +
                       " (is the CUDA runtime / cuBLAS installed and on the library path?)");
  }
  void* sym = dlsym(handle, kMemlongCudaFactorySymbol);
  if (sym == nullptr) {
    dlclose(handle);
    return unsupported(path + " does not export " + kMemlongCudaFactorySymbol +
                       "; it is not a MemLong CUDA module");
  }
  auto fn = reinterpret_cast<MemlongCreateCudaBackendFn>(sym);
  opened.emplace(path, fn);
  return fn;
}

Result<std::string> find_module(const BackendOptions& o) {
  if (!o.cuda_module_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.cuda_module_path, ec)) {
      return not_found("no CUDA module at " + o.cuda_module_path);
    }
    return o.cuda_module_path;
  }
  const std::vector<std::string> candidates = cuda_module_candidates();
  std::string searched;
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(c, ec)) return c;
    searched += (searched.empty() ? "" : ", ") + c;
  }
  return not_found(std::string(kMemlongCudaModuleFile) +
                   " not found (this build has no CUDA backend: nvcc was not found at configure "
                   "time, or the module is not installed); searched " +
                   searched + ", and $MEMLONG_CUDA_BACKEND");
}

// "cuda" -> 0, "cuda:3" -> 3; nullopt for anything else.
std::optional<int> parse_cuda_index(const std::string& device) {
  if (device == "cuda") return 0;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5 || device.size() > 8) return std::nullopt;
  int v = 0;
  for (size_t i = 5; i < device.size(); ++i) {
    if (device[i] < '0' || device[i] > '9') return std::nullopt;
    v = v * 10 + (device[i] - '0');
  }
  return v;
}

Result<std::unique_ptr<Backend>> make_cuda_backend(const BackendOptions& o, int device_index) {
  MEMLONG_ASSIGN_OR_RETURN(std::string path, find_module(o));
  MEMLONG_ASSIGN_OR_RETURN(MemlongCreateCudaBackendFn create, open_module(path));
  MemlongCudaOptions mo{};
  mo.abi_version = kMemlongCudaAbiVersion;
  mo.struct_size = sizeof(MemlongCudaOptions);
  mo.device_index = device_index;
  mo.host.dequantize_row = &dequantize_row_by_id;
  MemlongCudaError err{};
  Backend* b = create(&mo, &err);
  if (b == nullptr) {
    err.message[sizeof(err.message) - 1] = '\0';
    const auto code = err.code > 0 && err.code <= static_cast<int32_t>(StatusCode::kInternal)
                          ? static_cast<StatusCode>(err.code)
                          : StatusCode::kInternal;
    return Status(code, err.message);
  }
  return std::unique_ptr<Backend>(b);
}

}  // namespace

std::vector<std::string> cuda_module_candidates() {
  std::vector<std::string> out = beside_executable_candidates(kMemlongCudaModuleFile);
  if (const char* env = std::getenv("MEMLONG_CUDA_BACKEND"); env != nullptr && *env != '\0') {
    out.emplace_back(env);
  }
  return out;
}

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& options, std::string* note) {
  if (note != nullptr) note->clear();
  if (options.device == "cpu") return make_cpu_backend(options.n_threads);
  if (options.device == "auto") {
    auto cuda = make_cuda_backend(options, 0);
    if (cuda.is_ok()) return cuda;
    if (note != nullptr) *note = "CUDA unavailable: " + cuda.status().message() + "; using the CPU";
    return make_cpu_backend(options.n_threads);
  }
  if (std::optional<int> index = parse_cuda_index(options.device)) {
    auto cuda = make_cuda_backend(options, *index);
    if (!cuda.is_ok()) return cuda.status().with_context("device " + options.device);
    return cuda;
  }
  return invalid_argument("unknown device '" + options.device +
                          "': expected cpu, cuda, cuda:N or auto");
}

}  // namespace memlong
