// Helpers for the store tests: a temporary library folder, a small profile, and synthetic chunks
// whose text, tokens, embedding and K/V are a pure function of (doc seed, ordinal), so a test
// (or a crash-test parent) can recompute what any stored chunk must hold.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/store/library_store.h"
#include "core/store/sha256.h"

namespace memlong::store_test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "memlong_store_XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Small shapes keep the tests fast; SmolLM2's real ones are in bench/store_bench.cpp.
inline ProfileIdentity small_profile(const std::string& model = "test-model") {
  ProfileIdentity p;
  p.model_id = model;
  p.retriever_id = "test-retriever";
  p.memory_layer = 2;
  p.entry_tokens = 16;
  p.dtype = "bf16";
  p.n_head_kv = 3;
  p.head_dim = 8;
  p.emb_dim = 16;
  return p;
}

inline std::string hash_of(const std::string& s) {
  return sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

inline DocumentMeta doc_meta(const std::string& path, const std::string& content,
                             const std::string& title = "A Title") {
  DocumentMeta m;
  m.path = path;
  m.content_hash = hash_of(content);
  m.size_bytes = static_cast<int64_t>(content.size());
  m.mtime = 1700000000;
  m.title = title;
  m.author = "Author";
  m.language = "en";
  m.format = "text";
  return m;
}

// Owns the buffers a ChunkInput points into.
struct SyntheticChunk {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<float> embedding;
  std::vector<float> k, v;
  ChunkInput input;
};

// Values exactly representable in bf16 (multiples of 1/64 in [-2, 2)), so load_kv must return
// them bit for bit.
inline std::vector<SyntheticChunk> make_chunks(const ProfileIdentity& p, uint32_t doc_seed,
                                               int32_t first_ordinal, int32_t n,
                                               int32_t tokens_per_chunk = 16) {
  std::vector<SyntheticChunk> out(static_cast<size_t>(n));
  const size_t per_token = static_cast<size_t>(p.n_head_kv * p.head_dim);
  for (int32_t i = 0; i < n; ++i) {
    const int32_t ord = first_ordinal + i;
    std::mt19937 rng(doc_seed * 7919u + static_cast<uint32_t>(ord));
    SyntheticChunk& c = out[static_cast<size_t>(i)];
    c.text = "chunk " + std::to_string(ord) + " of doc " + std::to_string(doc_seed) + " word" +
             std::to_string(ord % 7) + " alpha";
    for (int32_t t = 0; t < tokens_per_chunk; ++t) c.tokens.push_back(ord * 1000 + t);
    std::normal_distribution<float> nd;
    double norm = 0;
    for (int32_t d = 0; d < p.emb_dim; ++d) {
      c.embedding.push_back(nd(rng));
      norm += double(c.embedding.back()) * c.embedding.back();
    }
    for (float& x : c.embedding) x = static_cast<float>(x / std::sqrt(norm));
    std::uniform_int_distribution<int> ui(-128, 127);
    for (size_t j = 0; j < per_token * static_cast<size_t>(tokens_per_chunk); ++j) {
      c.k.push_back(static_cast<float>(ui(rng)) / 64.0f);
      c.v.push_back(static_cast<float>(ui(rng)) / 64.0f);
    }
    c.input.ordinal = ord;
    c.input.text = c.text;
    c.input.token_begin = static_cast<int64_t>(ord) * tokens_per_chunk;
    c.input.token_end = c.input.token_begin + tokens_per_chunk;
    c.input.tokens = c.tokens;
    c.input.section_ordinal = ord / 4;
    c.input.page = ord / 2 + 1;
    c.input.embedding = c.embedding;
    c.input.k_f32 = c.k;
    c.input.v_f32 = c.v;
  }
  return out;
}

inline std::vector<ChunkInput> inputs(const std::vector<SyntheticChunk>& chunks) {
  std::vector<ChunkInput> in;
  for (const auto& c : chunks) in.push_back(c.input);
  return in;
}

}  // namespace memlong::store_test
