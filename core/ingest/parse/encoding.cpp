#include "core/ingest/parse/encoding.h"

#include <iconv.h>
#include <uchardet/uchardet.h>

#include <cerrno>
#include <memory>

#include "core/ingest/parse/normalize.h"

namespace memlong {
namespace {

constexpr size_t kSniffBytes = 64 * 1024;
// Share of C0 control bytes (other than \t \n \r \f and ESC, used by ISO-2022) above which the
// bytes are called binary: text has almost none, uniformly random bytes have 11%.
constexpr double kMaxControlShare = 0.02;

struct Bom {
  std::string_view bytes;
  const char* encoding;
};
// UTF-32 before UTF-16: FF FE 00 00 starts with the UTF-16LE mark.
constexpr Bom kBoms[] = {{"\xEF\xBB\xBF", "UTF-8"},
                         {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32LE"},
                         {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32BE"},
                         {"\xFF\xFE", "UTF-16LE"},
                         {"\xFE\xFF", "UTF-16BE"}};

const Bom* find_bom(std::string_view bytes) {
  for (const Bom& bom : kBoms) {
    if (bytes.substr(0, bom.bytes.size()) == bom.bytes) return &bom;
  }
  return nullptr;
}

struct UchardetFree {
  void operator()(uchardet* u) const { uchardet_delete(u); }
};

}  // namespace

bool looks_binary(std::string_view bytes) {
  if (find_bom(bytes) != nullptr) return false;
  const std::string_view head = bytes.substr(0, kSniffBytes);
  size_t n_control = 0;
  for (char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return true;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1B) ++n_control;
  }
  return !head.empty() && static_cast<double>(n_control) > kMaxControlShare * head.size();
}

Result<std::string> convert_to_utf8(std::string_view bytes, const std::string& encoding,
                                    const std::string& file) {
  iconv_t cd = iconv_open("UTF-8", encoding.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return unsupported(file + ": text encoding '" + encoding + "' is not supported by iconv");
  }
  std::unique_ptr<void, int (*)(iconv_t)> closer(cd, &iconv_close);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 2);
  char buf[16384];
  char* in = const_cast<char*>(bytes.data());  // iconv's API is not const-correct
  size_t in_left = bytes.size();
  while (true) {
    char* dst = buf;
    size_t dst_left = sizeof(buf);
    const size_t rc =
        iconv(cd, in_left > 0 ? &in : nullptr, in_left > 0 ? &in_left : nullptr, &dst, &dst_left);
    out.append(buf, sizeof(buf) - dst_left);
    if (rc != static_cast<size_t>(-1)) {
      if (in_left == 0) break;
      continue;
    }
    if (errno == E2BIG) continue;
    // EILSEQ (invalid sequence) or EINVAL (truncated at the end): one replacement character.
    out += "\xEF\xBF\xBD";
    ++in;
    --in_left;
    if (in_left == 0) break;
  }
  char* dst = buf;  // flush a stateful encoding's shift state
  size_t dst_left = sizeof(buf);
  iconv(cd, nullptr, nullptr, &dst, &dst_left);
  out.append(buf, sizeof(buf) - dst_left);
  return out;
}

Result<DecodedText> decode_to_utf8(std::string_view bytes, const std::string& file) {
  DecodedText decoded;
  if (const Bom* bom = find_bom(bytes)) {
    decoded.encoding = bom->encoding;
    MEMLONG_ASSIGN_OR_RETURN(
        decoded.utf8, convert_to_utf8(bytes.substr(bom->bytes.size()), decoded.encoding, file));
    return decoded;
  }
  if (looks_binary(bytes)) {
    return unsupported(file +
                       ": expected text, found binary data (NUL or control bytes); not a document "
                       "format we read");
  }
  if (is_valid_utf8(bytes)) {
    decoded.encoding = "UTF-8";
    decoded.utf8 = std::string(bytes);
    return decoded;
  }
  std::unique_ptr<uchardet, UchardetFree> detector(uchardet_new());
  if (!detector) return out_of_memory(file + ": cannot create the encoding detector");
  if (uchardet_handle_data(detector.get(), bytes.data(), bytes.size()) != 0) {
    return out_of_memory(file + ": the encoding detector ran out of memory");
  }
  uchardet_data_end(detector.get());
  const char* charset = uchardet_get_charset(detector.get());
  if (charset == nullptr || charset[0] == '\0') {
    return unsupported(file + ": expected text, but its character encoding cannot be recognised");
  }
  decoded.encoding = charset;
  MEMLONG_ASSIGN_OR_RETURN(decoded.utf8, convert_to_utf8(bytes, decoded.encoding, file));
  return decoded;
}

}  // namespace memlong
