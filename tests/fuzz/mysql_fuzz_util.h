#pragma once
// Shared pieces of the MySQL fuzz targets (binlog_event_fuzz, rows_fuzz) and of the tool that
// captures their seeds from a test MariaDB (mysql_corpus_capture_test): the input framing, the
// FORMAT_DESCRIPTION contexts the targets decode with, and the checks on decoded events.
//
// binlog_event_fuzz input:
//   "\xfebin" ...                 a whole binlog file, read with BinlogFileReader
//   options u8 · { len u16le · event[len] }*
//       options bit 0: the context FDE announces CRC32 checksums
//               bit 1: MySQL 8.0 FDE (else MariaDB 10.11)
//               bit 2: fix each event's size field, and its CRC32 when the decoder's current
//                      checksum is CRC32, so that mutations reach the body parsers
//   Every event goes through one BinlogDecoder in order (TABLE_MAP before its rows events).
//
// rows_fuzz input:
//   selector u8 · skip u8 · tm_len u16le · TABLE_MAP body[tm_len] · rows body
//       selector bits 0-2: the rows event type (kRowsTypes[bits % 7]); bit 3: MySQL 8.0 FDE
//       skip: where in the rows body a second pass starts reading plain column values, one per
//             table-map column in order (ReadColumnValue on its own)

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/base/value_json.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/crc32.h"
#include "protocol/mysql/event_types.h"

namespace sluice::fuzz {

inline constexpr uint8_t kOptCrc32 = 0x01;
inline constexpr uint8_t kOptMysqlFde = 0x02;
inline constexpr uint8_t kOptFixUp = 0x04;

inline constexpr uint8_t kRowsTypes[7] = {23, 24, 25, 30, 31, 32, 39};
inline constexpr uint8_t kRowsSelectorMysqlFde = 0x08;

inline void PutLe(std::string& s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

inline mysql::Bytes AsBytes(std::string_view s) {
  return mysql::Bytes(reinterpret_cast<const std::byte*>(s.data()), s.size());
}

// A FORMAT_DESCRIPTION event as MariaDB 10.11 (171 post-header lengths) or MySQL 8.0 (41) writes
// it, with or without CRC32.
inline std::string MakeFdeEvent(bool mysql, bool crc) {
  std::string body;
  PutLe(body, 4, 2);
  std::string v = mysql ? "8.0.40" : "10.11.19-MariaDB-log";
  v.resize(50, '\0');
  body += v;
  PutLe(body, 0, 4);
  body.push_back(19);
  const int n = mysql ? 41 : 171;
  std::string lengths(n, '\0');
  auto set = [&](int type, int len) {
    if (type <= n) lengths[type - 1] = static_cast<char>(len);
  };
  set(2, 13);
  set(4, 8);
  set(5, 0);
  set(15, 57 + n);
  set(16, 0);
  set(19, 8);
  for (int t = 23; t <= 25; ++t) set(t, 8);
  for (int t = 30; t <= 32; ++t) set(t, 10);
  set(39, 10);
  set(161, 4);
  set(162, 19);
  set(163, 4);
  set(165, 13);
  for (int t = 166; t <= 168; ++t) set(t, 8);
  for (int t = 169; t <= 171; ++t) set(t, 10);
  body += lengths;
  body.push_back(crc ? 1 : 0);
  std::string e;
  PutLe(e, 0, 4);
  e.push_back(static_cast<char>(mysql::EventType::kFormatDescription));
  PutLe(e, 1, 4);
  PutLe(e, mysql::kEventHeaderLength + body.size() + 4, 4);
  PutLe(e, 0, 4);
  PutLe(e, 0, 2);
  e += body;
  PutLe(e, crc ? mysql::Crc32(AsBytes(e)) : 0, 4);
  return e;
}

// Sets the size field of `event` and recomputes its CRC32 trailer (over the header with the
// in-use flag cleared for a FORMAT_DESCRIPTION, as the decoder checks it).
inline void FixUpEvent(std::string& event, bool crc) {
  if (event.size() < mysql::kEventHeaderLength) return;
  const uint32_t size = static_cast<uint32_t>(event.size());
  for (int i = 0; i < 4; ++i) event[9 + i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  if (!crc || event.size() < mysql::kEventHeaderLength + mysql::kChecksumLength) return;
  std::string covered = event.substr(0, event.size() - mysql::kChecksumLength);
  if (static_cast<uint8_t>(covered[4]) ==
      static_cast<uint8_t>(mysql::EventType::kFormatDescription)) {
    covered[17] = static_cast<char>(covered[17] & ~mysql::kFlagBinlogInUse);
  }
  const uint32_t c = mysql::Crc32(AsBytes(covered));
  for (int i = 0; i < 4; ++i) {
    event[event.size() - 4 + i] = static_cast<char>((c >> (8 * i)) & 0xFF);
  }
}

// One line per event: type and kind, rows rendered as JSON. Used to compare two decodes.
inline void AppendEventDigest(const mysql::Event& e, std::string& out) {
  out += std::to_string(e.header.type);
  out += ':';
  out += std::to_string(e.body.index());
  if (const auto* rows = std::get_if<mysql::RowsEvent>(&e.body)) {
    for (const mysql::RowChange& c : rows->rows) {
      if (c.before) AppendRowJson(*c.before, out);
      if (c.after) AppendRowJson(*c.after, out);
    }
  } else if (const auto* q = std::get_if<mysql::Query>(&e.body)) {
    AppendJsonString(q->database, out);
    AppendJsonString(q->query, out);
  } else if (const auto* p = std::get_if<mysql::TransactionPayload>(&e.body)) {
    for (const mysql::Event& inner : p->events) AppendEventDigest(inner, out);
  }
  out += '\n';
}

}  // namespace sluice::fuzz
