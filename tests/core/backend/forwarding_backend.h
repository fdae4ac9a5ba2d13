// Test helpers: a Backend that forwards every call to another one (tests override what they
// observe), and ReplayingBackend, a host model of CUDA-graph semantics for decode steps
// (issue 7): the first step of a key is RECORDED without running (as stream capture does), then
// executed; later steps of the key only stage their inputs and re-run the recorded op list with
// the arguments of the first step. Equal results to plain execution prove that a step's ops take
// everything that varies per step from device memory. Any alloc, host copy or synchronize while
// recording is a test failure (they cannot be captured).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "core/backend/backend.h"
#include "core/model/model_file.h"

namespace memlong::testing {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  Backend& inner() { return *inner_; }

  std::string name() const override { return "forwarding(" + inner_->name() + ")"; }
  std::string description() const override { return inner_->description(); }
  Result<DeviceBuffer> alloc(size_t n) override { return inner_->alloc(n); }
  void copy_to_device(void* d, const void* s, size_t n) override {
    inner_->copy_to_device(d, s, n);
  }
  Status copy_to_host(void* d, const void* s, size_t n) override {
    return inner_->copy_to_host(d, s, n);
  }
  void copy(void* d, const void* s, size_t n) override { inner_->copy(d, s, n); }
  Status synchronize() override { return inner_->synchronize(); }
  Result<WeightHandle> upload_weight(const TensorView& t) override {
    return inner_->upload_weight(t);
  }
  void get_rows(const WeightHandle& t, const int32_t* ids, int32_t n, float* out) override {
    inner_->get_rows(t, ids, n, out);
  }
  void rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                float* out) override {
    inner_->rms_norm(x, w, eps, n, dim, out);
  }
  void matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
              const WeightHandle* bias) override {
    inner_->matmul(w, x, n, y, bias);
  }
  void matmul_multi(std::span<const MatmulTarget> t, const float* x, int32_t n) override {
    inner_->matmul_multi(t, x, n);
  }
  void rope(float* x, int32_t n, int32_t h, const int32_t* pos, const RopeParams& p) override {
    inner_->rope(x, n, h, pos, p);
  }
  void attention(const float* q, const float* k, const float* v, const AttentionParams& p,
                 float* out) override {
    inner_->attention(q, k, v, p, out);
  }
  void swiglu(const float* g, const float* u, int64_t n, float* out) override {
    inner_->swiglu(g, u, n, out);
  }
  void add(float* y, const float* x, int64_t n) override { inner_->add(y, x, n); }
  void copy_rows_at(void* dst, const void* src, const int32_t* row, int32_t n_rows,
                    size_t row_bytes, int32_t cap) override {
    inner_->copy_rows_at(dst, src, row, n_rows, row_bytes, cap);
  }
  DecodeStepMode begin_decode_step(uint64_t key) override { return inner_->begin_decode_step(key); }
  void stage_step_inputs(void* d, const void* s, size_t n) override {
    inner_->stage_step_inputs(d, s, n);
  }
  bool end_decode_step() override { return inner_->end_decode_step(); }
  void sample(float* logits, int32_t n_vocab, const SampleArgs& a, int32_t* out) override {
    inner_->sample(logits, n_vocab, a, out);
  }
  bool samples_on_device(const SampleArgs& a) const override {
    return inner_->samples_on_device(a);
  }
  Result<DeviceBuffer> alloc_host_mapped(size_t n) override { return inner_->alloc_host_mapped(n); }
  int64_t memory_free_bytes() override { return inner_->memory_free_bytes(); }
  void kv_pool_store(const KvPoolView& pool, const int32_t* slots, int32_t n, const float* k,
                     const float* v) override {
    inner_->kv_pool_store(pool, slots, n, k, v);
  }
  void kv_pool_gather(const KvPoolView& pool, const int32_t* slots, int32_t n, float* k,
                      float* v) override {
    inner_->kv_pool_gather(pool, slots, n, k, v);
  }
  void layer_norm(const float* x, const float* r, const WeightHandle& w, const WeightHandle& b,
                  float eps, int32_t n, int32_t dim, float* out) override {
    inner_->layer_norm(x, r, w, b, eps, n, dim, out);
  }
  void encoder_attention(const float* q, const float* k, const float* v,
                         const EncoderAttentionParams& p, float* out) override {
    inner_->encoder_attention(q, k, v, p, out);
  }
  void gelu_erf(const float* x, int64_t n, float* out) override { inner_->gelu_erf(x, n, out); }
  void pool_sequences(const float* x, const int32_t* off, int32_t n_seq, int32_t dim,
                      SequencePooling mode, float* out) override {
    inner_->pool_sequences(x, off, n_seq, dim, mode, out);
  }
  void l2_normalize(float* x, int32_t n, int32_t dim) override { inner_->l2_normalize(x, n, dim); }

 protected:
  std::unique_ptr<Backend> inner_;
};

