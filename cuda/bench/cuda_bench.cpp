// GPU benchmark on synthetic models of real shapes (no model files travel to GPU machines):
//   pp<N>   one eval() of N prompt tokens into an empty cache (as bench/engine_bench.cpp)
//   tg<M>   M single-token evals after a 1-token prompt
//   tg<M> (no graphs)  the same with decode-step CUDA graphs off (Backend::
//           set_decode_graphs_enabled(false)): every op a plain launch; the graph gain is
//           tg / tg_no_graphs - 1. The decode-graph status line is printed after each model.
//   tg<M>+memory  the same with a MemLong read: n_mem memory keys joint with local attention in
//           the upper half of the layers (every 2nd), one block reused by every step; the
//           overhead is 1 - tg_mem / tg
//   memory gather  host -> device upload of one block's K and V ([n_mem, Hkv, dh] f32 each), the
//           per-pass cost of a new retrieval (InferenceContext::upload_memory)
//   memory gather (pool)  the same block gathered on the device from a DeviceKVPool (bf16 slots,
//           8 x n_mem capacity, entries of 128 tokens, every 4th entry retrieved) into f32
//           K/V: the device-bank path (issue 7); "(host pool)": the same with every slot in
//           mapped pinned host memory (the overflow region), read by the kernel over the bus
//   bandwidth bound  tg can at best read every weight once per token: bound = measured device
//           copy bandwidth / weight bytes per token (all matrices incl. the LM head; the
//           embedding table is read one row per token and left out unless tied)
// Shapes: SmolLM2-135M (30 x 576, 9/3 heads, ffn 1536) and Llama-3.2-1B-like (16 x 2048, 32/8
// heads, ffn 8192), Q4_0 and Q8_0. The synthetic vocabulary has 257 tokens, so the LM head is
// tiny: real 49k / 128k vocabularies add 28M / 262M weights per token to the bound.
// Retriever row (--retriever 1, the default): the BERT encoder of multilingual-e5-small's shape
// (12 layers, 384 hidden, 12 heads, ffn 1536, Q4_0 like the E5S1 file; 32000-row vocabulary
// instead of 250002: only get_rows reads it) with random weights: passages/s for calls of 32
// passages of 128 tokens (EncoderEmbedder's 4096-token batch) and the latency of one 16-token
// query.
// A plain main(), for the same reasons as engine_bench; reaches the GPU through the loader.
//   cuda_bench [--device cuda|cpu] [--json FILE] [--reps 3] [--warmup 1] [--n-prompt 512]
//              [--n-gen 128] [--n-mem 1024] [--models smollm2,1b] [--types q4_0,q8_0]
//              [--retriever 1|0] [--tmp DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/backend/backend_loader.h"
#include "core/memory/device_kv_pool.h"
#include "core/model/model_file.h"
#include "core/model/synthetic_model.h"
#include "core/quant/quant.h"
#include "core/retriever/bert_encoder.h"
#include "core/transformer/llama_model.h"

namespace memlong {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string device = "cuda";
  std::string json_path;
  std::string tmp_dir = std::filesystem::temp_directory_path().string();
  int n_reps = 3, n_warmup = 1, n_prompt = 512, n_gen = 128, n_mem = 1024;
  std::vector<std::string> models = {"smollm2", "1b"};
  std::vector<std::string> types = {"q4_0", "q8_0"};
  bool retriever = true;
};

struct Stats {
  double mean = 0.0, stddev = 0.0;
};

Stats summarize(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0.0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string stats_json(const Stats& s) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "{\"mean\": %.3f, \"stddev\": %.3f}", s.mean, s.stddev);
  return buf;
}

// Device copy bandwidth: a 512 MiB device-to-device copy reads and writes every byte.
Result<double> measure_bandwidth_gbs(Backend& b) {
  const size_t bytes = size_t{512} << 20;
  MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer src, b.alloc(bytes));
  MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer dst, b.alloc(bytes));
  b.copy(dst.data(), src.data(), bytes);  // warm-up
  MEMLONG_RETURN_IF_ERROR(b.synchronize());
  const int reps = 5;
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) b.copy(dst.data(), src.data(), bytes);
  MEMLONG_RETURN_IF_ERROR(b.synchronize());
  return 2.0 * static_cast<double>(bytes) * reps / seconds_since(t0) / 1e9;
}

