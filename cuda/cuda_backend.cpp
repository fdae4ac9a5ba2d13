// CUDA backend: op dispatch, memory and weight upload. Legend as in backend.h: n = rows (tokens),
// k = n_in, H / Hkv = heads, dh = head dim.
#include "cuda/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/common/half.h"
#include "core/model/model_file.h"
#include "cuda/cuda_check.h"
#include "cuda/kernels/kernels.h"
#include "cuda/launch_shape.h"

namespace memlong {
namespace {

bool is_host_dequantizable(DType t) {
  return t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K || t == DType::kBF16;
}

// Rows converted per host staging round in upload_weight (bounds the host scratch to a few MiB).
constexpr int64_t kUploadRowsPerRound = 256;

}  // namespace

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(int device_index,
                                                         MemlongCudaHostFns host) {
  int count = 0;
  const cudaError_t ce = cudaGetDeviceCount(&count);
  if (ce != cudaSuccess) {
    (void)cudaGetLastError();
    return unsupported(std::string("no CUDA device: cudaGetDeviceCount returned ") +
                       cudaGetErrorName(ce) + " (" + cudaGetErrorString(ce) + ")");
  }
  if (count == 0) return unsupported("no CUDA device: cudaGetDeviceCount found 0 devices");
  if (device_index < 0 || device_index >= count) {
    return invalid_argument("CUDA device " + std::to_string(device_index) + " does not exist (" +
                            std::to_string(count) + " present)");
  }
  if (host.dequantize_row == nullptr) return invalid_argument("host dequantize_row missing");
  cudaDeviceProp prop{};
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, device_index));
  if (prop.major < 8) {
    return unsupported(std::string("CUDA device ") + std::to_string(device_index) + " (" +
                       prop.name + ") has compute capability " + std::to_string(prop.major) + "." +
                       std::to_string(prop.minor) + "; this build needs 8.0 or newer");
  }
  auto b = std::unique_ptr<CudaBackend>(new CudaBackend());
  b->device_ = device_index;
  b->host_ = host;
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaSetDevice(device_index));
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaStreamCreateWithFlags(&b->stream_, cudaStreamNonBlocking));
  MEMLONG_ASSIGN_OR_RETURN(b->gemm_, CublasGemm::create(b->stream_));
  b->allocator_ = std::make_shared<DeviceAllocator>(device_index);
  int runtime = 0, driver = 0;
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaRuntimeGetVersion(&runtime));
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaDriverGetVersion(&driver));
  b->name_ = "cuda:" + std::to_string(device_index) + " (" + prop.name + ")";
  char text[1024];
  std::snprintf(text, sizeof(text),
                "%s, compute %d.%d, %d SMs, %.1f GiB, runtime %d.%d, driver %d.%d, cuBLAS %d",
                prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0),
                runtime / 1000, (runtime % 1000) / 10, driver / 1000, (driver % 1000) / 10,
                b->gemm_->version());
  b->props_text_ = text;
  // Decode graphs: the pinned staging buffer of the step inputs and the step-done event.
  void* staging = nullptr;
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaHostAlloc(&staging, kMaxStepInputBytes, cudaHostAllocDefault));
  b->staging_ = static_cast<uint8_t*>(staging);
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaEventCreateWithFlags(&b->step_done_, cudaEventDisableTiming));
  return b;
}

CudaBackend::~CudaBackend() {
  if (stream_ == nullptr) return;
  (void)cudaSetDevice(device_);
  (void)cudaStreamSynchronize(stream_);  // teardown: nothing to report to
  x_f16_ = DeviceBuffer();
  w_f16_ = DeviceBuffer();
  for (StepGraph& g : graphs_) (void)cudaGraphExecDestroy(g.exec);
  if (step_done_ != nullptr) (void)cudaEventDestroy(step_done_);
  if (staging_ != nullptr) (void)cudaFreeHost(staging_);
  gemm_.reset();
  (void)cudaStreamDestroy(stream_);
}

std::string CudaBackend::description() const {
  return props_text_ + "; " + std::to_string(allocator_->bytes_in_use() >> 20) + " MiB in use, " +
         std::to_string(allocator_->bytes_cached() >> 20) + " MiB cached";
}

