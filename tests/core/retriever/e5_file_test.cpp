// E5File on a small valid E5S1 image built here (1 layer, hidden 32, ffn 64, 6 pieces) and on
// broken copies: truncations at every byte of the header and directory, corrupted counts,
// offsets, dtypes and alignment. A hostile file must give Corrupt or Unsupported, never a crash.
#include "core/retriever/e5_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/common/dtype.h"

namespace memlong {
namespace {

class Writer {
 public:
  template <typename T>
  size_t put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return at;
  }
  void bytes(const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
  std::vector<uint8_t> b;
};

struct Image {
  std::vector<uint8_t> bytes;
  size_t n_pieces_at = 0, blob_len_at = 0, n_norm_at = 0, n_tensors_at = 0, dir_at = 0;
  std::vector<size_t> dtype_at, count_at, offset_at, size_at;
  size_t dir_end = 0;
};

constexpr int32_t kHidden = 32, kFfn = 64, kVocab = 8, kMaxPos = 16, kTypes = 2;

Image make_image() {
  Image im;
  Writer w;
  w.bytes("E5S1");
  w.put<uint32_t>(1);
  for (int32_t v : {kHidden, 1, 2, kFfn, kVocab, kMaxPos, kTypes}) w.put<int32_t>(v);
  w.put<float>(1e-12f);
  w.put<int32_t>(32);
  const std::vector<std::string> pieces = {"<s>", "<pad>", "</s>", "<unk>", "\xE2\x96\x81", "a"};
  im.n_pieces_at = w.put<int32_t>(static_cast<int32_t>(pieces.size()));
  for (int32_t v : {0, 2, 1, 3}) w.put<int32_t>(v);
  std::string blob;
  for (const auto& p : pieces) blob += p;
  im.blob_len_at = w.put<uint64_t>(blob.size());
  uint32_t off = 0;
  w.put<uint32_t>(0);
  for (const auto& p : pieces) w.put<uint32_t>(off += static_cast<uint32_t>(p.size()));
  for (size_t i = 0; i < pieces.size(); ++i) w.put<float>(-static_cast<float>(i));
  w.bytes(blob);
  im.n_norm_at = w.put<int32_t>(2);
  w.put<uint32_t>(5 + 9);
  w.put<uint32_t>(9);  // tab -> space
  w.put<uint8_t>(1);
  w.put<uint32_t>(32);
  w.put<uint32_t>(173);  // soft hyphen -> deleted
  w.put<uint8_t>(0);
  struct T {
    std::string name;
    uint8_t dtype;
    int64_t rows, cols;
  };
  std::vector<T> ts = {{"emb.word", 1, kVocab, kHidden},
                       {"emb.pos", 0, kMaxPos, kHidden},
                       {"emb.type", 0, kTypes, kHidden},
                       {"emb.ln.w", 0, 1, kHidden},
                       {"emb.ln.b", 0, 1, kHidden}};
  for (const char* s : {"q", "k", "v", "ao"}) {
    ts.push_back({std::string("l0.") + s + ".w", 1, kHidden, kHidden});
    ts.push_back({std::string("l0.") + s + ".b", 0, 1, kHidden});
  }
  ts.push_back({"l0.fi.w", 1, kFfn, kHidden});
  ts.push_back({"l0.fi.b", 0, 1, kFfn});
  ts.push_back({"l0.fo.w", 1, kHidden, kFfn});
  ts.push_back({"l0.fo.b", 0, 1, kHidden});
  for (const char* s : {"aln.w", "aln.b", "oln.w", "oln.b"})
    ts.push_back({std::string("l0.") + s, 0, 1, kHidden});
  im.n_tensors_at = w.put<int32_t>(static_cast<int32_t>(ts.size()));
  im.dir_at = w.b.size();
  for (const T& t : ts) {
    w.put<uint16_t>(static_cast<uint16_t>(t.name.size()));
    w.bytes(t.name);
    im.dtype_at.push_back(w.put<uint8_t>(t.dtype));
    im.count_at.push_back(w.put<uint32_t>(static_cast<uint32_t>(t.rows * t.cols)));
    im.offset_at.push_back(w.put<uint64_t>(0));
    im.size_at.push_back(w.put<uint64_t>(0));
  }
  im.dir_end = w.b.size();
  uint64_t pos = (w.b.size() + 63) / 64 * 64;
  for (size_t i = 0; i < ts.size(); ++i) {
    const DType d = ts[i].dtype == 1 ? DType::kQ4_0 : DType::kF32;
    const uint64_t n = *dtype_row_bytes(d, ts[i].cols) * ts[i].rows;
    std::memcpy(w.b.data() + im.offset_at[i], &pos, 8);
    std::memcpy(w.b.data() + im.size_at[i], &n, 8);
    pos = (pos + n + 63) / 64 * 64;
  }
  w.b.resize(pos, 0);
  im.bytes = std::move(w.b);
  return im;
}

template <typename V>
std::vector<uint8_t> patched(const Image& im, size_t at, V v) {
  std::vector<uint8_t> b = im.bytes;
  std::memcpy(b.data() + at, &v, sizeof(V));
  return b;
}

Status parse(const std::vector<uint8_t>& b) {
  auto r = E5File::parse(b, "test.bin");
  return r.is_ok() ? Status::ok() : r.status();
}

void expect_rejected(const std::vector<uint8_t>& b, const std::string& needle) {
  Status st = parse(b);
  ASSERT_FALSE(st.is_ok()) << "accepted; expected an error mentioning " << needle;
  EXPECT_TRUE(st.code() == StatusCode::kCorrupt || st.code() == StatusCode::kUnsupported);
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.to_string();
  EXPECT_NE(st.message().find("test.bin"), std::string::npos) << st.to_string();
}

TEST(E5File, ParsesAValidImage) {
  const Image im = make_image();
  auto r = E5File::parse(im.bytes, "test.bin");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const E5File& f = *r.value();
  EXPECT_EQ(f.header().hidden, kHidden);
  EXPECT_EQ(f.header().n_layers, 1);
  EXPECT_EQ(f.pieces().size(), 6u);
  EXPECT_EQ(f.pieces()[5], "a");
  EXPECT_EQ(f.eos_id(), 2);
  EXPECT_EQ(f.norm_map().at(9), std::u32string(U" "));
  EXPECT_TRUE(f.norm_map().at(173).empty());
  const E5Tensor* fi = f.find("l0.fi.w");
  ASSERT_NE(fi, nullptr);
  EXPECT_EQ(fi->n_rows, kFfn);
  EXPECT_EQ(fi->n_cols, kHidden);
  EXPECT_EQ(fi->dtype, DType::kQ4_0);
  EXPECT_EQ(f.find("l1.q.w"), nullptr);
}

TEST(E5File, EveryTruncationIsCorrupt) {
  const Image im = make_image();
  // Every byte through the directory, then every 37th byte of the tensor data.
  for (size_t n = 0; n < im.bytes.size(); n += n < im.dir_end + 8 ? 1 : 37) {
    std::vector<uint8_t> b(im.bytes.begin(), im.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    Status st = parse(b);
    ASSERT_FALSE(st.is_ok()) << "accepted a file truncated to " << n << " bytes";
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << n << ": " << st.to_string();
  }
}

TEST(E5File, RejectsBadHeaders) {
  const Image im = make_image();
  expect_rejected(patched(im, 0, 'X'), "magic");
  expect_rejected(patched<uint32_t>(im, 4, 2), "version");
  expect_rejected(patched<int32_t>(im, 8, 33), "hidden");        // not a multiple of 32
  expect_rejected(patched<int32_t>(im, 12, 1 << 30), "layers");  // absurd layer count
  expect_rejected(patched<int32_t>(im, 16, 5), "heads");         // does not divide 32
  expect_rejected(patched<int32_t>(im, 24, -1), "vocab");
  expect_rejected(patched<float>(im, 36, -1.0f), "eps");
  expect_rejected(patched<int32_t>(im, 40, 64), "block size");
}

TEST(E5File, RejectsBadTokenizerTables) {
  const Image im = make_image();
  expect_rejected(patched<int32_t>(im, im.n_pieces_at, 0x7fffffff), "piece count");
  expect_rejected(patched<int32_t>(im, im.n_pieces_at, 9), "piece count");  // > vocab
  expect_rejected(patched<int32_t>(im, im.n_pieces_at + 8, 6), "special token id");
  expect_rejected(patched<uint64_t>(im, im.blob_len_at, ~0ull), "blob");
  expect_rejected(patched<uint32_t>(im, im.blob_len_at + 8 + 4, 99), "offsets");
  expect_rejected(patched<int32_t>(im, im.n_norm_at, -1), "norm count");
  expect_rejected(patched<int32_t>(im, im.n_norm_at, 1 << 20), "norm");
  expect_rejected(patched<uint32_t>(im, im.n_norm_at + 4, 0xffffffffu), "normalisation table");
  expect_rejected(patched<uint8_t>(im, im.n_norm_at + 8 + 4, 200), "norm");  // k runs past
}

TEST(E5File, RejectsBadTensorDirectories) {
  const Image im = make_image();
  expect_rejected(patched<int32_t>(im, im.n_tensors_at, 0x7fffffff), "tensor count");
  expect_rejected(patched<uint8_t>(im, im.dtype_at[0], 7), "dtype");
  expect_rejected(patched<uint8_t>(im, im.dtype_at[1], 1), "expected f32");
  expect_rejected(patched<uint32_t>(im, im.count_at[2], 65), "elements");
  expect_rejected(patched<uint64_t>(im, im.offset_at[3], 64ull << 40), "end of the file");
  expect_rejected(patched<uint64_t>(im, im.offset_at[3], ~0ull & ~63ull), "end of the file");
  expect_rejected(patched<uint64_t>(im, im.offset_at[3], 65), "aligned");
  expect_rejected(patched<uint64_t>(im, im.offset_at[3], 0), "overlaps");
  expect_rejected(patched<uint64_t>(im, im.size_at[4], 7), "bytes");
  std::vector<uint8_t> renamed = im.bytes;
  renamed[im.dir_at + 2 + 4] = 'X';  // "emb.word" -> "emb.Xord"
  expect_rejected(renamed, "not an E5S1 tensor name");
  std::vector<uint8_t> dup = im.bytes;  // "l0.q.b" renamed "l0.k.b": a duplicate
  const size_t qb = im.count_at[6] - 1 - 6;
  ASSERT_EQ(std::string(reinterpret_cast<const char*>(dup.data() + qb), 6), "l0.q.b");
  dup[qb + 3] = 'k';
  expect_rejected(dup, "twice");
}

TEST(E5File, RandomByteFlipsNeverCrash) {
  const Image im = make_image();
  uint32_t seed = 12345;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = im.bytes;
    for (int k = 0; k < 3; ++k) {
      seed = seed * 1664525u + 1013904223u;
      const size_t at = (seed >> 8) % im.dir_end;
      b[at] = static_cast<uint8_t>(seed >> 3);
    }
    (void)parse(b);  // any result; must not crash or trip the sanitizers
  }
}

TEST(E5File, OpenReportsMissingFiles) {
  auto r = E5File::open("/nonexistent/e5.bin");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace memlong
