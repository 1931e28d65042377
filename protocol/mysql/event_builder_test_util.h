#pragma once
// Builds handcrafted binlog events for unit tests.

#include <cstdint>
#include <string>

#include "protocol/mysql/crc32.h"
#include "protocol/mysql/event_types.h"

namespace sluice::mysql::testing {

inline void PutLe(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// header + body (+ CRC32 trailer when `crc`).
inline std::string MakeEvent(uint8_t type, const std::string& body, bool crc, uint16_t flags = 0,
                             uint32_t server_id = 1, uint32_t log_pos = 0) {
  std::string e;
  PutLe(e, 1700000000, 4);
  e.push_back(static_cast<char>(type));
  PutLe(e, server_id, 4);
  PutLe(e, kEventHeaderLength + body.size() + (crc ? 4 : 0), 4);
  PutLe(e, log_pos, 4);
  PutLe(e, flags, 2);
  e += body;
  if (crc) PutLe(e, Crc32(e), 4);
  return e;
}

// A MySQL 8.0 FORMAT_DESCRIPTION event with the given checksum algorithm.
inline std::string MakeFde(bool crc, const std::string& version = "8.0.40") {
  std::string body;
  PutLe(body, 4, 2);
  std::string v = version;
  v.resize(50, '\0');
  body += v;
  PutLe(body, 0, 4);
  body.push_back(19);
  std::string lengths(41, '\0');
  lengths[static_cast<int>(EventType::kQuery) - 1] = 13;
  lengths[static_cast<int>(EventType::kRotate) - 1] = 8;
  lengths[static_cast<int>(EventType::kFormatDescription) - 1] = 98;
  lengths[static_cast<int>(EventType::kTableMap) - 1] = 8;
  for (int t = 23; t <= 25; ++t) lengths[t - 1] = 8;
  for (int t = 30; t <= 32; ++t) lengths[t - 1] = 10;
  lengths[static_cast<int>(EventType::kPartialUpdateRows) - 1] = 10;
  body += lengths;
  body.push_back(crc ? 1 : 0);
  // The FDE always carries a checksum field after the algorithm byte; compute it over everything.
  std::string e;
  PutLe(e, 0, 4);
  e.push_back(static_cast<char>(EventType::kFormatDescription));
  PutLe(e, 1, 4);
  PutLe(e, kEventHeaderLength + body.size() + 4, 4);
  PutLe(e, 0, 4);
  PutLe(e, 0, 2);
  e += body;
  PutLe(e, crc ? Crc32(e) : 0, 4);
  return e;
}

}  // namespace sluice::mysql::testing
