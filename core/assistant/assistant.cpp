// Assistant: see assistant.h.
#include "core/assistant/assistant.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <unordered_map>

#include "core/assistant/citations.h"
#include "core/assistant/prompts.h"
#include "core/assistant/qa.h"
#include "core/assistant/session_memory.h"
#include "core/assistant/summarize.h"
#include "core/common/paths.h"
#include "core/engine/engine.h"
#include "core/ingest/ingest_pipeline.h"
#include "core/memory/memlong_config.h"
#include "core/retriever/embedder.h"
#include "core/store/library_store.h"
#include "core/store/session_archive.h"
#include "core/store/session_store.h"

namespace memlong {

std::filesystem::path default_library_dir() {
  if (const char* d = std::getenv("MEMLONG_LIBRARY_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0') {
    return std::filesystem::path(x) / "memlong" / "library";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".local/share/memlong/library";
}

namespace {

std::string iso_time(int64_t t) {
  if (t <= 0) return "";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json citations_to_json(const std::vector<Citation>& cs) {
  nlohmann::json a = nlohmann::json::array();
  for (const Citation& c : cs) {
    a.push_back({{"entry_id", c.passage.entry_id},
                 {"doc_id", c.passage.doc_id},
                 {"doc_title", c.passage.doc_title},
                 {"section_title", c.passage.section_title},
                 {"section_ordinal", c.passage.section_ordinal},
                 {"page", c.passage.page},
                 {"token_begin", c.passage.token_begin},
                 {"token_end", c.passage.token_end},
                 {"text", c.passage.text},
                 {"retrieval_score", c.retrieval_score},
                 {"attention_mass", c.attention_mass},
                 {"quote", c.quote}});
  }
  return a;
}

std::vector<Citation> citations_from_json(const std::string& text) {
  std::vector<Citation> out;
  nlohmann::json a = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!a.is_array()) return out;
  for (const auto& j : a) {
    if (!j.is_object()) continue;
    Citation c;
    c.passage.entry_id = j.value("entry_id", int64_t{0});
    c.passage.doc_id = j.value("doc_id", int64_t{0});
    c.passage.doc_title = j.value("doc_title", std::string());
    c.passage.section_title = j.value("section_title", std::string());
    c.passage.section_ordinal = j.value("section_ordinal", 0);
    c.passage.page = j.value("page", 0);
    c.passage.token_begin = j.value("token_begin", int64_t{0});
    c.passage.token_end = j.value("token_end", int64_t{0});
    c.passage.text = j.value("text", std::string());
    c.retrieval_score = j.value("retrieval_score", 0.0f);
    c.attention_mass = j.value("attention_mass", 0.0f);
    c.quote = j.value("quote", std::string());
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

struct Assistant::Impl {
  AssistantOptions options;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Embedder> embedder;
  MemLongConfig config;
  std::unique_ptr<LibraryStore> store;
  std::unique_ptr<IngestPipeline> pipeline;
  int64_t profile_id = 0;
  int64_t session_id = 0;
  std::unique_ptr<SessionMemory> memory;
  PromptSet prompts;
  double last_tokens_per_s = 0.0;

  SessionStore& sessions() { return store->sessions(); }

  Result<SessionInfo> session_info(int64_t id) {
    MEMLONG_ASSIGN_OR_RETURN(SessionRecord r, sessions().get_session(id));
    SessionInfo info;
    info.id = r.id;
    info.name = r.name;
    info.created_at = iso_time(r.created_at);
    info.updated_at = iso_time(r.updated_at);
    MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> docs, sessions().documents(id));
    info.n_documents = static_cast<int32_t>(docs.size());
    MEMLONG_ASSIGN_OR_RETURN(std::vector<MessageRecord> msgs, sessions().messages(id));
    info.n_messages = static_cast<int32_t>(msgs.size());
    if (id == session_id && memory) {
      info.memory_tokens = memory->used_tokens();
    } else {
      MEMLONG_ASSIGN_OR_RETURN(SessionMemoryState st, sessions().load_memory_state(id));
      std::vector<int64_t> ids;
      for (const SessionMemoryEntry& e : st.entries) ids.push_back(e.entry_id);
      MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, store->get_entries(ids));
      for (const EntryRecord& e : recs) info.memory_tokens += e.n_tokens;
    }
    return info;
  }

  // Makes `id` the current session: its memory state is restored from the store (entries of the
  // current profile only; documents without memory for it are rebuilt on demand by ask()).
  Status activate_session(int64_t id) {
    MEMLONG_ASSIGN_OR_RETURN(SessionRecord r, sessions().get_session(id));
    auto mem = std::make_unique<SessionMemory>(options.session_capacity_tokens, config.eviction);
    MEMLONG_ASSIGN_OR_RETURN(SessionMemoryState st, sessions().load_memory_state(id));
    std::vector<int64_t> ids;
    for (const SessionMemoryEntry& e : st.entries) ids.push_back(e.entry_id);
    MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, store->get_entries(ids));
    std::unordered_map<int64_t, int32_t> sizes;
    for (const EntryRecord& e : recs) {
      if (e.profile_id == profile_id) sizes[e.entry_id] = e.n_tokens;
    }
    mem->restore(st, sizes);
    session_id = id;
    memory = std::move(mem);
    (void)r;
    // Remember it as the library's current session (read back by open()); written to a temporary
    // name and renamed so a crash never leaves half a number.
    const std::filesystem::path f = options.library_dir / "current-session";
    const std::filesystem::path tmp = options.library_dir / "current-session.tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << id << "\n";
      if (!out) return io_error("cannot write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, f, ec);
    if (ec) return io_error("cannot write " + f.string() + ": " + ec.message());
    return Status::ok();
  }

  Status save_memory() { return sessions().save_memory_state(session_id, memory->state()); }

  // Puts the current-profile entries of `doc_ids` into the session (documents and memory).
  Status add_documents_to_session(const std::vector<int64_t>& doc_ids) {
    MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> docs, sessions().documents(session_id));
    std::set<int64_t> all(docs.begin(), docs.end());
    all.insert(doc_ids.begin(), doc_ids.end());
    const std::vector<int64_t> merged(all.begin(), all.end());
    MEMLONG_RETURN_IF_ERROR(sessions().set_documents(session_id, merged));
    MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                             store->list_entries(profile_id, DocSet::of(doc_ids)));
    std::vector<int64_t> fresh;
    for (int64_t id : ids) {
      if (!memory->holds(id)) fresh.push_back(id);
    }
    MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, store->get_entries(fresh));
    for (const EntryRecord& e : recs) memory->add(e.entry_id, e.n_tokens);
    return save_memory();
  }

  Result<std::vector<int64_t>> session_documents() { return sessions().documents(session_id); }

  // Reads again the documents of `doc_ids` that have no memory for the current profile (a model,
  // retriever or memory setting changed since they were read), from their files, and puts their
  // new entries into the session's memory. Files that are gone are skipped (their documents stay
  // without memory and answer nothing).
  Status rebuild_stale(const std::vector<int64_t>& doc_ids, const CancelToken& cancel) {
    std::vector<std::filesystem::path> files;
    for (int64_t id : doc_ids) {
      MEMLONG_ASSIGN_OR_RETURN(bool stale, store->needs_rebuild(id, profile_id));
      if (!stale) continue;
      MEMLONG_ASSIGN_OR_RETURN(DocumentRecord d, store->get_document(id));
      std::error_code ec;
      if (std::filesystem::exists(d.meta.path, ec)) files.emplace_back(d.meta.path);
    }
    if (files.empty()) return Status::ok();
    MEMLONG_ASSIGN_OR_RETURN(IngestReport report, pipeline->run(files, {}, cancel));
    std::vector<int64_t> rebuilt;
    for (const IngestFileResult& r : report.files) {
      if (r.outcome == IngestStage::kDone || r.outcome == IngestStage::kSkipped)
        rebuilt.push_back(r.doc_id);
    }
    if (cancel.is_cancelled()) return cancelled();
    return rebuilt.empty() ? Status::ok() : add_documents_to_session(rebuilt);
  }

  Passage passage_of(const EntryRecord& e, const std::map<int64_t, DocumentRecord>& docs,
                     std::map<int64_t, std::vector<SectionRecord>>* sections) {
    Passage p;
    p.entry_id = e.entry_id;
    p.doc_id = e.doc_id;
    auto d = docs.find(e.doc_id);
    if (d != docs.end()) p.doc_title = d->second.meta.title;
    p.section_ordinal = e.section_ordinal;
    p.page = e.page;
    p.token_begin = e.token_begin;
    p.token_end = e.token_end;
    p.text = e.text;
    if (sections->count(e.doc_id) == 0) {
      auto s = store->sections(e.doc_id);
      (*sections)[e.doc_id] = s.is_ok() ? *s : std::vector<SectionRecord>{};
    }
    const auto& secs = (*sections)[e.doc_id];
    if (e.section_ordinal >= 0 && e.section_ordinal < static_cast<int32_t>(secs.size())) {
      p.section_title = secs[static_cast<size_t>(e.section_ordinal)].title;
    }
    return p;
  }
};

Assistant::Assistant(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Assistant::~Assistant() = default;

Result<std::unique_ptr<Assistant>> Assistant::open(const AssistantOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (impl->options.library_dir.empty()) impl->options.library_dir = default_library_dir();
  if (impl->options.session_capacity_tokens <= 0) {
    return invalid_argument("the session memory size must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(impl->options.library_dir, ec);
  if (ec) {
    return io_error("cannot create the library folder " + impl->options.library_dir.string() +
                    ": " + ec.message());
  }
  EngineOptions eo;
  eo.model_path = options.model_path;
  eo.n_threads = options.n_threads;
  eo.device = options.device;
  MEMLONG_ASSIGN_OR_RETURN(impl->engine, Engine::load(eo));
  std::string retriever =
      options.retriever_path.empty() ? default_retriever_path() : options.retriever_path;
  // The retriever's encoder runs on the same device as the LM (its own backend object).
  MEMLONG_ASSIGN_OR_RETURN(impl->embedder,
                           load_embedder(retriever, options.n_threads, options.device));
  std::vector<std::string> overrides;
  for (const auto& [k, v] : options.memlong_overrides) overrides.push_back(k + "=" + v);
  MEMLONG_ASSIGN_OR_RETURN(impl->config, memlong_config_for(impl->engine->file(), overrides));
  MEMLONG_ASSIGN_OR_RETURN(impl->store, LibraryStore::open(impl->options.library_dir.string()));
  IngestOptions ingest_options;
  ingest_options.batch_chunks = options.ingest_batch_chunks;
  MEMLONG_ASSIGN_OR_RETURN(impl->pipeline,
                           IngestPipeline::create(*impl->engine, *impl->embedder, *impl->store,
                                                  impl->config, ingest_options));
  impl->profile_id = impl->pipeline->profile_id();
  const std::string resources = default_resources_dir();
  MEMLONG_ASSIGN_OR_RETURN(
      impl->prompts,
      PromptSet::load(resources.empty() ? std::filesystem::path()
                                        : std::filesystem::path(resources) / "prompts",
                      chat_family_name(impl->engine->chat_template().family)));
  // The session used last (current-session file), else the most recently updated one, else a
  // new "Default" one.
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SessionRecord> all, impl->sessions().list_sessions());
  int64_t session = 0;
  {
    std::ifstream in(impl->options.library_dir / "current-session");
    int64_t last = 0;
    if (in >> last) {
      for (const SessionRecord& r : all) {
        if (r.id == last) session = last;
      }
    }
  }
  if (session == 0 && !all.empty()) session = all.front().id;
  if (session == 0) {
    MEMLONG_ASSIGN_OR_RETURN(
        session, impl->sessions().create_session("Default", impl->profile_id,
                                                 impl->options.session_capacity_tokens));
  }
  MEMLONG_RETURN_IF_ERROR(impl->activate_session(session));
  return std::unique_ptr<Assistant>(new Assistant(std::move(impl)));
}

AssistantStatus Assistant::status() const {
  AssistantStatus s;
  const auto& md = impl_->engine->file().metadata;
  auto it = md.find("general.name");
  s.model_name = it != md.end()
                     ? it->second
                     : std::filesystem::path(impl_->engine->file().path).filename().string();
  s.model_path = impl_->engine->file().path;
  s.retriever_name = impl_->embedder->info().name;
  s.device = impl_->engine->backend().description();
  if (!impl_->engine->backend_note().empty())
    s.device += " (" + impl_->engine->backend_note() + ")";
  s.library_dir = impl_->options.library_dir.string();
  auto info = impl_->sessions().get_session(impl_->session_id);
  if (info.is_ok()) s.session_name = info->name;
  s.memory_tokens = impl_->memory->used_tokens();
  s.memory_capacity_tokens = impl_->memory->capacity_tokens();
  const LlamaConfig& c = impl_->engine->model().config();
  s.memory_bytes =
      s.memory_tokens * 2 * c.n_head_kv * c.head_dim * 2 +
      static_cast<int64_t>(impl_->memory->n_entries()) * impl_->embedder->info().dim * 4;
  s.last_tokens_per_s = impl_->last_tokens_per_s;
  return s;
}

// ---- Library ----

Result<std::vector<DocumentInfo>> Assistant::documents() {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<DocumentRecord> docs, impl_->store->list_documents());
  std::vector<DocumentInfo> out;
  for (const DocumentRecord& d : docs) {
    DocumentInfo i;
    i.id = d.id;
    i.path = d.meta.path;
    i.title = d.meta.title;
    i.author = d.meta.author;
    i.language = d.meta.language;
    i.format = d.meta.format;
    i.status = d.status;
    i.error = d.error;
    i.size_bytes = d.meta.size_bytes;
    i.n_tokens = d.n_tokens;
    MEMLONG_ASSIGN_OR_RETURN(bool rebuild, impl_->store->needs_rebuild(d.id, impl_->profile_id));
    i.has_memory = !rebuild;
    MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> entries,
                             impl_->store->list_entries(impl_->profile_id, DocSet::of({d.id})));
    i.n_chunks = static_cast<int64_t>(entries.size());
    i.added_at = iso_time(d.added_at);
    out.push_back(std::move(i));
  }
  return out;
}

Result<IngestReport> Assistant::ingest(
    const std::vector<std::filesystem::path>& paths,
    const std::function<void(const IngestProgress&)>& on_progress, const CancelToken& cancel,
    const PauseToken& pause) {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> files, expand_ingest_paths(paths));
  MEMLONG_ASSIGN_OR_RETURN(IngestReport report,
                           impl_->pipeline->run(files, on_progress, cancel, pause));
  std::vector<int64_t> joined;
  for (const IngestFileResult& r : report.files) {
    if (r.doc_id != 0 && (r.outcome == IngestStage::kDone || r.outcome == IngestStage::kSkipped)) {
      joined.push_back(r.doc_id);
    }
  }
  if (!joined.empty()) MEMLONG_RETURN_IF_ERROR(impl_->add_documents_to_session(joined));
  // Above the exact-search size the vector index is built (or loaded) and saved now, on the
  // worker, not at the first question.
  MEMLONG_RETURN_IF_ERROR(impl_->store->prepare_search(impl_->profile_id));
  if (report.seconds > 0 && report.tokens_read > 0) {
    impl_->last_tokens_per_s = static_cast<double>(report.tokens_read) / report.seconds;
  }
  return report;
}