class ReplayingBackend final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  // The next `n` captures fail at end_decode_step (nothing runs; the caller must retry plain).
  void fail_next_captures(int n) { fail_captures_ = n; }

  int n_captures = 0, n_replays = 0, n_plain = 0, n_failed_captures = 0;
  int n_keys() const { return static_cast<int>(graphs_.size()); }

  Result<DeviceBuffer> alloc(size_t n) override {
    forbid("alloc");
    return inner_->alloc(n);
  }
  void copy_to_device(void* d, const void* s, size_t n) override {
    forbid("copy_to_device");
    inner_->copy_to_device(d, s, n);
  }
  Status copy_to_host(void* d, const void* s, size_t n) override {
    forbid("copy_to_host");
    return inner_->copy_to_host(d, s, n);
  }
  Status synchronize() override {
    forbid("synchronize");
    return inner_->synchronize();
  }
  void copy(void* d, const void* s, size_t n) override {
    op([=, this] { inner_->copy(d, s, n); });
  }
  void get_rows(const WeightHandle& t, const int32_t* ids, int32_t n, float* out) override {
    op([=, this, &t] { inner_->get_rows(t, ids, n, out); });
  }
  void rms_norm(const float* x, const WeightHandle& w, float eps, int32_t n, int32_t dim,
                float* out) override {
    op([=, this, &w] { inner_->rms_norm(x, w, eps, n, dim, out); });
  }
  void matmul(const WeightHandle& w, const float* x, int32_t n, float* y,
              const WeightHandle* bias) override {
    op([=, this, &w] { inner_->matmul(w, x, n, y, bias); });
  }
  void matmul_multi(std::span<const MatmulTarget> t, const float* x, int32_t n) override {
    std::vector<MatmulTarget> targets(t.begin(), t.end());
    op([=, this] { inner_->matmul_multi(targets, x, n); });
  }
  void rope(float* x, int32_t n, int32_t h, const int32_t* pos, const RopeParams& p) override {
    op([=, this] { inner_->rope(x, n, h, pos, p); });
  }
  void attention(const float* q, const float* k, const float* v, const AttentionParams& p,
                 float* out) override {
    op([=, this] { inner_->attention(q, k, v, p, out); });
  }
  void swiglu(const float* g, const float* u, int64_t n, float* out) override {
    op([=, this] { inner_->swiglu(g, u, n, out); });
  }
  void add(float* y, const float* x, int64_t n) override {
    op([=, this] { inner_->add(y, x, n); });
  }
  void copy_rows_at(void* dst, const void* src, const int32_t* row, int32_t n_rows,
                    size_t row_bytes, int32_t cap) override {
    op([=, this] { inner_->copy_rows_at(dst, src, row, n_rows, row_bytes, cap); });
  }

  DecodeStepMode begin_decode_step(uint64_t key) override {
    EXPECT_FALSE(in_step_) << "nested decode step";
    in_step_ = true;
    staged_ = 0;
    key_ = key;
    if (plain_after_failure_) return DecodeStepMode::kRun;
    auto it = graphs_.find(key);
    if (it != graphs_.end()) {
      replaying_ = &it->second;
      return DecodeStepMode::kReplayed;
    }
    recording_ = true;
    recorded_.clear();
    return DecodeStepMode::kRun;
  }
  void stage_step_inputs(void* dst, const void* src, size_t n) override {
    ASSERT_TRUE(in_step_);
    ASSERT_LE(staged_ + n, sizeof staging_);
    std::memcpy(staging_ + staged_, src, n);  // the "pinned" buffer: written on every step
    const uint8_t* from = staging_ + staged_;
    staged_ += n;
    if (replaying_ != nullptr) return;
    op([=, this] { std::memcpy(dst, from, n); });  // the graph's first node reads staging_
  }
  bool end_decode_step() override {
    in_step_ = false;
    if (replaying_ != nullptr) {
      for (const auto& f : *replaying_) f();
      replaying_ = nullptr;
      ++n_replays;
      return true;
    }
    if (!recording_) {
      ++n_plain;
      return true;
    }
    recording_ = false;
    if (fail_captures_ > 0) {
      --fail_captures_;
      ++n_failed_captures;
      plain_after_failure_ = true;
      recorded_.clear();
      return false;
    }
    auto& g = graphs_[key_];
    g = std::move(recorded_);
    recorded_.clear();
    for (const auto& f : g) f();
    ++n_captures;
    return true;
  }

 private:
  void forbid(const char* what) {
    EXPECT_FALSE(recording_) << what << " inside a recorded decode step";
    EXPECT_FALSE(replaying_ != nullptr) << what << " inside a replayed decode step";
  }
  void op(std::function<void()> f) {
    EXPECT_TRUE(replaying_ == nullptr) << "an op was issued for a replayed step";
    if (recording_) {
      recorded_.push_back(std::move(f));
    } else {
      f();
    }
  }

  bool in_step_ = false, recording_ = false, plain_after_failure_ = false;
  int fail_captures_ = 0;
  uint64_t key_ = 0;
  std::vector<std::function<void()>> recorded_;
  const std::vector<std::function<void()>>* replaying_ = nullptr;
  std::map<uint64_t, std::vector<std::function<void()>>> graphs_;
  alignas(16) uint8_t staging_[Backend::kMaxStepInputBytes] = {};
  size_t staged_ = 0;
};

}  // namespace memlong::testing
