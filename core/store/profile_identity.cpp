// make_profile_identity (see profile_identity.h).
#include "core/store/profile_identity.h"

namespace memlong {

ProfileIdentity make_profile_identity(const std::string& model_id, const std::string& retriever_id,
                                      const LlamaConfig& model, const MemLongConfig& memlong,
                                      int32_t emb_dim) {
  ProfileIdentity p;
  p.model_id = model_id;
  p.retriever_id = retriever_id;
  p.memory_layer = memlong.memory_layer;
  p.entry_tokens = memlong.entry_tokens;
  p.dtype = memlong.mem_dtype == MemoryDType::kF16 ? "f16" : "bf16";
  p.n_head_kv = model.n_head_kv;
  p.head_dim = model.head_dim;
  p.emb_dim = emb_dim;
  return p;
}

}  // namespace memlong
