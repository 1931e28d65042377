#pragma once
// TABLE_MAP_EVENT (19): the column layout that the following row events refer to by table id.
//
// Grammar (after the 19-byte header, without the checksum):
//   table_id u48le (u32le if the FDE's post-header length is 6) · flags u16le
//   db_len u8 · db · NUL · table_len u8 · table · NUL · ncols lenenc · types[ncols]
//   meta_len lenenc · per-column metadata (see ColumnDef) · null_bitmap[(ncols+7)/8]
//   { tag u8 · len lenenc · value[len] }*          optional metadata (binlog_row_metadata)
//
// Pure; thread-compatible values. Errors are DataLoss naming TABLE_MAP_EVENT and the offset.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/mysql/control_events.h"
#include "protocol/mysql/event_types.h"

namespace sluice::mysql {

// One column of a table map, with the per-type metadata unpacked.
struct ColumnDef {
  ColumnType binlog_type = ColumnType::kNull;  // the type byte as written
  // The real type: ENUM and SET arrive as STRING with the real type in the first metadata byte.
  ColumnType type = ColumnType::kNull;
  uint16_t raw_meta = 0;     // metadata as read (1 or 2 bytes, little-endian order of bytes)
  uint32_t max_length = 0;   // STRING/VARCHAR/VAR_STRING: maximum length in bytes
  uint8_t length_bytes = 0;  // BLOB/TEXT/JSON/GEOMETRY/VECTOR length prefix; ENUM/SET pack length
  uint8_t precision = 0;     // NEWDECIMAL
  uint8_t scale = 0;         // NEWDECIMAL
  uint8_t fsp = 0;           // TIME2/DATETIME2/TIMESTAMP2 fractional digits (0..6)
  uint32_t bits = 0;         // BIT: total bits
  bool nullable = true;

  // Optional metadata; absent when the server did not send it.
  std::optional<bool> is_unsigned;            // numeric columns
  std::optional<uint32_t> collation;          // character, ENUM and SET columns
  std::string name;                           // empty when COLUMN_NAME was not sent
  std::vector<std::string> enum_values;       // ENUM
  std::vector<std::string> set_values;        // SET
  std::optional<uint32_t> geometry_type;      // GEOMETRY
  std::optional<uint32_t> vector_dimensions;  // VECTOR
  bool visible = true;

  bool IsNumeric() const;    // columns listed by SIGNEDNESS
  bool IsCharacter() const;  // columns listed by DEFAULT_CHARSET / COLUMN_CHARSET
  bool IsEnumOrSet() const { return type == ColumnType::kEnum || type == ColumnType::kSet; }
};

struct TableMap {
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string database;
  std::string table;
  std::vector<ColumnDef> columns;
  // Primary-key column indexes (SIMPLE_PRIMARY_KEY or PRIMARY_KEY_WITH_PREFIX), in key order.
  std::vector<uint32_t> primary_key;
  // Prefix length per primary_key entry; 0 means the whole column.
  std::vector<uint32_t> primary_key_prefix;
  bool has_optional_metadata = false;

  // The column's name, or "col_N" (1-based N) when COLUMN_NAME metadata was absent.
  std::string ColumnName(size_t index) const;
};

absl::StatusOr<TableMap> DecodeTableMap(Bytes body, const FormatDescription& fde);

}  // namespace sluice::mysql
