// KvFile (see kv_file.h for the layout and invariants 1-3).
// State changes: open() -> [append()* -> sync() -> (store commits) -> mark_committed()
//                            | append()* -> rollback()]* ; compaction swaps the whole file under
// the exclusive lock.
#include "core/store/kv_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "core/store/sha256.h"

namespace memlong {

namespace {

constexpr char kMagic[8] = {'M', 'L', 'K', 'V', 'D', 'A', 'T', '\0'};
constexpr uint32_t kRecordMagic = 0x3152564B;  // "KVR1" little-endian
constexpr size_t kFileIdChars = 32;

std::string errno_text() {
  return std::strerror(errno);
}

void put_u32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::vector<uint8_t> make_header(const std::string& file_id) {
  std::vector<uint8_t> h(KvFile::kHeaderBytes, 0);
  std::memcpy(h.data(), kMagic, 8);
  put_u32(h.data() + 8, KvFile::kVersion);
  put_u32(h.data() + 12, static_cast<uint32_t>(KvFile::kHeaderBytes));
  std::memcpy(h.data() + 16, file_id.data(), std::min(file_id.size(), kFileIdChars));
  put_u32(h.data() + 60, crc32_update(0, h.data(), 60));
  return h;
}

Status write_all(int fd, const uint8_t* p, size_t n, int64_t offset, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, offset);
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error(path + ": write failed at offset " + std::to_string(offset) + ": " +
                      errno_text() + (errno == ENOSPC ? " (disk full)" : ""));
    }
    p += w;
    n -= static_cast<size_t>(w);
    offset += w;
  }
  return Status::ok();
}

Status fsync_dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(dir + ": cannot open folder to sync: " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error(dir + ": fsync failed: " + errno_text());
  return Status::ok();
}

Result<std::string> parse_header(const uint8_t* h, int64_t file_size, const std::string& path) {
  if (file_size < KvFile::kHeaderBytes)
    return corrupt(path + ": " + std::to_string(file_size) + " bytes, shorter than the " +
                   std::to_string(KvFile::kHeaderBytes) + "-byte header");
  if (std::memcmp(h, kMagic, 8) != 0) return corrupt(path + ": not a kv.dat file (bad magic)");
  if (get_u32(h + 60) != crc32_update(0, h, 60)) return corrupt(path + ": header crc mismatch");
  const uint32_t version = get_u32(h + 8);
  if (version != KvFile::kVersion)
    return unsupported(path + ": kv.dat version " + std::to_string(version) + ", expected " +
                       std::to_string(KvFile::kVersion));
  if (get_u32(h + 12) != KvFile::kHeaderBytes) return corrupt(path + ": bad header size");
  return std::string(reinterpret_cast<const char*>(h + 16), kFileIdChars);
}

}  // namespace

std::string new_kv_file_id() {
  std::random_device rd;
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < kFileIdChars; ++i) id.push_back(kHex[rd() & 0xf]);
  return id;
}

Status KvFile::create(const std::string& path, const std::string& file_id) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(tmp + ": cannot create: " + errno_text());
  const auto header = make_header(file_id);
  Status st = write_all(fd, header.data(), header.size(), 0, tmp);
  if (st.is_ok() && ::fsync(fd) != 0) st = io_error(tmp + ": fsync failed: " + errno_text());
  ::close(fd);
  if (!st.is_ok()) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return io_error(path + ": rename failed: " + errno_text());
  return fsync_dir_of(path);
}

Result<std::string> KvFile::read_file_id(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": cannot open: " + errno_text());
  }
  uint8_t h[kHeaderBytes] = {};
  const ssize_t n = ::pread(fd, h, sizeof h, 0);
  ::close(fd);
  if (n < 0) return io_error(path + ": read failed: " + errno_text());
  return parse_header(h, n, path);
}

