// LibraryStore: the persistent library of one folder (issue 4, "Store"): documents, sections,
// chunks (one chunk = one MemLong memory entry's text unit of <= E tokens), a full-text index,
// per-profile memory entries (the memory layer's pre-RoPE K/V + the retriever embedding), and
// saved sessions (session_store.h).
//
// On disk, in `dir`:
//   library.sqlite        the source of truth (schema.h), WAL mode
//   kv.dat                append-only K/V payloads (kv_file.h); its committed length lives in
//   SQLite index-<profile>.hnsw  hnswlib graph of a profile's embeddings (hnsw_index.h); a cache
//   that is
//                         rebuilt from SQLite whenever it does not match
//
// Invariants (the .cpp numbers and proves them; tests cite them):
//  1. Every memory entry belongs to exactly one chunk and one profile; entry id == chunk id.
//  2. Every entry's K/V record lies below kv.dat's committed mark, which is written in the same
//     SQLite transaction as the entry, after the record's bytes were fsync'ed.
//  3. A document has usable memory for profile P only when its (doc, P) memory row is complete
//     (set_document_status(ready) was committed after its last add_chunks); everything else
//     reads as needs_rebuild.
//  4. Chunk ordinals of (doc, profile) are 0..n-1 with no gap (add_chunks enforces it), so
//     committed_chunk_count() is where an interrupted ingest resumes.
//  5. Memory of two profiles is never mixed: every query and load names one profile.
//
// Thread-safety: a LibraryStore may be shared by threads. The expected use is one writer
// (ingestion, session saves) and one or more readers (search, load_kv) at the same time.
// Internally there are two SQLite connections, each behind its own mutex: writes serialise on the
// writer connection; reads use the reader connection (WAL: they see the last committed state and
// never wait for a write transaction). The kv.dat mapping and each profile's vector index sit
// behind shared_mutexes: searches and loads share them, inserts and remaps take them exclusively
// (hnswlib must not be searched during an insert). Results are plain values owned by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace memlong {

class SessionStore;
struct StoreContext;  // internal (store_context.h)

// What memory depends on. Two profiles with different identity() never share entries.
struct ProfileIdentity {
  std::string model_id;      // e.g. the model file's name + sha256 prefix, chosen by the caller
  std::string retriever_id;  // e.g. EmbedderInfo::name + file hash
  int32_t memory_layer = 0;
  int32_t entry_tokens = 128;  // E
  std::string dtype = "bf16";  // "bf16" or "f16": how kv.dat stores K/V of this profile
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t emb_dim = 0;
  // Canonical one-line string ("model=...;retriever=...;layer=..;E=..;dtype=..;hkv=..;dh=..;
  // emb=.."), the key the profiles table is unique on.
  std::string identity() const;
};

struct ProfileRecord {
  int64_t id = 0;
  ProfileIdentity identity;
};

enum class DocumentStatus { kPending, kIngesting, kReady, kFailed };
std::string_view document_status_name(DocumentStatus s);

struct DocumentMeta {
  std::string path;          // absolute path; unique in a library
  std::string content_hash;  // lowercase sha256 hex of the file bytes (sha256_file() in sha256.h)
  int64_t size_bytes = 0;
  int64_t mtime = 0;  // seconds since the epoch
  std::string title;
  std::string author;
  std::string language;
  std::string format;  // "text", "markdown", "html", "epub", "pdf", "docx"
};

struct DocumentRecord {
  int64_t id = 0;
  DocumentMeta meta;
  DocumentStatus status = DocumentStatus::kPending;
  std::string error;     // set with kFailed
  int64_t n_tokens = 0;  // sum of the doc's chunk tokens for the profile of its last ready ingest
  int64_t added_at = 0;  // seconds since the epoch
  int64_t updated_at = 0;
};

struct UpsertResult {
  int64_t doc_id = 0;
  bool is_new = false;        // no document had this path
  bool is_unchanged = false;  // same path and same content_hash: the caller may skip ingestion
};

