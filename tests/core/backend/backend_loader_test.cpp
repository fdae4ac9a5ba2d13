// make_backend: device strings, the module search, and the CUDA error / fallback paths as they
// are on the machine running the test (a CI box without a GPU gets the real "no CUDA device" or
// "module not built" answer; a GPU box gets a CUDA backend).
#include "core/backend/backend_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/engine/engine.h"
#include "core/model/synthetic_model.h"

namespace memlong {
namespace {

TEST(BackendLoader, CpuDeviceGivesTheCpuBackend) {
  std::string note = "stale";
  auto b = make_backend(BackendOptions{"cpu", 1, ""}, &note);
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_EQ((*b)->name(), "cpu");
  EXPECT_TRUE(note.empty());
}

TEST(BackendLoader, UnknownDeviceStringsAreInvalidArguments) {
  for (const char* d : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CUDA", "cuda:123456", ""}) {
    auto b = make_backend(BackendOptions{d, 1, ""});
    ASSERT_FALSE(b.is_ok()) << d;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << d;
    EXPECT_NE(b.status().message().find("expected cpu, cuda, cuda:N or auto"), std::string::npos);
  }
}

TEST(BackendLoader, MissingModuleIsNotFoundForCudaAndFallsBackForAuto) {
  const std::string path = "/nonexistent/dir/libmemlong_cuda.so";
  auto b = make_backend(BackendOptions{"cuda", 1, path});
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), StatusCode::kNotFound);
  EXPECT_NE(b.status().message().find(path), std::string::npos) << b.status().message();

  std::string note;
  auto a = make_backend(BackendOptions{"auto", 1, path}, &note);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ((*a)->name(), "cpu");
  EXPECT_NE(note.find("CUDA unavailable"), std::string::npos) << note;
  EXPECT_NE(note.find(path), std::string::npos) << note;
  EXPECT_NE(note.find("using the CPU"), std::string::npos) << note;
}

TEST(BackendLoader, FileThatIsNotALibraryIsRefusedWithTheLoaderMessage) {
  const auto path = std::filesystem::temp_directory_path() / "memlong_not_a_module.so";
  std::ofstream(path) << "not an ELF file";
  auto b = make_backend(BackendOptions{"cuda:0", 1, path.string()});
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(b.status().message().find("cannot load the CUDA module"), std::string::npos)
      << b.status().message();
  EXPECT_NE(b.status().message().find("device cuda:0"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(BackendLoader, LibraryWithoutTheFactoryIsRefused) {
  // Any shared library that is not ours: the C math library is on every glibc system.
  const char* libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (!std::filesystem::exists(libm)) GTEST_SKIP() << "skipped: no " << libm << " on this system";
  auto b = make_backend(BackendOptions{"cuda", 1, libm});
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(b.status().message().find("does not export memlong_create_cuda_backend"),
            std::string::npos)
      << b.status().message();
}

TEST(BackendLoader, CandidatesStartBesideTheExecutableAndEndWithTheEnvironment) {
  ::setenv("MEMLONG_CUDA_BACKEND", "/opt/x/libmemlong_cuda.so", 1);
  const std::vector<std::string> c = cuda_module_candidates();
  ::unsetenv("MEMLONG_CUDA_BACKEND");
  ASSERT_EQ(c.size(), 3u);
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(c[0], (exe.parent_path() / "libmemlong_cuda.so").string());
  EXPECT_EQ(c[1],
            (exe.parent_path().parent_path() / "lib" / "memlong" / "libmemlong_cuda.so").string());
  EXPECT_EQ(c[2], "/opt/x/libmemlong_cuda.so");
}

// The real module of this build, when there is one: on a GPU machine it must give a working
// CUDA backend; elsewhere "cuda" must fail with the runtime's reason and "auto" must fall back
// to the CPU carrying that same reason.
TEST(BackendLoader, BuiltModuleGivesCudaOrAClearReasonAndAutoFallsBack) {
#ifndef MEMLONG_CUDA_MODULE_PATH
  GTEST_SKIP() << "skipped: the CUDA module was not built (nvcc not found at configure time)";
#else
  const std::string path = MEMLONG_CUDA_MODULE_PATH;
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  auto b = make_backend(BackendOptions{"cuda", 1, path});
  std::string note;
  auto a = make_backend(BackendOptions{"auto", 1, path}, &note);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  if (b.is_ok()) {
    EXPECT_EQ((*b)->name().rfind("cuda:0 (", 0), 0u) << (*b)->name();
    EXPECT_EQ((*a)->name(), (*b)->name());
    EXPECT_TRUE(note.empty()) << note;
    return;
  }
  const std::string why = b.status().message();
  EXPECT_EQ(b.status().code(), StatusCode::kUnsupported) << b.status().to_string();
  // No driver or no GPU: the runtime's own error is named.
  EXPECT_TRUE(why.find("no CUDA device: cudaGetDeviceCount ") != std::string::npos ||
              why.find("cannot load the CUDA module") != std::string::npos)
      << why;
  EXPECT_EQ((*a)->name(), "cpu");
  EXPECT_NE(note.find(why.substr(why.find(": ") + 2)), std::string::npos) << note << " / " << why;
  std::printf("[ loader   ] cuda unavailable here: %s\n", why.c_str());
#endif
}

// Engine::load takes the device from EngineOptions: a bad string fails the load, "auto" loads
// and, where CUDA is unusable, runs on the CPU and says why.
TEST(BackendLoader, EngineLoadUsesTheDeviceOption) {
  const auto path = std::filesystem::temp_directory_path() / "memlong_loader_engine.gguf";
  ASSERT_TRUE(write_synthetic_llama_gguf(path.string(), SyntheticModelSpec{}).is_ok());
  EngineOptions bad;
  bad.model_path = path.string();
  bad.n_threads = 1;
  bad.device = "tpu";
  auto e = Engine::load(bad);
  ASSERT_FALSE(e.is_ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);

#ifdef MEMLONG_CUDA_MODULE_PATH
  ::setenv("MEMLONG_CUDA_BACKEND", MEMLONG_CUDA_MODULE_PATH, 1);
#endif
  EngineOptions opts = bad;
  opts.device = "auto";
  auto a = Engine::load(opts);
  ::unsetenv("MEMLONG_CUDA_BACKEND");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  if ((*a)->backend().name() == "cpu") {
    EXPECT_NE((*a)->backend_note().find("CUDA unavailable: "), std::string::npos);
  } else {
    EXPECT_TRUE((*a)->backend_note().empty()) << (*a)->backend_note();
  }
  auto ctx = (*a)->new_context(64);
  ASSERT_TRUE(ctx.is_ok());
  const int32_t tokens[] = {1, 2, 3};
  auto logits = (*ctx)->eval(tokens, false);
  ASSERT_TRUE(logits.is_ok()) << logits.status().to_string();
  EXPECT_EQ(logits->size(), static_cast<size_t>((*a)->model().config().n_vocab));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace memlong
