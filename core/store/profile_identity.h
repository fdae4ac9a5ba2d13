// make_profile_identity: the store profile (library_store.h ProfileIdentity) of a loaded model,
// retriever and MemLong configuration, so memory from two setups is never mixed.
// Only what changes the stored K/V or embeddings enters the identity: the memory layer, E, the
// memory dtype and the K/V / embedding shapes; retrieval layers, top-k, capacity, tail length,
// position mode and eviction only change how memory is read, so they do not.
// Thread-safety: pure function.
#pragma once

#include <string>

#include "core/memory/memlong_config.h"
#include "core/model/llama_config.h"
#include "core/store/library_store.h"

namespace memlong {

// model_id / retriever_id: stable names of the exact weights (e.g. file name + sha256 prefix);
// emb_dim: the retriever's EmbedderInfo::dim.
ProfileIdentity make_profile_identity(const std::string& model_id, const std::string& retriever_id,
                                      const LlamaConfig& model, const MemLongConfig& memlong,
                                      int32_t emb_dim);

}  // namespace memlong
