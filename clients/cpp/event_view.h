#pragma once
// EventView: one serialized sluice.v1.ChangeEvent read lazily. Construction reads only the
// top-level fields (offset, op, transaction fields, ingest time) and notes where the source info
// and the rows lie; a column is found by walking the row's bytes; Parse() builds the whole
// ChangeEvent when the caller needs it. For subscribers that look at a few fields of many events
// (routing, counting, latency) this costs a fraction of parsing every event into messages.
// Pure: no I/O, no allocation.
//
// Ownership: a view points into bytes it does not own (a BatchView's message); it is valid as
// long as they are.

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sluice/v1/event.pb.h"

namespace sluice::client {

// One serialized sluice.v1.Value: which member of its oneof is set and that member's payload.
class ValueView {
 public:
  // Reads one serialized Value. DataLoss when malformed or when a member has the wrong wire
  // type; unknown fields are skipped.
  static absl::StatusOr<ValueView> Read(std::string_view value_bytes);

  // The member set (v1::Value::KIND_NOT_SET for an empty message).
  v1::Value::KindCase kind() const { return kind_; }
  bool is_null() const { return kind_ == v1::Value::kNull; }
  // int64 and timestamp_micros; InvalidArgument for another kind.
  absl::StatusOr<int64_t> int64() const;
  // The payload of a length-delimited member (string, decimal, bytes, json, and the bytes of a
  // nested message); empty for other kinds.
  std::string_view payload() const { return payload_; }
  // The whole value, parsed.
  absl::Status Parse(v1::Value& out) const;

 private:
  std::string_view bytes_;    // the Value message
  std::string_view payload_;  // its member's bytes (length-delimited kinds)
  uint64_t varint_ = 0;       // its member's value (varint kinds)
  v1::Value::KindCase kind_ = v1::Value::KIND_NOT_SET;
};

class EventView {
 public:
  // Reads the top-level fields of `event_bytes`. DataLoss when they are not a well-formed
  // ChangeEvent at that level (nested messages are checked when they are read).
  static absl::StatusOr<EventView> Read(std::string_view event_bytes);

  uint64_t offset() const { return offset_; }
  v1::Op op() const { return op_; }
  uint32_t transaction_index() const { return transaction_index_; }
  bool last_in_transaction() const { return last_in_transaction_; }
  int64_t ingest_ts_micros() const { return ingest_ts_micros_; }
  bool has_before() const { return has_before_; }
  bool has_after() const { return has_after_; }
  // The serialized event, as received.
  std::string_view bytes() const { return bytes_; }

  // The value of column `name` in the row after (or before) the change: nullopt when the row
  // is absent or has no such column; DataLoss when the row's bytes are malformed.
  absl::StatusOr<std::optional<ValueView>> After(std::string_view name) const {
    return Column(after_, name);
  }
  absl::StatusOr<std::optional<ValueView>> Before(std::string_view name) const {
    return Column(before_, name);
  }

  // The whole event, parsed (the same message the eager Batch holds).
  absl::Status Parse(v1::ChangeEvent& out) const;

 private:
  static absl::StatusOr<std::optional<ValueView>> Column(std::string_view row,
                                                        std::string_view name);

  std::string_view bytes_;
  std::string_view before_;
  std::string_view after_;
  uint64_t offset_ = 0;
  v1::Op op_ = v1::OP_UNSPECIFIED;
  uint32_t transaction_index_ = 0;
  bool last_in_transaction_ = false;
  bool has_before_ = false;
  bool has_after_ = false;
  int64_t ingest_ts_micros_ = 0;
};

}  // namespace sluice::client
