#include "core/backend/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MEMLONG_CPU_RELAX() _mm_pause()
#else
#define MEMLONG_CPU_RELAX() std::this_thread::yield()
#endif

namespace memlong {
namespace {
// Spin iterations before a worker sleeps: ~100 µs. Decode issues an op every few µs, so workers
// stay awake through a token; between user actions they sleep. Past kPauseIterations the spinning
// yields the core, so a machine busy with other programs (or a team larger than its cores) does
// not lose whole scheduler slices to a thread that spins while the one it waits for is preempted.
constexpr int kSpinIterations = 20000;
constexpr int kPauseIterations = 2000;

inline void spin_wait(int iteration) {
  if (iteration < kPauseIterations) {
    MEMLONG_CPU_RELAX();
  } else {
    std::this_thread::yield();
  }
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0)
    n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::worker_main(int ith) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      spin_wait(spin);
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      n_sleeping_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      n_sleeping_.fetch_sub(1);
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    (*fn_)(ith, n_threads_);
    n_pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  fn_ = &fn;
  n_pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    // Under the mutex, so a worker between its last check and its wait cannot miss the wake-up.
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (n_sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
  fn(0, n_threads_);
  for (int spin = 0; n_pending_.load(std::memory_order_acquire) != 0; ++spin) spin_wait(spin);
  fn_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }
  run([&](int ith, int nth) {
    const int64_t per = (n + nth - 1) / nth;
    const int64_t b = std::min<int64_t>(n, per * ith);
    const int64_t e = std::min<int64_t>(n, b + per);
    if (b < e) fn(b, e);
  });
}

}  // namespace memlong
