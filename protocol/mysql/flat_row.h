#pragma once
// FlatRow: one row image decoded without a heap object per value, for callers that render or
// count rows without keeping them (`sluicectl binlog decode`, benchmarks). The live source keeps
// using v1::Row (rows_event.h), which it stores.
//
// A FlatRow is a reused buffer: a vector of small tagged values (FlatValue) plus one text arena
// and a few reused v1::Value slots. Integers, floats, dates and times are held inline; text is a
// view into the event's bytes (UTF-8 / binary strings, BLOBs, GEOMETRY), into the table map (ENUM
// members) or into the arena (DECIMAL text, latin1 converted to UTF-8, SET members joined, padded
// BINARY). The rare kinds (JSON, VECTOR, the converting charsets, partial JSON) are decoded into
// a v1::Value slot by the same code as the v1::Row decoder. Once the row's buffers have grown to
// the table's size, decoding a row allocates nothing.
//
// Every value means exactly what ReadColumnValue (row_values.h) would store in a v1::Value;
// flat_row_json.h renders it byte for byte like AppendValueJson (proto/base/value_json.h).
//
// Lifetime: views point into the event body and the TableMap the row was decoded from; a FlatRow
// is valid until it is cleared or those are gone. Not thread-safe; thread-compatible.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/mysql/decimal.h"
#include "protocol/mysql/table_map.h"
#include "protocol/mysql/temporal.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

enum class FlatKind : uint8_t {
  kNull,             // SQL NULL (or a NULL-type column)
  kInt64,            // i64
  kUint64,           // u64
  kDouble,           // f64 (FLOAT widened)
  kDecimal,          // text: "-12.30", always [-]digits[.digits] (AppendBinaryDecimal)
  kString,           // text: UTF-8
  kBytes,            // text: raw bytes
  kDate,             // date
  kTime,             // time
  kDateTime,         // datetime
  kTimestampMicros,  // i64: UTC microseconds
  kValue,            // slot: a v1::Value (the rare kinds)
  // A DECIMAL of at most 18 integer and 9 fraction digits (decimal.h, IsSmallDecimal) as numbers:
  // u64 the integer part, i64 the fraction digits, `scale` and `negative`; it means the kDecimal
  // of PutSmallDecimal's text (small_decimal()).
  kSmallDecimal,
};

struct FlatValue {
  uint32_t column = 0;  // index in the table map
  FlatKind kind = FlatKind::kNull;
  bool in_arena = false;  // text: `offset` into the row's arena rather than `data`
  bool negative = false;  // kSmallDecimal
  uint8_t scale = 0;      // kSmallDecimal
  // The field named in FlatKind holds the value.
  int64_t i64 = 0;
  uint64_t u64 = 0;
  double f64 = 0;
  DateParts date;
  TimeParts time;
  DateTimeParts datetime;
  const char* data = nullptr;  // text outside the arena
  size_t offset = 0;           // text in the arena; kValue: the slot index
  size_t size = 0;             // text length
};

class FlatRow {
 public:
  // The present columns of the image, in column order.
  std::span<const FlatValue> values() const { return {values_.data(), size_}; }
  // The text of a kDecimal, kString or kBytes value.
  std::string_view text(const FlatValue& v) const {
    return v.in_arena ? std::string_view(arena_).substr(v.offset, v.size)
                      : std::string_view(v.data, v.size);
  }
  // The first byte of that text (v.size bytes).
  const char* text_data(const FlatValue& v) const {
    return v.in_arena ? arena_.data() + v.offset : v.data;
  }
  // The number of a kSmallDecimal value.
  static SmallDecimal small_decimal(const FlatValue& v) {
    SmallDecimal d;
    d.integer = v.u64;
    d.fraction = static_cast<uint32_t>(v.i64);
    d.scale = v.scale;
    d.negative = v.negative;
    return d;
  }
  // The v1::Value of a kValue value.
  const v1::Value& slot(const FlatValue& v) const { return slots_[v.offset]; }

  // For the decoder. Clear keeps every buffer's capacity.
  void Clear() {
    size_ = 0;
    arena_.clear();
    slots_used_ = 0;
  }
  // A new value for `column`, kNull until set. The reference is valid until the next Add.
  FlatValue& Add(uint32_t column) {
    if (size_ == allocated_) [[unlikely]] Grow();
    FlatValue& v = values_[size_++];
    // Only what every kind relies on; the decoder sets the field its kind names.
    v.column = column;
    v.kind = FlatKind::kNull;
    v.in_arena = false;
    return v;
  }
  // For a decoder that writes values in place: room for `n` more values after the row's, where
  // the next one goes. Values written there are part of the row once CommitValues(end) is called
  // with the end of the last one. Add and SetSlot may be used in between (after a CommitValues);
  // the returned pointer is valid until the next Room or Add.
  FlatValue* Room(size_t n) {
    if (allocated_ - size_ < n) [[unlikely]] Grow(n);
    return values_.data() + size_;
  }
  void CommitValues(const FlatValue* end) {
    size_ = static_cast<size_t>(end - values_.data());
  }
  void SetText(FlatValue& v, FlatKind kind, std::string_view outside_arena) {
    v.kind = kind;
    v.in_arena = false;
    v.data = outside_arena.data();
    v.size = outside_arena.size();
  }
  // Text appended to arena() since `begin` (arena().size() before appending).
  std::string& arena() { return arena_; }
  void SetArenaText(FlatValue& v, FlatKind kind, size_t begin) {
    v.kind = kind;
    v.in_arena = true;
    v.offset = begin;
    v.size = arena_.size() - begin;
  }
  // Makes `v` a kValue and returns its slot, cleared.
  v1::Value& SetSlot(FlatValue& v);

 private:
  // Room for at least `n` more values.
  [[gnu::noinline]] void Grow(size_t n = 1) {
    values_.resize(std::max(size_ + n, values_.size() * 2));
    allocated_ = values_.size();
  }

  std::vector<FlatValue> values_;
  size_t size_ = 0;
  size_t allocated_ = 0;  // values_.size()
  std::string arena_;
  std::vector<v1::Value> slots_;
  size_t slots_used_ = 0;
};

// One row change of a row event: `before` for UPDATE and DELETE, `after` for WRITE and UPDATE;
// null otherwise. Valid during the visit only.
struct FlatRowChange {
  const FlatRow* before = nullptr;
  const FlatRow* after = nullptr;
};

// The v1::Value that `v` stands for (tests, and callers that need to keep one value).
void FlatValueToProto(const FlatRow& row, const FlatValue& v, v1::Value& out);

}  // namespace sluice::mysql