struct ModelResult {
  std::string name;
  uint64_t weight_bytes_per_token = 0;
  Stats pp, tg, tg_mem, tg_no_graphs;
  std::string graph_status;
  double load_s = 0.0, gather_ms = 0.0, gather_bytes = 0.0;
  double pool_gather_ms = 0.0, host_pool_gather_ms = 0.0;
};

Result<ModelResult> bench_model(Backend& b, const std::string& shape, const std::string& type,
                                const Options& o) {
  SyntheticModelSpec spec;
  if (shape == "smollm2") {
    spec.n_layer = 30, spec.n_embd = 576, spec.n_head = 9, spec.n_head_kv = 3, spec.n_ff = 1536;
  } else if (shape == "1b") {
    spec.n_layer = 16, spec.n_embd = 2048, spec.n_head = 32, spec.n_head_kv = 8, spec.n_ff = 8192;
    spec.weight_scale = 0.02f;
  } else {
    return invalid_argument("unknown model shape " + shape);
  }
  if (type == "q4_0") {
    spec.matrix_type = DType::kQ4_0;
  } else if (type == "q8_0") {
    spec.matrix_type = DType::kQ8_0;
  } else if (type == "f16") {
    spec.matrix_type = DType::kF16;
  } else {
    return invalid_argument("unknown weight type " + type);
  }
  spec.n_ctx = 4096;
  spec.tied_embeddings = false;
  ModelResult r;
  r.name = shape + "-" + type;
  const std::string path = o.tmp_dir + "/memlong_cuda_bench_" + r.name + ".gguf";
  MEMLONG_RETURN_IF_ERROR(write_synthetic_llama_gguf(path, spec));
  MEMLONG_ASSIGN_OR_RETURN(auto file, open_model(path));
  for (const auto& [name, t] : file->tensors) {
    if (name != "token_embd.weight") r.weight_bytes_per_token += t.n_bytes;
  }
  auto t_load = Clock::now();
  MEMLONG_ASSIGN_OR_RETURN(auto model, LlamaModel::create(*file, b));
  r.load_s = seconds_since(t_load);
  const LlamaConfig& c = model->config();
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> tok(0, c.n_vocab - 1);

  {  // pp
    MEMLONG_ASSIGN_OR_RETURN(auto ctx, InferenceContext::create(*model, o.n_prompt, o.n_prompt));
    std::vector<int32_t> prompt(static_cast<size_t>(o.n_prompt));
    for (int32_t& t : prompt) t = tok(rng);
    std::vector<double> samples;
    for (int rep = 0; rep < o.n_warmup + o.n_reps; ++rep) {
      ctx->reset();
      const auto t0 = Clock::now();
      MEMLONG_ASSIGN_OR_RETURN(auto logits, ctx->eval(prompt, false));
      if (rep >= o.n_warmup) samples.push_back(o.n_prompt / seconds_since(t0));
    }
    r.pp = summarize(samples);
  }
  // tg, plain and with memory
  const int32_t kv_row = c.n_head_kv * c.head_dim;
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> mem_k(static_cast<size_t>(o.n_mem) * kv_row), mem_v(mem_k.size());
  for (float& x : mem_k) x = nd(rng);
  for (float& x : mem_v) x = nd(rng);
  std::vector<int32_t> layers;
  for (int32_t l = c.n_layer / 2; l < c.n_layer; l += 2) layers.push_back(l);
  for (int variant = 0; variant < 3; ++variant) {  // tg, tg+memory, tg without graphs
    const bool with_mem = variant == 1;
    b.set_decode_graphs_enabled(variant != 2);
    MEMLONG_ASSIGN_OR_RETURN(auto ctx, InferenceContext::create(*model, o.n_gen + 1, 1));
    MemoryAttention mem;
    mem.k = mem_k.data();
    mem.v = mem_v.data();
    mem.n_mem = o.n_mem;
    mem.retrieval_layers = layers;
    mem.block_id = 1;
    std::vector<double> samples;
    for (int rep = 0; rep < o.n_warmup + o.n_reps; ++rep) {
      ctx->reset();
      const int32_t first = tok(rng);
      if (with_mem) {
        MEMLONG_ASSIGN_OR_RETURN(auto l0, ctx->eval(std::span(&first, 1), false, mem, nullptr));
      } else {
        MEMLONG_ASSIGN_OR_RETURN(auto l0, ctx->eval(std::span(&first, 1), false));
      }
      const auto t0 = Clock::now();
      for (int i = 0; i < o.n_gen; ++i) {
        const int32_t t = tok(rng);
        if (with_mem) {
          MEMLONG_ASSIGN_OR_RETURN(auto l, ctx->eval(std::span(&t, 1), false, mem, nullptr));
        } else {
          MEMLONG_ASSIGN_OR_RETURN(auto l, ctx->eval(std::span(&t, 1), false));
        }
      }
      if (rep >= o.n_warmup) samples.push_back(o.n_gen / seconds_since(t0));
    }
    (variant == 0 ? r.tg : variant == 1 ? r.tg_mem : r.tg_no_graphs) = summarize(samples);
    if (variant == 1) r.graph_status = b.decode_graph_status();
  }
  b.set_decode_graphs_enabled(true);
  {  // memory gather: upload of one block's K and V
    const size_t bytes = mem_k.size() * sizeof(float);
    MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer dk, b.alloc(bytes));
    MEMLONG_ASSIGN_OR_RETURN(DeviceBuffer dv, b.alloc(bytes));
    const int reps = 10;
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) {
      b.copy_to_device(dk.data(), mem_k.data(), bytes);
      b.copy_to_device(dv.data(), mem_v.data(), bytes);
    }
    MEMLONG_RETURN_IF_ERROR(b.synchronize());
    r.gather_ms = seconds_since(t0) * 1e3 / reps;
    r.gather_bytes = 2.0 * static_cast<double>(bytes);
    // The device bank: the same n_mem tokens gathered from a slot pool (device, then host region).
    for (int host_only = 0; host_only < 2; ++host_only) {
      DeviceKVPoolConfig pc;
      pc.n_head_kv = c.n_head_kv;
      pc.head_dim = c.head_dim;
      pc.dtype = MemoryDType::kBF16;
      pc.capacity_tokens = 8 * static_cast<int64_t>(o.n_mem) + 128;
      pc.device_budget_bytes = host_only ? 0 : -1;
      MEMLONG_ASSIGN_OR_RETURN(auto pool, DeviceKVPool::create(b, pc));
      constexpr int32_t kEntry = 128;
      std::vector<uint64_t> pick;
      int64_t picked = 0;
      for (uint64_t seq = 0; picked < o.n_mem; ++seq) {
        // Entries never exceed the n_mem-token sample block the K/V come from.
        const int64_t full = std::min<int64_t>(kEntry, o.n_mem);
        const auto n =
            static_cast<int32_t>(seq % 4 == 0 ? std::min<int64_t>(full, o.n_mem - picked) : full);
        const size_t vals = static_cast<size_t>(n) * static_cast<size_t>(kv_row);
        MEMLONG_RETURN_IF_ERROR(
            pool->append_host(seq, std::span(mem_k.data(), vals), std::span(mem_v.data(), vals)));
        if (seq % 4 == 0) {
          pick.push_back(seq);
          picked += n;
        }
      }
      MEMLONG_RETURN_IF_ERROR(b.synchronize());
      const auto t1 = Clock::now();
      for (int i = 0; i < reps; ++i) {
        MEMLONG_ASSIGN_OR_RETURN(int64_t m, pool->gather(pick, dk.f32(), dv.f32(), o.n_mem));
        (void)m;
      }
      MEMLONG_RETURN_IF_ERROR(b.synchronize());
      (host_only ? r.host_pool_gather_ms : r.pool_gather_ms) = seconds_since(t1) * 1e3 / reps;
    }
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return r;
}

