// Memory bank figures (MEMLONG.md §3/§4; core/memory/memory_bank.h):
//   recall:  top-10 recall@10 of the hnswlib adapter (the bank's M and ef_construction) against
//            exact search on --recall-n random unit vectors of dimension --dim (random data is
//            the hard case for a graph index), --queries queries, for each ef_search in --efs.
//   search:  retrieve(k = --k) latency at 1k / 10k / 100k entries (--sizes), once with exact
//            search forced and once with the bank's default ann_threshold (50000: exact up to 50k
//            entries, hnswlib above); mean, p50 and p99 over --queries queries. Entries hold one
//            token, so only the embedding search is timed.
//   gather:  gather() of --k entries of --entry-tokens tokens with SmolLM2-135M's shape
//            (Hkv 3, dh 64, bf16 -> f32), in MB/s of f32 output (K and V).
// A plain main() rather than Google Benchmark: each figure needs its own setup (an index build
// of minutes at 100k) and recall is not a timing.
//   memory_bench [--dim 384] [--recall-n 20000] [--queries 200] [--k 8]
//                [--sizes 1000,10000,100000] [--efs 64,128,...] [--entry-tokens 128]
//                [--json FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/memory/memory_bank.h"
#include "core/memory/vector_index.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Options {
  int dim = 384;
  int recall_n = 20000;
  int n_queries = 200;
  int k = 8;
  std::vector<int> sizes = {1000, 10000, 100000};
  std::vector<int> efs = {64, 128, 256, 512, 1024, 2048};
  int entry_tokens = 128;
  std::string json_path;
};

struct SearchResult {
  int n_entries = 0;
  std::string mode;  // "exact" or "default" (hnswlib above ann_threshold)
  double build_s = 0.0;
  double mean_us = 0.0, p50_us = 0.0, p99_us = 0.0;
};

std::vector<float> unit_random(int dim, std::mt19937* rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(dim));
  double ss = 0.0;
  for (float& x : v) {
    x = nd(*rng);
    ss += double(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(ss));
  return v;
}

MemoryBankConfig search_config(int dim, int64_t ann_threshold) {
  MemoryBankConfig c;
  c.n_head_kv = 1;
  c.head_dim = 1;
  c.emb_dim = dim;
  c.entry_tokens = 1;
  c.capacity_tokens = int64_t{1} << 40;
  c.ann_threshold = ann_threshold;
  return c;
}

// Appends the vectors as one-token entries; returns the bank or exits.
std::unique_ptr<MemoryBank> build_bank(const MemoryBankConfig& c,
                                       const std::vector<std::vector<float>>& data) {
  auto created = MemoryBank::create(c);
  if (!created.is_ok()) {
    std::fprintf(stderr, "memory_bench: %s\n", created.status().to_string().c_str());
    std::exit(1);
  }
  auto bank = std::move(created).value();
  const float kv = 0.0f;
  for (size_t i = 0; i < data.size(); ++i) {
    MemoryEntryInput in;
    in.doc_id = 1;
    in.token_offset = static_cast<int64_t>(i);
    in.tokens = {static_cast<int32_t>(i)};
    in.embedding = data[i];
    in.k = {&kv, 1};
    in.v = {&kv, 1};
    auto r = bank->append(in);
    if (!r.is_ok()) {
      std::fprintf(stderr, "memory_bench: %s\n", r.status().to_string().c_str());
      std::exit(1);
    }
  }
  return bank;
}

struct RecallPoint {
  int ef = 0;
  double recall = 0.0;
  double mean_us = 0.0;
};

