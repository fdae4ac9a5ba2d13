// Character encodings of plain-text input: a byte-order mark wins, then valid UTF-8, then
// uchardet's guess; the bytes are converted to UTF-8 with iconv. Binary data (NUL bytes without
// a UTF-16/32 BOM, or many control characters) is refused rather than decoded into garbage.
// Thread-safety: free functions, reentrant (each call owns its uchardet and iconv handles).
#pragma once

#include <string>
#include <string_view>

#include "core/common/status.h"

namespace memlong {

struct DecodedText {
  std::string utf8;      // converted text, BOM removed (not yet normalised)
  std::string encoding;  // "UTF-8", "UTF-16LE", "WINDOWS-1252", "EUC-KR", ... (iconv name)
};

// True when the bytes look like binary data rather than text in any 8-bit or multibyte encoding.
// Looks at the first 64 KiB only. Text with a UTF-16/32 BOM is never binary.
bool looks_binary(std::string_view bytes);

// `file` names the input in error messages. Unsupported for binary data or an encoding that
// neither uchardet nor iconv knows.
Result<DecodedText> decode_to_utf8(std::string_view bytes, const std::string& file);

// Converts `bytes` from `encoding` (an iconv name) to UTF-8; invalid sequences become U+FFFD.
Result<std::string> convert_to_utf8(std::string_view bytes, const std::string& encoding,
                                    const std::string& file);

}  // namespace memlong