bool CudaBackend::record(const Status& s) {
  if (capturing()) {  // a failure while recording a step: the step is retried as plain launches
    if (!s.is_ok() && capture_error_.is_ok()) capture_error_ = s;
    return capture_error_.is_ok() && error_.is_ok();
  }
  if (!s.is_ok() && error_.is_ok()) error_ = s.with_context(name_);
  return error_.is_ok();
}

bool CudaBackend::bind_device() {
  if (!healthy()) return false;
  if (device_ == 0) return true;  // the runtime's default device on every thread
  return record(cuda_check::from_cuda(cudaSetDevice(device_), "cudaSetDevice"));
}

Result<DeviceBuffer> CudaBackend::alloc(size_t size_bytes) {
  if (!healthy()) return error_;
  if (capturing()) {
    const Status s = internal_error("alloc inside a decode step");
    record(s);
    return s;
  }
  if (!bind_device()) return error_;
  size_t capacity = 0;
  MEMLONG_ASSIGN_OR_RETURN(void* p, allocator_->allocate(size_bytes, &capacity));
  std::shared_ptr<DeviceAllocator> a = allocator_;
  DeviceBuffer buf(p, size_bytes, [a, capacity](void* q) { a->release(q, capacity); });
  // Zeroed like the CPU backend's buffers (a fresh KV cache holds no garbage).
  MEMLONG_RETURN_IF_ERROR(
      cuda_check::from_cuda(cudaMemsetAsync(p, 0, capacity, stream_), "cudaMemsetAsync"));
  return buf;
}

void CudaBackend::copy_to_device(void* dst, const void* host_src, size_t n_bytes) {
  if (n_bytes == 0 || !bind_device()) return;
  if (capturing()) {
    record(internal_error("copy_to_device (pageable) inside a decode step"));
    return;
  }
  record(upload_bytes(dst, host_src, n_bytes));
}

Status CudaBackend::upload_bytes(void* dst, const void* src, size_t n_bytes) {
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(dst, src, n_bytes, cudaMemcpyHostToDevice, stream_));
  // Pageable source: wait until it is consumed, so the caller may reuse it at once.
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaStreamSynchronize(stream_));
  return Status::ok();
}

Status CudaBackend::copy_to_host(void* host_dst, const void* src, size_t n_bytes) {
  if (!bind_device()) return error_;
  if (capturing()) {
    record(internal_error("copy_to_host inside a decode step"));
    return internal_error("copy_to_host inside a decode step");
  }
  if (n_bytes > 0) {
    record(cuda_check::from_cuda(
        cudaMemcpyAsync(host_dst, src, n_bytes, cudaMemcpyDeviceToHost, stream_),
        "cudaMemcpyAsync(device to host)"));
  }
  return synchronize();
}

void CudaBackend::copy(void* dst, const void* src, size_t n_bytes) {
  if (n_bytes == 0 || !bind_device()) return;
  record(
      cuda_check::from_cuda(cudaMemcpyAsync(dst, src, n_bytes, cudaMemcpyDeviceToDevice, stream_),
                            "cudaMemcpyAsync(device to device)"));
}

Status CudaBackend::synchronize() {
  if (capturing()) {
    record(internal_error("synchronize inside a decode step"));
    return error_;
  }
  if (healthy() && bind_device()) {
    record(cuda_check::from_cuda(cudaStreamSynchronize(stream_), "executing queued kernels"));
  }
  return error_;
}

Status CudaBackend::ensure_scratch(DeviceBuffer* buf, size_t n_bytes) {
  if (buf->size_bytes() >= n_bytes) return Status::ok();
  MEMLONG_ASSIGN_OR_RETURN(*buf, alloc(n_bytes));
  return Status::ok();
}

