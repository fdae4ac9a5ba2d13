// GGUF parsing and writing. Invariants the parser establishes before returning a GgufFile:
//  1. version is 2 or 3; every string is valid UTF-8 and at most kMaxStringBytes long.
//  2. counts (kv, tensors, array elements) were checked against the bytes left before any vector
//     was sized from them, and are below the fixed caps below.
//  3. every tensor has 1..4 dims, each >= 1, a known type, a row length that is a whole number of
//     blocks, an element count and byte size that do not overflow, an aligned offset, and lies
//     entirely inside the file; tensor names are unique.
#include "core/model/gguf_reader.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_set>

namespace memlong {
namespace {

// Caps against hostile files. Real models: a few hundred kv pairs, ~1000 tensors, vocabularies
// of up to ~260k strings (Gemma 3 has 262144 tokens), merges a bit fewer.
constexpr uint64_t kMaxKv = 1u << 16;
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 26;  // a chat template or a single piece; 64 MiB
constexpr uint64_t kMaxArrayElems = 1u << 26;
constexpr int kMaxArrayDepth = 4;
constexpr int64_t kMaxDim = int64_t{1} << 40;

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

// Bounds-checked little-endian cursor over the file bytes.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& origin)
      : bytes_(bytes), origin_(origin) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return bytes_.size() - pos_; }

  Status fail(const std::string& what) const {
    return corrupt(origin_ + ": " + what + " at offset " + std::to_string(pos_));
  }

  template <typename T>
  Status read(T* out, const char* what) {
    if (left() < sizeof(T)) return fail(std::string("file ends inside ") + what);
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::ok();
  }

  Status read_string(std::string* out, const char* what) {
    uint64_t len = 0;
    MEMLONG_RETURN_IF_ERROR(read(&len, what));
    if (len > kMaxStringBytes) {
      return fail(std::string(what) + " claims " + std::to_string(len) + " bytes (limit " +
                  std::to_string(kMaxStringBytes) + ")");
    }
    if (len > left()) return fail(std::string(what) + " runs past the end of the file");
    out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    if (!is_valid_utf8(*out)) return fail(std::string(what) + " is not valid UTF-8");
    pos_ += len;
    return Status::ok();
  }

  Status seek(uint64_t pos) {
    if (pos > bytes_.size()) return fail("offset past the end of the file");
    pos_ = pos;
    return Status::ok();
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& origin_;
  uint64_t pos_ = 0;
};

// Minimum bytes one element of a type occupies in the file, for checking counts early.
uint64_t min_elem_bytes(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
      return 8;  // the length prefix
    case GgufType::kArray:
      return 12;  // type + count
  }
  return 1;
}

bool is_known_type(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufType::kF64);
}

Status read_value(Cursor& c, GgufType type, GgufValue* v, int depth);

Status read_scalar(Cursor& c, GgufType type, GgufValue* v) {
  v->type = type;
  switch (type) {
    case GgufType::kU8: {
      uint8_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "u8"));
      v->u = x;
      v->i = x;
      break;
    }
    case GgufType::kI8: {
      int8_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "i8"));
      v->i = x;
      break;
    }
    case GgufType::kU16: {
      uint16_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "u16"));
      v->u = x;
      v->i = x;
      break;
    }
    case GgufType::kI16: {
      int16_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "i16"));
      v->i = x;
      break;
    }
    case GgufType::kU32: {
      uint32_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "u32"));
      v->u = x;
      v->i = x;
      break;
    }
    case GgufType::kI32: {
      int32_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "i32"));
      v->i = x;
      break;
    }
    case GgufType::kU64: {
      uint64_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "u64"));
      v->u = x;
      v->i = x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? -1
                 : static_cast<int64_t>(x);
      break;
    }
    case GgufType::kI64: {
      int64_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "i64"));
      v->i = x;
      break;
    }
    case GgufType::kF32: {
      float x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "f32"));
      v->f = x;
      break;
    }
    case GgufType::kF64: {
      double x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "f64"));
      v->f = x;
      break;
    }
    case GgufType::kBool: {
      uint8_t x;
      MEMLONG_RETURN_IF_ERROR(c.read(&x, "bool"));
      if (x > 1) return c.fail("bool value " + std::to_string(x) + " is neither 0 nor 1");
      v->i = x;
      break;
    }
    case GgufType::kString:
      return c.read_string(&v->s, "string value");
    case GgufType::kArray:
      return internal_error("read_scalar on array");
  }
  return Status::ok();
}

