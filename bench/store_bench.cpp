// Library store figures (issue 4, "Store"; core/store/library_store.h), SmolLM2-135M shapes
// (memory layer K/V of Hkv 3 x dh 64 per token, bf16 in kv.dat; E = 128 tokens per entry;
// 384-d retriever embeddings), synthetic K/V and embeddings:
//   size:   bytes on disk per million tokens of memory (kv.dat, library.sqlite + WAL, total)
//   write:  add_chunks throughput (batches of --batch entries, one transaction and one fsync
//           each), tokens/s and MB/s of f32 K/V in
//   open:   a fresh process-like open of the library holding --tokens tokens, then its first
//           retrieval (search_vectors k = 8, which loads the profile's embeddings from SQLite)
//           and load_kv of the top-8 entries to f32; warm page cache (no root to drop it)
//   query:  warm search_vectors, fused search (vector + BM25), load_kv of 8 entries; mean/p50/p99
//   exact:  EntryVectorIndex exact search (k = 8, 384-d) at 10k / 50k entries, the size up to
//           which StoreOptions::exact_search_max keeps search exact
//   blob:   the alternative layout, K/V as BLOBs in a SQLite table, at --blob-tokens tokens:
//           write throughput and the read of 8 entries, for docs/ARCHITECTURE.md "## Store"
// A plain main() like bench/memory_bench.cpp: each figure needs its own setup.
//   store_bench [--tokens 1048576] [--batch 32] [--queries 50] [--blob-tokens 131072]
//               [--dir DIR] [--json FILE]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/common/half.h"
#include "core/store/hnsw_index.h"
#include "core/store/library_store.h"
#include "core/store/sha256.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr int kHkv = 3, kHeadDim = 64, kEntryTokens = 128, kEmbDim = 384;
constexpr int kPerToken = kHkv * kHeadDim;

struct Options {
  int64_t tokens = 1 << 20;
  int batch = 32;
  int queries = 50;
  int64_t blob_tokens = 1 << 17;
  std::string dir;
  std::string json_path;
};

ProfileIdentity smollm2_profile() {
  ProfileIdentity p;
  p.model_id = "SmolLM2-135M-Instruct (synthetic)";
  p.retriever_id = "multilingual-e5-small (synthetic)";
  p.memory_layer = 15;
  p.entry_tokens = kEntryTokens;
  p.dtype = "bf16";
  p.n_head_kv = kHkv;
  p.head_dim = kHeadDim;
  p.emb_dim = kEmbDim;
  return p;
}

struct Lcg {  // cheap deterministic values; the figures do not depend on the distribution
  uint64_t s;
  float next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>(static_cast<int32_t>(s >> 33) % 2048) / 1024.0f;
  }
};

