// parse_document_isolated: the parser runs in a forked child so that a crash, a hang or a memory
// blow-up on one hostile file is a Status for that file, not the end of the application.
//
// Invariants:
//  1. The child only parses, writes one encoded result to the pipe and _exit()s: no exit
//     handlers, no stdio flushing, no return into the parent's (multithreaded) code.
//  2. The child's address-space limit is its parent's current virtual size plus
//     max_memory_bytes (the child starts as a copy of the parent, whose mapped model files would
//     otherwise eat the budget), except under ASan, which reserves terabytes of shadow memory up
//     front and cannot run under RLIMIT_AS at all.
//  3. The parent never waits without a deadline: the pipe is polled in slices of kPollSliceMs,
//     checking the cancel token and the wall clock; on timeout or cancel the child gets SIGKILL.
//  4. Every child is reaped before parse_document_isolated returns (no zombies).
//  5. The parent trusts nothing it reads: the result is length-checked field by field.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "core/ingest/parse.h"
#include "core/ingest/parse/readers.h"
#include "core/ingest/parse/xml_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define MEMLONG_PARSE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMLONG_PARSE_ASAN 1
#endif
#endif

namespace memlong {
namespace {

constexpr int kPollSliceMs = 50;
constexpr int kExitOutOfMemory = 3;      // the child could not even encode its result
constexpr uint32_t kMagic = 0x44504C4D;  // "MLPD"
constexpr uint32_t kVersion = 1;

std::atomic<ParseChildFault> g_child_fault{ParseChildFault::kNone};

// --- Result encoding (child -> parent) ---------------------------------------------------------

void put_u32(std::string& out, uint32_t v) {
  out.append(reinterpret_cast<const char*>(&v), 4);
}
void put_str(std::string& out, const std::string& s) {
  const uint64_t n = s.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += s;
}

std::string encode(const Result<ParsedDocument>& r) {
  std::string out;
  put_u32(out, kMagic);
  put_u32(out, kVersion);
  put_u32(out, static_cast<uint32_t>(r.status().code()));
  if (!r.is_ok()) {
    put_str(out, r.status().message());
    return out;
  }
  const ParsedDocument& d = *r;
  put_u32(out, static_cast<uint32_t>(d.format));
  put_str(out, d.title);
  put_str(out, d.author);
  put_str(out, d.language);
  put_str(out, d.source_encoding);
  put_u32(out, static_cast<uint32_t>(d.n_pages));
  put_u32(out, static_cast<uint32_t>(d.sections.size()));
  for (const DocumentSection& s : d.sections) {
    put_str(out, s.title);
    put_u32(out, static_cast<uint32_t>(s.level));
    put_u32(out, static_cast<uint32_t>(s.page));
    put_str(out, s.text);
  }
  return out;
}

class Decoder {
 public:
  explicit Decoder(const std::string& bytes) : bytes_(bytes) {}
  bool u32(uint32_t* v) {
    if (bytes_.size() - pos_ < 4) return false;
    std::memcpy(v, bytes_.data() + pos_, 4);
    pos_ += 4;
    return true;
  }
  bool str(std::string* s) {
    uint64_t n = 0;
    if (bytes_.size() - pos_ < 8) return false;
    std::memcpy(&n, bytes_.data() + pos_, 8);
    pos_ += 8;
    if (n > bytes_.size() - pos_) return false;
    s->assign(bytes_.data() + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool at_end() const { return pos_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  size_t pos_ = 0;
};

Result<ParsedDocument> decode(const std::string& bytes, const std::string& file) {
  const Status bad = internal_error(file + ": the parser child sent a malformed result");
  Decoder in(bytes);
  uint32_t magic = 0, version = 0, code = 0;
  if (!in.u32(&magic) || magic != kMagic || !in.u32(&version) || version != kVersion ||
      !in.u32(&code) || code > static_cast<uint32_t>(StatusCode::kInternal)) {
    return bad;
  }
  if (code != 0) {
    std::string message;
    if (!in.str(&message) || !in.at_end()) return bad;
    return Status(static_cast<StatusCode>(code), std::move(message));
  }
  ParsedDocument d;
  uint32_t format = 0, n_pages = 0, n_sections = 0;
  if (!in.u32(&format) || format > static_cast<uint32_t>(DocumentFormat::kDocx) ||
      !in.str(&d.title) || !in.str(&d.author) || !in.str(&d.language) ||
      !in.str(&d.source_encoding) || !in.u32(&n_pages) || !in.u32(&n_sections) ||
      n_sections > bytes.size() / 24) {  // each section takes at least 24 bytes
    return bad;
  }
  d.format = static_cast<DocumentFormat>(format);
  d.n_pages = static_cast<int32_t>(n_pages);
  d.sections.resize(n_sections);
  for (DocumentSection& s : d.sections) {
    uint32_t level = 0, page = 0;
    if (!in.str(&s.title) || !in.u32(&level) || !in.u32(&page) || !in.str(&s.text)) return bad;
    s.level = static_cast<int32_t>(level);
    s.page = static_cast<int32_t>(page);
  }
  if (!in.at_end()) return bad;
  return d;
}

// --- Child ------------------------------------------------------------------------------------

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void run_child(int fd, const std::filesystem::path& path, const ParseLimits& limits,
                            rlim_t address_space_limit) {
  // Invariant 2. Under ASan, RLIMIT_AS is skipped: ASan maps its shadow memory (terabytes of
  // virtual space) at start-up, so any address-space limit would fail every allocation.
#if !defined(MEMLONG_PARSE_ASAN)
  const rlimit as_limit{address_space_limit, address_space_limit};
  setrlimit(RLIMIT_AS, &as_limit);
#else
  (void)address_space_limit;
#endif
  // A crashing parser leaves no core file behind (hostile input is expected to crash it).
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  // CPU time is a second line behind the parent's wall clock (SIGXCPU, then SIGKILL).
  const rlim_t cpu_s = static_cast<rlim_t>(limits.timeout_ms / 1000 + 2);
  const rlimit cpu_limit{cpu_s, cpu_s + 1};
  setrlimit(RLIMIT_CPU, &cpu_limit);

  int exit_code = 0;
  try {
    switch (g_child_fault.load()) {
      case ParseChildFault::kAbort:
        std::abort();
      case ParseChildFault::kHang:
        for (;;) pause();
      case ParseChildFault::kExhaustMemory: {
        std::vector<std::unique_ptr<char[]>> hog;
        for (;;) {
          constexpr size_t kChunk = size_t{64} << 20;
          hog.emplace_back(new char[kChunk]);
          std::memset(hog.back().get(), 1, kChunk);
        }
      }
      case ParseChildFault::kNone:
        break;
    }
    const Result<ParsedDocument> result = parse_document(path, limits);
    if (!write_all(fd, encode(result))) exit_code = 1;
  } catch (const std::bad_alloc&) {
    const Result<ParsedDocument> oom = out_of_memory(
        path.string() + ": parsing needed more than the memory limit of " +
        std::to_string(limits.max_memory_bytes >> 20) + " MiB (ParseLimits::max_memory_bytes)");
    try {
      if (!write_all(fd, encode(oom))) exit_code = 1;
    } catch (...) {
      exit_code = kExitOutOfMemory;
    }
  } catch (...) {
    exit_code = 1;
  }
  _exit(exit_code);  // invariant 1
}

// --- Parent -----------------------------------------------------------------------------------

// The process's current virtual size in bytes (0 when /proc is unavailable).
int64_t current_virtual_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0;
  if (!(statm >> pages)) return 0;
  return pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Non-blocking waitpid. True when the child has exited (its status in *wstatus), or when it
// cannot be waited for at all (SIGCHLD ignored by the app: the kernel reaped it; status 0).
bool try_reap(pid_t pid, int* wstatus) {
  pid_t w = 0;
  do {
    w = waitpid(pid, wstatus, WNOHANG);
  } while (w < 0 && errno == EINTR);
  if (w == pid) return true;
  if (w < 0 && errno == ECHILD) {
    *wstatus = 0;
    return true;
  }
  return false;
}

std::string signal_name(int sig) {
  const char* s = strsignal(sig);
  return std::to_string(sig) + (s ? std::string(", ") + s : std::string());
}

}  // namespace

void set_parse_child_fault_for_testing(ParseChildFault fault) {
  g_child_fault.store(fault);
}

Result<ParsedDocument> parse_document_isolated(const std::filesystem::path& path,
                                               const ParseLimits& limits,
                                               const CancelToken& cancel) {
  const std::string file = path.string();
  if (cancel.is_cancelled()) return cancelled(file + ": parsing cancelled");
  const int64_t as_bytes = current_virtual_bytes() + limits.max_memory_bytes;
  const int64_t max_result_bytes = limits.max_text_bytes + (int64_t{64} << 20);

  // One-time library set-up happens here, not in the child (invariant 1).
  init_xml_library();
  init_pdf_library();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return io_error(file + ": cannot create a pipe for the parser process: " + strerror(errno));
  }
  Fd read_end{fds[0]};
  Fd write_end{fds[1]};
  const pid_t pid = fork();
  if (pid < 0) {
    return out_of_memory(file + ": cannot start the parser process: " + strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], path, limits, static_cast<rlim_t>(as_bytes));
  }
  ::close(write_end.fd);
  write_end.fd = -1;

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  std::string bytes;
  enum class Stop { kNone, kTimeout, kCancel, kTooLarge, kReadError } stop = Stop::kNone;
  int wstatus = 0;
  bool is_reaped = false;
  char buf[65536];
  while (true) {
    if (cancel.is_cancelled()) {
      stop = Stop::kCancel;
      break;
    }
    if (Clock::now() >= deadline) {
      stop = Stop::kTimeout;
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, kPollSliceMs);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      stop = Stop::kReadError;
      break;
    }
    if (rc == 0) {
      // No EOF yet, but the child may be gone: a process forked meanwhile by another thread of
      // the app can hold a copy of the write end. Reap it and take what it wrote.
      if (try_reap(pid, &wstatus)) {
        is_reaped = true;
        fcntl(read_end.fd, F_SETFL, fcntl(read_end.fd, F_GETFL) | O_NONBLOCK);
        for (ssize_t n; (n = ::read(read_end.fd, buf, sizeof(buf))) > 0;) {
          bytes.append(buf, static_cast<size_t>(n));
          if (static_cast<int64_t>(bytes.size()) > max_result_bytes) break;
        }
        if (static_cast<int64_t>(bytes.size()) > max_result_bytes) stop = Stop::kTooLarge;
        break;
      }
      continue;
    }
    const ssize_t n = ::read(read_end.fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      stop = Stop::kReadError;
      break;
    }
    if (n == 0) break;  // EOF: the child closed its end (exited, or is about to)
    bytes.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(bytes.size()) > max_result_bytes) {
      stop = Stop::kTooLarge;
      break;
    }
  }