bool is_int_type(GgufType t) {
  return t == GgufType::kU8 || t == GgufType::kI8 || t == GgufType::kU16 || t == GgufType::kI16 ||
         t == GgufType::kU32 || t == GgufType::kI32 || t == GgufType::kU64 || t == GgufType::kI64 ||
         t == GgufType::kBool;
}

Status read_value(Cursor& c, GgufType type, GgufValue* v, int depth) {
  if (type != GgufType::kArray) return read_scalar(c, type, v);
  if (depth >= kMaxArrayDepth) return c.fail("arrays nested too deeply");
  v->type = GgufType::kArray;
  uint32_t et = 0;
  MEMLONG_RETURN_IF_ERROR(c.read(&et, "array element type"));
  if (!is_known_type(et)) return c.fail("unknown array element type " + std::to_string(et));
  v->elem_type = static_cast<GgufType>(et);
  uint64_t n = 0;
  MEMLONG_RETURN_IF_ERROR(c.read(&n, "array length"));
  if (n > kMaxArrayElems) return c.fail("array of " + std::to_string(n) + " elements is too long");
  if (n > c.left() / min_elem_bytes(v->elem_type))
    return c.fail("array runs past the end of the file");
  v->n_elems = n;
  GgufValue elem;
  if (v->elem_type == GgufType::kString) {
    v->strings.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      std::string s;
      MEMLONG_RETURN_IF_ERROR(c.read_string(&s, "string array element"));
      v->strings.push_back(std::move(s));
    }
  } else if (v->elem_type == GgufType::kArray) {
    v->arrays.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      GgufValue sub;
      MEMLONG_RETURN_IF_ERROR(read_value(c, GgufType::kArray, &sub, depth + 1));
      v->arrays.push_back(std::move(sub));
    }
  } else if (v->elem_type == GgufType::kF32 || v->elem_type == GgufType::kF64) {
    v->floats.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      MEMLONG_RETURN_IF_ERROR(read_scalar(c, v->elem_type, &elem));
      v->floats.push_back(elem.f);
    }
  } else {
    v->ints.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      MEMLONG_RETURN_IF_ERROR(read_scalar(c, v->elem_type, &elem));
      v->ints.push_back(v->elem_type == GgufType::kU64 ? static_cast<int64_t>(elem.u) : elem.i);
    }
  }
  return Status::ok();
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kU8:
      return "u8";
    case GgufType::kI8:
      return "i8";
    case GgufType::kU16:
      return "u16";
    case GgufType::kI16:
      return "i16";
    case GgufType::kU32:
      return "u32";
    case GgufType::kI32:
      return "i32";
    case GgufType::kF32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kU64:
      return "u64";
    case GgufType::kI64:
      return "i64";
    case GgufType::kF64:
      return "f64";
  }
  return "?";
}

std::string GgufValue::summary() const {
  switch (type) {
    case GgufType::kString:
      return s.size() > 80 ? s.substr(0, 77) + "..." : s;
    case GgufType::kBool:
      return i ? "true" : "false";
    case GgufType::kF32:
    case GgufType::kF64: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", f);
      return buf;
    }
    case GgufType::kU64:
      return std::to_string(u);
    case GgufType::kArray:
      return "[" + std::to_string(n_elems) + " " + std::string(gguf_type_name(elem_type)) + "]";
    default:
      return std::to_string(i);
  }
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->origin_ = path;
  file->map_ = std::move(map);
  MEMLONG_RETURN_IF_ERROR(file->parse_impl(file->map_.bytes()));
  return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::span<const uint8_t> bytes,
                                                  const std::string& origin) {
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->origin_ = origin;
  MEMLONG_RETURN_IF_ERROR(file->parse_impl(bytes));
  return file;
}

