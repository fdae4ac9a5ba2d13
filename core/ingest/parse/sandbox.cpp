// parse_document_isolated: the parser runs in a separate process, the memlong-parse-worker
// executable, so that a crash, a hang or a memory blow-up on one hostile file is a Status for
// that file, not the end of the application.
//
// Why a fresh executable and not fork() alone: the app is multithreaded, and a forked child gets
// a copy of every lock as another thread held it at that instant (the allocator's, libxml2's,
// poppler's...). A child that then parses can wait forever on a lock nobody will release; CI saw
// exactly that with eight threads parsing at once under ASan. posix_spawn() + exec gives the
// worker a clean process of its own, and the parent code between the two runs nothing that locks.
//
// Invariants:
//  1. The worker only parses, writes one encoded result to fd 3 and _exit()s: no exit handlers,
//     no stdio flushing.
//  2. The worker's address-space limit is its own virtual size at start plus max_memory_bytes,
//     except under ASan, which reserves terabytes of shadow memory up front and cannot run under
//     RLIMIT_AS at all.
//  3. The parent never waits without a deadline: the pipe is polled in slices of kPollSliceMs,
//     checking the cancel token and the wall clock; on timeout or cancel the child gets SIGKILL.
//  4. Every child is reaped before parse_document_isolated returns (no zombies).
//  5. The parent trusts nothing it reads: the result is length-checked field by field.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/common/paths.h"
#include "core/ingest/parse.h"

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
constexpr int kExitUsage = 2;            // the worker was started with bad arguments
constexpr int kResultFd = 3;             // the worker writes its result here
constexpr uint32_t kMagic = 0x44504C4D;  // "MLPD"
constexpr uint32_t kVersion = 1;
constexpr std::string_view kProtocol = "memlong-parse-worker/1";

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

#if !defined(MEMLONG_PARSE_ASAN)
// The process's current virtual size in bytes (0 when /proc is unavailable).
int64_t current_virtual_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0;
  if (!(statm >> pages)) return 0;
  return pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}
#endif