Status Assistant::remove_document(int64_t doc_id) {
  MEMLONG_RETURN_IF_ERROR(impl_->store->remove_document(doc_id));
  // The store dropped the document's session links and memory rows; re-read the session.
  return impl_->activate_session(impl_->session_id);
}

Result<DocumentText> Assistant::document_text(int64_t doc_id) {
  DocumentText out;
  MEMLONG_ASSIGN_OR_RETURN(std::vector<DocumentInfo> docs, documents());
  for (const DocumentInfo& d : docs) {
    if (d.id == doc_id) out.info = d;
  }
  if (out.info.id == 0)
    return not_found("no document " + std::to_string(doc_id) + " in the library");
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SectionRecord> secs, impl_->store->sections(doc_id));
  for (const SectionRecord& s : secs) out.sections.push_back({s.title, s.level, s.page, ""});
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                           impl_->store->list_entries(impl_->profile_id, DocSet::of({doc_id})));
  MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, impl_->store->get_entries(ids));
  // Chunks tile their section's text (chunker invariant 3): the text is their concatenation.
  for (const EntryRecord& e : recs) {
    if (e.section_ordinal < 0) continue;
    if (e.section_ordinal >= static_cast<int32_t>(out.sections.size())) {
      out.sections.resize(static_cast<size_t>(e.section_ordinal) + 1);
    }
    std::string& text = out.sections[static_cast<size_t>(e.section_ordinal)].text;
    DocumentText::Chunk c;
    c.entry_id = e.entry_id;
    c.section_ordinal = e.section_ordinal;
    c.char_begin = static_cast<int64_t>(text.size());
    text += e.text;
    c.char_end = static_cast<int64_t>(text.size());
    out.chunks.push_back(c);
  }
  return out;
}