Status GgufFile::parse_impl(std::span<const uint8_t> bytes) {
  Cursor c(bytes, origin_);
  char magic[4];
  if (bytes.size() < 4) return corrupt(origin_ + ": too short to be a GGUF file");
  std::memcpy(magic, bytes.data(), 4);
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    return corrupt(origin_ + ": not a GGUF file (magic bytes are not \"GGUF\")");
  }
  MEMLONG_RETURN_IF_ERROR(c.seek(4));
  MEMLONG_RETURN_IF_ERROR(c.read(&version_, "version"));
  if (version_ == 1)
    return unsupported(origin_ + ": GGUF version 1 is not supported (need 2 or 3)");
  if (version_ != 2 && version_ != 3) {
    return unsupported(origin_ + ": unknown GGUF version " + std::to_string(version_));
  }
  uint64_t n_tensors = 0, n_kv = 0;
  MEMLONG_RETURN_IF_ERROR(c.read(&n_tensors, "tensor count"));
  MEMLONG_RETURN_IF_ERROR(c.read(&n_kv, "metadata count"));
  if (n_kv > kMaxKv || n_kv > c.left() / 12) {
    return c.fail("metadata count " + std::to_string(n_kv) + " is impossible for this file");
  }
  if (n_tensors > kMaxTensors || n_tensors > c.left() / 24) {
    return c.fail("tensor count " + std::to_string(n_tensors) + " is impossible for this file");
  }

  kvs_.reserve(n_kv);
  std::unordered_set<std::string> keys;
  for (uint64_t k = 0; k < n_kv; ++k) {
    GgufKv kv;
    MEMLONG_RETURN_IF_ERROR(c.read_string(&kv.key, "metadata key"));
    uint32_t t = 0;
    MEMLONG_RETURN_IF_ERROR(c.read(&t, "metadata type"));
    if (!is_known_type(t)) {
      return c.fail("metadata '" + kv.key + "' has unknown type " + std::to_string(t));
    }
    MEMLONG_RETURN_IF_ERROR(read_value(c, static_cast<GgufType>(t), &kv.value, 0));
    if (!keys.insert(kv.key).second) return c.fail("duplicate metadata key '" + kv.key + "'");
    kvs_.push_back(std::move(kv));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!is_int_type(a->type) || a->i <= 0 || (a->i & (a->i - 1)) != 0 || a->i > (1 << 20)) {
      return corrupt(origin_ + ": general.alignment must be a power of two, got " + a->summary());
    }
    alignment_ = static_cast<uint64_t>(a->i);
  }

  tensors_.reserve(n_tensors);
  std::unordered_set<std::string> names;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo ti;
    MEMLONG_RETURN_IF_ERROR(c.read_string(&ti.name, "tensor name"));
    uint32_t n_dims = 0;
    MEMLONG_RETURN_IF_ERROR(c.read(&n_dims, "tensor dimension count"));
    if (n_dims < 1 || n_dims > 4) {
      return c.fail("tensor '" + ti.name + "' has " + std::to_string(n_dims) +
                    " dimensions (1..4)");
    }
    ti.n_dims = static_cast<int>(n_dims);
    uint64_t n_elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      MEMLONG_RETURN_IF_ERROR(c.read(&ne, "tensor dimension"));
      if (ne < 1 || ne > static_cast<uint64_t>(kMaxDim)) {
        return c.fail("tensor '" + ti.name + "' has dimension " + std::to_string(ne));
      }
      if (n_elems > std::numeric_limits<uint64_t>::max() / ne) {
        return c.fail("tensor '" + ti.name + "' element count overflows");
      }
      n_elems *= ne;
      ti.ne[d] = static_cast<int64_t>(ne);
    }
    if (n_elems > static_cast<uint64_t>(kMaxDim)) {
      return c.fail("tensor '" + ti.name + "' has " + std::to_string(n_elems) + " elements");
    }
    uint32_t type = 0;
    MEMLONG_RETURN_IF_ERROR(c.read(&type, "tensor type"));
    const auto tr = dtype_traits(type);
    if (!tr) {
      return unsupported(origin_ + ": tensor '" + ti.name + "' has unknown type id " +
                         std::to_string(type));
    }
    ti.dtype = static_cast<DType>(type);
    if (ti.ne[0] % tr->block_elems != 0) {
      return corrupt(origin_ + ": tensor '" + ti.name + "' row of " + std::to_string(ti.ne[0]) +
                     " is not a multiple of the " + std::string(tr->name) + " block size " +
                     std::to_string(tr->block_elems));
    }
    const auto nb = dtype_row_bytes(ti.dtype, n_elems);
    if (!nb) return corrupt(origin_ + ": tensor '" + ti.name + "' byte size overflows");
    ti.n_bytes = *nb;
    MEMLONG_RETURN_IF_ERROR(c.read(&ti.offset, "tensor offset"));
    if (ti.offset % alignment_ != 0) {
      return corrupt(origin_ + ": tensor '" + ti.name + "' offset " + std::to_string(ti.offset) +
                     " is not aligned to " + std::to_string(alignment_));
    }
    if (!names.insert(ti.name).second) return c.fail("duplicate tensor name '" + ti.name + "'");
    tensors_.push_back(std::move(ti));
  }

  // Data section starts at the next multiple of the alignment.
  const uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  if (data_start > bytes.size() && !tensors_.empty()) {
    return corrupt(origin_ + ": file ends before its tensor data section");
  }
  const uint64_t data_size = bytes.size() > data_start ? bytes.size() - data_start : 0;
  for (GgufTensorInfo& ti : tensors_) {
    if (ti.offset > data_size || ti.n_bytes > data_size - ti.offset) {
      return corrupt(origin_ + ": tensor '" + ti.name + "' (" + std::to_string(ti.n_bytes) +
                     " bytes at data offset " + std::to_string(ti.offset) +
                     ") extends past the end of the file (data section is " +
                     std::to_string(data_size) + " bytes); the file may be truncated");
    }
    ti.data = bytes.data() + data_start + ti.offset;
  }
  return Status::ok();
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const GgufKv& kv : kvs_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::kString) return std::nullopt;
  return v->s;
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || !is_int_type(v->type) || v->type == GgufType::kBool) return std::nullopt;
  if (v->type == GgufType::kU64 &&
      v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return v->i;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type == GgufType::kF32 || v->type == GgufType::kF64) return v->f;
  if (auto i = get_int(key)) return static_cast<double>(*i);
  return std::nullopt;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::kBool) return std::nullopt;
  return v->i != 0;
}

