// SafetensorsFile against hostile input: headers written here as JSON text, broken in one field
// each, plus every prefix of a valid file. Invariant numbers refer to safetensors_reader.h.
#include "core/model/safetensors_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace memlong {
namespace {

// u64 header length + header + data.
std::vector<uint8_t> file(const std::string& header, size_t data_bytes, uint64_t claimed_len = 0) {
  const uint64_t len = claimed_len != 0 ? claimed_len : header.size();
  std::vector<uint8_t> b;
  b.reserve(8 + header.size() + data_bytes);
  for (int k = 0; k < 8; ++k) b.push_back(static_cast<uint8_t>(len >> (8 * k)));
  for (char c : header) b.push_back(static_cast<uint8_t>(c));
  for (size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

// Two tensors: a [2, 3] F32 (24 bytes) and a [4] BF16 (8 bytes) after it.
const char* kValidHeader = R"({"__metadata__":{"format":"pt"},)"
                           R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                           R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})";

void expect_error(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& needle) {
  const Status s = SafetensorsFile::parse(bytes, "x.safetensors").status();
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("x.safetensors"), std::string::npos) << s.to_string();
}

std::string one(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets +
         "}}";
}

TEST(SafetensorsReader, ValidFileParses) {
  const auto bytes = file(kValidHeader, 32);
  auto r = SafetensorsFile::parse(bytes, "x.safetensors");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const SafetensorsFile& f = *r.value();
  ASSERT_EQ(f.tensors().size(), 2u);
  const SafetensorsTensor* a = f.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->n_bytes, 24u);
  EXPECT_EQ(a->data, bytes.data() + 8 + std::strlen(kValidHeader));
  const SafetensorsTensor* b = f.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::kBF16);
  EXPECT_EQ(b->data[0], 24);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.find("__metadata__"), nullptr);
  EXPECT_TRUE(SafetensorsFile::parse(file(one("F16", "[3]", "[0,6]"), 6), "f16").is_ok());
  EXPECT_TRUE(SafetensorsFile::parse(file(one("F32", "[]", "[0,4]"), 4), "scalar").is_ok());
}

TEST(SafetensorsReader, EveryTruncationIsAnError) {
  const auto full = file(kValidHeader, 32);
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<long>(n));
    const Status s = SafetensorsFile::parse(prefix, "x.safetensors").status();
    EXPECT_EQ(s.code(), StatusCode::kCorrupt) << "prefix " << n << ": " << s.to_string();
  }
}

TEST(SafetensorsReader, HeaderLengthHuge) {  // invariant 1
  expect_error(file(kValidHeader, 32, ~uint64_t{0}), StatusCode::kCorrupt, "header length");
  expect_error(file(kValidHeader, 32, uint64_t{1} << 40), StatusCode::kCorrupt, "header length");
  expect_error(file(kValidHeader, 32, std::strlen(kValidHeader) + 64), StatusCode::kCorrupt,
               "past the end");
}

TEST(SafetensorsReader, OffsetsOutOfRange) {  // invariant 3
  expect_error(file(one("F32", "[2]", "[0,16]"), 8), StatusCode::kCorrupt, "outside");
  expect_error(file(one("F32", "[2]", "[8,0]"), 8), StatusCode::kCorrupt, "outside");
  expect_error(file(one("F32", "[2]", "[18446744073709551615,18446744073709551615]"), 8),
               StatusCode::kCorrupt, "t");
  expect_error(file(one("F32", "[2]", "[-8,0]"), 8), StatusCode::kCorrupt, "data_offsets");
  expect_error(file(one("F32", "[2]", "[0]"), 8), StatusCode::kCorrupt, "data_offsets");
  expect_error(file(one("F32", "[2]", "[0,8.5]"), 8), StatusCode::kCorrupt, "data_offsets");
}

TEST(SafetensorsReader, OverlappingTensors) {
  const std::string h = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  expect_error(file(h, 16), StatusCode::kCorrupt, "overlap");
  const std::string same = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})";
  expect_error(file(same, 8), StatusCode::kCorrupt, "overlap");
}

TEST(SafetensorsReader, ShapeSizeMismatch) {  // invariant 2
  expect_error(file(one("F32", "[3]", "[0,8]"), 8), StatusCode::kCorrupt, "shape");
  expect_error(file(one("BF16", "[4]", "[0,4]"), 8), StatusCode::kCorrupt, "shape");
  expect_error(file(one("F32", "[0]", "[0,0]"), 8), StatusCode::kCorrupt, "zero dimension");
  expect_error(file(one("F32", "[-2]", "[0,8]"), 8), StatusCode::kCorrupt, "dimension");
  expect_error(file(one("F32", "[\"2\"]", "[0,8]"), 8), StatusCode::kCorrupt, "dimension");
  expect_error(file(one("F32", "[4294967296,4294967296,4294967296]", "[0,8]"), 8),
               StatusCode::kCorrupt, "overflows");
  expect_error(file(one("F32", "[1,1,1,1,2]", "[0,8]"), 8), StatusCode::kUnsupported, "dimensions");
  expect_error(file(one("F32", "7", "[0,8]"), 8), StatusCode::kCorrupt, "shape");
}

TEST(SafetensorsReader, UnknownAndUnsupportedDtypes) {
  expect_error(file(one("F31", "[2]", "[0,8]"), 8), StatusCode::kCorrupt, "unknown dtype 'F31'");
  // Integer tensors (e.g. HF's position_ids buffer) are left out, not fatal; still validated.
  {
    const std::vector<uint8_t> bytes = file(one("I64", "[1]", "[0,8]"), 8);
    auto f = SafetensorsFile::parse(bytes, "mem");
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    EXPECT_TRUE((*f)->tensors().empty());
    EXPECT_EQ((*f)->find("t"), nullptr);
    ASSERT_EQ((*f)->skipped().count("t"), 1u);
    EXPECT_NE((*f)->skipped().at("t").find("I64"), std::string::npos);
  }
  expect_error(file(one("I64", "[2]", "[0,8]"), 8), StatusCode::kCorrupt, "bytes");
  expect_error(file(R"({"t":{"dtype":5,"shape":[2],"data_offsets":[0,8]}})", 8),
               StatusCode::kCorrupt, "dtype");
}

TEST(SafetensorsReader, BadJson) {
  expect_error(file(R"({"t":{"dtype":"F32",)", 8), StatusCode::kCorrupt, "JSON");
  expect_error(file("[1,2,3]", 8), StatusCode::kCorrupt, "not a JSON object");
  expect_error(file(std::string("{\"t\xff\":1}"), 8), StatusCode::kCorrupt, "JSON");
  expect_error(file(R"({"t":[1,2]})", 8), StatusCode::kCorrupt, "object");
  expect_error(file(R"({"__metadata__":{"k":1}})", 8), StatusCode::kCorrupt, "__metadata__");
  const std::string dup = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  expect_error(file(dup, 8), StatusCode::kCorrupt, "listed twice");
  // Deep nesting must not exhaust the stack.
  std::string deep = R"({"t":)";
  for (int i = 0; i < 100000; ++i) deep += "[";
  EXPECT_FALSE(SafetensorsFile::parse(file(deep, 0), "deep").is_ok());
}

}  // namespace
}  // namespace memlong
