// Prompt templates: the shipped files equal the built-in copies, family folders override the
// default one file at a time, and filling replaces only the given placeholders, in one pass.
#include "core/assistant/prompts.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/common/mapped_file.h"
#include "core/common/paths.h"

namespace memlong {
namespace {

namespace fs = std::filesystem;

const fs::path kPromptsDir = fs::path(MEMLONG_SOURCE_DIR) / "resources" / "prompts";

constexpr PromptId kAll[] = {
    PromptId::kQaMemorySystem,
    PromptId::kQaMemoryUser,
    PromptId::kQaTextSystem,
    PromptId::kQaTextUser,
    PromptId::kQaTextPassage,
    PromptId::kQaNoneSystem,
    PromptId::kQaNoneUser,
    PromptId::kSummarySystem,
    PromptId::kSummaryChapterMemoryUser,
    PromptId::kSummaryChapterTextUser,
    PromptId::kSummaryBookUser,
    PromptId::kSummaryBookChapterLine,
};
static_assert(std::size(kAll) == kPromptCount);

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

TEST(PromptFiles, DefaultFilesEqualBuiltins) {
  std::set<std::string> names;
  for (PromptId id : kAll) {
    const fs::path file = kPromptsDir / "default" / std::string(prompt_file_name(id));
    auto text = read_text_file(file.string(), 1 << 16);
    ASSERT_TRUE(text.is_ok()) << text.status().to_string();
    ASSERT_FALSE(text->empty());
    EXPECT_EQ(text->back(), '\n') << file << " should end with a newline";
    std::string body = *text;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    EXPECT_EQ(body, builtin_prompt(id)) << file << " differs from its built-in copy in prompts.cpp";
    names.insert(std::string(prompt_file_name(id)));
  }
  EXPECT_EQ(names.size(), kPromptCount);  // distinct files
  // No stray template in the folder that the code would never read.
  for (const auto& entry : fs::directory_iterator(kPromptsDir / "default")) {
    EXPECT_TRUE(names.count(entry.path().filename().string())) << entry.path();
  }
  // Loading the shipped folder gives the same texts, from the files.
  auto set = PromptSet::load(kPromptsDir, "chatml");
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  for (PromptId id : kAll) {
    EXPECT_EQ(set->text(id), builtin_prompt(id));
    EXPECT_NE(set->source(id), "built-in");
  }
}

TEST(PromptFiles, FamilyFolderOverridesOneFileAndMissingFilesFallBack) {
  const fs::path dir = fs::path(::testing::TempDir()) / "prompts-override";
  fs::remove_all(dir);
  write(dir / "default" / "qa_text_system.txt", "Default system.\n\n");
  write(dir / "gemma" / "qa_text_system.txt", "Gemma system.\r\n");
  write(dir / "gemma" / "qa_none_user.txt", "Q: {question}\n");
  auto gemma = PromptSet::load(dir, "gemma");
  ASSERT_TRUE(gemma.is_ok()) << gemma.status().to_string();
  EXPECT_EQ(gemma->text(PromptId::kQaTextSystem), "Gemma system.");
  EXPECT_EQ(gemma->text(PromptId::kQaNoneUser), "Q: {question}");
  EXPECT_EQ(gemma->source(PromptId::kQaNoneUser), (dir / "gemma" / "qa_none_user.txt").string());
  EXPECT_EQ(gemma->text(PromptId::kQaMemorySystem), builtin_prompt(PromptId::kQaMemorySystem));
  EXPECT_EQ(gemma->source(PromptId::kQaMemorySystem), "built-in");
  auto chatml = PromptSet::load(dir, "chatml");
  ASSERT_TRUE(chatml.is_ok());
  EXPECT_EQ(chatml->text(PromptId::kQaTextSystem), "Default system.");
  EXPECT_EQ(chatml->text(PromptId::kQaNoneUser), builtin_prompt(PromptId::kQaNoneUser));
  // No folder at all: the built-ins.
  auto none = PromptSet::load(dir / "missing", "chatml");
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->text(PromptId::kQaTextUser), builtin_prompt(PromptId::kQaTextUser));
  // A template over 64 KiB is refused, naming the file.
  write(dir / "default" / "qa_text_user.txt", std::string(70000, 'x'));
  auto big = PromptSet::load(dir, "chatml");
  ASSERT_FALSE(big.is_ok());
  EXPECT_NE(big.status().message().find("qa_text_user.txt"), std::string::npos);
}

TEST(PromptFiles, FillReplacesGivenNamesInOnePass) {
  EXPECT_EQ(fill_prompt("[{number}] {title}\n{text}",
                        {{"number", "2"}, {"title", "Emma"}, {"text", "a {title} b"}}),
            "[2] Emma\na {title} b");  // inserted text is not scanned again
  EXPECT_EQ(fill_prompt("{unknown} {x} {} {Upper} {a-b} {", {{"x", "1"}}),
            "{unknown} 1 {} {Upper} {a-b} {");
  EXPECT_EQ(fill_prompt("{q}{q}", {{"q", "ab"}}), "abab");
  EXPECT_EQ(fill_prompt("", {{"q", "ab"}}), "");
}

TEST(PromptFiles, ResourcesDirIsEnvironmentThenInstalledThenSourceTree) {
  const fs::path root = fs::path(::testing::TempDir()) / "resources-find";
  fs::remove_all(root);
  fs::create_directories(root / "usr" / "bin");
  fs::create_directories(root / "usr" / "share" / "memlong");
  fs::create_directories(root / "elsewhere" / "bin");
  unsetenv("MEMLONG_RESOURCES_DIR");
  EXPECT_EQ(find_resources_dir(root / "usr" / "bin"),
            (root / "usr" / "share" / "memlong").string());
  // Not installed: the source tree's resources/, compiled into this build.
  const std::string source = find_resources_dir(root / "elsewhere" / "bin");
  EXPECT_EQ(fs::canonical(source), fs::canonical(fs::path(MEMLONG_SOURCE_DIR) / "resources"));
  EXPECT_TRUE(fs::is_directory(fs::path(source) / "prompts" / "default"));
  setenv("MEMLONG_RESOURCES_DIR", "/custom/resources", 1);
  EXPECT_EQ(find_resources_dir(root / "usr" / "bin"), "/custom/resources");
  unsetenv("MEMLONG_RESOURCES_DIR");
}

}  // namespace
}  // namespace memlong
