#include "clients/cpp/event_view.h"

#include <string>

#include "clients/cpp/wire_reader.h"

namespace sluice::client {
namespace {

// ChangeEvent, Row, Field and Value field numbers (proto/sluice/v1/event.proto).
constexpr uint32_t kEventOffset = 1;
constexpr uint32_t kEventOp = 2;
constexpr uint32_t kEventBefore = 5;
constexpr uint32_t kEventAfter = 6;
constexpr uint32_t kEventTransactionIndex = 8;
constexpr uint32_t kEventLastInTransaction = 9;
constexpr uint32_t kEventIngestTs = 10;
constexpr uint32_t kRowFields = 1;
constexpr uint32_t kFieldName = 1;
constexpr uint32_t kFieldValue = 2;

absl::Status WrongType(const char* what, uint32_t field) {
  return absl::DataLossError(std::string(what) + " field " + std::to_string(field) +
                             " has the wrong wire type");
}

}  // namespace

absl::StatusOr<ValueView> ValueView::Read(std::string_view value_bytes) {
  ValueView v;
  v.bytes_ = value_bytes;
  WireReader r(value_bytes);
  // One member of the oneof is set; if a writer sent several, the last one wins, as in
  // protobuf's own parser.
  while (r.Next()) {
    const uint32_t f = r.field();
    if (f < v1::Value::kNull || f > v1::Value::kInterval) continue;  // unknown: skipped
    const bool varint_kind = f == v1::Value::kNull || f == v1::Value::kInt64 ||
                             f == v1::Value::kUint64 || f == v1::Value::kBool ||
                             f == v1::Value::kTimestampMicros;
    const WireType want = varint_kind              ? WireType::kVarint
                          : f == v1::Value::kDouble ? WireType::kFixed64
                                                    : WireType::kLen;
    if (r.wire_type() != want) return WrongType("Value", f);
    v.kind_ = static_cast<v1::Value::KindCase>(f);
    v.varint_ = r.value();
    v.payload_ = r.bytes();
  }
  if (!r.status().ok()) return r.status();
  return v;
}

absl::StatusOr<int64_t> ValueView::int64() const {
  if (kind_ != v1::Value::kInt64 && kind_ != v1::Value::kTimestampMicros) {
    return absl::InvalidArgumentError("the value is of kind " + std::to_string(kind_) +
                                      ", not int64 or timestamp_micros");
  }
  return static_cast<int64_t>(varint_);
}

absl::Status ValueView::Parse(v1::Value& out) const {
  if (!out.ParseFromArray(bytes_.data(), static_cast<int>(bytes_.size()))) {
    return absl::DataLossError("a Value does not parse");
  }
  return absl::OkStatus();
}

absl::StatusOr<EventView> EventView::Read(std::string_view event_bytes) {
  EventView v;
  v.bytes_ = event_bytes;
  WireReader r(event_bytes);
  while (r.Next()) {
    const bool varint = r.wire_type() == WireType::kVarint;
    const bool len = r.wire_type() == WireType::kLen;
    switch (r.field()) {
      case kEventOffset:
        if (!varint) return WrongType("ChangeEvent", r.field());
        v.offset_ = r.value();
        break;
      case kEventOp:
        if (!varint) return WrongType("ChangeEvent", r.field());
        v.op_ = static_cast<v1::Op>(static_cast<int>(r.value()));
        break;
      case kEventBefore:
        if (!len) return WrongType("ChangeEvent", r.field());
        v.before_ = r.bytes();
        v.has_before_ = true;
        break;
      case kEventAfter:
        if (!len) return WrongType("ChangeEvent", r.field());
        v.after_ = r.bytes();
        v.has_after_ = true;
        break;
      case kEventTransactionIndex:
        if (!varint) return WrongType("ChangeEvent", r.field());
        v.transaction_index_ = static_cast<uint32_t>(r.value());
        break;
      case kEventLastInTransaction:
        if (!varint) return WrongType("ChangeEvent", r.field());
        v.last_in_transaction_ = r.value() != 0;
        break;
      case kEventIngestTs:
        if (!varint) return WrongType("ChangeEvent", r.field());
        v.ingest_ts_micros_ = static_cast<int64_t>(r.value());
        break;
      default:
        break;  // source, key columns, unchanged, ddl, message, unknown: read when parsed
    }
  }
  if (!r.status().ok()) return r.status();
  return v;
}

absl::StatusOr<std::optional<ValueView>> EventView::Column(std::string_view row,
                                                          std::string_view name) {
  WireReader fields(row);
  while (fields.Next()) {
    if (fields.field() != kRowFields) continue;
    if (fields.wire_type() != WireType::kLen) return WrongType("Row", fields.field());
    WireReader field(fields.bytes());
    bool matches = false;
    std::string_view value;
    bool has_value = false;
    while (field.Next()) {
      if (field.wire_type() != WireType::kLen) {
        if (field.field() == kFieldName || field.field() == kFieldValue) {
          return WrongType("Field", field.field());
        }
        continue;
      }
      if (field.field() == kFieldName) matches = field.bytes() == name;
      if (field.field() == kFieldValue) {
        value = field.bytes();
        has_value = true;
      }
    }
    if (!field.status().ok()) return field.status();
    if (!matches) continue;
    if (!has_value) return std::optional<ValueView>(ValueView());  // an empty Value
    absl::StatusOr<ValueView> v = ValueView::Read(value);
    if (!v.ok()) return v.status();
    return std::optional<ValueView>(*v);
  }
  if (!fields.status().ok()) return fields.status();
  return std::nullopt;
}

absl::Status EventView::Parse(v1::ChangeEvent& out) const {
  if (!out.ParseFromArray(bytes_.data(), static_cast<int>(bytes_.size()))) {
    return absl::DataLossError("the event at offset " + std::to_string(offset_) +
                               " does not parse as a ChangeEvent");
  }
  return absl::OkStatus();
}

}  // namespace sluice::client
