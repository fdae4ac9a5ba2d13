// Small helpers shared by tests: a temporary folder removed at the end of the test, and excerpts
// of the evaluation books in ../shared/data/books (next to the source tree).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace memlong::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "memlong_test_XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `n` bytes of a book from byte `from` ("" with a test failure when the book is missing).
inline std::string book_excerpt(const std::string& name, size_t from, size_t n) {
  const std::string path = std::string(MEMLONG_SOURCE_DIR) + "/../shared/data/books/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "missing " << path << " (the shared books folder beside the source tree)";
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return from < s.size() ? s.substr(from, n) : "";
}

}  // namespace memlong::test