// ---- writer ----
namespace {

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

void GgufWriter::add_string(const std::string& key, const std::string& v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kString));
  put_string(kv_bytes_, v);
  ++n_kv_;
}
void GgufWriter::add_u32(const std::string& key, uint32_t v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kU32));
  put<uint32_t>(kv_bytes_, v);
  ++n_kv_;
}
void GgufWriter::add_i32(const std::string& key, int32_t v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kI32));
  put<int32_t>(kv_bytes_, v);
  ++n_kv_;
}
void GgufWriter::add_u64(const std::string& key, uint64_t v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kU64));
  put<uint64_t>(kv_bytes_, v);
  ++n_kv_;
}
void GgufWriter::add_f32(const std::string& key, float v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kF32));
  put<float>(kv_bytes_, v);
  ++n_kv_;
}
void GgufWriter::add_bool(const std::string& key, bool v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kBool));
  put<uint8_t>(kv_bytes_, v ? 1 : 0);
  ++n_kv_;
}
void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kArray));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kString));
  put<uint64_t>(kv_bytes_, v.size());
  for (const auto& s : v) put_string(kv_bytes_, s);
  ++n_kv_;
}
void GgufWriter::add_f32_array(const std::string& key, const std::vector<float>& v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kArray));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kF32));
  put<uint64_t>(kv_bytes_, v.size());
  for (float f : v) put<float>(kv_bytes_, f);
  ++n_kv_;
}
void GgufWriter::add_i32_array(const std::string& key, const std::vector<int32_t>& v) {
  put_string(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kArray));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::kI32));
  put<uint64_t>(kv_bytes_, v.size());
  for (int32_t x : v) put<int32_t>(kv_bytes_, x);
  ++n_kv_;
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne,
                            std::vector<uint8_t> data) {
  MEMLONG_ASSERT(!ne.empty() && ne.size() <= 4);
  uint64_t n = 1;
  for (int64_t x : ne) n *= static_cast<uint64_t>(x);
  const auto nb = dtype_row_bytes(dtype, n);
  MEMLONG_ASSERT(nb && *nb == data.size());
  tensors_.push_back({name, dtype, std::move(ne), std::move(data)});
}

std::vector<uint8_t> GgufWriter::finish() const {
  std::vector<uint8_t> out;
  out.insert(out.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  const bool custom_alignment = alignment_ != 32;
  put<uint64_t>(out, n_kv_ + (custom_alignment ? 1 : 0));
  out.insert(out.end(), kv_bytes_.begin(), kv_bytes_.end());
  if (custom_alignment) {
    put_string(out, "general.alignment");
    put<uint32_t>(out, static_cast<uint32_t>(GgufType::kU32));
    put<uint32_t>(out, alignment_);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
    for (int64_t x : t.ne) put<uint64_t>(out, static_cast<uint64_t>(x));
    put<uint32_t>(out, static_cast<uint32_t>(t.dtype));
    put<uint64_t>(out, offset);
    offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, 0);
  for (const PendingTensor& t : tensors_) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, 0);
  }
  return out;
}

Status GgufWriter::write_file(const std::string& path) const {
  const std::vector<uint8_t> bytes = finish();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return io_error("cannot create " + tmp);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return io_error("write failed: " + tmp + " (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return io_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace memlong