// The hnswlib adapter (as the bank builds it: M 16, ef_construction 200) against FlatIndex, for
// several ef_search values on one graph. Also returns the exact search time per query.
std::vector<RecallPoint> measure_recall(const Options& o, double* build_s, double* exact_us) {
  std::mt19937 rng(1);
  FlatIndex flat(o.dim);
  std::vector<std::vector<float>> data;
  for (int i = 0; i < o.recall_n; ++i) {
    data.push_back(unit_random(o.dim, &rng));
    flat.add(uint64_t(i + 1), data.back());
  }
  auto created = HnswIndex::create(o.dim, size_t(o.recall_n));
  if (!created.is_ok()) std::exit(5);
  auto ann = std::move(created).value();
  const auto t0 = Clock::now();
  for (int i = 0; i < o.recall_n; ++i) {
    if (!ann->add(uint64_t(i + 1), data[size_t(i)].data()).is_ok()) std::exit(6);
  }
  *build_s = seconds_since(t0);
  const size_t k = 10;
  std::vector<std::vector<float>> queries;
  std::vector<std::set<uint64_t>> truth;
  const auto t1 = Clock::now();
  for (int q = 0; q < o.n_queries; ++q) {
    queries.push_back(unit_random(o.dim, &rng));
    std::set<uint64_t> t;
    for (const auto& h : flat.search(queries.back(), k, {})) t.insert(h.label);
    truth.push_back(t);
  }
  *exact_us = seconds_since(t1) * 1e6 / o.n_queries;
  std::vector<RecallPoint> points;
  for (int ef : o.efs) {
    RecallPoint p;
    p.ef = ef;
    int64_t found = 0;
    const auto t2 = Clock::now();
    for (int q = 0; q < o.n_queries; ++q) {
      auto hits = ann->search(queries[size_t(q)], k, size_t(ef), {});
      if (!hits.is_ok()) std::exit(7);
      for (const auto& h : hits.value()) found += truth[size_t(q)].count(h.label);
    }
    p.mean_us = seconds_since(t2) * 1e6 / o.n_queries;
    p.recall = double(found) / (double(o.n_queries) * k);
    points.push_back(p);
  }
  return points;
}

SearchResult measure_search(const Options& o, int n, bool force_exact) {
  SearchResult res;
  res.n_entries = n;
  res.mode = force_exact ? "exact" : "default";
  std::mt19937 rng(2);
  std::vector<std::vector<float>> data;
  for (int i = 0; i < n; ++i) data.push_back(unit_random(o.dim, &rng));
  const auto t0 = Clock::now();
  auto bank = build_bank(
      search_config(o.dim, force_exact ? int64_t{1} << 40 : MemoryBankConfig{}.ann_threshold),
      data);
  res.build_s = seconds_since(t0);
  std::vector<double> us;
  for (int q = 0; q < o.n_queries; ++q) {
    const auto query = unit_random(o.dim, &rng);
    const auto t = Clock::now();
    const auto r = bank->retrieve(query, o.k, {});
    us.push_back(seconds_since(t) * 1e6);
    if (r.size() != static_cast<size_t>(std::min(o.k, n))) std::exit(2);
  }
  std::sort(us.begin(), us.end());
  for (double v : us) res.mean_us += v / double(us.size());
  res.p50_us = us[us.size() / 2];
  res.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return res;
}

double measure_gather_mb_s(const Options& o, double* bytes_per_call) {
  MemoryBankConfig c;
  c.n_head_kv = 3;  // SmolLM2-135M (MEMLONG.md §6)
  c.head_dim = 64;
  c.emb_dim = 64;
  c.entry_tokens = o.entry_tokens;
  c.capacity_tokens = int64_t{64} * o.entry_tokens;
  auto bank = std::move(MemoryBank::create(c)).value();
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> ud(-2.0f, 2.0f);
  const size_t elems = size_t(o.entry_tokens) * c.n_head_kv * c.head_dim;
  std::vector<float> k(elems), v(elems);
  for (float& x : k) x = ud(rng);
  for (float& x : v) x = ud(rng);
  std::vector<int32_t> tokens(size_t(o.entry_tokens), 1);
  for (int i = 0; i < 64; ++i) {
    MemoryEntryInput in;
    in.tokens = tokens;
    in.embedding = unit_random(c.emb_dim, &rng);
    in.k = k;
    in.v = v;
    if (!bank->append(in).is_ok()) std::exit(3);
  }
  std::vector<uint64_t> seqs;
  for (int i = 0; i < o.k; ++i) seqs.push_back(uint64_t(1 + (i * 7) % 64));
  std::vector<float> k_out, v_out;
  (void)bank->gather(seqs, &k_out, &v_out);  // warm-up: sizes the outputs
  const int reps = 200;
  const auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    if (!bank->gather(seqs, &k_out, &v_out).is_ok()) std::exit(4);
  }
  const double s = seconds_since(t0);
  *bytes_per_call = double(k_out.size() + v_out.size()) * sizeof(float);
  return *bytes_per_call * reps / s / 1e6;
}

