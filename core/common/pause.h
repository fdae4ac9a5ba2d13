// PauseToken: how a long operation (ingestion) learns that the user pressed Pause. The requester
// keeps a PauseSource and calls pause()/resume() from any thread; the operation calls
// wait_while_paused() between units of work (chunks), which blocks while paused and returns early
// when the given CancelToken is cancelled.
// Thread-safety: all members may be used from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "core/common/cancel.h"

namespace memlong {

class PauseSource;

class PauseToken {
 public:
  PauseToken() = default;  // never paused
  bool is_paused() const;
  // Blocks while paused; returns when resumed or when `cancel` is cancelled (polled every 50 ms).
  void wait_while_paused(const CancelToken& cancel) const;

 private:
  friend class PauseSource;
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool paused = false;
  };
  explicit PauseToken(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

class PauseSource {
 public:
  PauseSource() : state_(std::make_shared<PauseToken::State>()) {}
  void pause() { set(true); }
  void resume() { set(false); }
  bool is_paused() const { return token().is_paused(); }
  PauseToken token() const { return PauseToken(state_); }

 private:
  void set(bool paused) {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->paused = paused;
    }
    state_->cv.notify_all();
  }
  std::shared_ptr<PauseToken::State> state_;
};

inline bool PauseToken::is_paused() const {
  if (!state_) return false;
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->paused;
}

inline void PauseToken::wait_while_paused(const CancelToken& cancel) const {
  if (!state_) return;
  std::unique_lock<std::mutex> lock(state_->mu);
  while (state_->paused && !cancel.is_cancelled()) {
    state_->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
}

}  // namespace memlong
