// GgufFile against hostile input: files built byte by byte here (independently of GgufWriter),
// then broken in one field each; plus every prefix of a valid file, and a writer -> reader
// round trip of every metadata type. Invariant numbers refer to gguf_reader.cpp.
#include "core/model/gguf_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace memlong {
namespace {

// Little-endian byte builder for hand-made GGUF files.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(std::string_view s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Bytes& pad(size_t align) {
    b.resize((b.size() + align - 1) / align * align, 0);
    return *this;
  }
};

// One kv "general.architecture" = "llama".
Bytes arch_kv() {
  Bytes k;
  k.str("general.architecture").put<uint32_t>(8).str("llama");
  return k;
}

// A tensor info with the given dims, type and offset.
Bytes tensor_info(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
  Bytes t;
  t.str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
  for (uint64_t x : ne) t.put<uint64_t>(x);
  t.put<uint32_t>(type).put<uint64_t>(offset);
  return t;
}

// header + kvs + tensor infos + padding to 32 + data.
std::vector<uint8_t> gguf(uint64_t n_kv, const Bytes& kvs, uint64_t n_tensors, const Bytes& infos,
                          const std::vector<uint8_t>& data, uint32_t version = 3) {
  Bytes f;
  f.b = {'G', 'G', 'U', 'F'};
  f.put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  f.raw(kvs.b).raw(infos.b);
  if (n_tensors > 0) f.pad(32).raw(data);
  return f.b;
}

// A valid file: one kv, one F32 tensor of 8 elements (32 bytes, so no trailing padding).
std::vector<uint8_t> valid_file() {
  return gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32, 0));
}

Status parse(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(bytes, "test.gguf").status();
}

void expect_error(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& needle) {
  const Status s = parse(bytes);
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("test.gguf"), std::string::npos) << s.to_string();
}

TEST(GgufReader, ValidHandMadeFileParses) {
  const auto bytes = valid_file();
  auto f = GgufFile::parse(bytes, "test.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f.value()->version(), 3u);
  EXPECT_EQ(f.value()->get_string("general.architecture"), "llama");
  ASSERT_EQ(f.value()->tensors().size(), 1u);
  EXPECT_EQ(f.value()->tensors()[0].n_bytes, 32u);
  EXPECT_EQ(f.value()->tensors()[0].data, bytes.data() + bytes.size() - 32);
}

TEST(GgufReader, EveryTruncationIsAnErrorNeverACrash) {
  // Writer-built file with several kinds of metadata and two tensors; the last tensor fills its
  // aligned slot exactly, so every strict prefix lacks needed bytes.
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_u32("llama.block_count", 2);
  w.add_f32("llama.rope.freq_base", 10000.0f);
  w.add_bool("flag", true);
  w.add_string_array("tokenizer.ggml.tokens", {"a", "bc", "\xc3\xa9"});
  w.add_i32_array("ints", {1, -2, 3});
  w.add_tensor("a", DType::kF32, {4, 2}, std::vector<uint8_t>(32, 1));
  w.add_tensor("b", DType::kQ8_0, {32, 1}, std::vector<uint8_t>(34, 2));
  w.add_tensor("c", DType::kF32, {8}, std::vector<uint8_t>(32, 3));
  const std::vector<uint8_t> full = w.finish();
  ASSERT_TRUE(parse(full).is_ok());
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(n));
    const Status s = parse(prefix);
    EXPECT_FALSE(s.is_ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << n << ": " << s.to_string();
  }
}

TEST(GgufReader, BadMagic) {
  auto bytes = valid_file();
  bytes[0] = 'X';
  expect_error(bytes, StatusCode::kCorrupt, "magic");
}

TEST(GgufReader, VersionOneAndUnknownVersionsAreUnsupported) {
  auto v1 = gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32), 1);
  expect_error(v1, StatusCode::kUnsupported, "version 1");
  auto v99 = gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32), 99);
  expect_error(v99, StatusCode::kUnsupported, "version 99");
  auto v2 = gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32), 2);
  EXPECT_TRUE(parse(v2).is_ok());
}

