#pragma once
// Builds serialized sluice.v1.SubscribeResponse messages straight from stored event bytes, so the
// server never parses and re-serializes events on the catch-up path. Pure; no gRPC.
//
// Protobuf wire format: field 1 (events, length-delimited) is tag 0x0A, a varint length and the
// stored ChangeEvent bytes; next_offset is tag 0x10 + varint; last_offset is tag 0x18 + varint;
// committed_offset (durable subscriptions) is tag 0x20 + varint, left out when 0.
// A parser produces exactly the message whose events are those stored events.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/v1/event.pb.h"

namespace sluice::service {

class BatchEncoder {
 public:
  void Clear() {
    buffer_.clear();
    events_ = 0;
  }
  void AddEvent(std::string_view serialized_event);
  // Appends the `events` field AddEvent writes for `serialized_event` to `out`.
  static void AppendEventField(std::string_view serialized_event, std::string& out);
  // Appends the trailing fields and returns the finished message bytes.
  const std::string& Finish(uint64_t next_offset, uint64_t last_offset,
                            uint64_t committed_offset = 0);
  // The trailing fields alone (what Finish appends), for a message whose events were encoded
  // elsewhere and are sent in front of them (shared_tail.h).
  static void AppendTrailer(uint64_t next_offset, uint64_t last_offset, uint64_t committed_offset,
                            std::string& out);
  // Hands the finished message over (leaving the encoder empty), for zero-copy sending.
  std::string Release() {
    events_ = 0;
    return std::move(buffer_);
  }
  size_t events() const { return events_; }
  size_t bytes() const { return buffer_.size(); }

 private:
  std::string buffer_;
  size_t events_ = 0;
};

// Which events a subscriber wants. Table patterns are globs ('*', '?') over the stored table
// key ("database.table" or "schema.table"). Empty lists match everything.
class EventFilter {
 public:
  EventFilter() = default;
  EventFilter(std::vector<std::string> table_globs, std::vector<v1::Op> ops);
  bool Matches(std::string_view table, uint8_t op) const;
  bool MatchesAll() const { return tables_.empty() && op_mask_ == 0; }
  // Appends a canonical description: equal for filters that match the same events.
  void AppendKey(std::string& out) const;

 private:
  std::vector<std::string> tables_;
  uint32_t op_mask_ = 0;  // bit per v1::Op; 0 = all
};

}  // namespace sluice::service
