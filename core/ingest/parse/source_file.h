// Reading an input file under the parse limits: one place that turns "missing", "unreadable",
// "empty" and "too large" into Status values naming the file (codes as in core/ingest/parse.h).
// Thread-safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/common/status.h"

namespace memlong {

// The file's size after checking that it is a readable, non-empty regular file of at most
// `max_file_bytes`.
Result<int64_t> check_input_file(const std::filesystem::path& path, int64_t max_file_bytes);

// The whole file (after check_input_file).
Result<std::string> read_input_file(const std::filesystem::path& path, int64_t max_file_bytes);

// The first `n_bytes` bytes (fewer when the file is shorter).
Result<std::string> read_file_head(const std::filesystem::path& path, int64_t n_bytes);

}  // namespace memlong
