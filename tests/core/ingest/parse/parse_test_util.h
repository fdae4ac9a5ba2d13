// Helpers shared by the document-parser tests: fixture paths, a scratch folder, the real books
// from Debian packages (a missing package fails the test with its name), and running a command.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/ingest/parse.h"

namespace memlong::parse_test {

inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(MEMLONG_TEST_DATA_DIR) / "ingest" / name;
}

inline std::filesystem::path book(const std::string& name) {
  return std::filesystem::path(MEMLONG_SOURCE_DIR) / ".." / "shared" / "data" / "books" / name;
}

// A file installed by a Debian package; fails (not skips) the test when it is missing.
inline std::filesystem::path package_file(const std::string& path, const std::string& package) {
  EXPECT_TRUE(std::filesystem::exists(path))
      << path << " is missing: install the Debian package " << package << " (scripts/setup)";
  return path;
}

// A fresh folder under the system temp dir, removed with the object.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("memlong_parse_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

// stdout of a shell command (for poppler-utils' pdfinfo/pdftotext as independent references).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// All section texts joined, for "contains" checks.
inline std::string all_text(const ParsedDocument& d) {
  std::string out;
  for (const auto& s : d.sections) out += s.title + "\n" + s.text + "\n\n";
  return out;
}

}  // namespace memlong::parse_test
