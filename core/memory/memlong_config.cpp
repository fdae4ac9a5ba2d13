#include "core/memory/memlong_config.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace memlong {
namespace {

Result<int64_t> parse_int(const std::string& key, const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end) {
    return invalid_argument("MemLong setting " + key + ": '" + text + "' is not an integer");
  }
  return v;
}

}  // namespace

std::string_view position_mode_name(PositionMode m) {
  return m == PositionMode::kZero ? "zero" : "contiguous";
}

bool MemLongConfig::is_retrieval_layer(int32_t layer) const {
  return std::find(retrieval_layers.begin(), retrieval_layers.end(), layer) !=
         retrieval_layers.end();
}

Status MemLongConfig::validate(int32_t n_layer) const {
  if (memory_layer < 0 || memory_layer >= n_layer) {
    return invalid_argument("MemLong memory_layer " + std::to_string(memory_layer) +
                            " is outside the model's " + std::to_string(n_layer) + " layers");
  }
  for (int32_t l : retrieval_layers) {
    if (l < memory_layer || l >= n_layer) {
      return invalid_argument("MemLong retrieval layer " + std::to_string(l) + " must lie in [" +
                              std::to_string(memory_layer) + ", " + std::to_string(n_layer) + ")");
    }
  }
  if (entry_tokens <= 0 || entry_tokens > 65536)
    return invalid_argument("MemLong entry_tokens out of range");
  if (top_k <= 0 || top_k > 1024) return invalid_argument("MemLong top_k out of range");
  if (capacity_tokens < entry_tokens) {
    return invalid_argument("MemLong capacity_tokens must hold at least one entry");
  }
  if (last_context <= 0) return invalid_argument("MemLong last_context must be positive");
  return Status::ok();
}

std::string MemLongConfig::summary() const {
  std::ostringstream s;
  s << "memory layer " << memory_layer << ", retrieval layers {";
  for (size_t i = 0; i < retrieval_layers.size(); ++i) s << (i ? "," : "") << retrieval_layers[i];
  s << "}, entry " << entry_tokens << " tokens, top-" << top_k << ", capacity " << capacity_tokens
    << " tokens, tail " << last_context << ", positions " << position_mode_name(position_mode)
    << ", eviction " << eviction_policy_name(eviction) << ", "
    << (mem_dtype == MemoryDType::kBF16 ? "bf16" : "f16") << " (" << profile << ")";
  return s.str();
}

MemLongConfig default_memlong_config(int32_t n_layer) {
  MemLongConfig c;
  c.memory_layer = n_layer / 2;
  for (int32_t l = c.memory_layer; l <= n_layer - 1; l += 4) c.retrieval_layers.push_back(l);
  c.profile = "spec defaults";
  return c;
}

Status apply_memlong_setting(const std::string& key, const std::string& value, MemLongConfig* c) {
  if (key == "memory_layer" || key == "entry_tokens" || key == "top_k" || key == "last_context" ||
      key == "capacity_tokens") {
    MEMLONG_ASSIGN_OR_RETURN(int64_t v, parse_int(key, value));
    if (v < 0 || v > (int64_t{1} << 40))
      return invalid_argument("MemLong setting " + key + " out of range");
    if (key == "memory_layer") c->memory_layer = static_cast<int32_t>(v);
    if (key == "entry_tokens")
      c->entry_tokens = static_cast<int32_t>(std::min<int64_t>(v, 1 << 30));
    if (key == "top_k") c->top_k = static_cast<int32_t>(std::min<int64_t>(v, 1 << 30));
    if (key == "last_context")
      c->last_context = static_cast<int32_t>(std::min<int64_t>(v, 1 << 30));
    if (key == "capacity_tokens") c->capacity_tokens = v;
    return Status::ok();
  }
  if (key == "retrieval_layers") {
    std::vector<int32_t> layers;
    std::stringstream ss(value);
    std::string part;
    while (std::getline(ss, part, ',')) {
      part.erase(0, part.find_first_not_of(" []"));
      part.erase(part.find_last_not_of(" []") + 1);
      if (part.empty()) continue;
      MEMLONG_ASSIGN_OR_RETURN(int64_t v, parse_int(key, part));
      if (v < 0 || v > 100000) return invalid_argument("MemLong retrieval layer out of range");
      layers.push_back(static_cast<int32_t>(v));
    }
    std::sort(layers.begin(), layers.end());
    layers.erase(std::unique(layers.begin(), layers.end()), layers.end());
    c->retrieval_layers = std::move(layers);
    return Status::ok();
  }
  if (key == "position_mode") {
    if (value == "zero")
      c->position_mode = PositionMode::kZero;
    else if (value == "contiguous")
      c->position_mode = PositionMode::kContiguous;
    else
      return invalid_argument("MemLong position_mode must be zero or contiguous, not '" + value +
                              "'");
    return Status::ok();
  }
  if (key == "eviction") {
    if (value == "counter")
      c->eviction = EvictionPolicy::kCounter;
    else if (value == "fifo_half")
      c->eviction = EvictionPolicy::kFifoHalf;
    else
      return invalid_argument("MemLong eviction must be counter or fifo_half, not '" + value + "'");
    return Status::ok();
  }
  if (key == "mem_dtype") {
    if (value == "bf16")
      c->mem_dtype = MemoryDType::kBF16;
    else if (value == "f16")
      c->mem_dtype = MemoryDType::kF16;
    else
      return invalid_argument("MemLong mem_dtype must be bf16 or f16, not '" + value + "'");
    return Status::ok();
  }
  return invalid_argument("unknown MemLong setting '" + key + "'");
}

Result<MemLongConfig> memlong_config_for(const ModelFile& model,
                                         const std::vector<std::string>& overrides) {
  const int32_t n_layer = model.config.n_layer;
  MemLongConfig c = default_memlong_config(n_layer);
  if (model.memlong_settings.empty()) {
    // Untuned profile (MEMLONG.md §6): only layer m compares its own queries with its own keys,
    // and positions stay an ordinary causal sequence.
    c.position_mode = PositionMode::kContiguous;
    c.retrieval_layers = {c.memory_layer};
    c.profile = "untuned";
  } else {
    for (const auto& [key, value] : model.memlong_settings) {
      if (key == "retriever") continue;  // informational: the retriever the model was tuned with
      MEMLONG_RETURN_IF_ERROR(apply_memlong_setting(key, value, &c)
                                  .with_context(model.path + " (memlong." + key + ")"));
    }
    c.profile = "tuned (from the model)";
  }
  for (const std::string& o : overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos)
      return invalid_argument("MemLong override '" + o + "' is not key=value");
    MEMLONG_RETURN_IF_ERROR(apply_memlong_setting(o.substr(0, eq), o.substr(eq + 1), &c));
  }
  if (!overrides.empty()) c.profile += ", overridden";
  MEMLONG_RETURN_IF_ERROR(c.validate(n_layer));
  return c;
}

}  // namespace memlong
