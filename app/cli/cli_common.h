// Helpers shared by the CLI's command files: error printing, JSON output, Ctrl-C, and the
// options every library command takes (which library, model, retriever, threads, MemLong).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/assistant/assistant.h"
#include "core/common/cancel.h"
#include "core/common/status.h"

namespace memlong::cli {

// Prints "memlong: <status>" to stderr; returns the exit code 1.
int fail(const Status& s);
// Writes `value` to `path` ("-": stdout), pretty-printed.
Status write_json(const std::string& path, const nlohmann::json& value);

// The cancel source Ctrl-C triggers while a long library command runs (null when none).
CancelSource* active_cancel();
void set_active_cancel(CancelSource* source);

struct LibraryArgs {
  std::string library;  // empty: default_library_dir()
  std::string model;
  std::string retriever;
  int threads = 0;
  std::string device = "cpu";
  std::vector<std::string> memlong;  // key=value
  int64_t memory_tokens = 0;         // 0: the Assistant's default
};
void add_library_args(CLI::App* cmd, LibraryArgs* a);
Result<std::unique_ptr<Assistant>> open_assistant(const LibraryArgs& a);

// Subcommands registered by one command file; run_parsed() runs the one the user chose.
class CommandSet {
 public:
  void add(CLI::App* cmd, std::function<int()> run) { cmds_.emplace_back(cmd, std::move(run)); }
  bool run_parsed(int* rc) const {
    for (const auto& [cmd, run] : cmds_) {
      if (cmd->parsed()) {
        *rc = run();
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<std::pair<CLI::App*, std::function<int()>>> cmds_;
};

// ingest, library, search, session (library_commands.cpp).
CommandSet register_library_commands(CLI::App& app);
// ask, summarize, eval-qa (answer_commands.cpp).
CommandSet register_answer_commands(CLI::App& app);

// JSON forms of the assistant's values (also used by --json outputs).
nlohmann::json to_json(const Passage& p);
nlohmann::json to_json(const Citation& c);
nlohmann::json to_json(const DocumentInfo& d);
nlohmann::json to_json(const SessionInfo& s);

}  // namespace memlong::cli