// ---- retriever encoder row ----
struct RetrieverResult {
  double load_s = 0.0;
  Stats passages_per_s;  // 32 passages of 128 tokens per call
  Stats query_ms;        // one 16-token query
};

Result<RetrieverResult> bench_retriever(Backend& b, const Options& o) {
  constexpr int kHidden = 384, kLayers = 12, kHeads = 12, kFfn = 1536, kVocab = 32000;
  constexpr int kMaxPos = 514, kPassages = 32, kPassageTokens = 128, kQueryTokens = 16;
  std::mt19937 rng(17);
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<std::vector<float>> vectors;
  vectors.reserve(2 + 10 * kLayers);
  auto matrix = [&](int64_t rows, int64_t cols, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> f(static_cast<size_t>(cols));
    const size_t rb = *dtype_row_bytes(DType::kQ4_0, static_cast<uint64_t>(cols));
    std::vector<uint8_t>& m = bytes.emplace_back(rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& x : f) x = dist(rng);
      quant::quantize_row(DType::kQ4_0, f.data(), m.data() + r * rb, cols);
    }
    return BertMatrix{DType::kQ4_0, m.data(), rb, rows, cols};
  };
  auto vec = [&](int64_t n, float value) {
    return vectors.emplace_back(static_cast<size_t>(n), value).data();
  };
  const auto t_load = Clock::now();
  BertConfig c{kHidden, kLayers, kHeads, kFfn, kVocab, kMaxPos, 0, 1e-12f};
  BertWeights w;
  w.word = matrix(kVocab, kHidden, 0.5f);
  w.pos = matrix(kMaxPos, kHidden, 0.2f);
  w.type = matrix(1, kHidden, 0.1f);
  w.emb_ln_w = vec(kHidden, 1.0f);
  w.emb_ln_b = vec(kHidden, 0.0f);
  for (int l = 0; l < kLayers; ++l) {
    BertLayer L;
    const float ws = 0.05f;
    L.q = matrix(kHidden, kHidden, ws);
    L.k = matrix(kHidden, kHidden, ws);
    L.v = matrix(kHidden, kHidden, ws);
    L.attn_out = matrix(kHidden, kHidden, ws);
    L.ffn_in = matrix(kFfn, kHidden, ws);
    L.ffn_out = matrix(kHidden, kFfn, 0.025f);
    L.q_b = L.k_b = L.v_b = L.attn_out_b = L.ffn_out_b = vec(kHidden, 0.0f);
    L.ffn_in_b = vec(kFfn, 0.0f);
    L.attn_ln_w = L.out_ln_w = vec(kHidden, 1.0f);
    L.attn_ln_b = L.out_ln_b = vec(kHidden, 0.0f);
    w.layers.push_back(L);
  }
  MEMLONG_ASSIGN_OR_RETURN(BertEncoder enc, BertEncoder::create(c, w, b));
  RetrieverResult r;
  r.load_s = seconds_since(t_load);

  auto make_batch = [&](int n_seq, int len, std::vector<int32_t>* ids,
                        std::vector<int64_t>* offsets) {
    ids->clear();
    offsets->assign(1, 0);
    for (int s = 0; s < n_seq; ++s) {
      for (int i = 0; i < len; ++i) ids->push_back(static_cast<int32_t>(rng() % kVocab));
      offsets->push_back(static_cast<int64_t>(ids->size()));
    }
  };
  std::vector<int32_t> ids, q_ids;
  std::vector<int64_t> offsets, q_offsets;
  make_batch(kPassages, kPassageTokens, &ids, &offsets);
  make_batch(1, kQueryTokens, &q_ids, &q_offsets);
  std::vector<float> out(static_cast<size_t>(kPassages) * kHidden);
  std::vector<double> pps, qms;
  for (int rep = 0; rep < o.n_warmup + o.n_reps; ++rep) {
    auto t0 = Clock::now();
    MEMLONG_RETURN_IF_ERROR(enc.encode(ids, offsets, Pooling::kMean, out.data()));
    const double s_pass = seconds_since(t0);
    t0 = Clock::now();
    MEMLONG_RETURN_IF_ERROR(enc.encode(q_ids, q_offsets, Pooling::kMean, out.data()));
    const double s_query = seconds_since(t0);
    if (rep < o.n_warmup) continue;
    pps.push_back(kPassages / s_pass);
    qms.push_back(s_query * 1e3);
  }
  r.passages_per_s = summarize(pps);
  r.query_ms = summarize(qms);
  return r;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--device cuda|cpu] [--json FILE] [--reps N] [--warmup N] "
               "[--n-prompt N] [--n-gen N] [--n-mem N] [--models smollm2,1b] "
               "[--types q4_0,q8_0] [--retriever 1|0] [--tmp DIR]\n",
               argv0);
  return 2;
}

