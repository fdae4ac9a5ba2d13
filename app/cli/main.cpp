// memlong: the command-line interface to MemLong Desktop's engine.
//   memlong info [MODEL]                 what a model file holds
//   memlong generate [-m MODEL] -p TEXT  answer a prompt (chat template unless --raw)
//   memlong chat [-m MODEL]              interactive conversation
//   memlong tokenize [-m MODEL] TEXT     token ids and pieces
// Errors go to stderr with a non-zero exit code; generated text goes to stdout.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/cli_common.h"
#include "core/common/cancel.h"
#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/generate/chat_session.h"
#include "core/generate/generator.h"
#include "core/memory/eval_passkey.h"
#include "core/memory/eval_ppl.h"
#include "core/memory/reader.h"
#include "core/quant/quant.h"

namespace {

using namespace memlong;
using cli::fail;
using cli::write_json;

// Ctrl-C cancels the generation in progress; a second one while idle ends the program.
CancelSource* g_cancel = nullptr;
volatile std::sig_atomic_t g_interrupts = 0;

void on_sigint(int) {
  g_interrupts = g_interrupts + 1;
  if (g_cancel != nullptr) g_cancel->cancel();
  if (CancelSource* c = cli::active_cancel(); c != nullptr) c->cancel();
}

struct ModelArgs {
  std::string model;
  int threads = 0;
  std::string device = "cpu";
};

void add_model_args(CLI::App* cmd, ModelArgs* a) {
  cmd->add_option(
      "-m,--model", a->model,
      "Model: a .gguf file or a Hugging Face folder (default: " + default_model_path() + ")");
  cmd->add_option("-t,--threads", a->threads, "CPU threads (default: all cores)");
  cmd->add_option("--device", a->device,
                  "Compute device: cpu, cuda, cuda:N, or auto (CUDA when usable, else CPU)")
      ->capture_default_str();
}

struct SamplingArgs {
  int max_tokens = 256;
  float temp = 0.0f;
  int top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.1f;
  uint64_t seed = 0;
  int ctx = 4096;
};

void add_sampling_args(CLI::App* cmd, SamplingArgs* a) {
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Most tokens to generate")
      ->capture_default_str();
  cmd->add_option("--temp", a->temp, "Temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", a->top_k, "Keep the k most likely tokens; 0 = off")
      ->capture_default_str();
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass; 1 = off")->capture_default_str();
  cmd->add_option("--min-p", a->min_p, "Drop tokens below min-p x the best; 0 = off")
      ->capture_default_str();
  cmd->add_option("--repeat-penalty", a->repeat_penalty, "Repetition penalty; 1 = off")
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  cmd->add_option("-c,--ctx", a->ctx, "Context size in tokens")->capture_default_str();
}

GenerateOptions to_options(const SamplingArgs& a) {
  GenerateOptions o;
  o.max_tokens = a.max_tokens;
  o.sampling.temperature = a.temp;
  o.sampling.top_k = a.top_k;
  o.sampling.top_p = a.top_p;
  o.sampling.min_p = a.min_p;
  o.sampling.repetition_penalty = a.repeat_penalty;
  o.sampling.seed = a.seed;
  return o;
}

Result<std::unique_ptr<Engine>> load_engine(const ModelArgs& a) {
  EngineOptions eo;
  eo.model_path = a.model;
  eo.n_threads = a.threads;
  eo.device = a.device;
  auto engine = Engine::load(eo);
  if (engine.is_ok() && !(*engine)->backend_note().empty()) {
    std::fprintf(stderr, "memlong: %s\n", (*engine)->backend_note().c_str());
  }
  return engine;
}

bool print_piece(std::string_view piece) {
  std::fwrite(piece.data(), 1, piece.size(), stdout);
  std::fflush(stdout);
  return true;
}

void print_stats(const GenerateResult& r) {
  std::fprintf(stderr,
               "\n[prompt: %d tokens, %.1f tok/s | generated: %zu tokens, %.1f tok/s | stop: %s]\n",
               r.n_prompt_tokens, r.prompt_ms > 0 ? 1000.0 * r.n_prompt_tokens / r.prompt_ms : 0.0,
               r.tokens.size(), r.tokens_per_second(), stop_reason_name(r.stop_reason));
}

int cmd_info(const std::string& path_arg) {
  const std::string path = path_arg.empty() ? default_model_path() : path_arg;
  auto file = open_model(path);
  if (!file.is_ok()) return fail(file.status());
  const ModelFile& f = **file;
  const LlamaConfig& c = f.config;
  std::printf("file:          %s (%s)\n", f.path.c_str(), f.format.c_str());
  std::printf("name:          %s\n", c.name.c_str());
  std::printf("architecture:  %s\n", c.architecture.c_str());
  std::printf("layers:        %d\nhidden:        %d\nffn:           %d\n", c.n_layer, c.n_embd,
              c.n_ff);
  std::printf("heads:         %d (kv %d, head dim %d)\n", c.n_head, c.n_head_kv, c.head_dim);
  std::printf("vocab:         %d\ncontext:       %d\n", c.n_vocab, c.n_ctx_train);
  std::printf("rope:          theta %g, %s layout\n", c.rope_theta,
              c.rope_layout == RopeLayout::kInterleaved ? "interleaved" : "rotate-half");
  std::printf("rms eps:       %g\ntied output:   %s\n", c.rms_eps,
              c.tied_embeddings ? "yes" : "no");
  auto tok = f.make_tokenizer();
  if (tok.is_ok()) {
    const Tokenizer& t = **tok;
    std::printf("tokenizer:     %s, %d tokens, bos %d, eos %d\n", std::string(t.kind()).c_str(),
                t.n_vocab(), t.bos_id(), t.eos_id());
    const ChatTemplate ct = detect_chat_template(f.chat_template, c.architecture, &t);
    std::printf(
        "chat template: %s%s%s\n", std::string(chat_family_name(ct.family)).c_str(),
        ct.default_system.empty() ? "" : ", default system prompt: ", ct.default_system.c_str());
  } else {
    std::printf("tokenizer:     error: %s\n", tok.status().to_string().c_str());
  }
  if (auto mc = memlong_config_for(f); mc.is_ok()) {
    std::printf("memlong:       %s\n", mc->summary().c_str());
  } else {
    std::printf("memlong:       error: %s\n", mc.status().to_string().c_str());
  }
  std::printf("\nmetadata:\n");
  for (const auto& [k, v] : f.metadata) std::printf("  %-40s %s\n", k.c_str(), v.c_str());
  std::printf("\ntensors (%zu):\n", f.tensors.size());
  uint64_t total = 0;
  for (const auto& [name, t] : f.tensors) {
    std::string shape;
    for (int d = 0; d < t.n_dims; ++d) shape += (d ? " x " : "") + std::to_string(t.ne[d]);
    std::printf("  %-32s %-6s [%s]\n", name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape.c_str());
    total += t.n_bytes;
  }
  std::printf("total tensor bytes: %.1f MiB\n", static_cast<double>(total) / (1 << 20));
  return 0;
}

int cmd_generate(const ModelArgs& ma, const SamplingArgs& sa, const std::string& prompt, bool raw,
                 const std::string& system, bool quiet) {
  auto engine = load_engine(ma);
  if (!engine.is_ok()) return fail(engine.status());
  const Engine& e = **engine;
  auto ctx = e.new_context(sa.ctx);
  if (!ctx.is_ok()) return fail(ctx.status());
  CancelSource cancel;
  g_cancel = &cancel;
  GenerateOptions opts = to_options(sa);
  std::vector<int32_t> tokens;
  if (raw || e.chat_template().family == ChatFamily::kNone) {
    tokens = e.tokenizer().encode(prompt, /*add_bos=*/true, /*parse_special=*/false);
  } else {
    std::vector<ChatMessage> msgs;
    if (!system.empty()) msgs.push_back({"system", system});
    msgs.push_back({"user", prompt});
    tokens = e.tokenizer().encode(apply_chat_template(e.chat_template(), msgs, true), true, true);
    opts.stop_strings = e.chat_template().stop_strings;
  }
  auto r = generate(**ctx, e.tokenizer(), tokens, opts, print_piece, cancel.token(), nullptr);
  g_cancel = nullptr;
  if (!r.is_ok()) return fail(r.status());
  std::printf("\n");
  if (!quiet) print_stats(*r);
  return 0;
}

int cmd_chat(const ModelArgs& ma, const SamplingArgs& sa, const std::string& system) {
  auto engine = load_engine(ma);
  if (!engine.is_ok()) return fail(engine.status());
  const Engine& e = **engine;
  if (e.chat_template().family == ChatFamily::kNone) {
    return fail(unsupported("this model has no chat template; use `memlong generate --raw`"));
  }
  auto ctx = e.new_context(sa.ctx);
  if (!ctx.is_ok()) return fail(ctx.status());
  ChatSession chat(**ctx, e.tokenizer(), e.chat_template(), system);
  std::fprintf(stderr,
               "memlong chat with %s on %s. /clear starts over, /exit or Ctrl-D quits, "
               "Ctrl-C stops an answer.\n",
               e.file().config.name.c_str(), e.backend().description().c_str());
  std::string line;
  for (;;) {
    std::fprintf(stderr, "> ");
    g_interrupts = 0;
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      chat.clear();
      continue;
    }
    if (line.empty()) continue;
    CancelSource cancel;
    g_cancel = &cancel;
    auto r = chat.send(line, to_options(sa), print_piece, cancel.token());
    g_cancel = nullptr;
    if (!r.is_ok()) {
      std::fprintf(stderr, "memlong: %s\n", r.status().to_string().c_str());
      continue;
    }
    std::printf("\n");
    print_stats(*r);
  }
  return 0;
}

