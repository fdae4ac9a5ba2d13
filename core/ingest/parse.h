// Document parsers for ingestion (issue 4): turn a file on disk (plain text, Markdown, HTML, EPUB,
// PDF, DOCX) into a ParsedDocument (core/ingest/document.h).
//
// Every input is hostile: sizes, archive ratios, entry counts, XML entities and hrefs are checked
// (see ParseLimits and core/ingest/parse/*). parse_document_isolated() additionally runs the parser
// in a child process with memory, CPU and wall-clock limits, so a parser crash, hang or memory
// blow-up on one file becomes a Status for that file and never takes the application down.
//
// Errors name the file, what was expected and what was found. Codes:
//   NotFound        the path does not exist
//   IoError         the file cannot be read (permissions, not a regular file, read error)
//   InvalidArgument the file is empty
//   Unsupported     not a document we read (binary data, an unknown zip, an encrypted PDF), too
//                   large for the limits, or parsing ran past the time limit
//   Corrupt         the file claims a format but breaks it (bad zip, malformed XML, a zip bomb,
//                   an EPUB href escaping the archive, a PDF poppler cannot open), or the parser
//                   crashed on it
//   OutOfMemory     the parser ran past max_memory_bytes
//   Cancelled       the cancel token was set (isolated parsing only)
// Thread-safety: all functions are reentrant and may run on several threads at once. The isolated
// variant starts the memlong-parse-worker executable (posix_spawn + exec, never a bare fork, so
// locks other threads hold cannot stall the child).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/common/cancel.h"
#include "core/common/status.h"
#include "core/ingest/document.h"

namespace memlong {

struct ParseLimits {
  int64_t max_file_bytes = int64_t{1} << 30;            // the input file itself (1 GiB)
  int64_t max_uncompressed_bytes = int64_t{512} << 20;  // zip: sum of all entries' sizes (512 MiB)
  // zip: uncompressed / compressed size of one entry larger than kRatioCheckMinBytes (1 MiB);
  // ordinary EPUB/DOCX text compresses 3-10x, zip bombs 1000x.
  double max_compression_ratio = 200.0;
  int64_t max_memory_bytes = int64_t{2} << 30;  // isolated: the child's RLIMIT_AS (2 GiB)
  int32_t timeout_ms = 120000;                  // isolated: wall clock; RLIMIT_CPU derives from it
  int32_t max_entries = 10000;                  // zip: number of entries
  int64_t max_text_bytes = int64_t{256} << 20;  // extracted UTF-8 text of the whole document
};

const char* document_format_name(DocumentFormat format);  // "text", "markdown", "html", ...

// Decides the format from the magic bytes first (%PDF, PK zip with an EPUB mimetype or
// META-INF/container.xml, or word/document.xml), then the extension (.md, .markdown, .html,
// .htm, .xhtml), then an HTML sniff, else plain text when the bytes are not binary.
// A .pdf/.epub/.docx whose bytes disagree with its extension is Corrupt.
Result<DocumentFormat> detect_format(const std::filesystem::path& path,
                                     const ParseLimits& limits = {});

// Parses in this process. Cheap to call; use parse_document_isolated for files from users.
Result<ParsedDocument> parse_document(const std::filesystem::path& path,
                                      const ParseLimits& limits = {});

// Parses in a memlong-parse-worker process (RLIMIT_AS = max_memory_bytes unless built with ASan,
// RLIMIT_CPU from timeout_ms) and reads the result over a pipe with a wall-clock timeout; kills and
// reaps the child on timeout or cancel. The returned document equals parse_document's.
Result<ParsedDocument> parse_document_isolated(const std::filesystem::path& path,
                                               const ParseLimits& limits = {},
                                               const CancelToken& cancel = {});

// The parser helper executable parse_document_isolated starts, and where it is looked for, in
// order: $MEMLONG_PARSE_WORKER alone when set; else beside the running executable
// (/proc/self/exe's folder), ../lib/memlong/ from there (the installed layout), then the build
// tree's copy (compiled in, so that tests and uninstalled builds find it).
inline constexpr const char* kParseWorkerFile = "memlong-parse-worker";
std::vector<std::string> parse_worker_candidates();
// The first candidate that is an executable file; NotFound naming every place looked at.
Result<std::string> find_parse_worker();
// The worker's main(): parses the file its arguments name under their limits and writes the
// encoded result to fd 3. Exit codes: 0 (result written), 1 (could not write it), 2 (bad
// arguments: it is not meant to be started by hand), 3 (out of memory even for the error).
int parse_worker_main(int argc, char** argv);

// Test hook: makes the next isolated children (workers) misbehave, to test the parent's handling.
// Not for production use; process-wide; set it back to kNone after the test.
enum class ParseChildFault { kNone, kAbort, kHang, kExhaustMemory };
void set_parse_child_fault_for_testing(ParseChildFault fault);

}  // namespace memlong