[[noreturn]] void run_child(int fd, const std::filesystem::path& path, const ParseLimits& limits,
                            ParseChildFault fault) {
  // Invariant 2. Under ASan, RLIMIT_AS is skipped: ASan maps its shadow memory (terabytes of
  // virtual space) at start-up, so any address-space limit would fail every allocation.
#if !defined(MEMLONG_PARSE_ASAN)
  const rlim_t address_space_limit =
      static_cast<rlim_t>(current_virtual_bytes() + limits.max_memory_bytes);
  const rlimit as_limit{address_space_limit, address_space_limit};
  setrlimit(RLIMIT_AS, &as_limit);
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
    switch (fault) {
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

// --- Worker command line (parent -> worker) ----------------------------------------------------
//   memlong-parse-worker memlong-parse-worker/1 <fault> <max_file_bytes> <max_uncompressed_bytes>
//       <max_compression_ratio> <max_memory_bytes> <timeout_ms> <max_entries> <max_text_bytes>
//       <path>

const char* fault_name(ParseChildFault f) {
  switch (f) {
    case ParseChildFault::kAbort:
      return "abort";
    case ParseChildFault::kHang:
      return "hang";
    case ParseChildFault::kExhaustMemory:
      return "exhaust-memory";
    case ParseChildFault::kNone:
      break;
  }
  return "none";
}

std::optional<ParseChildFault> parse_fault(std::string_view s) {
  for (ParseChildFault f : {ParseChildFault::kNone, ParseChildFault::kAbort, ParseChildFault::kHang,
                            ParseChildFault::kExhaustMemory}) {
    if (s == fault_name(f)) return f;
  }
  return std::nullopt;
}

template <typename T>
bool parse_number(std::string_view s, T* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string> worker_arguments(const std::string& worker, const std::string& file,
                                          const ParseLimits& limits, ParseChildFault fault) {
  char ratio[64];
  const auto r = std::to_chars(ratio, ratio + sizeof(ratio), limits.max_compression_ratio);
  return {worker,
          std::string(kProtocol),
          fault_name(fault),
          std::to_string(limits.max_file_bytes),
          std::to_string(limits.max_uncompressed_bytes),
          std::string(ratio, r.ptr),
          std::to_string(limits.max_memory_bytes),
          std::to_string(limits.timeout_ms),
          std::to_string(limits.max_entries),
          std::to_string(limits.max_text_bytes),
          file};
}

// --- Parent -----------------------------------------------------------------------------------

bool is_executable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
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

std::vector<std::string> parse_worker_candidates() {
  if (const char* env = std::getenv("MEMLONG_PARSE_WORKER"); env != nullptr && *env != '\0') {
    return {env};
  }
  std::vector<std::string> out = beside_executable_candidates(kParseWorkerFile);
#ifdef MEMLONG_BUILD_PARSE_WORKER
  out.emplace_back(MEMLONG_BUILD_PARSE_WORKER);
#endif
  return out;
}

Result<std::string> find_parse_worker() {
  const std::vector<std::string> candidates = parse_worker_candidates();
  std::string searched;
  for (const std::string& c : candidates) {
    if (is_executable_file(c)) return c;
    searched += (searched.empty() ? "" : ", ") + c;
  }
  return not_found(std::string("no executable document parser helper ") + kParseWorkerFile +
                   " was found (looked at: " + searched +
                   "); reinstall MemLong Desktop or point $MEMLONG_PARSE_WORKER at it");
}

int parse_worker_main(int argc, char** argv) {
  if (argc != 11 || std::string_view(argv[1]) != kProtocol) {
    std::cerr << kParseWorkerFile
              << ": this is MemLong's document parser helper; the app starts it itself "
                 "(protocol "
              << kProtocol << ")\n";
    return kExitUsage;
  }
  ParseLimits limits;
  const std::optional<ParseChildFault> fault = parse_fault(argv[2]);
  if (!fault || !parse_number(argv[3], &limits.max_file_bytes) ||
      !parse_number(argv[4], &limits.max_uncompressed_bytes) ||
      !parse_number(argv[5], &limits.max_compression_ratio) ||
      !parse_number(argv[6], &limits.max_memory_bytes) ||
      !parse_number(argv[7], &limits.timeout_ms) || !parse_number(argv[8], &limits.max_entries) ||
      !parse_number(argv[9], &limits.max_text_bytes)) {
    std::cerr << kParseWorkerFile << ": malformed limits\n";
    return kExitUsage;
  }
  run_child(kResultFd, argv[10], limits, *fault);
}

Result<ParsedDocument> parse_document_isolated(const std::filesystem::path& path,
                                               const ParseLimits& limits,
                                               const CancelToken& cancel) {
  const std::string file = path.string();
  if (cancel.is_cancelled()) return cancelled(file + ": parsing cancelled");
  const int64_t max_result_bytes = limits.max_text_bytes + (int64_t{64} << 20);
  const Result<std::string> worker = find_parse_worker();
  if (!worker.is_ok()) return worker.status().with_context(file);

  // Everything the spawn needs is built before it: argv, the pipe, the file actions.
  std::vector<std::string> args = worker_arguments(*worker, file, limits, g_child_fault.load());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return io_error(file + ": cannot create a pipe for the parser process: " + strerror(errno));
  }
  Fd read_end{fds[0]};
  Fd write_end{fds[1]};
  // The worker gets the write end as fd 3 (dup2 clears close-on-exec on the copy only), default
  // signal dispositions and an empty signal mask, whatever the calling thread had.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, kResultFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, worker->c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    return Status(
        spawn_error == ENOMEM || spawn_error == EAGAIN ? StatusCode::kOutOfMemory
                                                       : StatusCode::kIoError,
        file + ": cannot start the parser process " + *worker + ": " + strerror(spawn_error));
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
      // No EOF yet, but the child may be gone: a process another part of the app forked (and
      // has not exec'd yet) can hold a copy of the write end. Reap it and take what it wrote.
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
