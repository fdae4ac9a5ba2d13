// load_embedder's device parameter: the encoder runs on a backend of the embedder's own, chosen
// like the LM's (cpu / cuda / cuda:N / auto), and EmbedderInfo says where. Uses the tiny BERT
// fixture (tests/data/retriever/tiny_bert).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/backend/backend.h"
#include "core/retriever/embedder.h"

namespace memlong {
namespace {

const std::string kTiny = std::string(MEMLONG_TEST_DATA_DIR) + "/retriever/tiny_bert";
const std::vector<std::string> kTexts = {"the cat sat on the mat", "a dog", "retrieval memory"};

TEST(EmbedderDevice, CpuByDefaultAndOnAnExplicitBackendGiveTheSameVectors) {
  auto by_default = load_embedder(kTiny, 2);
  ASSERT_TRUE(by_default.is_ok()) << by_default.status().to_string();
  EXPECT_EQ(by_default.value()->info().backend, "cpu");
  EXPECT_EQ(by_default.value()->info().backend_note, "");
  auto explicit_cpu = load_embedder_on_backend(kTiny, make_cpu_backend(1));
  ASSERT_TRUE(explicit_cpu.is_ok()) << explicit_cpu.status().to_string();
  auto a = by_default.value()->embed(kTexts, EmbedKind::kPassage);
  auto b = explicit_cpu.value()->embed(kTexts, EmbedKind::kPassage);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(*a, *b);  // thread count does not change a CPU embedding
}

TEST(EmbedderDevice, UnknownDeviceIsInvalidArgument) {
  auto e = load_embedder(kTiny, 1, "tpu");
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().to_string();
  EXPECT_NE(e.status().message().find("tiny_bert"), std::string::npos) << "names the retriever";
}

TEST(EmbedderDevice, AutoRunsOnCudaOrFallsBackWithAReason) {
  auto cpu = load_embedder(kTiny, 1);
  auto e = load_embedder(kTiny, 1, "auto");
  ASSERT_TRUE(cpu.is_ok() && e.is_ok()) << e.status().to_string();
  const EmbedderInfo& info = e.value()->info();
  auto a = cpu.value()->embed(kTexts, EmbedKind::kQuery);
  auto b = e.value()->embed(kTexts, EmbedKind::kQuery);
  ASSERT_TRUE(a.is_ok() && b.is_ok()) << b.status().to_string();
  if (info.backend == "cpu") {
    EXPECT_NE(info.backend_note.find("CUDA unavailable"), std::string::npos) << info.backend_note;
    EXPECT_EQ(*a, *b);
  } else {
    EXPECT_NE(info.backend.find("cuda"), std::string::npos) << info.backend;
    EXPECT_EQ(info.backend_note, "");
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 4e-3f);
  }
}

TEST(EmbedderDevice, CudaIsAClearErrorOrRunsOnCuda) {
  auto e = load_embedder(kTiny, 1, "cuda");
  if (e.is_ok()) {
    EXPECT_NE(e.value()->info().backend.find("cuda"), std::string::npos);
  } else {
    EXPECT_TRUE(e.status().code() == StatusCode::kNotFound ||
                e.status().code() == StatusCode::kUnsupported)
        << e.status().to_string();
  }
}

}  // namespace
}  // namespace memlong
