#include "core/common/paths.h"

#include <cstdlib>
#include <filesystem>

namespace memlong {

std::string default_models_dir() {
  if (const char* d = std::getenv("MEMLONG_MODELS_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') {
    return std::string(x) + "/memlong/models";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/memlong/models";
}

std::string default_model_path() {
  return default_models_dir() + "/" + kDefaultModelFile;
}

std::string default_retriever_path() {
  return default_models_dir() + "/" + kDefaultRetrieverFile;
}

std::string missing_model_hint(const std::string& path) {
  return "model file " + path +
         " is missing; run scripts/setup from the MemLong source tree (or memlong-fetch-models) "
         "to fetch the default models, or pass -m PATH";
}

std::string find_resources_dir(const std::filesystem::path& exe_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* d = std::getenv("MEMLONG_RESOURCES_DIR"); d != nullptr && *d != '\0') return d;
  if (!exe_dir.empty()) {
    const fs::path installed = exe_dir.parent_path() / "share" / "memlong";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
#ifdef MEMLONG_SOURCE_RESOURCES_DIR
  if (fs::is_directory(MEMLONG_SOURCE_RESOURCES_DIR, ec)) return MEMLONG_SOURCE_RESOURCES_DIR;
#endif
  return "";
}

std::string default_resources_dir() {
  return find_resources_dir(executable_dir());
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

std::vector<std::string> beside_executable_candidates(const std::string& file) {
  const std::filesystem::path dir = executable_dir();
  if (dir.empty()) return {};
  return {(dir / file).string(),
          (dir / ".." / "lib" / "memlong" / file).lexically_normal().string()};
}

}  // namespace memlong