Result<std::vector<LibraryHit>> Assistant::search(const std::string& query, int32_t k) {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> docs, impl_->session_documents());
  const std::string texts[1] = {query};
  MEMLONG_ASSIGN_OR_RETURN(std::vector<float> q, impl_->embedder->embed(texts, EmbedKind::kQuery));
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SearchHit> hits,
                           impl_->store->search(impl_->profile_id, query, q, k, DocSet::of(docs)));
  std::vector<int64_t> ids;
  for (const SearchHit& h : hits) ids.push_back(h.entry_id);
  MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, impl_->store->get_entries(ids));
  std::map<int64_t, DocumentRecord> doc_recs;
  std::map<int64_t, std::vector<SectionRecord>> sections;
  std::vector<LibraryHit> out;
  for (size_t i = 0; i < hits.size(); ++i) {
    if (doc_recs.count(recs[i].doc_id) == 0) {
      MEMLONG_ASSIGN_OR_RETURN(doc_recs[recs[i].doc_id],
                               impl_->store->get_document(recs[i].doc_id));
    }
    LibraryHit h;
    h.passage = impl_->passage_of(recs[i], doc_recs, &sections);
    h.vector_score = hits[i].vector_score;
    h.bm25_score = hits[i].bm25_rank >= 0 ? static_cast<float>(-hits[i].bm25_score) : 0.0f;
    h.fused_score = static_cast<float>(hits[i].fused_score);
    out.push_back(std::move(h));
  }
  return out;
}

