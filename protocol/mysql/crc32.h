#pragma once
// CRC-32 (ISO-HDLC / zlib: reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), the
// checksum MySQL appends to binlog events when binlog_checksum=CRC32. From 64 bytes on, on x86-64
// CPUs with PCLMULQDQ, computed by folding 64 bytes at a time with carry-less multiplication (a
// few times faster than zlib's tables on binlog events); otherwise with zlib's crc32. Pure and
// thread-safe.

#include <cstdint>
#include <span>
#include <string_view>

namespace sluice::mysql {

// CRC of `data`, continuing from `crc` (pass the previous result to checksum in pieces; 0 starts).
uint32_t Crc32(std::span<const std::byte> data, uint32_t crc = 0);
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace sluice::mysql
