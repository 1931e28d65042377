#include "protocol/mysql/flat_row.h"

#include <charconv>

#include "proto/base/time_format.h"
#include "proto/base/value_json.h"

namespace sluice::mysql {
namespace {

template <typename Int>
void AppendInt(Int v, std::string& out) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

// Reused protobuf values for the kinds whose canonical text value_json.cc owns (doubles, dates
// and times): their fields are overwritten in place, so rendering allocates nothing once warm.
struct Scratch {
  v1::Value number;
  v1::Value date;
  v1::Value time;
  v1::Value datetime;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace

FlatValue& FlatRow::Add(uint32_t column) {
  if (size_ == values_.size()) values_.emplace_back();
  FlatValue& v = values_[size_++];
  // Only what every kind relies on; the decoder sets the field its kind names.
  v.column = column;
  v.kind = FlatKind::kNull;
  v.in_arena = false;
  return v;
}

v1::Value& FlatRow::SetSlot(FlatValue& v) {
  if (slots_used_ == slots_.size()) slots_.emplace_back();
  v1::Value& slot = slots_[slots_used_];
  slot.Clear();
  v.kind = FlatKind::kValue;
  v.offset = slots_used_++;
  return slot;
}

ColumnKeys::ColumnKeys(const TableMap& table) {
  keys_.reserve(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    std::string key;
    AppendJsonString(table.ColumnName(i), key);
    key.push_back(':');
    keys_.push_back(std::move(key));
  }
}

void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, std::string& out) {
  switch (v.kind) {
    case FlatKind::kNull:
      out += "null";
      return;
    case FlatKind::kInt64:
      AppendInt(v.i64, out);
      return;
    case FlatKind::kUint64:
      AppendInt(v.u64, out);
      return;
    case FlatKind::kDouble: {
      v1::Value& scratch = ThreadScratch().number;
      scratch.set_double_(v.f64);
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kDecimal:
    case FlatKind::kString:
      AppendJsonString(row.text(v), out);
      return;
    case FlatKind::kBytes:
      out.push_back('"');
      AppendBase64(row.text(v), out);
      out.push_back('"');
      return;
    case FlatKind::kDate: {
      v1::Value& scratch = ThreadScratch().date;
      AssignProto(v.date, *scratch.mutable_date());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kTime: {
      v1::Value& scratch = ThreadScratch().time;
      AssignProto(v.time, *scratch.mutable_time());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kDateTime: {
      v1::Value& scratch = ThreadScratch().datetime;
      AssignProto(v.datetime, *scratch.mutable_datetime());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kTimestampMicros:
      out.push_back('"');
      AppendTimestampMicros(v.i64, out);
      out.push_back('"');
      return;
    case FlatKind::kValue:
      AppendValueJson(row.slot(v), out);
      return;
  }
  out += "null";
}

void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const FlatValue& v : row.values()) {
    if (!first) out.push_back(',');
    first = false;
    out.append(keys.key(v.column));
    AppendFlatValueJson(row, v, out);
  }
  out.push_back('}');
}

void FlatValueToProto(const FlatRow& row, const FlatValue& v, v1::Value& out) {
  out.Clear();
  switch (v.kind) {
    case FlatKind::kNull:
      out.set_null(true);
      return;
    case FlatKind::kInt64:
      out.set_int64(v.i64);
      return;
    case FlatKind::kUint64:
      out.set_uint64(v.u64);
      return;
    case FlatKind::kDouble:
      out.set_double_(v.f64);
      return;
    case FlatKind::kDecimal:
      out.set_decimal(std::string(row.text(v)));
      return;
    case FlatKind::kString:
      out.set_string(std::string(row.text(v)));
      return;
    case FlatKind::kBytes:
      out.set_bytes(std::string(row.text(v)));
      return;
    case FlatKind::kDate:
      AssignProto(v.date, *out.mutable_date());
      return;
    case FlatKind::kTime:
      AssignProto(v.time, *out.mutable_time());
      return;
    case FlatKind::kDateTime:
      AssignProto(v.datetime, *out.mutable_datetime());
      return;
    case FlatKind::kTimestampMicros:
      out.set_timestamp_micros(v.i64);
      return;
    case FlatKind::kValue:
      out = row.slot(v);
      return;
  }
}

}  // namespace sluice::mysql
