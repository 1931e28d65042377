#pragma once
// Table state: the latest row per primary key of every table of a source, kept beside the log.
// This header holds the pure part: what one event does to the state (computed on the appending
// thread) and the key layout. No RocksDB. The grammar is in storage/README.md.
//
//   table CF key   = source_id:u32be escaped(table) 0x00 0x01 row_key
//            value = a serialized sluice.v1.ChangeEvent: offset (of the event that wrote the
//                    row), op r, source, key_columns, after
//   escaped(b)     = b with each 0x00 byte written as 0x00 0xFF (so 0x00 0x01 ends it and no
//                    table's prefix is a prefix of another's)
//   row_key        = one component per key column, in key_columns order:
//                    null 0x01 | bool 0x02 b:u8 | int64 0x03 (v ^ 2^63):u64be | uint64 0x04 v:u64be
//                    | string 0x05 escaped 0x00 0x01 | bytes 0x06 escaped 0x00 0x01
//                    | other 0x07 kind:u8 escaped(deterministic Value bytes) 0x00 0x01
//
// Integers, strings and bytes sort in value order; other kinds (decimal, dates, ...) are
// unambiguous but not ordered by value.
//
// Thread-safety: every function here is pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "sluice/v1/event.pb.h"
#include "storage/key_format.h"

namespace sluice::storage {

// What one event does to its table's state.
struct TableStateUpdate {
  enum class Kind : uint8_t {
    kNone,    // nothing: keyless table, a key column missing from the image, other ddl, message
    kPut,     // c, u, r: `row` becomes the row at `key` (and `old_key` is deleted, when set)
    kDelete,  // d: the row at `key` is deleted
    // t: every row of the event's table is deleted; ddl "TRUNCATE [TABLE] t" and
    // "DROP TABLE [IF EXISTS] t1, t2 ..." (MySQL logs these as statements): of `clear_tables`.
    kClear,
  };
  Kind kind = Kind::kNone;
  std::string key;      // row_key (kPut, kDelete)
  std::string old_key;  // kPut of an update that changed the key: the old row_key; else empty
  // kPut: a serialized ChangeEvent {op r, source, key_columns, after}, without offset. The
  // writer prepends the offset and appends the transaction's source overlay.
  std::string row;
  // kClear from a ddl statement: the tables it names, as "database.table" (an unqualified name
  // is in the event's source.database).
  std::vector<std::string> clear_tables;

  size_t memory_cost() const {
    size_t n = key.size() + old_key.size() + row.size();
    for (const auto& t : clear_tables) n += t.size() + sizeof(std::string);
    return n;
  }
};

// The update for `event`. Call it on the thread that serializes the event (ChangeLog's
// appending thread), so the writer thread only copies bytes. Every append path must use it.
TableStateUpdate ComputeTableStateUpdate(const v1::ChangeEvent& event);
// The same for an event whose source fields the transaction's commit info completes
// (ChangeLog::AppendAsync's commit_info: its non-default fields override the event's; a
// snapshot chunk names its table there).
TableStateUpdate ComputeTableStateUpdate(const v1::ChangeEvent& event,
                                         const v1::SourceInfo& commit_info);
// The same for an event already encoded (ChangeLog::EncodedEvent's body). An event that does not
// parse changes nothing (the log stores it as given).
TableStateUpdate ComputeTableStateUpdate(std::string_view encoded_event);

// The tables a MySQL ddl statement empties: "TRUNCATE [TABLE] name" and
// "DROP TABLE [IF EXISTS] name, ..." (names bare or `quoted`, optionally database-qualified;
// comments skipped). Empty for any other statement. Unqualified names get `database`.
std::vector<std::string> TablesClearedByDdl(std::string_view statement, std::string_view database);

// row_key of `row` for `key_columns`; nullopt when `key_columns` is empty or a key column is not
// in `row`.
std::optional<std::string> EncodeRowKey(const google::protobuf::RepeatedPtrField<std::string>& key_columns,
                                        const v1::Row& row);

// Appends to `out` the row_key component of one key column whose value is given as the contents
// of its serialized v1::Value (the bytes value_wire.h writes; what a snapshot reader holds), so a
// row key is built column by column without a v1::Row: the components of key_columns in order
// are EncodeRowKey's bytes for a row whose key fields parse from them. int64, uint64, string and
// bytes are read from the bytes, other kinds parsed. False (`out` unchanged) when the bytes do not
// parse as a v1::Value.
bool AppendRowKeyComponent(std::string_view value, std::string& out);

// Keys of the table CF.
std::string TableStatePrefix(SourceId source, std::string_view table);
// The smallest key above every key of (source, table).
std::string TableStatePrefixEnd(SourceId source, std::string_view table);
std::string TableStateKey(SourceId source, std::string_view table, std::string_view row_key);
// The bounds of every table of a source: [SourceStateBegin, SourceStateEnd).
std::string SourceStateBegin(SourceId source);
std::string SourceStateEnd(SourceId source);

struct DecodedTableStateKey {
  SourceId source;
  std::string table;        // unescaped
  std::string_view row_key; // borrowed from the key
};
// DataLoss naming the key when it does not follow the grammar.
absl::StatusOr<DecodedTableStateKey> DecodeTableStateKey(std::string_view key);

// The row key of an event already encoded (a log record's event bytes): EncodeRowKey of its
// key_columns and after, read without parsing the rest of the event (retention recomputes it per
// trimmed snapshot row). nullopt when it has none; DataLoss when the bytes are not a well-formed
// event. `after` receives the event's after image; pass the same one to each call of a loop, so
// its fields' memory is reused.
absl::StatusOr<std::optional<std::string>> RowKeyOfEncodedEvent(std::string_view event,
                                                                 v1::Row& after);

// The stored value as the row event a reader sees: offset cleared (0 marks a state row),
// source.snapshot set. `changed_at` receives the offset of the event that wrote the row.
absl::StatusOr<v1::ChangeEvent> StateRowEvent(std::string_view value, LogOffset* changed_at);

}  // namespace sluice::storage
