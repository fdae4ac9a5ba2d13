#include "core/ingest/parse/zip_archive.h"

#include <cstdio>

namespace memlong {
namespace {

struct ZipFileClose {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

std::string format_ratio(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", ratio);
  return buf;
}

}  // namespace

Result<ZipArchive> ZipArchive::open(const std::filesystem::path& path, const ParseLimits& limits) {
  const std::string file = path.string();
  int err = 0;
  std::unique_ptr<zip_t, ZipClose> zip(zip_open(file.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!zip) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return corrupt(file + ": expected a zip archive (EPUB/DOCX), libzip says: " + msg);
  }
  const zip_int64_t n_entries = zip_get_num_entries(zip.get(), 0);
  if (n_entries < 0 || n_entries > limits.max_entries) {
    return corrupt(file + ": zip has " + std::to_string(n_entries) + " entries, more than the " +
                   std::to_string(limits.max_entries) + " allowed (ParseLimits::max_entries)");
  }
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < n_entries; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0) {
      return corrupt(file + ": cannot read zip entry " + std::to_string(i) + ": " +
                     zip_strerror(zip.get()));
    }
    const std::string name = (st.valid & ZIP_STAT_NAME) && st.name ? st.name : "?";
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE)) {
      return corrupt(file + ": zip entry '" + name + "' has no size");
    }
    total += st.size;
    if (total > static_cast<uint64_t>(limits.max_uncompressed_bytes)) {
      return corrupt(file + ": zip entries add up to more than " +
                     std::to_string(limits.max_uncompressed_bytes) +
                     " bytes uncompressed (ParseLimits::max_uncompressed_bytes); refused as a "
                     "possible zip bomb");
    }
    if (st.size >= static_cast<uint64_t>(kRatioCheckMinBytes)) {
      const double ratio =
          static_cast<double>(st.size) / static_cast<double>(st.comp_size > 0 ? st.comp_size : 1);
      if (ratio > limits.max_compression_ratio) {
        return corrupt(file + ": zip entry '" + name + "' inflates " + format_ratio(ratio) + "x (" +
                       std::to_string(st.comp_size) + " -> " + std::to_string(st.size) +
                       " bytes), above the limit of " + format_ratio(limits.max_compression_ratio) +
                       "x (ParseLimits::max_compression_ratio); refused as a zip bomb");
      }
    }
  }
  return ZipArchive(std::move(zip), file, limits.max_uncompressed_bytes);
}

bool ZipArchive::contains(const std::string& name) const {
  return zip_name_locate(zip_.get(), name.c_str(), 0) >= 0;
}

Result<std::string> ZipArchive::read(const std::string& name) const {
  return read(name, max_entry_bytes_);
}

Result<std::string> ZipArchive::read(const std::string& name, int64_t max_bytes) const {
  const zip_int64_t index = zip_name_locate(zip_.get(), name.c_str(), 0);
  if (index < 0) return corrupt(file_ + ": expected zip entry '" + name + "', found none");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0) {
    return corrupt(file_ + ": cannot stat zip entry '" + name + "': " + zip_strerror(zip_.get()));
  }
  if (st.size > static_cast<uint64_t>(max_bytes)) {
    return corrupt(file_ + ": zip entry '" + name + "' is " + std::to_string(st.size) +
                   " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  }
  std::unique_ptr<zip_file_t, ZipFileClose> f(
      zip_fopen_index(zip_.get(), static_cast<zip_uint64_t>(index), 0));
  if (!f) {
    return corrupt(file_ + ": cannot open zip entry '" + name + "': " + zip_strerror(zip_.get()));
  }
  std::string out(static_cast<size_t>(st.size), '\0');
  zip_uint64_t got = 0;
  while (got < st.size) {
    const zip_int64_t n = zip_fread(f.get(), out.data() + got, st.size - got);
    if (n < 0) {
      return corrupt(file_ + ": zip entry '" + name +
                     "' is damaged: " + zip_file_strerror(f.get()));
    }
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  if (got != st.size) {
    return corrupt(file_ + ": zip entry '" + name + "' is truncated: expected " +
                   std::to_string(st.size) + " bytes, found " + std::to_string(got));
  }
  return out;
}

}  // namespace memlong
