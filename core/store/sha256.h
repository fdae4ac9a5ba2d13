// SHA-256 (FIPS 180-4) for document content hashes, and CRC-32 (IEEE 802.3, the zlib polynomial
// 0xEDB88320 reflected) for K/V records and file payloads.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/common/status.h"

namespace memlong {

// Lowercase hex SHA-256 of `bytes`.
std::string sha256_hex(std::span<const uint8_t> bytes);
// Lowercase hex SHA-256 of a file's bytes (streamed). Errors: NotFound, IoError.
Result<std::string> sha256_file(const std::string& path);

// CRC-32 of `bytes`, continuing from `crc` (0 to start).
uint32_t crc32_update(uint32_t crc, const uint8_t* bytes, size_t n);
inline uint32_t crc32(std::span<const uint8_t> bytes) {
  return crc32_update(0, bytes.data(), bytes.size());
}

}  // namespace memlong