Result<WeightHandle> CudaBackend::upload_weight(const TensorView& t) {
  if (!healthy()) return error_;
  if (t.n_dims > 2) {
    return unsupported("tensor '" + t.name + "' has " + std::to_string(t.n_dims) +
                       " dimensions; weights are 1-D or 2-D");
  }
  const bool is_1d = t.n_dims <= 1;
  const auto type_id = static_cast<uint32_t>(t.dtype);
  if (is_1d && t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16) {
    return unsupported("1-D tensor '" + t.name + "' has type " + std::string(dtype_name(t.dtype)));
  }
  if (!is_1d && !cuda_blocks::is_kept_type(type_id) && !is_host_dequantizable(t.dtype)) {
    return unsupported("tensor '" + t.name + "' has type " + std::string(dtype_name(t.dtype)) +
                       ", which the CUDA backend cannot compute with");
  }
  WeightHandle w;
  w.n_in = t.ne[0];
  w.n_out = is_1d ? 1 : t.ne[1];
  const auto src_rb = dtype_row_bytes(t.dtype, static_cast<uint64_t>(w.n_in));
  if (!src_rb) return corrupt("tensor '" + t.name + "' row is not a whole number of blocks");
  if (t.n_bytes < *src_rb * static_cast<uint64_t>(w.n_out)) {
    return corrupt("tensor '" + t.name + "' holds " + std::to_string(t.n_bytes) +
                   " bytes, fewer than its shape needs");
  }
  const cuda_shape::WeightPlan plan = cuda_shape::plan_weight(type_id, w.n_in, is_1d);
  w.dtype = static_cast<DType>(plan.dtype);
  w.row_bytes = plan.row_bytes;
  MEMLONG_ASSIGN_OR_RETURN(w.storage, alloc(plan.row_bytes * static_cast<size_t>(w.n_out)));
  w.data = w.storage.data();
  auto* dst = static_cast<uint8_t*>(w.storage.data());
  const auto* src = static_cast<const uint8_t*>(t.data);
  if (!plan.is_converted) {
    MEMLONG_RETURN_IF_ERROR(upload_bytes(dst, src, plan.row_bytes * static_cast<size_t>(w.n_out))
                                .with_context("uploading '" + t.name + "'"));
    return w;
  }
  // Converted on the host in rounds of rows: dequantize to f32 (core's reference code), then to
  // the stored type (F32 for 1-D, F16 for matrices).
  const int64_t k = w.n_in;
  std::vector<float> f32(static_cast<size_t>(k * std::min<int64_t>(w.n_out, kUploadRowsPerRound)));
  std::vector<uint8_t> staged(f32.size() * (is_1d ? 4 : 2));
  for (int64_t r0 = 0; r0 < w.n_out; r0 += kUploadRowsPerRound) {
    const int64_t rows = std::min<int64_t>(kUploadRowsPerRound, w.n_out - r0);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = src + static_cast<size_t>(r0 + r) * *src_rb;
      float* out = f32.data() + r * k;
      if (t.dtype == DType::kF32) {
        std::memcpy(out, row, static_cast<size_t>(k) * 4);
      } else if (t.dtype == DType::kF16) {
        for (int64_t c = 0; c < k; ++c)
          out[c] = f16_to_f32(reinterpret_cast<const uint16_t*>(row)[c]);
      } else {
        host_.dequantize_row(type_id, row, out, k);
      }
    }
    const size_t n_vals = static_cast<size_t>(rows * k);
    if (is_1d) {
      std::memcpy(staged.data(), f32.data(), n_vals * 4);
    } else {
      auto* h = reinterpret_cast<uint16_t*>(staged.data());
      for (size_t i = 0; i < n_vals; ++i) {
        if (!(std::fabs(f32[i]) <= 65504.0f)) {  // also catches NaN
          return unsupported("tensor '" + t.name + "' has a value (" + std::to_string(f32[i]) +
                             ") outside the f16 range its CUDA copy uses");
        }
        h[i] = f32_to_f16(f32[i]);
      }
    }
    MEMLONG_RETURN_IF_ERROR(upload_bytes(dst + static_cast<size_t>(r0) * plan.row_bytes,
                                         staged.data(), n_vals * (is_1d ? 4 : 2))
                                .with_context("uploading '" + t.name + "'"));
  }
  return w;
}

void CudaBackend::get_rows(const WeightHandle& table, const int32_t* ids, int32_t n, float* out) {
  if (!bind_device()) return;
  record(cuda_ops::get_rows(static_cast<uint32_t>(table.dtype), table.data, table.row_bytes,
                            table.n_in, ids, n, out, stream_));
}

void CudaBackend::rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                           float* out) {
  if (!bind_device()) return;
  if (w.dtype != DType::kF32 || w.n_in != dim) {
    record(invalid_argument("rms_norm: weight must be F32 of length " + std::to_string(dim)));
    return;
  }
  record(cuda_ops::rms_norm(x, static_cast<const float*>(w.data), eps, n, dim, out, stream_));
}