// ---- Answers ----

Result<Answer> Assistant::ask(const std::string& question, const AskOptions& options,
                              const std::function<bool(std::string_view)>& on_piece,
                              const CancelToken& cancel) {
  Impl& im = *impl_;
  if (question.empty()) return invalid_argument("the question is empty");
  // 0. Rebuild on demand: session documents without memory for this profile are read again.
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> docs, im.session_documents());
  MEMLONG_RETURN_IF_ERROR(im.rebuild_stale(docs, cancel));

  // 1. Retrieval: retriever + BM25 fused over the session's documents, in memory only.
  std::vector<SearchHit> hits;
  if (options.mode != AnswerMode::kNone && !docs.empty() && options.top_k > 0) {
    const std::string texts[1] = {question};
    MEMLONG_ASSIGN_OR_RETURN(std::vector<float> q, im.embedder->embed(texts, EmbedKind::kQuery));
    MEMLONG_ASSIGN_OR_RETURN(
        std::vector<SearchHit> all,
        im.store->search(im.profile_id, question, q, options.top_k * 4, DocSet::of(docs)));
    for (const SearchHit& h : all) {
      if (static_cast<int32_t>(hits.size()) >= options.top_k) break;
      if (im.memory->holds(h.entry_id)) hits.push_back(h);
    }
  }
  // Passages in chronological (entry id) order, as the memory block is laid out.
  std::sort(hits.begin(), hits.end(),
            [](const SearchHit& a, const SearchHit& b) { return a.entry_id < b.entry_id; });
  std::vector<int64_t> ids;
  for (const SearchHit& h : hits) ids.push_back(h.entry_id);
  MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, im.store->get_entries(ids));
  std::map<int64_t, DocumentRecord> doc_recs;
  std::map<int64_t, std::vector<SectionRecord>> sections;
  std::vector<QaPassage> passages(recs.size());
  std::vector<Passage> provenance(recs.size());
  for (size_t i = 0; i < recs.size(); ++i) {
    if (doc_recs.count(recs[i].doc_id) == 0) {
      MEMLONG_ASSIGN_OR_RETURN(doc_recs[recs[i].doc_id], im.store->get_document(recs[i].doc_id));
    }
    provenance[i] = im.passage_of(recs[i], doc_recs, &sections);
    QaPassage& p = passages[i];
    p.entry_id = recs[i].entry_id;
    p.title = provenance[i].doc_title +
              (provenance[i].section_title.empty() ? "" : ", " + provenance[i].section_title);
    p.text = recs[i].text;
    p.tokens = recs[i].tokens;
    p.score = static_cast<float>(hits[i].fused_score);
    if (options.mode == AnswerMode::kMemory) {
      const int64_t one[1] = {recs[i].entry_id};
      MEMLONG_RETURN_IF_ERROR(im.store->load_kv(one, &p.k, &p.v));
    }
  }

  // 2. The conversation so far (follow-ups).
  QaOptions qo;
  qo.mode = options.mode;
  qo.max_tokens = options.max_tokens;
  qo.sampling.temperature = options.temperature;
  qo.memlong = im.config;
  qo.prompts = im.prompts;
  if (options.use_conversation) {
    MEMLONG_ASSIGN_OR_RETURN(std::vector<MessageRecord> msgs,
                             im.sessions().messages(im.session_id));
    for (const MessageRecord& m : msgs) qo.history.push_back({m.role, m.text});
  }

  // 3. Answer.
  MEMLONG_ASSIGN_OR_RETURN(QaResult r,
                           answer_question(*im.engine, question, passages, qo, on_piece, cancel));
  Answer a;
  a.text = r.text;
  a.mode = options.mode;
  a.cancelled = r.cancelled;
  a.n_prompt_tokens = r.n_prompt_tokens;
  a.n_tokens = r.n_tokens;
  a.time_to_first_token_s = r.ttft_s;
  a.tokens_per_s = r.tokens_per_s;
  std::vector<float> scores(passages.size());
  for (size_t i = 0; i < passages.size(); ++i) scores[i] = passages[i].score;
  for (const CitationRank& rank : rank_citations(scores, r.passage_attention_mass)) {
    Citation c;
    c.passage = provenance[rank.index];
    c.retrieval_score = scores[rank.index];
    c.attention_mass = rank.attention_mass;
    c.quote = pick_quote(passages[rank.index].text, r.text, question);
    a.citations.push_back(std::move(c));
  }
  im.last_tokens_per_s = r.tokens_per_s;

  // 4. Memory counters (MEMLONG.md §3: retrieved entries count a hit) and the conversation.
  for (const SearchHit& h : hits) im.memory->add_hit(h.entry_id);
  MEMLONG_RETURN_IF_ERROR(im.save_memory());
  MessageRecord user{0, "user", question, "[]", 0};
  MEMLONG_RETURN_IF_ERROR(im.sessions().append_message(im.session_id, user).status());
  MessageRecord reply{0, "assistant", a.text, citations_to_json(a.citations).dump(), 0};
  MEMLONG_RETURN_IF_ERROR(im.sessions().append_message(im.session_id, reply).status());
  return a;
}