TEST(GgufReader, AbsurdCounts) {  // invariant 2
  expect_error(
      gguf(uint64_t{1} << 40, arch_kv(), 1, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32)),
      StatusCode::kCorrupt, "metadata count");
  expect_error(
      gguf(1, arch_kv(), ~uint64_t{0}, tensor_info("w", {8}, 0, 0), std::vector<uint8_t>(32)),
      StatusCode::kCorrupt, "tensor count");
  // A count that fits the caps but not the bytes left.
  expect_error(gguf(10, arch_kv(), 0, Bytes{}, {}), StatusCode::kCorrupt, "metadata count");
}

TEST(GgufReader, StringLengthOverflow) {  // invariant 1
  Bytes k;
  k.str("general.architecture").put<uint32_t>(8).put<uint64_t>(~uint64_t{0});
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "string value");
  Bytes key;
  key.put<uint64_t>(uint64_t{1} << 62).put<uint32_t>(4).put<uint32_t>(0);
  expect_error(gguf(1, key, 0, Bytes{}, {}), StatusCode::kCorrupt, "metadata key");
  Bytes past;  // a length within the cap but past the end
  past.str("k").put<uint32_t>(8).put<uint64_t>(1000).put<uint32_t>(0);
  expect_error(gguf(1, past, 0, Bytes{}, {}), StatusCode::kCorrupt, "past the end");
}

TEST(GgufReader, AbsurdArrayCount) {
  Bytes k;
  k.str("arr").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(uint64_t{1} << 60);
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "array");
  Bytes s;  // string array of 2^20 elements in a file of a few bytes
  s.str("arr").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(uint64_t{1} << 20);
  expect_error(gguf(1, s, 0, Bytes{}, {}), StatusCode::kCorrupt, "array");
}

TEST(GgufReader, UnknownValueType) {
  Bytes k;
  k.str("x").put<uint32_t>(13).put<uint32_t>(0);
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "unknown type 13");
  Bytes a;  // unknown element type inside an array
  a.str("x").put<uint32_t>(9).put<uint32_t>(77).put<uint64_t>(1).put<uint32_t>(0);
  EXPECT_FALSE(parse(gguf(1, a, 0, Bytes{}, {})).is_ok());
}

TEST(GgufReader, UnknownTensorType) {  // invariant 3
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {8}, 99, 0), std::vector<uint8_t>(32)),
               StatusCode::kUnsupported, "unknown type id 99");
}

TEST(GgufReader, FiveDimensions) {
  expect_error(
      gguf(1, arch_kv(), 1, tensor_info("w", {2, 2, 2, 1, 1}, 0, 0), std::vector<uint8_t>(32)),
      StatusCode::kCorrupt, "5 dimensions");
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {}, 0, 0), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "0 dimensions");
}

TEST(GgufReader, ZeroDimension) {
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {8, 0}, 0, 0), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "dimension 0");
}

TEST(GgufReader, DimensionProductOverflow) {
  const uint64_t big = uint64_t{1} << 40;
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {big, big}, 0, 0), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "w");
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {big, 1u << 20, 1u << 20, 1u << 20}, 0, 0),
                    std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "overflows");
}

TEST(GgufReader, OffsetPastEnd) {
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, 64), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "past the end");
  // Offset fits but size does not.
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {16}, 0, 0), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "past the end");
  // Offset near 2^64: the range check must not wrap.
  expect_error(
      gguf(1, arch_kv(), 1, tensor_info("w", {8}, 0, ~uint64_t{0} - 31), std::vector<uint8_t>(32)),
      StatusCode::kCorrupt, "w");
}

TEST(GgufReader, MisalignedOffset) {
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {2}, 0, 4), std::vector<uint8_t>(32)),
               StatusCode::kCorrupt, "not aligned");
}