Result<std::unique_ptr<KvFile>> KvFile::open(const std::string& path, const std::string& file_id,
                                             int64_t committed_bytes, int64_t* truncated) {
  *truncated = 0;
  std::unique_ptr<KvFile> f(new KvFile());
  f->path_ = path;
  f->fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (f->fd_ < 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": cannot open: " + errno_text());
  }
  struct stat sb {};
  if (::fstat(f->fd_, &sb) != 0) return io_error(path + ": stat failed: " + errno_text());
  int64_t size = sb.st_size;
  uint8_t h[kHeaderBytes] = {};
  const ssize_t n = ::pread(f->fd_, h, sizeof h, 0);
  if (n < 0) return io_error(path + ": read failed: " + errno_text());
  MEMLONG_ASSIGN_OR_RETURN(std::string id, parse_header(h, n, path));
  if (id != file_id)
    return corrupt(path + ": belongs to another library (file id " + id + ", expected " + file_id +
                   ")");
  f->file_id_ = id;
  if (committed_bytes < kHeaderBytes)
    return corrupt(path + ": committed length " + std::to_string(committed_bytes) +
                   " is shorter than the header");
  if (size > committed_bytes) {
    if (::ftruncate(f->fd_, committed_bytes) != 0 || ::fdatasync(f->fd_) != 0)
      return io_error(path + ": cannot truncate orphan records: " + errno_text());
    *truncated = size - committed_bytes;
    size = committed_bytes;
  }
  f->committed_ = committed_bytes;
  f->end_ = size;
  f->file_size_ = size;
  std::unique_lock lock(f->map_mutex_);
  MEMLONG_RETURN_IF_ERROR(f->remap_locked());
  return f;
}

KvFile::~KvFile() {
  unmap_locked();
  if (fd_ >= 0) ::close(fd_);
}