struct SectionRecord {
  int32_t ordinal = 0;  // 0.. in reading order
  std::string title;
  int32_t level = 1;
  int32_t page = 0;  // 0: unknown
};

// One chunk of a batch for add_chunks. K and V are [n_tokens, n_head_kv, head_dim] in either f32
// (k_f32/v_f32) or the profile's 16-bit dtype bits (k_16/v_16); exactly one pair is set.
struct ChunkInput {
  int32_t ordinal = 0;  // must equal committed_chunk_count() + its index in the batch
  std::string text;
  int64_t token_begin = 0;  // token span within the document, [begin, end)
  int64_t token_end = 0;
  std::span<const int32_t> tokens;  // token_end - token_begin ids
  int32_t section_ordinal = -1;     // -1: none
  int32_t page = 0;
  std::span<const float> embedding;  // emb_dim floats, L2-normalised
  std::span<const float> k_f32;
  std::span<const float> v_f32;
  std::span<const uint16_t> k_16;
  std::span<const uint16_t> v_16;
};

// A stored entry's metadata (no K/V): enough to rebuild a MemoryEntryInput.
struct EntryRecord {
  int64_t entry_id = 0;  // == chunk id
  int64_t doc_id = 0;
  int64_t profile_id = 0;
  int32_t ordinal = 0;
  int64_t token_begin = 0;
  int64_t token_end = 0;
  int32_t n_tokens = 0;
  int32_t section_ordinal = -1;
  int32_t page = 0;
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<float> embedding;  // emb_dim floats
};

// Which documents a search may return. all() is every document of the library.
struct DocSet {
  bool is_all = true;
  std::vector<int64_t> ids;  // used when !is_all; an empty list matches nothing
  static DocSet all() { return {}; }
  static DocSet of(std::vector<int64_t> doc_ids) { return {false, std::move(doc_ids)}; }
};

struct VectorHit {
  int64_t entry_id = 0;
  float score = 0.0f;  // inner product with the query
};

struct TextHit {
  int64_t entry_id = 0;
  double bm25 = 0.0;  // SQLite's bm25(): lower (more negative) is better
};

// One fused result with its provenance.
struct SearchHit {
  int64_t entry_id = 0;  // == chunk id
  int64_t doc_id = 0;
  std::string doc_title;
  std::string section_title;  // "" when the chunk has no section
  int32_t page = 0;
  int64_t token_begin = 0;
  int64_t token_end = 0;
  std::string text;
  int32_t vector_rank = -1;  // 0-based rank in the vector list, -1 when absent from it
  int32_t bm25_rank = -1;    // 0-based rank in the BM25 list, -1 when absent from it
  float vector_score = 0.0f;
  double bm25_score = 0.0;
  double fused_score = 0.0;  // reciprocal-rank fusion: sum over lists of 1 / (kRrfK + rank + 1)
};

struct StoreOptions {
  // Candidate sets up to this many entries are searched exactly; above it, hnswlib. Exact search
  // of 50k x 384-d entries measured 7.8 ms (10k: 0.75 ms) on the shared 2-core dev VM under load
  // (bench/results/store_bench.json); 50k entries of E = 128 are 6.4M tokens of memory.
  int64_t exact_search_max = 50000;
  int32_t ann_ef_search = 512;  // hnswlib ef (recall@10 0.99 on random 384-d data; memory_bank.h)
  // false: the hnsw file is not written on close (tests of the rebuild path set it per call).
  bool save_index_on_close = true;
};

// The state of one profile's in-RAM vector index (hnsw_index.h), for tests and the status bar.
struct IndexState {
  int64_t n_entries = 0;
  bool has_graph = false;             // an hnswlib graph exists (profile above exact_search_max)
  bool was_loaded_from_file = false;  // the graph came from a valid index-<profile>.hnsw
  bool was_rebuilt = false;           // the graph was built from the embeddings in SQLite
  std::string note;                   // why a saved file was not used ("" when none was needed)
};

