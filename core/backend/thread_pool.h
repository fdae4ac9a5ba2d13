// ThreadPool: a fixed team of threads that runs one parallel region at a time, with the calling
// thread as member 0. Built for the CPU backend's many short ops (hundreds per decoded token):
// workers spin briefly between regions and only then sleep, so a region starts in microseconds.
// Thread-safety: run() is called by one owner thread at a time; not reentrant.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace memlong {

class ThreadPool {
 public:
  // n_threads: team size including the caller; <= 0 means one per available core.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Calls fn(ith, nth) once on each team member (ith = 0..nth-1) and returns when all are done.
  void run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into contiguous per-thread ranges: fn(begin, end) on each member.
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void worker_main(int ith);

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* fn_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> n_pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> n_sleeping_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
};

}  // namespace memlong