  // Reap the child (invariant 4): after EOF it should exit at once; otherwise it is killed.
  if (stop == Stop::kNone && !is_reaped) {
    while (Clock::now() < deadline && !cancel.is_cancelled()) {
      if (try_reap(pid, &wstatus)) {
        is_reaped = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!is_reaped) stop = cancel.is_cancelled() ? Stop::kCancel : Stop::kTimeout;
  }
  if (!is_reaped) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
  }

  switch (stop) {
    case Stop::kCancel:
      return cancelled(file + ": parsing cancelled");
    case Stop::kTimeout:
      return unsupported(file + ": parsing took longer than the limit of " +
                         std::to_string(limits.timeout_ms) +
                         " ms (ParseLimits::timeout_ms); the parser was stopped");
    case Stop::kTooLarge:
      return unsupported(file + ": the parsed text is larger than " +
                         std::to_string(max_result_bytes) + " bytes");
    case Stop::kReadError:
      return io_error(file + ": cannot read from the parser process: " + strerror(errno));
    case Stop::kNone:
      break;
  }
  if (WIFSIGNALED(wstatus)) {
    const int sig = WTERMSIG(wstatus);
    if (sig == SIGXCPU) {
      return unsupported(file + ": parsing used more CPU time than the limit of " +
                         std::to_string(limits.timeout_ms) + " ms (ParseLimits::timeout_ms)");
    }
    return corrupt(file + ": the parser crashed on this file (signal " + signal_name(sig) +
                   "); the file is probably damaged or hostile");
  }
  const int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  if (code == kExitOutOfMemory) {
    return out_of_memory(file + ": parsing needed more than the memory limit of " +
                         std::to_string(limits.max_memory_bytes >> 20) +
                         " MiB (ParseLimits::max_memory_bytes)");
  }
  if (code != 0 || bytes.empty()) {
    return corrupt(file + ": the parser process failed (exit code " + std::to_string(code) +
                   ") without a result");
  }
  return decode(bytes, file);
}

}  // namespace memlong
