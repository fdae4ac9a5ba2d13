// CancelToken: how a long operation learns that the user pressed Cancel. Built on
// std::stop_source so core needs no Qt. The requester keeps a CancelSource and calls cancel() from
// any thread (the GUI's Cancel button sets it directly, because the worker's event loop is busy);
// the operation polls is_cancelled() at least once per unit of work and returns Cancelled.
// Thread-safety: all members may be used from any thread.
#pragma once

#include <stop_token>

namespace memlong {

class CancelToken {
 public:
  CancelToken() = default;  // never cancelled
  explicit CancelToken(std::stop_token token) : token_(std::move(token)) {}
  bool is_cancelled() const { return token_.stop_requested(); }

 private:
  std::stop_token token_;
};

class CancelSource {
 public:
  void cancel() { source_.request_stop(); }
  bool is_cancelled() const { return source_.stop_requested(); }
  CancelToken token() const { return CancelToken(source_.get_token()); }

 private:
  std::stop_source source_;
};

}  // namespace memlong