void CudaBackend::matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
                         const WeightHandle* bias) {
  if (!bind_device()) return;
  record(matmul_impl(w, x, n, y, bias));
}

Result<const float*> CudaBackend::bias_data(const WeightHandle& w, const WeightHandle* bias) {
  if (bias == nullptr || !bias->is_valid()) return static_cast<const float*>(nullptr);
  if (bias->dtype != DType::kF32 || bias->n_in != w.n_out) {
    return invalid_argument("matmul: bias must be F32 of length " + std::to_string(w.n_out));
  }
  return static_cast<const float*>(bias->data);
}

Status CudaBackend::matmul_impl(const WeightHandle& w, const float* x, int32_t n, float* y,
                                const WeightHandle* bias) {
  const auto type_id = static_cast<uint32_t>(w.dtype);
  MEMLONG_ASSIGN_OR_RETURN(const float* bias_ptr, bias_data(w, bias));
  if (n <= 0) return Status::ok();
  const int64_t k = w.n_in;
  if (cuda_shape::use_matvec(type_id, n, k, reinterpret_cast<uintptr_t>(x))) {
    const cuda_ops::MatvecTarget t{w.data, w.row_bytes, w.n_out, y, bias_ptr};
    return cuda_ops::matvec(type_id, &t, 1, k, x, n, stream_);
  }
  if (w.dtype == DType::kF32) {
    MEMLONG_RETURN_IF_ERROR(
        gemm_->gemm_f32(static_cast<const float*>(w.data), w.n_out, k, x, n, y, w.n_out));
  } else {
    if (!cuda_blocks::is_kept_type(type_id)) {
      return unsupported("matmul: weight type " + std::string(dtype_name(w.dtype)));
    }
    MEMLONG_RETURN_IF_ERROR(ensure_scratch(&x_f16_, static_cast<size_t>(n) * k * 2));
    MEMLONG_RETURN_IF_ERROR(
        cuda_ops::f32_to_f16(x, static_cast<int64_t>(n) * k, x_f16_.data(), stream_));
    if (w.dtype == DType::kF16) {
      MEMLONG_RETURN_IF_ERROR(gemm_->gemm_f16(w.data, w.n_out, k, x_f16_.data(), n, y, w.n_out));
    } else {
      const int64_t chunk = cuda_shape::gemm_chunk_rows(w.n_out, k, kGemmScratchBytes);
      MEMLONG_RETURN_IF_ERROR(ensure_scratch(&w_f16_, static_cast<size_t>(chunk) * k * 2));
      for (int64_t r0 = 0; r0 < w.n_out; r0 += chunk) {
        const int64_t r1 = std::min(w.n_out, r0 + chunk);
        MEMLONG_RETURN_IF_ERROR(cuda_ops::dequantize_rows_f16(type_id, w.data, w.row_bytes, k, r0,
                                                              r1, w_f16_.data(), stream_));
        MEMLONG_RETURN_IF_ERROR(
            gemm_->gemm_f16(w_f16_.data(), r1 - r0, k, x_f16_.data(), n, y + r0, w.n_out));
      }
    }
  }
  if (bias_ptr != nullptr) return cuda_ops::add_bias(y, bias_ptr, n, w.n_out, stream_);
  return Status::ok();
}

void CudaBackend::matmul_multi(std::span<const MatmulTarget> targets, const float* x, int32_t n) {
  if (!bind_device() || targets.empty()) return;
  const WeightHandle& w0 = *targets[0].w;
  const auto type_id = static_cast<uint32_t>(w0.dtype);
  bool fused = targets.size() <= static_cast<size_t>(cuda_ops::kMatvecMaxTargets) &&
               cuda_shape::use_matvec(type_id, n, w0.n_in, reinterpret_cast<uintptr_t>(x));
  cuda_ops::MatvecTarget mt[cuda_ops::kMatvecMaxTargets];
  for (size_t i = 0; fused && i < targets.size(); ++i) {
    const WeightHandle& w = *targets[i].w;
    auto bias = bias_data(w, targets[i].bias);
    if (!record(bias.status())) return;
    fused = w.dtype == w0.dtype && w.n_in == w0.n_in;
    mt[i] = {w.data, w.row_bytes, w.n_out, targets[i].y, *bias};
  }
  if (fused) {
    record(cuda_ops::matvec(type_id, mt, static_cast<int>(targets.size()), w0.n_in, x, n, stream_));
    return;
  }
  for (const MatmulTarget& t : targets) {
    if (!record(matmul_impl(*t.w, x, n, t.y, t.bias))) return;
  }
}