std::vector<int> parse_sizes(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(std::atoi(part.c_str()));
  return out;
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(
          stderr,
          "usage: %s [--dim N] [--recall-n N] [--queries N] [--k N] [--sizes A,B,C] [--efs A,B] "
          "[--entry-tokens N] [--json FILE]\n",
          argv[0]);
      return 1;
    }
    const char* v = argv[++i];
    if (a == "--dim")
      o.dim = std::atoi(v);
    else if (a == "--recall-n")
      o.recall_n = std::atoi(v);
    else if (a == "--queries")
      o.n_queries = std::atoi(v);
    else if (a == "--k")
      o.k = std::atoi(v);
    else if (a == "--sizes")
      o.sizes = parse_sizes(v);
    else if (a == "--entry-tokens")
      o.entry_tokens = std::atoi(v);
    else if (a == "--json")
      o.json_path = v;
    else {
      std::fprintf(stderr, "memory_bench: unknown option %s\n", a.c_str());
      return 1;
    }
  }
  if (o.dim < 1 || o.recall_n < 10 || o.n_queries < 1 || o.k < 1 || o.entry_tokens < 1) {
    std::fprintf(stderr, "memory_bench: bad option value\n");
    return 1;
  }

  double recall_build_s = 0.0, exact_us = 0.0;
  const auto recall = measure_recall(o, &recall_build_s, &exact_us);
  std::printf("recall@10 hnswlib vs exact: n %d, dim %d, %d queries, build %.1f s, exact %.1f us\n",
              o.recall_n, o.dim, o.n_queries, recall_build_s, exact_us);
  for (const auto& p : recall) {
    std::printf("  ef_search %5d: recall@10 %.4f  %8.1f us/query\n", p.ef, p.recall, p.mean_us);
  }
  std::fflush(stdout);

  std::vector<SearchResult> searches;
  for (int n : o.sizes) {
    for (bool force_exact : {true, false}) {
      if (!force_exact && n <= MemoryBankConfig{}.ann_threshold)
        continue;  // the default is exact there too
      searches.push_back(measure_search(o, n, force_exact));
      const auto& r = searches.back();
      std::printf(
          "search n %7d %-7s k %d: mean %8.1f us  p50 %8.1f us  p99 %8.1f us  (build %.1f s)\n",
          r.n_entries, r.mode.c_str(), o.k, r.mean_us, r.p50_us, r.p99_us, r.build_s);
      std::fflush(stdout);
    }
  }

  double gather_bytes = 0.0;
  const double gather_mb_s = measure_gather_mb_s(o, &gather_bytes);
  std::printf("gather %d x %d tokens (Hkv 3, dh 64, bf16 -> f32): %.0f MB/s (%.2f MB per call)\n",
              o.k, o.entry_tokens, gather_mb_s, gather_bytes / 1e6);

  if (!o.json_path.empty()) {
    std::ofstream f(o.json_path);
    f << "{\n  \"recall\": {\"n\": " << o.recall_n << ", \"dim\": " << o.dim
      << ", \"queries\": " << o.n_queries << ", \"build_s\": " << recall_build_s
      << ", \"exact_us\": " << exact_us << ", \"by_ef\": [";
    for (size_t i = 0; i < recall.size(); ++i) {
      f << (i ? ", " : "") << "{\"ef_search\": " << recall[i].ef
        << ", \"recall_at_10\": " << recall[i].recall << ", \"mean_us\": " << recall[i].mean_us
        << "}";
    }
    f << "]},\n  \"search\": [\n";
    for (size_t i = 0; i < searches.size(); ++i) {
      const auto& r = searches[i];
      f << "    {\"n_entries\": " << r.n_entries << ", \"mode\": \"" << r.mode
        << "\", \"k\": " << o.k << ", \"dim\": " << o.dim << ", \"mean_us\": " << r.mean_us
        << ", \"p50_us\": " << r.p50_us << ", \"p99_us\": " << r.p99_us
        << ", \"build_s\": " << r.build_s << "}" << (i + 1 < searches.size() ? "," : "") << "\n";
    }
    f << "  ],\n  \"gather\": {\"entries\": " << o.k << ", \"entry_tokens\": " << o.entry_tokens
      << ", \"n_head_kv\": 3, \"head_dim\": 64, \"bytes_per_call\": " << gather_bytes
      << ", \"mb_per_s\": " << gather_mb_s << "}\n}\n";
    if (!f) {
      std::fprintf(stderr, "memory_bench: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
