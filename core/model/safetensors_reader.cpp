// Safetensors parsing; see the header for the layout and the invariants established here.
// nlohmann::json throws: this file is its adapter, and every exception becomes Corrupt naming the
// file.
#include "core/model/safetensors_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace memlong {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 8;

struct DtypeInfo {
  const char* name;
  DType dtype;
  uint64_t elem_bytes;
  bool is_supported;
};

// Dtype names from the safetensors spec (safetensors/src/tensor.rs, enum Dtype).
constexpr DtypeInfo kDtypes[] = {
    {"F32", DType::kF32, 4, true},     {"F16", DType::kF16, 2, true},
    {"BF16", DType::kBF16, 2, true},   {"F64", DType::kF64, 8, false},
    {"I64", DType::kI64, 8, false},    {"I32", DType::kI32, 4, false},
    {"I16", DType::kI16, 2, false},    {"I8", DType::kI8, 1, false},
    {"U8", DType::kI8, 1, false},      {"U16", DType::kI16, 2, false},
    {"U32", DType::kI32, 4, false},    {"U64", DType::kI64, 8, false},
    {"BOOL", DType::kI8, 1, false},    {"F8_E4M3", DType::kI8, 1, false},
    {"F8_E5M2", DType::kI8, 1, false},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

Status read_u64(const json& j, uint64_t* out) {
  if (!j.is_number_unsigned()) {
    if (j.is_number_integer() && j.get<int64_t>() >= 0) {
      *out = static_cast<uint64_t>(j.get<int64_t>());
      return Status::ok();
    }
    return corrupt("not a non-negative integer");
  }
  *out = j.get<uint64_t>();
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  MEMLONG_ASSIGN_OR_RETURN(MappedFile map, MappedFile::open(path));
  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->origin_ = path;
  file->map_ = std::move(map);
  MEMLONG_RETURN_IF_ERROR(file->parse_impl(file->map_.bytes()));
  return file;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::parse(std::span<const uint8_t> bytes,
                                                                const std::string& origin) {
  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->origin_ = origin;
  MEMLONG_RETURN_IF_ERROR(file->parse_impl(bytes));
  return file;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Status SafetensorsFile::parse_impl(std::span<const uint8_t> bytes) {
  const std::string& o = origin_;
  if (bytes.size() < 8) return corrupt(o + ": too short to be a safetensors file");
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeaderBytes) {
    return corrupt(o + ": header length " + std::to_string(header_len) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes; not a safetensors file?");
  }
  if (header_len > bytes.size() - 8) {
    return corrupt(o + ": header length " + std::to_string(header_len) + " runs past the end of " +
                   "the file (" + std::to_string(bytes.size()) +
                   " bytes); the file may be truncated");
  }
  if (header_len < 2) return corrupt(o + ": header of " + std::to_string(header_len) + " bytes");
  const char* hdr = reinterpret_cast<const char*>(bytes.data() + 8);
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_start;

  json root;
  std::string duplicate;
  try {
    // Track top-level keys: the spec forbids duplicates and json would silently keep the last.
    std::set<std::string> seen;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
      // A real header nests 3 deep; refuse hostile nesting before it costs stack or memory.
      if (depth > kMaxJsonDepth) throw std::runtime_error("nesting deeper than 8 levels");
      if (depth == 1 && event == json::parse_event_t::key && parsed.is_string()) {
        if (!seen.insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
      }
      return true;
    };
    root = json::parse(hdr, hdr + header_len, cb);
  } catch (const std::exception& e) {
    return corrupt(o + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!duplicate.empty()) return corrupt(o + ": tensor '" + duplicate + "' is listed twice");
  if (!root.is_object()) return corrupt(o + ": header is not a JSON object");

  try {
    tensors_.reserve(root.size());
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string& name = it.key();
      const json& e = it.value();
      if (name == "__metadata__") {
        if (!e.is_object()) return corrupt(o + ": __metadata__ is not an object");
        for (auto m = e.begin(); m != e.end(); ++m) {
          if (!m.value().is_string()) {
            return corrupt(o + ": __metadata__ value '" + m.key() + "' is not a string");
          }
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string where = o + ": tensor '" + name + "'";
      if (!e.is_object()) return corrupt(where + " is not described by an object");
      if (!e.contains("dtype") || !e["dtype"].is_string()) return corrupt(where + " has no dtype");
      if (!e.contains("shape") || !e["shape"].is_array()) return corrupt(where + " has no shape");
      if (!e.contains("data_offsets") || !e["data_offsets"].is_array() ||
          e["data_offsets"].size() != 2) {
        return corrupt(where + " has no [begin, end] data_offsets");
      }
      const std::string dtype_name = e["dtype"].get<std::string>();
      const DtypeInfo* dt = find_dtype(dtype_name);
      if (dt == nullptr) return corrupt(where + " has unknown dtype '" + dtype_name + "'");
      // Other dtypes (e.g. the I64 `embeddings.position_ids` buffer older exports carry) are
      // validated like the rest but left out of tensors(); a loader that needs one says why.
      const bool skip = !dt->is_supported;
      SafetensorsTensor t;
      t.name = name;
      t.dtype = dt->dtype;
      const json& shape = e["shape"];
      if (shape.size() > 4) {
        return unsupported(where + " has " + std::to_string(shape.size()) + " dimensions (max 4)");
      }
      uint64_t n_elems = 1;
      for (const json& d : shape) {
        uint64_t dim = 0;
        if (!read_u64(d, &dim).is_ok()) return corrupt(where + " has a non-integer dimension");
        if (dim == 0) return corrupt(where + " has a zero dimension");
        if (n_elems > std::numeric_limits<uint64_t>::max() / dim) {
          return corrupt(where + " element count overflows");
        }
        n_elems *= dim;
        if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return corrupt(where + " dimension is absurd");
        }
        t.shape.push_back(static_cast<int64_t>(dim));
      }
      uint64_t begin = 0, end = 0;
      if (!read_u64(e["data_offsets"][0], &begin).is_ok() ||
          !read_u64(e["data_offsets"][1], &end).is_ok()) {
        return corrupt(where + " data_offsets are not non-negative integers");
      }
      if (begin > end || end > data_size) {
        return corrupt(where + " data_offsets [" + std::to_string(begin) + ", " +
                       std::to_string(end) + "] are outside the data section of " +
                       std::to_string(data_size) + " bytes; the file may be truncated");
      }
      if (n_elems > std::numeric_limits<uint64_t>::max() / dt->elem_bytes ||
          n_elems * dt->elem_bytes != end - begin) {
        return corrupt(where + " holds " + std::to_string(end - begin) + " bytes, but its shape " +
                       "and dtype need " + std::to_string(n_elems) + " x " +
                       std::to_string(dt->elem_bytes));
      }
      if (skip) {
        skipped_[name] = "tensor '" + name + "' has dtype " + dtype_name +
                         "; MemLong reads F32, F16 and BF16 safetensors";
        continue;
      }
      t.offset = begin;
      t.n_bytes = end - begin;
      t.data = bytes.data() + data_start + begin;
      index_[name] = tensors_.size();
      tensors_.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return corrupt(o + ": malformed header (" + e.what() + ")");
  }

  // No two byte ranges may overlap (empty tensors cannot exist: dims are >= 1).
  std::vector<const SafetensorsTensor*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const SafetensorsTensor& t : tensors_) by_offset.push_back(&t);
  std::sort(
      by_offset.begin(), by_offset.end(),
      [](const SafetensorsTensor* a, const SafetensorsTensor* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const SafetensorsTensor* prev = by_offset[k - 1];
    const SafetensorsTensor* cur = by_offset[k];
    if (cur->offset < prev->offset + prev->n_bytes) {
      return corrupt(o + ": tensors '" + prev->name + "' and '" + cur->name +
                     "' overlap in the data section");
    }
  }
  return Status::ok();
}

}  // namespace memlong