TEST(GgufReader, DuplicateNames) {
  Bytes infos = tensor_info("w", {8}, 0, 0);
  infos.raw(tensor_info("w", {8}, 0, 32).b);
  expect_error(gguf(1, arch_kv(), 2, infos, std::vector<uint8_t>(64)), StatusCode::kCorrupt,
               "duplicate tensor name");
  Bytes kvs = arch_kv();
  kvs.raw(arch_kv().b);
  expect_error(gguf(2, kvs, 0, Bytes{}, {}), StatusCode::kCorrupt, "duplicate metadata key");
}

TEST(GgufReader, InvalidUtf8InKeyAndValue) {
  Bytes k;
  k.str("bad\xff key").put<uint32_t>(4).put<uint32_t>(1);
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "UTF-8");
  Bytes v;
  v.str("general.name").put<uint32_t>(8).str("\xc3\x28");  // bad continuation byte
  expect_error(gguf(1, v, 0, Bytes{}, {}), StatusCode::kCorrupt, "UTF-8");
  Bytes overlong;
  overlong.str("general.name").put<uint32_t>(8).str("\xc0\xaf");  // overlong '/'
  expect_error(gguf(1, overlong, 0, Bytes{}, {}), StatusCode::kCorrupt, "UTF-8");
  Bytes surrogate;
  surrogate.str("general.name").put<uint32_t>(8).str("\xed\xa0\x80");  // U+D800
  expect_error(gguf(1, surrogate, 0, Bytes{}, {}), StatusCode::kCorrupt, "UTF-8");
  Bytes tname = tensor_info("w\xfe", {8}, 0, 0);
  expect_error(gguf(1, arch_kv(), 1, tname, std::vector<uint8_t>(32)), StatusCode::kCorrupt,
               "UTF-8");
}

TEST(GgufReader, RowNotMultipleOfBlockSize) {
  // Q4_1 blocks hold 32 weights; a row of 16 cannot be stored.
  expect_error(gguf(1, arch_kv(), 1, tensor_info("w", {16, 2}, 3, 0), std::vector<uint8_t>(64)),
               StatusCode::kCorrupt, "block size");
}

TEST(GgufReader, BoolValueTwo) {
  Bytes k;
  k.str("flag").put<uint32_t>(7).put<uint8_t>(2);
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "bool");
}

TEST(GgufReader, BadAlignmentKey) {
  Bytes k;
  k.str("general.alignment").put<uint32_t>(4).put<uint32_t>(24);
  expect_error(gguf(1, k, 0, Bytes{}, {}), StatusCode::kCorrupt, "alignment");
}

TEST(GgufReader, DeeplyNestedArrayIsRejected) {
  Bytes k;
  k.str("nest").put<uint32_t>(9);
  for (int d = 0; d < 64; ++d) k.put<uint32_t>(9).put<uint64_t>(1);
  k.put<uint32_t>(0).put<uint64_t>(0);
  EXPECT_EQ(parse(gguf(1, k, 0, Bytes{}, {})).code(), StatusCode::kCorrupt);
}

