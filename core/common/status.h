// Status and Result<T>: how every fallible operation in core/ and cuda/ reports failure.
//
// No exceptions cross our own boundaries (see docs/STYLE.md): a function that can fail for a reason
// outside the program returns Status or Result<T>. Codes are few; a message says what failed,
// where, and what the user can do. Internal means a bug in MemLong itself.
// Thread-safety: plain values; safe to copy and move across threads.
#pragma once

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace memlong {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kCorrupt,
  kUnsupported,
  kIoError,
  kOutOfMemory,
  kCancelled,
  kInternal,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Corrupt: tensor 'x' ends past the end of the file" (or "OK").
  std::string to_string() const;
  // Returns a copy with `context` prefixed to the message ("loading model: ...").
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status not_found(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status corrupt(std::string m) {
  return {StatusCode::kCorrupt, std::move(m)};
}
inline Status unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status io_error(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status out_of_memory(std::string m) {
  return {StatusCode::kOutOfMemory, std::move(m)};
}
inline Status cancelled(std::string m = "cancelled") {
  return {StatusCode::kCancelled, std::move(m)};
}
inline Status internal_error(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// Result<T>: a T or a non-OK Status. Shaped like std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).is_ok())
      v_ = Status(StatusCode::kInternal, "Result built from OK status");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace memlong

// Return early with the status when `expr` (a Status) is not OK.
#define MEMLONG_RETURN_IF_ERROR(expr)                     \
  do {                                                    \
    ::memlong::Status memlong_status_ = (expr);           \
    if (!memlong_status_.is_ok()) return memlong_status_; \
  } while (0)

#define MEMLONG_CONCAT_INNER_(a, b) a##b
#define MEMLONG_CONCAT_(a, b) MEMLONG_CONCAT_INNER_(a, b)
// `MEMLONG_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its status.
#define MEMLONG_ASSIGN_OR_RETURN(lhs, rexpr)                    \
  auto MEMLONG_CONCAT_(memlong_result_, __LINE__) = (rexpr);    \
  if (!MEMLONG_CONCAT_(memlong_result_, __LINE__).is_ok())      \
    return MEMLONG_CONCAT_(memlong_result_, __LINE__).status(); \
  lhs = std::move(MEMLONG_CONCAT_(memlong_result_, __LINE__)).value()

// A broken precondition is a programmer's error. On in every build (the checks are cheap and
// guard memory safety); the message names the file and line.
#define MEMLONG_ASSERT(cond)                                                                      \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "memlong: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)