int run(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string v = argv[++i];
    if (a == "--device")
      o.device = v;
    else if (a == "--json")
      o.json_path = v;
    else if (a == "--reps")
      o.n_reps = std::atoi(v.c_str());
    else if (a == "--warmup")
      o.n_warmup = std::atoi(v.c_str());
    else if (a == "--n-prompt")
      o.n_prompt = std::atoi(v.c_str());
    else if (a == "--n-gen")
      o.n_gen = std::atoi(v.c_str());
    else if (a == "--n-mem")
      o.n_mem = std::atoi(v.c_str());
    else if (a == "--models")
      o.models = split(v);
    else if (a == "--types")
      o.types = split(v);
    else if (a == "--tmp")
      o.tmp_dir = v;
    else if (a == "--retriever")
      o.retriever = v != "0";
    else
      return usage(argv[0]);
  }
  if (o.n_reps < 1 || o.n_warmup < 0 || o.n_prompt < 1 || o.n_gen < 1 || o.n_mem < 1) {
    return usage(argv[0]);
  }
  BackendOptions bo;
  bo.device = o.device;
  auto backend = make_backend(bo);
  if (!backend) {
    std::fprintf(stderr, "cuda_bench: %s\n", backend.status().to_string().c_str());
    return 1;
  }
  Backend& b = **backend;
  std::printf("backend %s: %s\n", b.name().c_str(), b.description().c_str());
  auto bw = measure_bandwidth_gbs(b);
  if (!bw) {
    std::fprintf(stderr, "cuda_bench: bandwidth: %s\n", bw.status().to_string().c_str());
    return 1;
  }
  std::printf("device copy bandwidth %.1f GB/s\n", *bw);
  std::vector<ModelResult> results;
  std::optional<RetrieverResult> retriever;
  // Rewritten after every model, so a run cut short by a timeout still leaves its results.
  auto write_json = [&](const std::vector<ModelResult>& results) -> bool {
    if (o.json_path.empty()) return true;
    std::ofstream f(o.json_path);
    f << "{\n  \"backend\": \"" << b.name() << "\",\n  \"description\": \"" << b.description()
      << "\",\n  \"device_copy_bandwidth_gbs\": " << *bw << ",\n  \"reps\": " << o.n_reps
      << ",\n  \"warmup\": " << o.n_warmup << ",\n  \"n_mem\": " << o.n_mem << ",\n  \"models\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const ModelResult& r = results[i];
      const double bound = *bw * 1e9 / static_cast<double>(r.weight_bytes_per_token);
      f << (i ? ",\n" : "\n") << "    {\"name\": \"" << r.name
        << "\", \"weight_bytes_per_token\": " << r.weight_bytes_per_token
        << ", \"load_s\": " << r.load_s << ", \"pp" << o.n_prompt << "\": " << stats_json(r.pp)
        << ", \"tg" << o.n_gen << "\": " << stats_json(r.tg) << ", \"tg" << o.n_gen
        << "_memory\": " << stats_json(r.tg_mem) << ", \"tg" << o.n_gen
        << "_no_graphs\": " << stats_json(r.tg_no_graphs)
        << ", \"graph_gain\": " << (r.tg.mean / r.tg_no_graphs.mean - 1.0)
        << ", \"decode_graphs\": \"" << r.graph_status << "\""
        << ", \"memory_overhead\": " << (1.0 - r.tg_mem.mean / r.tg.mean)
        << ", \"memory_gather_ms\": " << r.gather_ms
        << ", \"memory_gather_bytes\": " << r.gather_bytes
        << ", \"memory_gather_pool_ms\": " << r.pool_gather_ms
        << ", \"memory_gather_host_pool_ms\": " << r.host_pool_gather_ms
        << ", \"tg_bandwidth_bound_tps\": " << bound
        << ", \"tg_fraction_of_bound\": " << r.tg.mean / bound << "}";
    }
    f << "\n  ]";
    if (retriever) {
      f << ",\n  \"retriever_e5_small_q4_0\": {\"load_s\": " << retriever->load_s
        << ", \"passages_per_s_32x128\": " << stats_json(retriever->passages_per_s)
        << ", \"query_ms_16\": " << stats_json(retriever->query_ms) << "}";
    }
    f << "\n}\n";
    if (!f) {
      std::fprintf(stderr, "cuda_bench: could not write %s\n", o.json_path.c_str());
      return false;
    }
    return true;
  };
  for (const std::string& m : o.models) {
    for (const std::string& t : o.types) {
      auto r = bench_model(b, m, t, o);
      if (!r) {
        std::fprintf(stderr, "cuda_bench: %s-%s: %s\n", m.c_str(), t.c_str(),
                     r.status().to_string().c_str());
        return 1;
      }
      const double bound = *bw * 1e9 / static_cast<double>(r->weight_bytes_per_token);
      std::printf(
          "%-14s pp%d %9.1f ± %6.1f tok/s | tg%d %8.1f ± %5.1f tok/s (bound %.0f, %.0f%%) | "
          "no graphs %8.1f tok/s (graphs %+.1f%%) | "
          "tg+memory(%d) %8.1f tok/s (overhead %.1f%%) | gather %.3f ms (%.1f GB/s), pool %.3f "
          "ms, host pool %.3f ms | load %.2f s\n  decode graphs: %s\n",
          r->name.c_str(), o.n_prompt, r->pp.mean, r->pp.stddev, o.n_gen, r->tg.mean, r->tg.stddev,
          bound, 100.0 * r->tg.mean / bound, r->tg_no_graphs.mean,
          100.0 * (r->tg.mean / r->tg_no_graphs.mean - 1.0), o.n_mem, r->tg_mem.mean,
          100.0 * (1.0 - r->tg_mem.mean / r->tg.mean), r->gather_ms,
          r->gather_bytes / (r->gather_ms * 1e-3) / 1e9, r->pool_gather_ms, r->host_pool_gather_ms,
          r->load_s, r->graph_status.c_str());
      results.push_back(std::move(r).value());
      if (!write_json(results)) return 1;
    }
  }
  if (o.retriever) {
    auto r = bench_retriever(b, o);
    if (!r) {
      std::fprintf(stderr, "cuda_bench: retriever: %s\n", r.status().to_string().c_str());
      return 1;
    }
    std::printf(
        "e5-small-q4_0  passages (32 x 128 tokens) %8.1f ± %6.1f /s (%.0f tok/s) | query (16 "
        "tokens) %.2f ± %.2f ms | load %.2f s\n",
        r->passages_per_s.mean, r->passages_per_s.stddev, r->passages_per_s.mean * 128,
        r->query_ms.mean, r->query_ms.stddev, r->load_s);
    retriever = std::move(r).value();
    if (!write_json(results)) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace memlong

int main(int argc, char** argv) {
  return memlong::run(argc, argv);
}
