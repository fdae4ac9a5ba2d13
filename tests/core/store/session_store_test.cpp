// SessionStore: create/list/get/rename/delete, documents, memory state, messages, and fork
// independence (invariant 3 of core/store/session_store.h).
#include "core/store/session_store.h"

#include <gtest/gtest.h>

#include "core/store/library_store.h"
#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

using store_test::doc_meta;
using store_test::inputs;
using store_test::make_chunks;
using store_test::small_profile;
using store_test::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<LibraryStore> store;
  int64_t profile = 0;
  int64_t doc = 0;
  std::vector<int64_t> entries;

  Fixture() {
    store = std::move(LibraryStore::open(dir.path())).value();
    profile = *store->ensure_profile(small_profile());
    doc = store->upsert_document(doc_meta("/d", "d"))->doc_id;
    const auto chunks = make_chunks(small_profile(), 1, 0, 6);
    entries = *store->add_chunks(doc, profile, inputs(chunks));
  }
  SessionStore& sessions() { return store->sessions(); }
};

TEST(SessionStore, CreateListGetRenameDelete) {
  Fixture f;
  auto a = f.sessions().create_session("first", f.profile, 8192, R"({"top_k":8})");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  auto b = f.sessions().create_session("second", f.profile, 4096);
  ASSERT_TRUE(b.is_ok());
  auto got = f.sessions().get_session(*a);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->name, "first");
  EXPECT_EQ(got->capacity_tokens, 8192);
  EXPECT_EQ(got->settings_json, R"({"top_k":8})");
  EXPECT_EQ(got->profile_id, f.profile);
  EXPECT_EQ(f.sessions().list_sessions()->size(), 2u);
  ASSERT_TRUE(f.sessions().rename_session(*a, "renamed").is_ok());
  EXPECT_EQ(f.sessions().get_session(*a)->name, "renamed");
  ASSERT_TRUE(f.sessions().set_settings(*a, "{}").is_ok());
  EXPECT_EQ(f.sessions().get_session(*a)->settings_json, "{}");
  ASSERT_TRUE(f.sessions().delete_session(*a).is_ok());
  EXPECT_EQ(f.sessions().get_session(*a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.sessions().delete_session(*a).code(), StatusCode::kNotFound);
  EXPECT_EQ(f.sessions().rename_session(*a, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(f.sessions().list_sessions()->size(), 1u);
  EXPECT_EQ(f.sessions().create_session("", f.profile, 10).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.sessions().create_session("x", f.profile, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.sessions().create_session("x", 999, 10).status().code(), StatusCode::kNotFound);
}

TEST(SessionStore, DocumentsMemoryAndMessagesRoundTrip) {
  Fixture f;
  const int64_t s = *f.sessions().create_session("s", f.profile, 4096);
  const int64_t docs[] = {f.doc};
  ASSERT_TRUE(f.sessions().set_documents(s, docs).is_ok());
  EXPECT_EQ(*f.sessions().documents(s), std::vector<int64_t>{f.doc});
  const int64_t bad_docs[] = {f.doc, 4242};
  EXPECT_EQ(f.sessions().set_documents(s, bad_docs).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*f.sessions().documents(s), std::vector<int64_t>{f.doc});  // rolled back

  SessionMemoryState st;
  st.next_seq = 17;
  st.entries = {{f.entries[3], 5, 10}, {f.entries[0], 0, 12}, {f.entries[5], 2, 16}};
  ASSERT_TRUE(f.sessions().save_memory_state(s, st).is_ok());
  auto back = f.sessions().load_memory_state(s);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->next_seq, 17u);
  ASSERT_EQ(back->entries.size(), 3u);
  EXPECT_EQ(back->entries[0].entry_id, f.entries[3]);
  EXPECT_EQ(back->entries[0].hits, 5u);
  EXPECT_EQ(back->entries[2].seq, 16u);
  // Entries of another profile or unknown ids are refused, and the old state stays.
  SessionMemoryState bad;
  bad.entries = {{999999, 0, 1}};
  EXPECT_EQ(f.sessions().save_memory_state(s, bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.sessions().load_memory_state(s)->entries.size(), 3u);

  MessageRecord m1{0, "user", "What is MemLong?", "", 0};
  MessageRecord m2{0, "assistant", "A memory.", R"([{"entry":1}])", 123};
  EXPECT_EQ(*f.sessions().append_message(s, m1), 0);
  EXPECT_EQ(*f.sessions().append_message(s, m2), 1);
  auto msgs = f.sessions().messages(s);
  ASSERT_EQ(msgs->size(), 2u);
  EXPECT_EQ((*msgs)[0].role, "user");
  EXPECT_EQ((*msgs)[0].citations_json, "[]");
  EXPECT_GT((*msgs)[0].created_at, 0);
  EXPECT_EQ((*msgs)[1].text, "A memory.");
  EXPECT_EQ((*msgs)[1].citations_json, R"([{"entry":1}])");
  EXPECT_EQ((*msgs)[1].created_at, 123);
  EXPECT_EQ(f.sessions().append_message(4242, m1).status().code(), StatusCode::kNotFound);
  // Deleting the session removes its rows (cascade).
  ASSERT_TRUE(f.sessions().delete_session(s).is_ok());
  EXPECT_TRUE(f.sessions().messages(s)->empty());
}

TEST(SessionStore, ForkCopiesEverythingAndThenTheyAreIndependent) {
  Fixture f;
  const int64_t s = *f.sessions().create_session("orig", f.profile, 4096, R"({"a":1})");
  const int64_t docs[] = {f.doc};
  ASSERT_TRUE(f.sessions().set_documents(s, docs).is_ok());
  SessionMemoryState st;
  st.next_seq = 3;
  st.entries = {{f.entries[0], 1, 0}, {f.entries[1], 2, 1}, {f.entries[2], 3, 2}};
  ASSERT_TRUE(f.sessions().save_memory_state(s, st).is_ok());
  ASSERT_TRUE(f.sessions().append_message(s, {0, "user", "q1", "", 0}).is_ok());
  ASSERT_TRUE(f.sessions().append_message(s, {0, "assistant", "a1", "", 0}).is_ok());

  auto fork = f.sessions().fork_session(s, "fork");
  ASSERT_TRUE(fork.is_ok()) << fork.status().to_string();
  ASSERT_NE(*fork, s);
  auto fs = f.sessions().get_session(*fork);
  EXPECT_EQ(fs->name, "fork");
  EXPECT_EQ(fs->settings_json, R"({"a":1})");
  EXPECT_EQ(fs->next_seq, 3u);
  EXPECT_EQ(*f.sessions().documents(*fork), *f.sessions().documents(s));
  EXPECT_EQ(f.sessions().load_memory_state(*fork)->entries.size(), 3u);
  EXPECT_EQ(f.sessions().messages(*fork)->size(), 2u);

  // Change the fork: the original does not move, and the other way round.
  ASSERT_TRUE(f.sessions().append_message(*fork, {0, "user", "only in fork", "", 0}).is_ok());
  SessionMemoryState st2;
  st2.next_seq = 9;
  st2.entries = {{f.entries[5], 7, 8}};
  ASSERT_TRUE(f.sessions().save_memory_state(*fork, st2).is_ok());
  ASSERT_TRUE(f.sessions().set_documents(*fork, {}).is_ok());
  EXPECT_EQ(f.sessions().messages(s)->size(), 2u);
  EXPECT_EQ(f.sessions().load_memory_state(s)->entries.size(), 3u);
  EXPECT_EQ(f.sessions().load_memory_state(s)->next_seq, 3u);
  EXPECT_EQ(f.sessions().documents(s)->size(), 1u);
  ASSERT_TRUE(f.sessions().append_message(s, {0, "user", "only in orig", "", 0}).is_ok());
  EXPECT_EQ(f.sessions().messages(*fork)->size(), 3u);
  EXPECT_EQ((*f.sessions().messages(*fork))[2].text, "only in fork");
  ASSERT_TRUE(f.sessions().delete_session(s).is_ok());
  EXPECT_EQ(f.sessions().messages(*fork)->size(), 3u);
  EXPECT_EQ(f.sessions().fork_session(s, "x").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace memlong