// What open() found and repaired; also returned by verify_kv().
struct StoreOpenReport {
  int64_t kv_bytes_truncated = 0;          // orphan bytes past the committed mark, removed
  std::vector<int64_t> corrupt_entry_ids;  // entries whose record was missing or failed its crc
  std::vector<int64_t> stale_doc_ids;      // documents marked for rebuild because of them
  std::vector<std::string> notes;          // human-readable lines for the log
};

class LibraryStore {
 public:
  static constexpr double kRrfK = 60.0;  // reciprocal-rank fusion constant (Cormack et al. 2009)

  // Opens or creates the library in `dir` (created if missing): runs migrations, truncates kv.dat
  // to its committed mark, drops memory rows whose K/V record lies past the file's end (marking
  // their docs for rebuild). Errors: IoError (folder/file), Corrupt (not a library, bad kv.dat
  // header), Unsupported (schema newer than this build).
  static Result<std::unique_ptr<LibraryStore>> open(const std::string& dir,
                                                    const StoreOptions& options = {});
  ~LibraryStore();  // saves dirty hnsw indexes (save_index_on_close)
  LibraryStore(const LibraryStore&) = delete;
  LibraryStore& operator=(const LibraryStore&) = delete;

  const std::string& dir() const;
  const StoreOpenReport& open_report() const;

  // ---- profiles ----
  // Returns the id of the profile with this identity, creating it. Errors: InvalidArgument.
  Result<int64_t> ensure_profile(const ProfileIdentity& identity);
  Result<ProfileRecord> get_profile(int64_t profile_id);
  Result<std::vector<ProfileRecord>> list_profiles();

  // ---- documents (writes) ----
  // Inserts or updates the document with meta.path. When the content_hash changed, the old
  // sections, chunks and memory of every profile are deleted and status goes back to pending.
  Result<UpsertResult> upsert_document(const DocumentMeta& meta);
  // Replaces all sections of the document (one transaction).
  Status replace_sections(int64_t doc_id, std::span<const SectionRecord> sections);
  // Appends one batch of chunks with their memory entries in ONE transaction: K/V records are
  // appended to kv.dat and fsync'ed first, then the rows and the new committed mark commit.
  // Ordinals must continue at committed_chunk_count(doc, profile) (invariant 4); sizes must match
  // the profile. Marks (doc, profile) incomplete and the doc kIngesting. Returns the entry ids.
  // Errors: InvalidArgument (ordinals, sizes, unknown doc/profile), IoError.
  Result<std::vector<int64_t>> add_chunks(int64_t doc_id, int64_t profile_id,
                                          std::span<const ChunkInput> batch);
  // Chunks committed for (doc, profile): where a resumed ingest starts.
  Result<int32_t> committed_chunk_count(int64_t doc_id, int64_t profile_id);
  // Written last by the pipeline. kReady: marks (doc, profile)'s memory complete and stores the
  // doc's n_tokens; kFailed: keeps `error`. profile_id is ignored for other statuses.
  Status set_document_status(int64_t doc_id, int64_t profile_id, DocumentStatus status,
                             const std::string& error = "");
  // Deletes chunks and memory of (doc, profile) and marks it incomplete; the doc stays.
  Status mark_stale(int64_t doc_id, int64_t profile_id);
  // True unless (doc, profile) has complete memory (invariant 3).
  Result<bool> needs_rebuild(int64_t doc_id, int64_t profile_id);
  // Removes the document with its sections, chunks, memory and session links (cascade). Its
  // K/V bytes stay in kv.dat until compact().
  Status remove_document(int64_t doc_id);
  // Deletes chunks/entries of every profile other than `keep_profile_id`. Returns rows removed.
  Result<int64_t> purge_other_profiles(int64_t keep_profile_id);