void CudaBackend::rope(float* x, int32_t n, int32_t n_heads, const int32_t* positions,
                       const RopeParams& p) {
  if (!bind_device()) return;
  record(cuda_ops::rope(x, n, n_heads, p.head_dim, p.n_rot, p.theta, p.interleaved, p.inv_freq,
                        positions, stream_));
}

void CudaBackend::attention(const float* q, const float* k_cache, const float* v_cache,
                            const AttentionParams& p, float* out) {
  if (!bind_device()) return;
  cuda_ops::AttentionArgs a{};
  a.q = q;
  a.k_cache = k_cache;
  a.v_cache = v_cache;
  a.mem_k = p.n_mem > 0 ? p.mem_k : nullptr;
  a.mem_v = p.n_mem > 0 ? p.mem_v : nullptr;
  a.out = out;
  a.mem_mass = p.mem_mass;
  a.mem_token_mass = a.mem_k != nullptr ? p.mem_token_mass : nullptr;
  a.n_head = p.n_head;
  a.n_head_kv = p.n_head_kv;
  a.head_dim = p.head_dim;
  a.n_query = p.n_query;
  a.q_pos0 = p.q_pos0;
  a.n_kv = p.n_kv;
  a.n_mem = p.n_mem;
  a.scale = p.scale;
  a.q_pos0_dev = p.q_pos0_dev;
  a.n_kv_dev = p.n_kv_dev;
  record(cuda_ops::attention(a, stream_));
}

void CudaBackend::swiglu(const float* gate, const float* up, int64_t n, float* out) {
  if (!bind_device()) return;
  record(cuda_ops::swiglu(gate, up, n, out, stream_));
}

void CudaBackend::add(float* y, const float* x, int64_t n) {
  if (!bind_device()) return;
  record(cuda_ops::add(y, x, n, stream_));
}

// ---- MemLong K/V slot pool (issue 7) ----
namespace {

cuda_ops::KvPoolArgs pool_args(const Backend::KvPoolView& p) {
  cuda_ops::KvPoolArgs a{};
  a.device = p.device;
  a.host = p.host;
  a.n_device = p.n_device;
  a.n_host = p.n_host;
  a.dtype = static_cast<uint32_t>(p.dtype);
  a.row_elems = p.row_elems;
  return a;
}

}  // namespace

Result<DeviceBuffer> CudaBackend::alloc_host_mapped(size_t size_bytes) {
  if (!healthy()) return error_;
  if (!bind_device()) return error_;
  void* host = nullptr;
  MEMLONG_CUDA_RETURN_IF_ERROR(cudaHostAlloc(&host, std::max<size_t>(size_bytes, 1),
                                             cudaHostAllocMapped | cudaHostAllocPortable));
  std::memset(host, 0, size_bytes);
  void* dev = nullptr;
  const cudaError_t e = cudaHostGetDevicePointer(&dev, host, 0);
  if (e != cudaSuccess) {
    (void)cudaFreeHost(host);
    return cuda_check::from_cuda(e, "cudaHostGetDevicePointer");
  }
  // The deleter gets dev; with unified addressing (every 64-bit sm_80+ setup) dev == host.
  return DeviceBuffer(dev, size_bytes, [host](void*) { (void)cudaFreeHost(host); });
}

int64_t CudaBackend::memory_free_bytes() {
  if (!bind_device()) return 0;
  size_t free_b = 0, total_b = 0;
  if (!record(cuda_check::from_cuda(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo"))) {
    return 0;
  }
  return static_cast<int64_t>(free_b + allocator_->bytes_cached());
}

void CudaBackend::kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n,
                                const float* k, const float* v) {
  if (!bind_device()) return;
  record(cuda_ops::kv_pool_store(pool_args(pool), slots, n, k, v, stream_));
}

void CudaBackend::kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n,
                                 float* k_out, float* v_out) {
  if (!bind_device()) return;
  record(cuda_ops::kv_pool_gather(pool_args(pool), slots, n, k_out, v_out, stream_));
}
// ---- end of the K/V slot pool ----
// ---- retriever encoder ops ----

