#include "protocol/mysql/flat_row.h"

namespace sluice::mysql {

v1::Value& FlatRow::SetSlot(FlatValue& v) {
  if (slots_used_ == slots_.size()) slots_.emplace_back();
  v1::Value& slot = slots_[slots_used_];
  slot.Clear();
  v.kind = FlatKind::kValue;
  v.offset = slots_used_++;
  return slot;
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
    case FlatKind::kSmallDecimal: {
      char text[kSmallDecimalRoom];
      const char* end = PutSmallDecimal(text, FlatRow::small_decimal(v));
      out.set_decimal(std::string(text, static_cast<size_t>(end - text)));
      return;
    }
  }
}

}  // namespace sluice::mysql
