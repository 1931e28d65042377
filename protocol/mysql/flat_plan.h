#pragma once
// FlatPlan: how each column of a table map is decoded into a FlatRow (flat_row.h), resolved once
// per row event instead of once per value. ReadFlatColumnValue (row_values.h) looks at the
// column's type, signedness and charset for every value; a plan turns them into one small opcode
// per column (with the charset's text kind, the length-prefix width and so on), and
// ReadFlatImageValues decodes a whole row image with one switch per value.
//
// The values, the bytes consumed and the errors are exactly ReadFlatColumnValue's: each opcode
// makes the same ByteReader calls in the same order (so a truncated value fails with the same
// message), and every column the plan does not handle itself (SET, JSON, VECTOR, the converting
// charsets, padded BINARY, unsupported types) goes through ReadFlatColumnValue. flat_row_test
// and rows_fuzz compare the flat rows with the v1::Value decoder.
//
// Pure; thread-compatible. A plan holds pointers into the TableMap it was built from and is valid
// while that table map is.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/table_map.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {

enum class FlatOp : uint8_t {
  kSlow,  // ReadFlatColumnValue
  kNullType,
  kInt8,
  kUint8,
  kInt16,
  kUint16,
  kInt24,
  kUint24,
  kInt32,
  kUint32,
  kInt64,
  kUint64,
  kYear,
  kFloat,
  kDouble,
  kDecimal,
  kBit,
  kDate,
  kOldTime,
  kTime2,
  kOldDateTime,
  kDateTime2,
  kTimestamp,
  kTimestamp2,
  kText1,  // a text or bytes value after a 1-byte length
  kText2,  // ... 2-byte
  kText3,  // ... 3-byte
  kText4,  // ... 4-byte
  kEnum,   // ENUM with its members
  // Only as a `fast` op: a DECIMAL of at most 18 integer and 9 fraction digits as a
  // kSmallDecimal value (kDecimal decodes the same value to text).
  kSmallDecimal,
};

struct FlatColumnPlan {
  FlatOp op = FlatOp::kSlow;
  // The op ReadFlatImageValues decodes in place from the image's bytes when they are all there
  // (the same value as `op` gives); kSlow for the ops it leaves to the ByteReader path of `op`:
  // kSlow, kNullType, kBit, TIME2/DATETIME2/TIMESTAMP2 with fsp > 6, DECIMALs out of range.
  FlatOp fast = FlatOp::kSlow;
  FlatKind text_kind = FlatKind::kString;  // kText*: kString or kBytes
  uint8_t frac_bytes = 0;                  // TIME2, DATETIME2, TIMESTAMP2: FracBytes(fsp)
  uint8_t size = 0;  // kDecimal, kSmallDecimal: BinaryDecimalSize(precision, scale)
  const ColumnDef* column = nullptr;
};

class FlatPlan {
 public:
  // Plans every column of `table` (reusing this plan's storage).
  void Build(const TableMap& table);
  const FlatColumnPlan& operator[](size_t column) const { return columns_[column]; }
  const FlatColumnPlan* data() const { return columns_.data(); }
  size_t size() const { return columns_.size(); }

 private:
  std::vector<FlatColumnPlan> columns_;
};

// Where ReadFlatImageValues failed: the column (index in the table map) and the offset at which
// its value starts.
struct FlatImageFailure {
  size_t column = 0;
  size_t at = 0;
};

// Decodes the values of one row image into `row` (which it does not clear): for each ordinal in
// `present`, a NULL when the ordinal's bit in `nulls` (LSB first) is set, else the column's value
// (present columns index `plan`; `nulls` holds (present.size() + 7) / 8 bytes). On error
// returns ReadFlatColumnValue's error for the failing value and sets `failure`.
//
// The common values are decoded from the reader's bytes in place (one length check per value,
// the reader advanced past them at the end); a value whose bytes are not all there, and every op
// without a `fast` form, goes through the ByteReader calls of its op, so that a truncated value
// fails at the same offset with the same message.
absl::Status ReadFlatImageValues(wire::ByteReader& r, const FlatPlan& plan,
                                 std::span<const uint32_t> present, std::string_view nulls,
                                 FlatRow& row, FlatImageFailure& failure);

}  // namespace sluice::mysql
