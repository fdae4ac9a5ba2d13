// ZipArchive: read-only access to the entries of an EPUB or DOCX (libzip) under ParseLimits.
// Opening checks the central directory before anything is inflated: at most max_entries entries,
// the sum of the declared uncompressed sizes at most max_uncompressed_bytes, and no entry larger
// than kRatioCheckMinBytes with a compression ratio above max_compression_ratio (zip bombs).
// Reading an entry stops at its declared size, so a lying header cannot inflate more.
// Ownership: owns the zip_t; movable, not copyable. Thread-safety: one thread at a time.
#pragma once

#include <zip.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/common/status.h"
#include "core/ingest/parse.h"

namespace memlong {

class ZipArchive {
 public:
  // Entries smaller than this are not ratio-checked: tiny files of repeated bytes legitimately
  // compress well past 200x, and they cannot hurt.
  static constexpr int64_t kRatioCheckMinBytes = int64_t{1} << 20;

  // Corrupt when the file is not a zip or breaks a limit.
  static Result<ZipArchive> open(const std::filesystem::path& path, const ParseLimits& limits);

  bool contains(const std::string& name) const;
  // The entry's bytes. Corrupt when the entry is absent, when inflating fails (CRC, truncated
  // data) or when it is larger than `max_bytes`.
  Result<std::string> read(const std::string& name, int64_t max_bytes) const;
  // read() with the archive's remaining uncompressed budget as the cap.
  Result<std::string> read(const std::string& name) const;

 private:
  struct ZipClose {
    void operator()(zip_t* z) const { zip_discard(z); }
  };
  ZipArchive(std::unique_ptr<zip_t, ZipClose> zip, std::string file, int64_t max_bytes)
      : zip_(std::move(zip)), file_(std::move(file)), max_entry_bytes_(max_bytes) {}

  std::unique_ptr<zip_t, ZipClose> zip_;
  std::string file_;
  int64_t max_entry_bytes_;
};

}  // namespace memlong
