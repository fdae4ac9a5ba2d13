// MappedFile: a read-only memory map of a whole file. Weights are used in place from the map, so
// a model costs no heap memory for its tensors.
// Ownership: owns the mapping; move-only. Thread-safety: the bytes are immutable and may be read
// from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/common/status.h"

namespace memlong {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps `path` read-only. Errors: NotFound, IoError (not a regular file, mmap failure).
  static Result<MappedFile> open(const std::string& path);

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole (small) file into a string. Errors: NotFound, IoError, InvalidArgument when the
// file is larger than max_bytes.
Result<std::string> read_text_file(const std::string& path, size_t max_bytes);

}  // namespace memlong
