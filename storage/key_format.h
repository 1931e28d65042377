#pragma once
// Key and record layouts of the change log. Pure functions, no RocksDB. The grammar is in
// docs/storage-format.md; the constants here mirror it.
//
//   log CF   key  = source_id:u32be offset:u64be                      value = record
//   time CF  key  = source_id:u32be commit_ts:u64be(biased) offset:u64be  value = ""
//   stage CF key  = source_id:u32be stage_id:u64be seq:u64be     value = record (flags 0)
//   meta CF  key  = "src/" name          value = sluice.storagepb.SourceRecord
//            key  = "state/" source_id:u32be   value = sluice.storagepb.LogState
//            key  = "next_source_id"     value = u32be
//            key  = "sub/" name          value = sluice.storagepb.SubscriptionRecord
//
//   record   = version:u8(=1) flags:u8 op:u8 table_len:varint32 table:bytes event:bytes
//              flags bit 0: first event of its transaction; bit 1: last event of its transaction
//              event: a serialized sluice.v1.ChangeEvent with offset set

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"

namespace sluice::storage {

using SourceId = StrongInt<struct SourceIdTag, uint32_t>;

inline constexpr size_t kLogKeySize = 4 + 8;
inline constexpr size_t kTimeKeySize = 4 + 8 + 8;
inline constexpr uint8_t kRecordVersion = 1;
inline constexpr uint8_t kFlagFirstInTxn = 1 << 0;
inline constexpr uint8_t kFlagLastInTxn = 1 << 1;
inline constexpr std::string_view kSourceKeyPrefix = "src/";
inline constexpr std::string_view kStateKeyPrefix = "state/";
inline constexpr std::string_view kNextSourceIdKey = "next_source_id";
inline constexpr std::string_view kSubscriptionKeyPrefix = "sub/";
// The data dir's storage format (meta CF, value: decimal text). 1: before table-state references
// (never written: a data dir without the key is format 1 or new); 2: table-state values may be
// references to log records (storage/state_reference.h). ChangeLog::Open refuses a data dir of a
// later format than kStorageFormat and writes kStorageFormat into one of an earlier or none.
inline constexpr std::string_view kStorageFormatKey = "storage_format";
inline constexpr int kStorageFormat = 2;

std::string LogKey(SourceId source, LogOffset offset);
// LogKey written into `out` (kLogKeySize bytes), without an allocation.
void EncodeLogKey(SourceId source, LogOffset offset, char* out);
// The smallest key greater than every log key of `source`.
std::string LogKeyEnd(SourceId source);
struct DecodedLogKey {
  SourceId source;
  LogOffset offset;
};
// nullopt when `key` is not kLogKeySize bytes.
std::optional<DecodedLogKey> DecodeLogKey(std::string_view key);

std::string TimeKey(SourceId source, int64_t commit_ts_micros, LogOffset offset);
struct DecodedTimeKey {
  SourceId source;
  int64_t commit_ts_micros;
  LogOffset offset;
};
std::optional<DecodedTimeKey> DecodeTimeKey(std::string_view key);

std::string StageKey(SourceId source, uint64_t stage_id, uint64_t seq);
struct DecodedStageKey {
  SourceId source;
  uint64_t stage_id = 0;
  uint64_t seq = 0;
};
// nullopt when `key` is not kStageKeySize bytes.
std::optional<DecodedStageKey> DecodeStageKey(std::string_view key);
// The smallest key above every stage key of (source, stage_id).
std::string StageKeyEnd(SourceId source, uint64_t stage_id);
inline constexpr size_t kStageKeySize = 4 + 8 + 8;

std::string SourceKey(std::string_view name);
std::string SubscriptionKey(std::string_view name);

// The value of kNextSourceIdKey: u32be. Decoding a short value yields 0.
std::string EncodeSourceIdCounter(uint32_t next);
uint32_t DecodeSourceIdCounter(std::string_view value);
std::string StateKey(SourceId source);

// Hex rendering of a key for error messages: "log key 00000001:00000000000004d2".
std::string DescribeLogKey(std::string_view key);

struct RecordView {
  uint8_t flags = 0;
  uint8_t op = 0;
  std::string_view table;  // "schema.table" or "database.table"; borrowed from the record
  std::string_view event;  // serialized ChangeEvent; borrowed from the record
};

// The record's header (version, flags, op, table), which the serialized event follows; the
// writer appends the event bytes in parts (WriteBatch SliceParts) without joining them first.
void AppendRecordHeader(uint8_t flags, uint8_t op, std::string_view table, std::string& out);
void AppendRecord(uint8_t flags, uint8_t op, std::string_view table, std::string_view event,
                  std::string& out);
// DataLoss naming the problem when `record` is malformed (stored data is untrusted on read).
absl::StatusOr<RecordView> DecodeRecord(std::string_view record);

}  // namespace sluice::storage
