// Plain value types that cross from the Assistant (core) to its users: the CLI, the Qt views
// (ui/ converts them to Qt types on the GUI thread) and tests. No behaviour, no pointers into
// engine or store state: every value is a copy, safe to move to another thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/library_store.h"  // DocumentStatus

namespace memlong {

struct DocumentInfo {
  int64_t id = 0;
  std::string path;
  std::string title;
  std::string author;
  std::string language;
  std::string format;  // "text", "markdown", "html", "epub", "pdf", "docx"
  DocumentStatus status = DocumentStatus::kPending;
  std::string error;  // why it failed (status kFailed)
  int64_t size_bytes = 0;
  int64_t n_tokens = 0;
  int64_t n_chunks = 0;
  bool has_memory = false;  // memory for the current model/retriever/config exists
  std::string added_at;     // ISO 8601 UTC
};

enum class IngestStage { kParsing, kReading, kCommitting, kDone, kSkipped, kFailed, kCancelled };

struct IngestProgress {
  int32_t file_index = 0;  // 0-based, of n_files
  int32_t n_files = 0;
  std::string path;
  IngestStage stage = IngestStage::kParsing;
  int64_t chunks_done = 0;  // of the current file
  int64_t chunks_total = 0;
  int64_t tokens_done = 0;   // of the whole run
  int64_t tokens_total = 0;  // known tokens of the whole run so far (grows as files are parsed)
  double tokens_per_s = 0.0;
  double eta_s = -1.0;  // < 0: unknown
  std::string message;  // error text for kFailed, else ""
};

struct IngestFileResult {
  std::string path;
  int64_t doc_id = 0;                        // 0 when the file failed before it was recorded
  IngestStage outcome = IngestStage::kDone;  // kDone, kSkipped (unchanged), kFailed, kCancelled
  std::string error;
  int64_t n_tokens = 0;
};

struct IngestReport {
  std::vector<IngestFileResult> files;
  int64_t tokens_read = 0;
  double seconds = 0.0;
};

// One passage of a document, with its provenance.
struct Passage {
  int64_t entry_id = 0;  // the chunk / memory entry
  int64_t doc_id = 0;
  std::string doc_title;
  std::string section_title;
  int32_t section_ordinal = 0;
  int32_t page = 0;         // 1-based, 0 when the format has no pages
  int64_t token_begin = 0;  // token span in the document
  int64_t token_end = 0;
  std::string text;
};

struct LibraryHit {
  Passage passage;
  float vector_score = 0.0f;  // inner product of retriever embeddings
  float bm25_score = 0.0f;    // FTS5 bm25 (higher is better here; 0 when not matched)
  float fused_score = 0.0f;   // reciprocal-rank fusion
};

enum class AnswerMode { kMemory, kText, kNone };

struct Citation {
  Passage passage;
  float retrieval_score = 0.0f;  // fused score
  float attention_mass = 0.0f;   // share of the retrieval layers' attention on this entry (memory
                                 // mode; 0 in text mode)
  std::string quote;             // the passage sentence(s) most related to the answer
};

struct Answer {
  std::string text;
  AnswerMode mode = AnswerMode::kMemory;
  std::vector<Citation> citations;  // ranked
  bool cancelled = false;
  int32_t n_prompt_tokens = 0;
  int32_t n_tokens = 0;
  double time_to_first_token_s = 0.0;
  double tokens_per_s = 0.0;
};

struct AskOptions {
  AnswerMode mode = AnswerMode::kText;  // the measured default (docs/EVALUATION.md)
  int32_t top_k = 8;
  int32_t max_tokens = 256;
  float temperature = 0.0f;      // 0: greedy
  bool use_conversation = true;  // follow-ups see the session's earlier turns
};

struct ConversationMessage {
  std::string role;  // "user" or "assistant"
  std::string text;
  std::vector<Citation> citations;
  std::string created_at;
};

struct SessionInfo {
  int64_t id = 0;
  std::string name;
  std::string created_at;
  std::string updated_at;
  int32_t n_documents = 0;
  int32_t n_messages = 0;
  int64_t memory_tokens = 0;
};

struct SummaryProgress {
  int32_t chapter_index = 0;  // 0-based, of n_chapters; == n_chapters while the book summary runs
  int32_t n_chapters = 0;
  std::string chapter_title;
  int64_t tokens_done = 0;
  int64_t tokens_total = 0;
  double tokens_per_s = 0.0;
};

struct ChapterSummary {
  int32_t chapter_index = 0;
  std::string title;
  std::string text;
};

struct Summary {
  int64_t doc_id = 0;
  std::string doc_title;
  std::vector<ChapterSummary> chapters;
  std::string book_summary;
  bool cancelled = false;
};

// Markdown export of a summary (title, book summary, then one heading per chapter).
std::string summary_to_markdown(const Summary& summary);

// The document's text for the reader view: sections in order, and its chunks with their
// character spans inside their section's text (to highlight cited passages).
struct DocumentText {
  DocumentInfo info;
  struct Section {
    std::string title;
    int32_t level = 1;
    int32_t page = 0;
    std::string text;
  };
  struct Chunk {
    int64_t entry_id = 0;
    int32_t section_ordinal = 0;
    int64_t char_begin = 0;  // byte offsets into sections[section_ordinal].text
    int64_t char_end = 0;
  };
  std::vector<Section> sections;
  std::vector<Chunk> chunks;
};

// What the session's memory holds of one document, for the memory view: per entry, its token
// span, how often it was retrieved, and whether it is still in memory or was evicted.
struct MemoryMapEntry {
  int64_t entry_id = 0;
  int64_t token_begin = 0;
  int64_t token_end = 0;
  uint32_t hits = 0;
  bool in_memory = true;
};

struct AssistantStatus {
  std::string model_name;
  std::string model_path;
  std::string retriever_name;
  std::string device;  // backend description ("cpu (2 threads, avx512-vnni)", "cuda:0 ...")
  std::string library_dir;
  std::string session_name;
  int64_t memory_tokens = 0;  // in the current session's memory
  int64_t memory_capacity_tokens = 0;
  int64_t memory_bytes = 0;
  double last_tokens_per_s = 0.0;  // last generation or ingestion speed
};

}  // namespace memlong
