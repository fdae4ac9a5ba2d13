#include "core/ingest/parse/source_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace memlong {

Result<int64_t> check_input_file(const std::filesystem::path& path, int64_t max_file_bytes) {
  const std::string name = path.string();
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    return not_found(name + ": no such file (expected a document to ingest)");
  }
  if (!std::filesystem::is_regular_file(st)) {
    return io_error(name +
                    ": not a regular file (expected a document, found a directory or device)");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return io_error(name + ": cannot read its size: " + ec.message());
  if (size == 0)
    return invalid_argument(name + ": the file is empty (0 bytes); expected a document");
  if (static_cast<uint64_t>(size) > static_cast<uint64_t>(max_file_bytes)) {
    return unsupported(name + ": the file is " + std::to_string(size) +
                       " bytes, larger than the limit of " + std::to_string(max_file_bytes) +
                       " bytes (ParseLimits::max_file_bytes)");
  }
  return static_cast<int64_t>(size);
}

Result<std::string> read_file_head(const std::filesystem::path& path, int64_t n_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path.string() + ": cannot open for reading: " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(n_bytes), '\0');
  in.read(bytes.data(), n_bytes);
  if (in.bad()) return io_error(path.string() + ": read error");
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

Result<std::string> read_input_file(const std::filesystem::path& path, int64_t max_file_bytes) {
  MEMLONG_ASSIGN_OR_RETURN(const int64_t size, check_input_file(path, max_file_bytes));
  MEMLONG_ASSIGN_OR_RETURN(std::string bytes, read_file_head(path, size));
  if (static_cast<int64_t>(bytes.size()) != size) {
    return io_error(path.string() + ": expected " + std::to_string(size) + " bytes, read " +
                    std::to_string(bytes.size()) + " (did the file change while reading?)");
  }
  return bytes;
}

}  // namespace memlong