Result<Summary> Assistant::summarize(int64_t doc_id, int32_t first_chapter, int32_t last_chapter,
                                     const std::function<void(const SummaryProgress&)>& on_progress,
                                     const CancelToken& cancel) {
  Impl& im = *impl_;
  MEMLONG_ASSIGN_OR_RETURN(DocumentText text, document_text(doc_id));
  // Chapters: the sections that hold text, in order.
  std::vector<DocumentText::Section> chapters;
  for (const DocumentText::Section& s : text.sections) {
    if (!s.text.empty()) chapters.push_back(s);
  }
  if (chapters.empty()) {
    return invalid_argument("document " + std::to_string(doc_id) +
                            " has no text for this model; ingest it first");
  }
  const auto n = static_cast<int32_t>(chapters.size());
  if (last_chapter < 0 || last_chapter >= n) last_chapter = n - 1;
  if (first_chapter < 0 || first_chapter > last_chapter) {
    return invalid_argument("chapter range " + std::to_string(first_chapter + 1) + "-" +
                            std::to_string(last_chapter + 1) + " is outside 1-" +
                            std::to_string(n));
  }
  const std::span<const DocumentText::Section> range(
      chapters.data() + first_chapter, static_cast<size_t>(last_chapter - first_chapter + 1));
  SummarizeOptions o;
  o.doc_id = doc_id;
  o.first_chapter_index = first_chapter;
  o.memlong = im.config;
  o.prompts = im.prompts;
  MEMLONG_ASSIGN_OR_RETURN(
      Summary summary,
      summarize_document(*im.engine, *im.embedder, text.info.title, range, o, on_progress, cancel));
  // Saved in the session's conversation, as Markdown.
  MessageRecord user{0, "user",
                     "Summarize " + text.info.title + " (chapters " +
                         std::to_string(first_chapter + 1) + "-" +
                         std::to_string(last_chapter + 1) + ")",
                     "[]", 0};
  MEMLONG_RETURN_IF_ERROR(im.sessions().append_message(im.session_id, user).status());
  MessageRecord reply{0, "assistant", summary_to_markdown(summary), "[]", 0};
  MEMLONG_RETURN_IF_ERROR(im.sessions().append_message(im.session_id, reply).status());
  return summary;
}