void CudaBackend::layer_norm(const float* x, const float* residual, const WeightHandle& w,
                             const WeightHandle& b, float eps, int32_t n, int32_t dim, float* out) {
  if (!bind_device()) return;
  if (w.dtype != DType::kF32 || w.n_in != dim || b.dtype != DType::kF32 || b.n_in != dim) {
    record(invalid_argument("layer_norm: weight and bias must be F32 of length " +
                            std::to_string(dim)));
    return;
  }
  record(cuda_ops::layer_norm(x, residual, static_cast<const float*>(w.data),
                              static_cast<const float*>(b.data), eps, n, dim, out, stream_));
}

void CudaBackend::encoder_attention(const float* q, const float* k, const float* v,
                                    const EncoderAttentionParams& p, float* out) {
  if (!bind_device()) return;
  record(cuda_ops::encoder_attention(q, k, v, p.seq_offsets, p.n_seq, p.n_rows, p.max_seq_len,
                                     p.n_head, p.head_dim, p.scale, out, stream_));
}

void CudaBackend::gelu_erf(const float* x, int64_t n, float* out) {
  if (!bind_device()) return;
  record(cuda_ops::gelu_erf(x, n, out, stream_));
}

void CudaBackend::pool_sequences(const float* x, const int32_t* seq_offsets, int32_t n_seq,
                                 int32_t dim, SequencePooling mode, float* out) {
  if (!bind_device()) return;
  record(cuda_ops::pool_sequences(x, seq_offsets, n_seq, dim, mode == SequencePooling::kFirst, out,
                                  stream_));
}

void CudaBackend::l2_normalize(float* x, int32_t n, int32_t dim) {
  if (!bind_device()) return;
  record(cuda_ops::l2_normalize(x, n, dim, stream_));
}
// ---- end of retriever encoder ops ----

// ---- capturable decode and device sampling (issue 7) ----

void CudaBackend::copy_rows_at(void* dst, const void* src, const int32_t* row_index, int32_t n_rows,
                               size_t row_bytes, int32_t capacity_rows) {
  if (!bind_device()) return;
  record(cuda_ops::copy_rows_at(dst, src, row_index, n_rows, row_bytes, capacity_rows, stream_));
}

void CudaBackend::disable_graphs(std::string why) {
  graphs_enabled_ = false;
  graphs_off_reason_ = std::move(why);
  for (StepGraph& g : graphs_) (void)cudaGraphExecDestroy(g.exec);
  graphs_.clear();
}

DecodeStepMode CudaBackend::begin_decode_step(uint64_t key) {
  step_state_ = StepState::kPlain;
  staged_bytes_ = 0;
  step_key_ = key;
  if (!bind_device()) return DecodeStepMode::kRun;  // ops are skipped; the error comes later
  // The previous step has read staging_ once it is done (eval ends with a sync, so this is
  // normally a no-op).
  if (!record(cuda_check::from_cuda(cudaEventSynchronize(step_done_), "waiting for a step"))) {
    return DecodeStepMode::kRun;
  }
  if (!graphs_enabled_) return DecodeStepMode::kRun;
  for (size_t i = 0; i < graphs_.size(); ++i) {
    if (graphs_[i].key == key) {
      graphs_[i].last_use = ++use_clock_;
      replay_index_ = i;
      step_state_ = StepState::kReplay;
      return DecodeStepMode::kReplayed;
    }
  }
  const cudaError_t e = cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    disable_graphs(std::string("capture failed: cudaStreamBeginCapture: ") + cudaGetErrorName(e));
    return DecodeStepMode::kRun;
  }
  capture_error_ = Status::ok();
  step_state_ = StepState::kCapturing;
  return DecodeStepMode::kRun;
}

void CudaBackend::stage_step_inputs(void* dst, const void* host_src, size_t n_bytes) {
  if (step_state_ == StepState::kNone) {  // outside a step: an ordinary upload
    copy_to_device(dst, host_src, n_bytes);
    return;
  }
  if (n_bytes == 0 || !bind_device()) return;
  const size_t at = (staged_bytes_ + 15) / 16 * 16;
  if (at + n_bytes > kMaxStepInputBytes) {
    record(invalid_argument("stage_step_inputs: more than " + std::to_string(kMaxStepInputBytes) +
                            " bytes in one step"));
    return;
  }
  std::memcpy(staging_ + at, host_src, n_bytes);
  staged_bytes_ = at + n_bytes;
  // Replay: the graph's copy node reads staging_ + at. Capture: that node is recorded here.
  // Plain: an asynchronous copy from pinned memory (no sync; step_done_ guards the reuse).
  if (step_state_ == StepState::kReplay) return;
  record(cuda_check::from_cuda(
      cudaMemcpyAsync(dst, staging_ + at, n_bytes, cudaMemcpyHostToDevice, stream_),
      "cudaMemcpyAsync(step inputs)"));
}