  // ---- documents (reads) ----
  Result<DocumentRecord> get_document(int64_t doc_id);
  Result<std::optional<DocumentRecord>> find_document_by_path(const std::string& path);
  Result<std::vector<DocumentRecord>> list_documents();
  Result<std::vector<SectionRecord>> sections(int64_t doc_id);

  // ---- entries ----
  // Entry ids of (profile, docs) in (doc, ordinal) order.
  Result<std::vector<int64_t>> list_entries(int64_t profile_id, const DocSet& docs);
  // Metadata of `entry_ids`, in the given order. Errors: NotFound naming the first missing id.
  Result<std::vector<EntryRecord>> get_entries(std::span<const int64_t> entry_ids);
  // Concatenates the K and V of `entry_ids` (in order, all of one profile) as f32 into k and v,
  // each [sum of n_tokens, n_head_kv, head_dim] (resized; previous contents dropped). Each
  // record's crc32 is checked. Errors: NotFound, InvalidArgument (mixed profiles), Corrupt (crc
  // or range: the entry's doc is marked for rebuild before returning).
  Status load_kv(std::span<const int64_t> entry_ids, std::vector<float>* k, std::vector<float>* v);
  // The K/V record bytes exactly as stored (16-bit K then V), for export and tests.
  Result<std::vector<uint8_t>> load_kv_raw(int64_t entry_id);

  // ---- search ----
  // Top-k entries of `profile` among `docs` by inner product with `query` (emb_dim floats):
  // exact when the candidate set has <= exact_search_max entries, hnswlib otherwise (over-fetch
  // and filter by doc, then exact over the doc set when too few survive). Best first; ties by
  // lower entry id.
  Result<std::vector<VectorHit>> search_vectors(int64_t profile_id, std::span<const float> query,
                                                int32_t k, const DocSet& docs);
  // Top-k chunks of `profile` among `docs` by FTS5 BM25 for free user text (escaped: quotes and
  // operators are taken literally; terms are OR'ed). Empty or all-punctuation text: no hits.
  Result<std::vector<TextHit>> search_text(int64_t profile_id, const std::string& query_text,
                                           int32_t k, const DocSet& docs);
  // Reciprocal-rank fusion of search_vectors and search_text (each asked for 2k hits),
  // top-k by fused score with provenance. An empty query_embedding skips the vector list; empty
  // query_text skips BM25.
  Result<std::vector<SearchHit>> search(int64_t profile_id, const std::string& query_text,
                                        std::span<const float> query_embedding, int32_t k,
                                        const DocSet& docs);

  // ---- maintenance ----
  // Checks every entry's K/V record (range and crc32); marks the docs of bad ones for rebuild.
  Result<StoreOpenReport> verify_kv();
  // Rewrites kv.dat without dead records (temp file + fsync + rename + one transaction that
  // moves every offset and the committed mark). Returns bytes reclaimed; 0, without rewriting,
  // when there is no dead record. Blocks readers of K/V only across the commit and the rename.
  Result<int64_t> compact();
  // Loads the profile's embeddings and, above exact_search_max entries, loads or builds its hnsw
  // graph and saves it: the work the first search_vectors() would do. Building a graph costs
  // seconds per 10k entries, so the ingestion worker calls this after a large ingest rather
  // than let the first question pay for it.
  Status prepare_search(int64_t profile_id);
  // Writes the hnsw file of every profile whose index changed since it was loaded or saved.
  Status save_indexes();
  int64_t kv_file_bytes() const;  // kv.dat's committed length
  // The profile's vector index as last loaded (n_entries 0 and no graph when not loaded yet).
  IndexState index_state(int64_t profile_id) const;

  SessionStore& sessions();

 private:
  friend Status export_session(LibraryStore&, int64_t, const std::string&);
  friend Result<int64_t> import_session(LibraryStore&, const std::string&);
  explicit LibraryStore(std::unique_ptr<StoreContext> ctx);
  std::unique_ptr<StoreContext> ctx_;
  std::unique_ptr<SessionStore> sessions_;
};

}  // namespace memlong