// ---- Sessions ----

Result<SessionInfo> Assistant::current_session() {
  return impl_->session_info(impl_->session_id);
}

Result<std::vector<SessionInfo>> Assistant::sessions() {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<SessionRecord> all, impl_->sessions().list_sessions());
  std::vector<SessionInfo> out;
  for (const SessionRecord& r : all) {
    MEMLONG_ASSIGN_OR_RETURN(SessionInfo i, impl_->session_info(r.id));
    out.push_back(std::move(i));
  }
  return out;
}

Result<SessionInfo> Assistant::new_session(const std::string& name) {
  MEMLONG_ASSIGN_OR_RETURN(
      int64_t id, impl_->sessions().create_session(name, impl_->profile_id,
                                                   impl_->options.session_capacity_tokens));
  MEMLONG_RETURN_IF_ERROR(impl_->activate_session(id));
  return impl_->session_info(id);
}

Result<SessionInfo> Assistant::load_session(int64_t session_id) {
  MEMLONG_RETURN_IF_ERROR(impl_->activate_session(session_id));
  return impl_->session_info(session_id);
}

Result<SessionInfo> Assistant::fork_session(int64_t session_id, const std::string& new_name) {
  if (session_id == impl_->session_id) MEMLONG_RETURN_IF_ERROR(impl_->save_memory());
  MEMLONG_ASSIGN_OR_RETURN(int64_t id, impl_->sessions().fork_session(session_id, new_name));
  MEMLONG_RETURN_IF_ERROR(impl_->activate_session(id));
  return impl_->session_info(id);
}

