// sha256_hex / crc32 against published test vectors and a bitwise reference.
#include "core/store/sha256.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>

#include "tests/core/store/store_test_util.h"

namespace memlong {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(StoreSha256, FipsVectors) {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
  EXPECT_EQ(sha256_hex(bytes_of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex(bytes_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(bytes_of(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(StoreSha256, FileMatchesBytesAndMissingFileIsNotFound) {
  store_test::TempDir dir;
  const std::string path = dir.path() + "/f.bin";
  std::string content(200000, '\0');
  std::mt19937 rng(3);
  for (char& c : content) c = static_cast<char>(rng());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  auto h = sha256_file(path);
  ASSERT_TRUE(h.is_ok()) << h.status().to_string();
  EXPECT_EQ(*h, sha256_hex(bytes_of(content)));
  EXPECT_EQ(sha256_file(dir.path() + "/missing").status().code(), StatusCode::kNotFound);
}

uint32_t crc32_bitwise(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

TEST(StoreCrc32, CheckValueAndBitwiseReference) {
  EXPECT_EQ(crc32(bytes_of("123456789")), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  std::mt19937 rng(11);
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 1000u, 4099u}) {
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    EXPECT_EQ(crc32(b), crc32_bitwise(b.data(), b.size())) << n;
    if (n > 5) {  // streaming in two parts equals one pass
      const uint32_t part = crc32_update(0, b.data(), 5);
      EXPECT_EQ(crc32_update(part, b.data() + 5, n - 5), crc32(b)) << n;
    }
  }
}

}  // namespace
}  // namespace memlong