int cmd_tokenize(const ModelArgs& ma, const std::string& text, bool ids_only, bool special) {
  const std::string path = ma.model.empty() ? default_model_path() : ma.model;
  auto file = open_model(path);
  if (!file.is_ok()) return fail(file.status());
  auto tok = (*file)->make_tokenizer();
  if (!tok.is_ok()) return fail(tok.status());
  const std::vector<int32_t> ids = (*tok)->encode(text, false, special);
  if (ids_only) {
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
  }
  for (int32_t id : ids) {
    std::printf("%6d  '%s'\n", id, (*tok)->token_to_bytes(id, false).c_str());
  }
  std::printf("%zu tokens\n", ids.size());
  return 0;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

// The retriever at `path` (empty: the default one) on `device` (as the LM's --device), with a
// message that names it on failure.
Result<std::unique_ptr<Embedder>> load_retriever(const std::string& path, int threads,
                                                 const std::string& device) {
  auto emb = load_embedder(path.empty() ? default_retriever_path() : path, threads, device);
  if (!emb.is_ok()) return emb.status().with_context("loading the retriever");
  return emb;
}

struct EvalPplArgs {
  std::vector<std::string> documents;
  std::string windows = "1024,2048";
  std::string modes = "none,zero,contiguous";
  std::string evictions = "counter";
  int64_t max_windows = 8;
  std::string retriever;
  std::vector<std::string> overrides;
  bool reset_per_document = false;
  int64_t score_last = 2048;
  std::string json_path;
};

int cmd_eval_ppl(const ModelArgs& ma, const EvalPplArgs& a) {
  auto engine = load_engine(ma);
  if (!engine.is_ok()) return fail(engine.status());
  const Engine& e = **engine;
  std::unique_ptr<Embedder> embedder;
  const std::vector<std::string> modes = split_list(a.modes);
  const bool any_memory =
      std::any_of(modes.begin(), modes.end(), [](const std::string& m) { return m != "none"; });
  if (any_memory) {
    auto emb = load_retriever(a.retriever, ma.threads, ma.device);
    if (!emb.is_ok()) return fail(emb.status());
    embedder = std::move(emb).value();
  }
  nlohmann::json runs = nlohmann::json::array();
  std::printf("| window | memory | positions | eviction | windows | scored tokens | PPL | s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const std::string& w : split_list(a.windows)) {
    for (const std::string& mode : modes) {
      for (const std::string& ev :
           mode == "none" ? std::vector<std::string>{"-"} : split_list(a.evictions)) {
        PplEvalOptions o;
        o.documents = a.documents;
        o.window_tokens = std::stoll(w);
        o.max_windows_per_doc = a.max_windows;
        o.use_memory = mode != "none";
        o.reset_per_document = a.reset_per_document;
        o.score_last_tokens = a.score_last;
        if (o.use_memory) {
          std::vector<std::string> ov = {"position_mode=" + mode, "eviction=" + ev};
          ov.insert(ov.end(), a.overrides.begin(), a.overrides.end());
          auto cfg = memlong_config_for(e.file(), ov);
          if (!cfg.is_ok()) return fail(cfg.status());
          o.memlong = *cfg;
        }
        auto r = run_ppl_eval(e, embedder.get(), o, [](int64_t done, int64_t total) {
          std::fprintf(stderr, "\r  window %lld/%lld", static_cast<long long>(done),
                       static_cast<long long>(total));
        });
        std::fprintf(stderr, "\r");
        if (!r.is_ok()) return fail(r.status());
        std::printf("| %s | %s | %s | %s | %lld | %lld | %.3f | %.0f |\n", w.c_str(),
                    o.use_memory ? "MemLong" : "none", o.use_memory ? mode.c_str() : "-",
                    ev.c_str(), static_cast<long long>(r->n_windows),
                    static_cast<long long>(r->n_scored_tokens), r->ppl, r->seconds);
        std::fflush(stdout);
        nlohmann::json j = {
            {"window", o.window_tokens},
            {"memory", o.use_memory},
            {"position_mode", o.use_memory ? mode : "none"},
            {"eviction", ev},
            {"memory_persistence", a.reset_per_document ? "reset_per_document" : "persistent"},
            {"windows", r->n_windows},
            {"scored_tokens", r->n_scored_tokens},
            {"ppl", r->ppl},
            {"mean_window_loss", r->mean_window_loss},
            {"seconds", r->seconds},
            {"memory_entries", r->memory_entries},
            {"memory_tokens", r->memory_tokens},
            {"evicted_entries", r->evicted_entries}};
        if (o.use_memory) j["memlong"] = o.memlong.summary();
        runs.push_back(j);
      }
    }
  }
  if (!a.json_path.empty()) {
    nlohmann::json out = {{"command", "eval-ppl"},
                          {"model", e.file().path},
                          {"retriever", embedder ? embedder->info().path : ""},
                          {"documents", a.documents},
                          {"max_windows_per_doc", a.max_windows},
                          {"threads", ma.threads},
                          {"runs", runs}};
    if (Status w = write_json(a.json_path, out); !w.is_ok()) return fail(w);
  }
  return 0;
}

struct PasskeyArgs {
  std::vector<std::string> fillers;
  std::string lengths = "4096";
  std::string depths = "0,25,50,75,100";
  std::string modes = "none,contiguous";
  int trials = 2;
  uint64_t seed = 1;
  bool reread_filler = false;
  std::string retriever;
  std::vector<std::string> overrides;
  std::string json_path;
};

int cmd_eval_passkey(const ModelArgs& ma, const PasskeyArgs& a) {
  auto engine = load_engine(ma);
  if (!engine.is_ok()) return fail(engine.status());
  const Engine& e = **engine;
  const std::vector<std::string> modes = split_list(a.modes);
  std::unique_ptr<Embedder> embedder;
  if (std::any_of(modes.begin(), modes.end(), [](const std::string& m) { return m != "none"; })) {
    auto emb = load_retriever(a.retriever, ma.threads, ma.device);
    if (!emb.is_ok()) return fail(emb.status());
    embedder = std::move(emb).value();
  }
  nlohmann::json runs = nlohmann::json::array();
  std::printf(
      "| memory | positions | length | depth %% | success | key in memory | key retrieved | "
      "found by the question alone |\n|---|---|---|---|---|---|---|---|\n");
  for (const std::string& mode : modes) {
    PasskeyOptions o;
    o.filler_paths = a.fillers;
    o.lengths.clear();
    for (const std::string& l : split_list(a.lengths)) o.lengths.push_back(std::stoll(l));
    o.depths_percent.clear();
    for (const std::string& d : split_list(a.depths)) o.depths_percent.push_back(std::stoi(d));
    o.trials = a.trials;
    o.seed = a.seed;
    o.use_memory = mode != "none";
    o.reuse_filler_entries = !a.reread_filler;
    if (o.use_memory) {
      std::vector<std::string> ov = {"position_mode=" + mode};
      ov.insert(ov.end(), a.overrides.begin(), a.overrides.end());
      auto cfg = memlong_config_for(e.file(), ov);
      if (!cfg.is_ok()) return fail(cfg.status());
      o.memlong = *cfg;
    }
    nlohmann::json run = {{"memory", o.use_memory},
                          {"position_mode", o.use_memory ? mode : "none"},
                          {"trials", nlohmann::json::array()}};
    if (o.use_memory) run["memlong"] = o.memlong.summary();
    // The table row of each cell as it completes, and the JSON rewritten after every trial, so
    // that a long grid stopped part way keeps what it measured.
    PasskeyCell cell;
    auto r = run_passkey_eval(e, embedder.get(), o, [&](const PasskeyTrial& t) {
      std::fprintf(stderr, "  %s len %lld depth %d%%: key %d, answer '%s' %s (%.0f s)\n",
                   mode.c_str(), static_cast<long long>(t.length), t.depth_percent, t.key,
                   t.answer.c_str(), t.success ? "ok" : "wrong", t.seconds);
      run["trials"].push_back({{"length", t.length},
                               {"depth_percent", t.depth_percent},
                               {"key", t.key},
                               {"answer", t.answer},
                               {"success", t.success},
                               {"key_in_memory", t.key_in_memory},
                               {"key_split", t.key_split},
                               {"key_retrieved", t.key_retrieved},
                               {"key_rank", t.key_rank},
                               {"key_rank_by_question", t.key_rank_by_question},
                               {"seconds", t.seconds}});
      if (cell.n_trials == 0) cell = PasskeyCell{t.length, t.depth_percent};
      ++cell.n_trials;
      cell.n_success += t.success ? 1 : 0;
      cell.n_key_in_memory += t.key_in_memory ? 1 : 0;
      cell.n_key_retrieved += t.key_retrieved ? 1 : 0;
      cell.n_key_by_question += t.key_rank_by_question >= 0 ? 1 : 0;
      if (cell.n_trials == o.trials) {
        const auto frac = [&](int32_t k) {
          return std::to_string(k) + "/" + std::to_string(cell.n_trials);
        };
        const std::string mem_cells = o.use_memory ? frac(cell.n_key_in_memory) + " | " +
                                                         frac(cell.n_key_retrieved) + " | " +
                                                         frac(cell.n_key_by_question)
                                                   : "- | - | -";
        std::printf("| %s | %s | %lld | %d | %s | %s |\n", o.use_memory ? "MemLong" : "none",
                    o.use_memory ? mode.c_str() : "-", static_cast<long long>(cell.length),
                    cell.depth_percent, frac(cell.n_success).c_str(), mem_cells.c_str());
        std::fflush(stdout);
        cell = PasskeyCell{};
      }
      if (!a.json_path.empty() && a.json_path != "-") {
        nlohmann::json all = runs;
        all.push_back(run);
        (void)write_json(a.json_path, {{"command", "eval-passkey"},
                                       {"model", e.file().path},
                                       {"filler", a.fillers},
                                       {"seed", a.seed},
                                       {"runs", all}});
      }
    });
    if (!r.is_ok()) return fail(r.status());
    runs.push_back(run);
  }
  if (!a.json_path.empty()) {
    nlohmann::json out = {{"command", "eval-passkey"},
                          {"model", e.file().path},
                          {"filler", a.fillers},
                          {"seed", a.seed},
                          {"runs", runs}};
    if (Status w = write_json(a.json_path, out); !w.is_ok()) return fail(w);
  }
  return 0;
}

int cmd_read(const ModelArgs& ma, const std::string& file, const std::string& retriever,
             const std::vector<std::string>& overrides, int64_t max_tokens) {
  auto engine = load_engine(ma);
  if (!engine.is_ok()) return fail(engine.status());
  const Engine& e = **engine;
  auto emb = load_retriever(retriever, ma.threads, ma.device);
  if (!emb.is_ok()) return fail(emb.status());
  auto cfg = memlong_config_for(e.file(), overrides);
  if (!cfg.is_ok()) return fail(cfg.status());
  auto text = read_text_file(file, size_t{1} << 30);
  if (!text.is_ok()) return fail(text.status());
  std::vector<int32_t> ids = e.tokenizer().encode(*text, false, false);
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(max_tokens);
  const MemoryBankConfig bc = memory_bank_config_for(e, **emb, *cfg);
  auto bank = MemoryBank::create(bc);
  if (!bank.is_ok()) return fail(bank.status());
  auto reader = MemLongReader::create(e, **emb, **bank, *cfg);
  if (!reader.is_ok()) return fail(reader.status());
  std::fprintf(stderr, "reading %zu tokens of %s with %s\n", ids.size(), file.c_str(),
               cfg->summary().c_str());
  CancelSource cancel;
  g_cancel = &cancel;
  ReadCallOptions ro;
  auto r = (*reader)->read_call(
      ids, ro,
      [&](const PassReport& p) {
        std::printf("pass @%lld (%d tokens%s): retrieved", static_cast<long long>(p.token_offset),
                    p.n_tokens, p.is_tail ? ", tail" : "");
        for (const RetrievedEntry& re : p.retrieved) {
          std::printf(" [%llu @%lld %.3f]", static_cast<unsigned long long>(re.info.seq),
                      static_cast<long long>(re.info.token_offset), re.score);
        }
        std::printf("; wrote %zu entries; memory %lld entries, %lld tokens\n", p.written.size(),
                    static_cast<long long>((*bank)->n_entries()),
                    static_cast<long long>((*bank)->used_tokens()));
      },
      cancel.token());
  g_cancel = nullptr;
  if (!r.is_ok()) return fail(r.status());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memlong: MemLong Desktop's engine on the command line"};
  app.set_version_flag("--version", std::string("memlong ") + MEMLONG_VERSION);
  app.require_subcommand(1);

  std::string info_model;
  auto* info = app.add_subcommand(
      "info", "Show a model's architecture, tensors, tokenizer and chat template");
  info->add_option("model", info_model, "Model file or folder (default: the embedded default)");

  ModelArgs gen_model;
  SamplingArgs gen_sampling;
  std::string gen_prompt, gen_system;
  bool gen_raw = false, gen_quiet = false;
  auto* gen = app.add_subcommand("generate", "Answer a prompt");
  add_model_args(gen, &gen_model);
  add_sampling_args(gen, &gen_sampling);
  gen->add_option("-p,--prompt", gen_prompt, "The prompt")->required();
  gen->add_option("-s,--system", gen_system, "System prompt (chat models)");
  gen->add_flag("--raw", gen_raw, "Plain completion: do not apply the chat template");
  gen->add_flag("-q,--quiet", gen_quiet, "Do not print speed statistics");

  ModelArgs chat_model;
  SamplingArgs chat_sampling;
  chat_sampling.temp = 0.7f;
  std::string chat_system;
  auto* chat = app.add_subcommand("chat", "Talk with the model interactively");
  add_model_args(chat, &chat_model);
  add_sampling_args(chat, &chat_sampling);
  chat->add_option("-s,--system", chat_system, "System prompt");

  ModelArgs tok_model;
  std::string tok_text;
  bool tok_ids = false, tok_special = false;
  auto* tok = app.add_subcommand("tokenize", "Show how text is split into tokens");
  add_model_args(tok, &tok_model);
  tok->add_option("text", tok_text, "Text to tokenize")->required();
  tok->add_flag("--ids", tok_ids, "Print only the ids");
  tok->add_flag("--special", tok_special, "Parse special tokens such as <|im_start|>");

  ModelArgs ppl_model;
  EvalPplArgs ppl;
  auto* eval_ppl = app.add_subcommand(
      "eval-ppl", "Sliding-window perplexity with and without MemLong memory (MEMLONG.md 8.1)");
  add_model_args(eval_ppl, &ppl_model);
  eval_ppl->add_option("documents", ppl.documents, "Text files")->required();
  eval_ppl->add_option("--windows", ppl.windows, "Window sizes in tokens")->capture_default_str();
  eval_ppl->add_option("--modes", ppl.modes, "none, zero, contiguous")->capture_default_str();
  eval_ppl->add_option("--eviction", ppl.evictions, "counter, fifo_half")->capture_default_str();
  eval_ppl->add_option("--max-windows", ppl.max_windows, "Windows per document (0: all)")
      ->capture_default_str();
  eval_ppl->add_option("--retriever", ppl.retriever, "Retriever file or folder");
  eval_ppl->add_option("--memlong", ppl.overrides, "MemLong setting key=value (repeatable)")
      ->allow_extra_args(false);
  eval_ppl->add_flag("--reset-per-document", ppl.reset_per_document,
                     "Clear memory between documents (default: persistent, as the reference)");
  eval_ppl
      ->add_option("--score-last", ppl.score_last,
                   "Score the last N tokens of each window (the reference: 2048)")
      ->capture_default_str();
  eval_ppl->add_option("--json", ppl.json_path, "Write the results as JSON to this file");

  ModelArgs read_model;
  std::string read_file, read_retriever;
  std::vector<std::string> read_overrides;
  int64_t read_max = 0;
  auto* read = app.add_subcommand("read", "Read a text through MemLong memory, showing retrieval");
  add_model_args(read, &read_model);
  read->add_option("file", read_file, "Text file")->required();
  read->add_option("--retriever", read_retriever, "Retriever file or folder");
  read->add_option("--memlong", read_overrides, "MemLong setting key=value (repeatable)")
      ->allow_extra_args(false);
  read->add_option("--max-tokens", read_max, "Read at most this many tokens");

  ModelArgs pk_model;
  PasskeyArgs pk;
  auto* eval_passkey = app.add_subcommand(
      "eval-passkey", "Passkey retrieval with and without MemLong memory (MEMLONG.md 8.2)");
  add_model_args(eval_passkey, &pk_model);
  eval_passkey
      ->add_option("filler", pk.fillers, "Text files the filler is taken from (in this order)")
      ->required();
  eval_passkey->add_option("--lengths", pk.lengths, "Prompt lengths in tokens")
      ->capture_default_str();
  eval_passkey->add_option("--depths", pk.depths, "Key depths in percent")->capture_default_str();
  eval_passkey->add_option("--modes", pk.modes, "none, zero, contiguous")->capture_default_str();
  eval_passkey->add_option("--trials", pk.trials, "Trials per cell")->capture_default_str();
  eval_passkey->add_option("--seed", pk.seed, "Random seed")->capture_default_str();
  eval_passkey->add_flag("--reread-filler", pk.reread_filler,
                         "Read every trial's whole prompt (slow) instead of reusing the filler's "
                         "memory entries");
  eval_passkey->add_option("--retriever", pk.retriever, "Retriever file or folder");
  eval_passkey->add_option("--memlong", pk.overrides, "MemLong setting key=value (repeatable)")
      ->allow_extra_args(false);
  eval_passkey->add_option("--json", pk.json_path, "Write the results as JSON to this file");

  cli::CommandSet library = cli::register_library_commands(app);
  cli::CommandSet answers = cli::register_answer_commands(app);

  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, on_sigint);

  if (int rc = 0; library.run_parsed(&rc) || answers.run_parsed(&rc)) return rc;
  if (*info) return cmd_info(info_model);
  if (*gen)
    return cmd_generate(gen_model, gen_sampling, gen_prompt, gen_raw, gen_system, gen_quiet);
  if (*chat) return cmd_chat(chat_model, chat_sampling, chat_system);
  if (*tok) return cmd_tokenize(tok_model, tok_text, tok_ids, tok_special);
  if (*eval_ppl) return cmd_eval_ppl(ppl_model, ppl);
  if (*eval_passkey) return cmd_eval_passkey(pk_model, pk);
  if (*read) return cmd_read(read_model, read_file, read_retriever, read_overrides, read_max);
  return 0;
}