bool CudaBackend::end_decode_step() {
  const StepState state = step_state_;
  step_state_ = StepState::kNone;
  // (A capture is always ended below: ops recorded during it never touch error_.)
  if (state != StepState::kCapturing && !healthy()) return true;  // reported by the next sync
  if (state == StepState::kReplay) {
    record(cuda_check::from_cuda(cudaGraphLaunch(graphs_[replay_index_].exec, stream_),
                                 "cudaGraphLaunch"));
    ++n_replays_;
  } else if (state == StepState::kCapturing) {
    cudaGraph_t graph = nullptr;
    const cudaError_t e = cudaStreamEndCapture(stream_, &graph);
    std::string why;
    if (!capture_error_.is_ok()) {
      why = capture_error_.message();
    } else if (e != cudaSuccess) {
      why = std::string("cudaStreamEndCapture: ") + cudaGetErrorName(e);
    }
    cudaGraphExec_t exec = nullptr;
    if (why.empty()) {
      const cudaError_t ei = cudaGraphInstantiate(&exec, graph, 0);
      if (ei != cudaSuccess) why = std::string("cudaGraphInstantiate: ") + cudaGetErrorName(ei);
    }
    if (graph != nullptr) (void)cudaGraphDestroy(graph);
    if (!why.empty()) {
      (void)cudaGetLastError();  // capture errors are not sticky on the context
      if (exec != nullptr) (void)cudaGraphExecDestroy(exec);
      disable_graphs("capture failed: " + why);
      return false;  // nothing ran: the caller issues the step again as plain launches
    }
    if (graphs_.size() >= kMaxStepGraphs) {
      auto oldest = std::min_element(
          graphs_.begin(), graphs_.end(),
          [](const StepGraph& a, const StepGraph& b) { return a.last_use < b.last_use; });
      (void)cudaGraphExecDestroy(oldest->exec);
      graphs_.erase(oldest);
    }
    graphs_.push_back({step_key_, exec, ++use_clock_});
    record(cuda_check::from_cuda(cudaGraphLaunch(exec, stream_), "cudaGraphLaunch"));
    ++n_captures_;
  } else {
    ++n_plain_steps_;
  }
  record(cuda_check::from_cuda(cudaEventRecord(step_done_, stream_), "cudaEventRecord"));
  return true;
}

void CudaBackend::set_decode_graphs_enabled(bool enabled) {
  if (enabled) {
    graphs_enabled_ = true;
    graphs_off_reason_.clear();
  } else {
    disable_graphs("off (set_decode_graphs_enabled(false))");
  }
}

std::string CudaBackend::decode_graph_status() const {
  std::string s = graphs_enabled_ ? std::string("on") : graphs_off_reason_;
  return s + "; " + std::to_string(graphs_.size()) + " graphs cached, " +
         std::to_string(n_captures_) + " captures, " + std::to_string(n_replays_) + " replays, " +
         std::to_string(n_plain_steps_) + " plain steps";
}

void CudaBackend::sample(float* logits, int32_t n_vocab, const SampleArgs& args, int32_t* out_id) {
  if (!bind_device()) return;
  cuda_ops::SampleKernelArgs a{};
  a.temperature = args.temperature;
  a.top_p = args.top_p;
  a.min_p = args.min_p;
  a.repetition_penalty = args.repetition_penalty;
  a.top_k = args.top_k;
  a.n_penalty_ids = args.n_penalty_ids;
  a.penalty_ids = args.penalty_ids;
  a.uniform = args.uniform;
  record(cuda_ops::sample(logits, n_vocab, a, out_id, stream_));
}

bool CudaBackend::samples_on_device(const SampleArgs& args) const {
  return args.temperature <= 0.0f || (args.top_k >= 1 && args.top_k <= cuda_ops::kSampleMaxTopK);
}

}  // namespace memlong