std::vector<float> unit_vector(std::mt19937* rng) {
  std::normal_distribution<float> nd;
  std::vector<float> v(kEmbDim);
  double n = 0;
  for (float& x : v) {
    x = nd(*rng);
    n += double(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
  return v;
}

const char* kWords[] = {"memory", "river",  "castle", "engine", "garden", "winter", "letter",
                        "silver", "harbor", "forest", "signal", "copper", "violet", "anchor"};

struct Stats {
  double mean = 0, p50 = 0, p99 = 0;
};
Stats stats_us(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  return s;
}

// Bytes this process passed to write() so far (/proc/self/io "wchar"); 0 where unavailable.
int64_t written_bytes() {
  std::ifstream f("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (f >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

int64_t file_bytes(const std::string& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: %s [--tokens N] [--batch N] [--queries N] [--blob-tokens N] "
                   "[--dir DIR] [--json FILE]\n",
                   argv[0]);
      return 2;
    }
    const char* v = argv[++i];
    if (a == "--tokens")
      o.tokens = std::atoll(v);
    else if (a == "--batch")
      o.batch = std::atoi(v);
    else if (a == "--queries")
      o.queries = std::atoi(v);
    else if (a == "--blob-tokens")
      o.blob_tokens = std::atoll(v);
    else if (a == "--dir")
      o.dir = v;
    else if (a == "--json")
      o.json_path = v;
  }
  if (o.dir.empty()) o.dir = (fs::temp_directory_path() / "memlong_store_bench").string();
  fs::remove_all(o.dir);
  const int64_t n_entries = (o.tokens + kEntryTokens - 1) / kEntryTokens;
  const int n_docs = 16;
  std::printf("store_bench: %lld tokens = %lld entries of %d tokens, %d docs, in %s\n",
              static_cast<long long>(o.tokens), static_cast<long long>(n_entries), kEntryTokens,
              n_docs, o.dir.c_str());

  // ---- write ----
  double write_s = 0;
  const int64_t wchar_before = written_bytes();
  int64_t profile = 0;
  std::vector<int64_t> doc_ids;
  std::mt19937 rng(7);
  {
    auto s = std::move(LibraryStore::open(o.dir)).value();
    profile = *s->ensure_profile(smollm2_profile());
    Lcg lcg{42};
    const int64_t per_doc = (n_entries + n_docs - 1) / n_docs;
    int64_t written = 0;
    for (int d = 0; d < n_docs && written < n_entries; ++d) {
      const std::string name = "/bench/book" + std::to_string(d) + ".epub";
      DocumentMeta m;
      m.path = name;
      m.content_hash = sha256_hex({reinterpret_cast<const uint8_t*>(name.data()), name.size()});
      m.title = "Book " + std::to_string(d);
      m.format = "epub";
      const int64_t doc = s->upsert_document(m)->doc_id;
      doc_ids.push_back(doc);
      const int64_t n_here = std::min(per_doc, n_entries - written);
      for (int64_t first = 0; first < n_here; first += o.batch) {
        const int64_t nb = std::min<int64_t>(o.batch, n_here - first);
        std::vector<std::vector<float>> k(nb), v(nb), emb(nb);
        std::vector<std::vector<int32_t>> toks(nb);
        std::vector<std::string> texts(nb);
        std::vector<ChunkInput> in(nb);
        for (int64_t i = 0; i < nb; ++i) {
          k[i].resize(kEntryTokens * kPerToken);
          v[i].resize(kEntryTokens * kPerToken);
          for (float& x : k[i]) x = lcg.next();
          for (float& x : v[i]) x = lcg.next();
          emb[i] = unit_vector(&rng);
          toks[i].resize(kEntryTokens);
          for (int t = 0; t < kEntryTokens; ++t) toks[i][t] = static_cast<int32_t>(lcg.s % 49152);
          for (int w = 0; w < 90; ++w)
            texts[i] += std::string(kWords[(lcg.s >> (w % 40)) % 14]) + " ";
          ChunkInput& c = in[i];
          c.ordinal = static_cast<int32_t>(first + i);
          c.text = texts[i];
          c.token_begin = (first + i) * kEntryTokens;
          c.token_end = c.token_begin + kEntryTokens;
          c.tokens = toks[i];
          c.embedding = emb[i];
          c.k_f32 = k[i];
          c.v_f32 = v[i];
        }
        const auto t0 = Clock::now();
        auto ids = s->add_chunks(doc, profile, in);
        write_s += seconds_since(t0);
        if (!ids.is_ok()) {
          std::fprintf(stderr, "add_chunks: %s\n", ids.status().to_string().c_str());
          return 1;
        }
      }
      (void)s->set_document_status(doc, profile, DocumentStatus::kReady);
      written += n_here;
    }
  }
  const int64_t kv_wchar = written_bytes() - wchar_before;  // kv.dat + SQLite, through close
  const double tokens_written = static_cast<double>(n_entries * kEntryTokens);
  const double write_tok_s = tokens_written / write_s;
  const double write_mb_s = tokens_written * kPerToken * 2 * 4 / write_s / 1e6;
  const int64_t kv_bytes = file_bytes(o.dir + "/kv.dat");
  const int64_t db_bytes =
      file_bytes(o.dir + "/library.sqlite") + file_bytes(o.dir + "/library.sqlite-wal");
  const double per_m = 1e6 / tokens_written;
  std::printf("size: kv.dat %.1f MB, sqlite %.1f MB -> per 1M tokens: kv %.1f MB, sqlite %.1f MB\n",
              kv_bytes / 1e6, db_bytes / 1e6, kv_bytes * per_m / 1e6, db_bytes * per_m / 1e6);
  std::printf("write: %.0f tokens/s, %.1f MB/s of f32 K/V (%.2f s), %.0f bytes written per token\n",
              write_tok_s, write_mb_s, write_s, static_cast<double>(kv_wchar) / tokens_written);

  // ---- open + first retrieval + load_kv of the top 8 ----
  const auto q0 = unit_vector(&rng);
  const auto t_open = Clock::now();
  auto s = std::move(LibraryStore::open(o.dir)).value();
  const double open_s = seconds_since(t_open);
  const auto t_first = Clock::now();
  auto first = s->search_vectors(profile, q0, 8, DocSet::all());
  const double first_search_s = seconds_since(t_first);
  std::vector<int64_t> top;
  for (const auto& h : *first) top.push_back(h.entry_id);
  std::vector<float> k, v;
  const auto t_load = Clock::now();
  if (!s->load_kv(top, &k, &v).is_ok()) return 1;
  const double first_load_s = seconds_since(t_load);
  const double open_total_s = seconds_since(t_open);
  std::printf("open: %.1f ms open + %.1f ms first search + %.2f ms load_kv(8) = %.1f ms\n",
              open_s * 1e3, first_search_s * 1e3, first_load_s * 1e3, open_total_s * 1e3);

  // ---- warm queries ----
  std::vector<double> vec_us, fused_us, load_us;
  for (int i = 0; i < o.queries; ++i) {
    const auto q = unit_vector(&rng);
    auto t0 = Clock::now();
    auto hits = s->search_vectors(profile, q, 8, DocSet::all());
    vec_us.push_back(seconds_since(t0) * 1e6);
    std::vector<int64_t> ids;
    for (const auto& h : *hits) ids.push_back(h.entry_id);
    t0 = Clock::now();
    (void)s->load_kv(ids, &k, &v);
    load_us.push_back(seconds_since(t0) * 1e6);
    const std::string text = std::string(kWords[i % 14]) + " " + kWords[(i * 5 + 3) % 14];
    t0 = Clock::now();
    auto fused = s->search(profile, text, q, 8, DocSet::of({doc_ids[0], doc_ids[1], doc_ids[2]}));
    fused_us.push_back(seconds_since(t0) * 1e6);
    if (!fused.is_ok()) return 1;
  }
  const Stats vs = stats_us(vec_us), fs_ = stats_us(fused_us), ls = stats_us(load_us);
  std::printf(
      "query: search_vectors %.0f us (p99 %.0f), fused %.0f us (p99 %.0f), load_kv(8) "
      "%.0f us (p99 %.0f)\n",
      vs.mean, vs.p99, fs_.mean, fs_.p99, ls.mean, ls.p99);
  const auto t_compact = Clock::now();
  auto reclaimed = s->compact();
  const double compact_s = seconds_since(t_compact);
  s.reset();

  // ---- exact search scaling ----
  std::vector<std::pair<int, double>> exact_us;
  for (int n : {10000, 50000}) {
    EntryVectorIndex index(1, kEmbDim);
    std::vector<int64_t> ids(n), docs(n);
    std::vector<float> vecs;
    vecs.reserve(static_cast<size_t>(n) * kEmbDim);
    for (int i = 0; i < n; ++i) {
      ids[i] = i + 1;
      docs[i] = i % 16;
      const auto u = unit_vector(&rng);
      vecs.insert(vecs.end(), u.begin(), u.end());
    }
    if (!index.add(ids, docs, vecs).is_ok()) return 1;
    std::vector<double> us;
    for (int qi = 0; qi < o.queries; ++qi) {
      const auto q = unit_vector(&rng);
      const auto t0 = Clock::now();
      auto h = index.search(q, 8, DocSet::all(), 1 << 30, 0);
      us.push_back(seconds_since(t0) * 1e6);
      if (!h.is_ok()) return 1;
    }
    exact_us.push_back({n, stats_us(us).mean});
    std::printf("exact: %d entries %.0f us\n", n, exact_us.back().second);
  }

  // ---- the alternative: K/V as BLOBs in SQLite ----
  const std::string blob_path = o.dir + "/blob_compare.sqlite";
  const int64_t blob_entries = std::max<int64_t>(8, o.blob_tokens / kEntryTokens);
  double blob_write_s = 0, blob_read_us = 0;
  const int64_t blob_wchar_before = written_bytes();
  int64_t blob_wchar = 0;
  {
    sqlite3* db = nullptr;
    sqlite3_open(blob_path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE kv(id "
                 "INTEGER PRIMARY KEY, kv BLOB)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO kv(id, kv) VALUES (?, ?)", -1, &ins, nullptr);
    std::vector<uint16_t> payload(2 * kEntryTokens * kPerToken);
    Lcg lcg{9};
    for (int64_t first = 0; first < blob_entries; first += o.batch) {
      const auto t0 = Clock::now();
      sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
      for (int64_t i = first; i < std::min<int64_t>(blob_entries, first + o.batch); ++i) {
        for (auto& x : payload) x = f32_to_bf16(lcg.next());
        sqlite3_bind_int64(ins, 1, i + 1);
        sqlite3_bind_blob(ins, 2, payload.data(), static_cast<int>(payload.size() * 2),
                          SQLITE_TRANSIENT);
        sqlite3_step(ins);
        sqlite3_reset(ins);
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      blob_write_s += seconds_since(t0);
    }
    sqlite3_finalize(ins);
    // Count the checkpoint that moves the WAL into the database file, as a close would.
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    blob_wchar = written_bytes() - blob_wchar_before;
    sqlite3_stmt* sel = nullptr;
    sqlite3_prepare_v2(db, "SELECT kv FROM kv WHERE id = ?", -1, &sel, nullptr);
    std::vector<float> out(8 * kEntryTokens * kPerToken * 2);
    std::vector<double> us;
    for (int qi = 0; qi < o.queries; ++qi) {
      const auto t0 = Clock::now();
      for (int j = 0; j < 8; ++j) {
        sqlite3_bind_int64(sel, 1, 1 + static_cast<int64_t>(rng() % blob_entries));
        sqlite3_step(sel);
        const auto* b = static_cast<const uint16_t*>(sqlite3_column_blob(sel, 0));
        const int n = sqlite3_column_bytes(sel, 0) / 2;
        float* dst = out.data() + static_cast<size_t>(j) * kEntryTokens * kPerToken * 2;
        for (int t = 0; t < n; ++t) dst[t] = bf16_to_f32(b[t]);
        sqlite3_reset(sel);
      }
      us.push_back(seconds_since(t0) * 1e6);
    }
    blob_read_us = stats_us(us).mean;
    sqlite3_finalize(sel);
    sqlite3_close(db);
  }
  const double blob_tok_s = static_cast<double>(blob_entries * kEntryTokens) / blob_write_s;
  const double blob_tokens = static_cast<double>(blob_entries * kEntryTokens);
  std::printf(
      "blob: write %.0f tokens/s, %.0f bytes written per token, read of 8 entries %.0f us "
      "(kv.dat: %.0f tokens/s, %.0f us)\n",
      blob_tok_s, static_cast<double>(blob_wchar) / blob_tokens, blob_read_us, write_tok_s,
      ls.mean);

  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << "{\n";
    f << "  \"config\": {\"tokens\": " << static_cast<int64_t>(tokens_written)
      << ", \"entries\": " << n_entries << ", \"entry_tokens\": " << kEntryTokens
      << ", \"n_head_kv\": " << kHkv << ", \"head_dim\": " << kHeadDim
      << ", \"emb_dim\": " << kEmbDim << ", \"dtype\": \"bf16\", \"batch\": " << o.batch
      << ", \"docs\": " << n_docs << "},\n";
    f << "  \"size\": {\"kv_bytes\": " << kv_bytes << ", \"sqlite_bytes\": " << db_bytes
      << ", \"kv_mb_per_m_tokens\": " << kv_bytes * per_m / 1e6
      << ", \"sqlite_mb_per_m_tokens\": " << db_bytes * per_m / 1e6
      << ", \"total_mb_per_m_tokens\": " << (kv_bytes + db_bytes) * per_m / 1e6 << "},\n";
    f << "  \"write\": {\"seconds\": " << write_s << ", \"tokens_per_s\": " << write_tok_s
      << ", \"f32_kv_mb_per_s\": " << write_mb_s
      << ", \"bytes_written_per_token\": " << static_cast<double>(kv_wchar) / tokens_written
      << "},\n";
    f << "  \"open\": {\"open_ms\": " << open_s * 1e3
      << ", \"first_search_ms\": " << first_search_s * 1e3
      << ", \"first_load_kv8_ms\": " << first_load_s * 1e3
      << ", \"total_ms\": " << open_total_s * 1e3 << "},\n";
    f << "  \"query\": {\"queries\": " << o.queries
      << ", \"search_vectors_us\": {\"mean\": " << vs.mean << ", \"p50\": " << vs.p50
      << ", \"p99\": " << vs.p99 << "}, \"fused_3docs_us\": {\"mean\": " << fs_.mean
      << ", \"p50\": " << fs_.p50 << ", \"p99\": " << fs_.p99
      << "}, \"load_kv8_us\": {\"mean\": " << ls.mean << ", \"p50\": " << ls.p50
      << ", \"p99\": " << ls.p99 << "}},\n";
    f << "  \"exact_search_us\": {";
    for (size_t i = 0; i < exact_us.size(); ++i)
      f << (i ? ", " : "") << "\"" << exact_us[i].first << "\": " << exact_us[i].second;
    f << "},\n";
    f << "  \"compact\": {\"seconds\": " << compact_s
      << ", \"reclaimed_bytes\": " << (reclaimed.is_ok() ? *reclaimed : -1) << "},\n";
    f << "  \"blob_in_sqlite\": {\"tokens\": " << blob_entries * kEntryTokens
      << ", \"write_tokens_per_s\": " << blob_tok_s
      << ", \"bytes_written_per_token\": " << static_cast<double>(blob_wchar) / blob_tokens
      << ", \"read8_us\": " << blob_read_us << "}\n";
    f << "}\n";
    if (!f) {
      std::fprintf(stderr, "store_bench: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  fs::remove_all(o.dir);
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
