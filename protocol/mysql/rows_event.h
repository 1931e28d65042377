#pragma once
// WRITE/UPDATE/DELETE_ROWS events, v1 (MariaDB, MySQL 5.1-5.5: types 23-25) and v2 (MySQL 5.6+:
// types 30-32), plus PARTIAL_UPDATE_ROWS (39) with partial JSON columns (see json_diff.h).
//
// Grammar (after the common header, without the checksum):
//   table_id u48le (u32le if the FDE's post-header length is 6) · flags u16le
//   [v2: extra_len u16le (counts its own 2 bytes) · extra_data[extra_len - 2]]
//   ncols lenenc · present_bitmap[(ncols+7)/8] · [UPDATE: present_after[(ncols+7)/8]]
//   rows: { image(present) · [UPDATE: image(present_after)] }* until the end of the body
//   image(p) := [PARTIAL_UPDATE after image: value_options lenenc · partial_bitmap if bit 1]
//               null_bitmap[(popcount(p)+7)/8] · value for each present, non-NULL column
// Bitmaps are least-significant bit first. The NULL bitmap is indexed by the ordinal among
// *present* columns. An absent column (MINIMAL/NOBLOB images) is left out of the row: unknown, not
// NULL.
//
// A partial JSON column in a PARTIAL_UPDATE_ROWS after image is applied to the before image's
// document when the before image has it; otherwise (MINIMAL before image) the value is
// RawValue{kJsonDiffTypeName, <diffs as JSON>}.
//
// Pure; errors are DataLoss naming the event, row, column and offset.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/mysql/control_events.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/table_map.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

// Table maps by table id, as the decoder caches them. Entries are shared with decoded events.
using TableMapCache = std::unordered_map<uint64_t, std::shared_ptr<const TableMap>>;

enum class RowsKind : uint8_t { kWrite, kUpdate, kDelete };

struct RowChange {
  std::optional<v1::Row> before;  // UPDATE and DELETE
  std::optional<v1::Row> after;   // WRITE and UPDATE
};

struct RowsEvent {
  RowsKind kind = RowsKind::kWrite;
  uint8_t type = 0;  // the event type code
  uint64_t table_id = 0;
  uint16_t flags = 0;                     // bit 0: end of statement
  std::shared_ptr<const TableMap> table;  // null only for an empty event with an unknown table id
  std::vector<RowChange> rows;
  // With deferred rows (DecodeRowsEvent(..., defer_rows=true), BinlogDecoder::set_defer_rows):
  // `rows` stays empty and the event body is kept for ForEachRow: copied into `deferred_body`,
  // or, when the decoder was told it may borrow the caller's bytes (DecodeRowsEvent(..., true,
  // true), BinlogDecoder::set_borrow_deferred_rows), only pointed at by `deferred_view`, which is
  // then valid only as long as the bytes given to the decoder. deferred_rows() is whichever holds
  // them.
  std::string deferred_body;
  Bytes deferred_view;

  Bytes deferred_rows() const {
    if (!deferred_view.empty()) return deferred_view;
    return Bytes(reinterpret_cast<const std::byte*>(deferred_body.data()), deferred_body.size());
  }
};

// True for the event type codes this decoder handles as row events.
bool IsRowsEventType(uint8_t type);

// Decodes a row event of `type` against the table maps in `tables`. DataLoss if the table id has
// no TABLE_MAP, the column count exceeds the map's, any row is malformed, or a JSON diff does not
// apply to its before document; Unimplemented for column types listed in row_values.h.
// With `defer_rows` the header and table are decoded and checked, and the rows are left in
// `deferred_body` for ForEachRow; with `borrow_body` too, they are not copied: `deferred_view`
// points into `body`, which must then outlive the event's use.
absl::StatusOr<RowsEvent> DecodeRowsEvent(Bytes body, uint8_t type, const FormatDescription& fde,
                                          const TableMapCache& tables, bool defer_rows = false,
                                          bool borrow_body = false);

// Called once per row; `header` is the event without its rows. `row` is only valid during the call.
using RowVisitor = std::function<absl::Status(const RowsEvent& header, const RowChange& row)>;

// Decodes the rows of a deferred row event one at a time into the same RowChange (cleared between
// rows, keeping its allocations) and passes each to `visit`: for callers that render or count
// rows without keeping them (the offline decoder's fast path, benchmarks), this avoids most
// per-value allocation. `fde` must be the FORMAT_DESCRIPTION the event was decoded with. Errors
// as DecodeRowsEvent, or the first error `visit` returns.
absl::Status ForEachRow(const RowsEvent& deferred, const FormatDescription& fde,
                        const RowVisitor& visit);

// Called once per row with its images as FlatRows (flat_row.h); `row` and the rows it points to
// are only valid during the call.
using FlatRowVisitor =
    std::function<absl::Status(const RowsEvent& header, const FlatRowChange& row)>;

// ForEachRow without a heap object per value: each image is decoded into one of two reused
// per-thread FlatRows, whose views point into `deferred.deferred_rows()` and `deferred.table`.
// The same rows, values and errors as ForEachRow (and DecodeRowsEvent); PARTIAL_UPDATE_ROWS
// included. After the buffers have grown to the table's size, a row of the common types (all
// but JSON, VECTOR and the converting charsets) is decoded without allocating.
absl::Status ForEachFlatRow(const RowsEvent& deferred, const FormatDescription& fde,
                            const FlatRowVisitor& visit);

}  // namespace sluice::mysql