Status Assistant::rename_session(int64_t session_id, const std::string& name) {
  return impl_->sessions().rename_session(session_id, name);
}

Status Assistant::delete_session(int64_t session_id) {
  if (session_id == impl_->session_id) {
    return invalid_argument("the current session cannot be deleted; load another one first");
  }
  return impl_->sessions().delete_session(session_id);
}

Status Assistant::export_session(int64_t session_id, const std::filesystem::path& file) {
  if (session_id == impl_->session_id) MEMLONG_RETURN_IF_ERROR(impl_->save_memory());
  return memlong::export_session(*impl_->store, session_id, file.string());
}

Result<SessionInfo> Assistant::import_session(const std::filesystem::path& file) {
  MEMLONG_ASSIGN_OR_RETURN(int64_t id, memlong::import_session(*impl_->store, file.string()));
  return impl_->session_info(id);
}

Result<std::vector<ConversationMessage>> Assistant::conversation() {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<MessageRecord> msgs,
                           impl_->sessions().messages(impl_->session_id));
  std::vector<ConversationMessage> out;
  for (const MessageRecord& m : msgs) {
    out.push_back({m.role, m.text, citations_from_json(m.citations_json), iso_time(m.created_at)});
  }
  return out;
}

Result<std::vector<MemoryMapEntry>> Assistant::memory_map(int64_t doc_id) {
  MEMLONG_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
                           impl_->store->list_entries(impl_->profile_id, DocSet::of({doc_id})));
  MEMLONG_ASSIGN_OR_RETURN(std::vector<EntryRecord> recs, impl_->store->get_entries(ids));
  std::vector<MemoryMapEntry> out;
  for (const EntryRecord& e : recs) {
    out.push_back({e.entry_id, e.token_begin, e.token_end, impl_->memory->hits(e.entry_id),
                   impl_->memory->holds(e.entry_id)});
  }
  return out;
}

std::string summary_to_markdown(const Summary& summary) {
  std::string md = "# " + summary.doc_title + "\n\n" + summary.book_summary + "\n";
  for (const ChapterSummary& c : summary.chapters) {
    md += "\n## " +
          (c.title.empty() ? "Untitled section " + std::to_string(c.chapter_index + 1) : c.title) +
          "\n\n" + c.text + "\n";
  }
  return md;
}

}  // namespace memlong
