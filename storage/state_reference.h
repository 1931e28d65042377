#pragma once
// A table-state value that refers to the log record holding its row instead of repeating it.
// Bulk ingestion (change_log_ingest.cc) stores a snapshot row's state this way, so the row's
// bytes are written once. Pure: no RocksDB. Grammar in docs/storage-format.md.
//
//   reference = 0x00 offset:varint64
//
// A serialized state row (a ChangeEvent) never starts with 0x00: its first byte is a field tag,
// and protobuf field number 0 is invalid. The row a reference stands for is the value the WAL
// path stores for the same event: 0x08 offset:varint (field 1), then the record's event after the
// fields the log assigns (1 offset, 8 transaction_index, 9 last_in_transaction,
// 10 ingest_ts_micros, written in that order by AppendAssignedFields): the body and the
// transaction's source overlay.
//
// Thread-safety: every function here is pure.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/base/positions.h"

namespace sluice::storage {

inline constexpr char kStateReferenceTag = 0x00;
inline constexpr size_t kMaxStateReferenceSize = 1 + 10;

// True when the stored table-state value is a reference (its first byte is kStateReferenceTag).
inline bool IsStateReference(std::string_view value) {
  return !value.empty() && value[0] == kStateReferenceTag;
}

// Writes the reference to `offset` at `out` (kMaxStateReferenceSize bytes of room); returns its
// size.
size_t EncodeStateReference(LogOffset offset, char* out);
std::string StateReference(LogOffset offset);

// The offset a reference names. DataLoss when `value` is not one whole reference.
absl::StatusOr<LogOffset> DecodeStateReference(std::string_view value);

// The state row a reference to `offset` stands for, from the event bytes (RecordView::event) of
// the log record at `offset`, written into `out` (replaced). DataLoss when the event does not
// begin with the assigned fields of `offset` (the record is not the one the reference names).
absl::Status ResolveStateReference(LogOffset offset, std::string_view event, std::string& out);

}  // namespace sluice::storage
