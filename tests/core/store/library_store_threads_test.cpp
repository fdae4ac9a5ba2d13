// The expected threading of library_store.h: one thread writes (batches, removals, compaction)
// while another searches and loads K/V. Nothing may fail except NotFound for an entry removed
// between a search and its load; every K/V that loads must be the exact bytes written.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "core/store/library_store.h"
#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

using store_test::doc_meta;
using store_test::inputs;
using store_test::make_chunks;
using store_test::small_profile;
using store_test::TempDir;

TEST(LibraryStoreThreads, OneWriterAndOneReaderAtTheSameTime) {
  TempDir dir;
  StoreOptions o;
  o.exact_search_max = 16;  // graph inserts race with graph searches
  auto s = std::move(LibraryStore::open(dir.path(), o)).value();
  const int64_t p = *s->ensure_profile(small_profile());
  std::atomic<bool> done{false};
  std::atomic<int> n_loads{0};
  std::string reader_error;

  std::thread reader([&] {
    uint32_t t = 0;
    while (!done.load()) {
      const auto q = make_chunks(small_profile(), 5000, static_cast<int32_t>(t++), 1);
      auto hits = s->search(p, "chunk alpha", q[0].embedding, 4, DocSet::all());
      if (!hits.is_ok()) {
        reader_error = hits.status().to_string();
        return;
      }
      for (const auto& h : *hits) {
        std::vector<float> k, v;
        const Status st = s->load_kv(std::vector<int64_t>{h.entry_id}, &k, &v);
        if (st.code() == StatusCode::kNotFound) continue;  // removed meanwhile
        if (!st.is_ok()) {
          reader_error = st.to_string();
          return;
        }
        // The text names the doc seed and ordinal: recompute the K that must come back.
        unsigned ord = 0, seed = 0;
        if (std::sscanf(h.text.c_str(), "chunk %u of doc %u", &ord, &seed) != 2) {
          reader_error = "unexpected text " + h.text;
          return;
        }
        const auto want = make_chunks(small_profile(), seed, static_cast<int32_t>(ord), 1);
        if (k != want[0].k) {
          reader_error = "wrong K/V for entry " + std::to_string(h.entry_id);
          return;
        }
        ++n_loads;
      }
    }
  });

  std::vector<int64_t> docs;
  for (uint32_t d = 0; d < 12; ++d) {
    const int64_t doc =
        s->upsert_document(doc_meta("/t" + std::to_string(d), std::to_string(d)))->doc_id;
    docs.push_back(doc);
    for (int32_t first = 0; first < 12; first += 4) {
      ASSERT_TRUE(
          s->add_chunks(doc, p, inputs(make_chunks(small_profile(), d + 1, first, 4))).is_ok());
    }
    ASSERT_TRUE(s->set_document_status(doc, p, DocumentStatus::kReady).is_ok());
    if (d % 3 == 2) {  // drop an older doc and compact while the reader runs
      ASSERT_TRUE(s->remove_document(docs[d - 2]).is_ok());
      auto c = s->compact();
      ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    }
  }
  done = true;
  reader.join();
  EXPECT_EQ(reader_error, "");
  EXPECT_GT(n_loads.load(), 0);
  EXPECT_EQ(s->list_entries(p, DocSet::all())->size(), 8u * 12u);
  EXPECT_EQ(s->index_state(p).n_entries, 8 * 12);
  EXPECT_TRUE(s->verify_kv()->corrupt_entry_ids.empty());
}

}  // namespace
}  // namespace memlong