void KvFile::unmap_locked() {
  if (map_ != nullptr) ::munmap(const_cast<uint8_t*>(map_), map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
}

Status KvFile::remap_locked() {
  struct stat sb {};
  if (::fstat(fd_, &sb) != 0) return io_error(path_ + ": stat failed: " + errno_text());
  unmap_locked();
  if (sb.st_size == 0) return Status::ok();
  void* p = ::mmap(nullptr, static_cast<size_t>(sb.st_size), PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) return io_error(path_ + ": mmap failed: " + errno_text());
  map_ = static_cast<const uint8_t*>(p);
  map_bytes_ = static_cast<size_t>(sb.st_size);
  return Status::ok();
}

Result<std::vector<int64_t>> KvFile::append(std::span<const RecordInput> records) {
  size_t total = 0;
  for (const auto& r : records) total += kRecordHeaderBytes + r.payload.size();
  std::vector<uint8_t> buf(total);
  std::vector<int64_t> offsets;
  offsets.reserve(records.size());
  size_t pos = 0;
  for (const auto& r : records) {
    MEMLONG_ASSERT(r.payload.size() <= 0xffffffffu);
    offsets.push_back(end_ + static_cast<int64_t>(pos));
    put_u32(buf.data() + pos, kRecordMagic);
    put_u32(buf.data() + pos + 4, static_cast<uint32_t>(r.payload.size()));
    put_u32(buf.data() + pos + 8, r.crc);
    put_u32(buf.data() + pos + 12, r.n_tokens);
    if (!r.payload.empty())
      std::memcpy(buf.data() + pos + kRecordHeaderBytes, r.payload.data(), r.payload.size());
    pos += kRecordHeaderBytes + r.payload.size();
  }
  Status st = write_all(fd_, buf.data(), buf.size(), end_, path_);
  if (!st.is_ok()) {
    (void)::ftruncate(fd_, end_);  // drop a partial write; the mark is unchanged
    return st;
  }
  end_ += static_cast<int64_t>(total);
  file_size_ = end_;
  return offsets;
}

Status KvFile::sync() {
  if (::fdatasync(fd_) != 0) return io_error(path_ + ": fdatasync failed: " + errno_text());
  return Status::ok();
}

void KvFile::mark_committed() {
  committed_ = end_;
}

Status KvFile::rollback() {
  if (end_ == committed_) return Status::ok();
  if (::ftruncate(fd_, committed_) != 0)
    return io_error(path_ + ": cannot truncate after a failed write: " + errno_text());
  end_ = committed_;
  file_size_ = end_;
  return Status::ok();
}

Status KvFile::read_record(const RecordRef& ref,
                           const std::function<void(std::span<const uint8_t>)>& use) {
  const auto where = [&] { return path_ + ": record at offset " + std::to_string(ref.offset); };
  if (ref.offset < kHeaderBytes || ref.payload_bytes < 0 || ref.payload_bytes > 0xffffffffLL)
    return corrupt(where() + ": offset or size out of range");
  const size_t need = static_cast<size_t>(ref.offset + kRecordHeaderBytes + ref.payload_bytes);
  std::shared_lock lock(map_mutex_);
  if (need > map_bytes_) {  // the file grew since the last map: remap under the exclusive lock
    lock.unlock();
    {
      std::unique_lock ex(map_mutex_);
      if (need > map_bytes_) MEMLONG_RETURN_IF_ERROR(remap_locked());
    }
    lock.lock();
    if (need > map_bytes_)
      return corrupt(where() + " ends at " + std::to_string(need) + ", past the end of the file (" +
                     std::to_string(map_bytes_) + " bytes)");
  }
  const uint8_t* h = map_ + ref.offset;
  if (get_u32(h) != kRecordMagic) return corrupt(where() + ": bad record magic");
  if (get_u32(h + 4) != static_cast<uint32_t>(ref.payload_bytes))
    return corrupt(where() + ": record holds " + std::to_string(get_u32(h + 4)) +
                   " bytes, the library expects " + std::to_string(ref.payload_bytes));
  std::span<const uint8_t> payload(h + kRecordHeaderBytes, static_cast<size_t>(ref.payload_bytes));
  const uint32_t crc = crc32(payload);
  if (crc != ref.crc || get_u32(h + 8) != ref.crc)
    return corrupt(where() + ": crc32 mismatch (stored " + std::to_string(ref.crc) + ", computed " +
                   std::to_string(crc) + ")");
  use(payload);
  return Status::ok();
}

Result<std::pair<std::vector<int64_t>, int64_t>> KvFile::write_compacted(
    const std::string& tmp_path, const std::string& new_file_id,
    std::span<const RecordRef> records) {
  const int fd = ::open(tmp_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(tmp_path + ": cannot create: " + errno_text());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  const auto header = make_header(new_file_id);
  MEMLONG_RETURN_IF_ERROR(write_all(fd, header.data(), header.size(), 0, tmp_path));
  std::vector<int64_t> offsets;
  offsets.reserve(records.size());
  int64_t pos = kHeaderBytes;
  std::vector<uint8_t> buf;
  for (const auto& ref : records) {
    buf.resize(static_cast<size_t>(kRecordHeaderBytes + ref.payload_bytes));
    Status st = read_record(ref, [&](std::span<const uint8_t> payload) {
      std::memcpy(buf.data() + kRecordHeaderBytes, payload.data(), payload.size());
    });
    if (!st.is_ok()) return st.with_context("compacting kv.dat");
    put_u32(buf.data(), kRecordMagic);
    put_u32(buf.data() + 4, static_cast<uint32_t>(ref.payload_bytes));
    put_u32(buf.data() + 8, ref.crc);
    // n_tokens is not needed to find or check a record; the database holds it.
    put_u32(buf.data() + 12, 0);
    MEMLONG_RETURN_IF_ERROR(write_all(fd, buf.data(), buf.size(), pos, tmp_path));
    offsets.push_back(pos);
    pos += static_cast<int64_t>(buf.size());
  }
  if (::fsync(fd) != 0) return io_error(tmp_path + ": fsync failed: " + errno_text());
  return std::make_pair(std::move(offsets), pos);
}

Status KvFile::install_compacted_locked(const std::string& tmp_path, const std::string& new_file_id,
                                        int64_t new_length) {
  if (::rename(tmp_path.c_str(), path_.c_str()) != 0)
    return io_error(path_ + ": rename of the compacted file failed: " + errno_text());
  MEMLONG_RETURN_IF_ERROR(fsync_dir_of(path_));
  const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error(path_ + ": cannot reopen after compaction: " + errno_text());
  unmap_locked();
  ::close(fd_);
  fd_ = fd;
  file_id_ = new_file_id;
  committed_ = end_ = file_size_ = new_length;
  return remap_locked();
}

}  // namespace memlong