TEST(GgufReader, RoundTripOfEveryMetadataType) {
  GgufWriter w;
  w.add_string("s", "h\xc3\xa9llo");
  w.add_u32("u32", 4000000000u);
  w.add_i32("i32", -123456);
  w.add_u64("u64", ~uint64_t{0} - 5);
  w.add_f32("f32", 1.5e-5f);
  w.add_bool("b_true", true);
  w.add_bool("b_false", false);
  w.add_string_array("sa", {"", "x", "\xe2\x96\x81tok"});
  w.add_f32_array("fa", {-1.0f, 0.25f});
  w.add_i32_array("ia", {-7, 0, 2147483647});
  w.add_tensor("t.f32", DType::kF32, {3, 2}, std::vector<uint8_t>(24, 7));
  w.add_tensor("t.q8", DType::kQ8_0, {64, 2}, std::vector<uint8_t>(4 * 34, 9));
  w.set_alignment(64);
  const std::vector<uint8_t> bytes = w.finish();

  auto r = GgufFile::parse(bytes, "roundtrip");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const GgufFile& f = *r.value();
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_string("s"), "h\xc3\xa9llo");
  EXPECT_EQ(f.get_int("u32"), 4000000000);
  EXPECT_EQ(f.get_int("i32"), -123456);
  EXPECT_EQ(f.find("u64")->u, ~uint64_t{0} - 5);
  EXPECT_FALSE(f.get_int("u64").has_value());  // does not fit int64
  EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("f32")), 1.5e-5f);
  EXPECT_EQ(f.get_bool("b_true"), true);
  EXPECT_EQ(f.get_bool("b_false"), false);
  EXPECT_EQ(f.find("sa")->strings, (std::vector<std::string>{"", "x", "\xe2\x96\x81tok"}));
  EXPECT_EQ(f.find("fa")->floats, (std::vector<double>{-1.0, 0.25}));
  EXPECT_EQ(f.find("ia")->ints, (std::vector<int64_t>{-7, 0, 2147483647}));
  EXPECT_EQ(f.find("sa")->summary(), "[3 string]");

  ASSERT_EQ(f.tensors().size(), 2u);
  const GgufTensorInfo* t = f.find_tensor("t.f32");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne, (std::array<int64_t, 4>{3, 2, 1, 1}));
  EXPECT_EQ(t->n_bytes, 24u);
  EXPECT_EQ(t->data[0], 7);
  const GgufTensorInfo* q = f.find_tensor("t.q8");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::kQ8_0);
  EXPECT_EQ(q->n_bytes, 4u * 34u);
  EXPECT_EQ(q->data[0], 9);
  EXPECT_EQ(q->data[4 * 34 - 1], 9);
  EXPECT_EQ(static_cast<size_t>(q->data - bytes.data()) % 64, 0u);
}

// The types GgufWriter has no method for, written by hand.
TEST(GgufReader, ReadsEveryOtherMetadataType) {
  Bytes k;
  k.str("u8").put<uint32_t>(0).put<uint8_t>(200);
  k.str("i8").put<uint32_t>(1).put<int8_t>(-100);
  k.str("u16").put<uint32_t>(2).put<uint16_t>(60000);
  k.str("i16").put<uint32_t>(3).put<int16_t>(-30000);
  k.str("i64").put<uint32_t>(11).put<int64_t>(-(int64_t{1} << 50));
  k.str("f64").put<uint32_t>(12).put<double>(3.25);
  k.str("aa").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(2);  // array of 2 arrays
  k.put<uint32_t>(0).put<uint64_t>(2).put<uint8_t>(1).put<uint8_t>(2);
  k.put<uint32_t>(4).put<uint64_t>(1).put<uint32_t>(77);
  k.str("u64a").put<uint32_t>(9).put<uint32_t>(10).put<uint64_t>(1).put<uint64_t>(5);
  auto r = GgufFile::parse(gguf(8, k, 0, Bytes{}, {}), "hand");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const GgufFile& f = *r.value();
  EXPECT_EQ(f.get_int("u8"), 200);
  EXPECT_EQ(f.get_int("i8"), -100);
  EXPECT_EQ(f.get_int("u16"), 60000);
  EXPECT_EQ(f.get_int("i16"), -30000);
  EXPECT_EQ(f.get_int("i64"), -(int64_t{1} << 50));
  EXPECT_DOUBLE_EQ(*f.get_float("f64"), 3.25);
  EXPECT_FALSE(f.get_string("u8").has_value());  // wrong type asked: nullopt, not garbage
  const GgufValue* aa = f.find("aa");
  ASSERT_NE(aa, nullptr);
  ASSERT_EQ(aa->arrays.size(), 2u);
  EXPECT_EQ(aa->arrays[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(aa->arrays[1].ints, (std::vector<int64_t>{77}));
  EXPECT_EQ(f.find("u64a")->ints, (std::vector<int64_t>{5}));
}

}  // namespace
}  // namespace memlong
