#include "server/service/batch_encoder.h"

#include <string>

#include "proto/base/glob.h"
#include "proto/base/varint.h"

namespace sluice::service {
namespace {

constexpr char kEventsTag = 0x0A;      // field 1, wire type 2
constexpr char kNextOffsetTag = 0x10;  // field 2, wire type 0
constexpr char kLastOffsetTag = 0x18;  // field 3, wire type 0
constexpr char kCommittedTag = 0x20;   // field 4, wire type 0

}  // namespace

void BatchEncoder::AddEvent(std::string_view serialized_event) {
  AppendEventField(serialized_event, buffer_);
  ++events_;
}

void BatchEncoder::AppendEventField(std::string_view serialized_event, std::string& out) {
  out.push_back(kEventsTag);
  AppendVarint(serialized_event.size(), out);
  out.append(serialized_event);
}

const std::string& BatchEncoder::Finish(uint64_t next_offset, uint64_t last_offset,
                                        uint64_t committed_offset) {
  AppendTrailer(next_offset, last_offset, committed_offset, buffer_);
  return buffer_;
}

void BatchEncoder::AppendTrailer(uint64_t next_offset, uint64_t last_offset,
                                 uint64_t committed_offset, std::string& out) {
  out.push_back(kNextOffsetTag);
  AppendVarint(next_offset, out);
  out.push_back(kLastOffsetTag);
  AppendVarint(last_offset, out);
  if (committed_offset != 0) {
    out.push_back(kCommittedTag);
    AppendVarint(committed_offset, out);
  }
}

EventFilter::EventFilter(std::vector<std::string> table_globs, std::vector<v1::Op> ops)
    : tables_(std::move(table_globs)) {
  for (v1::Op op : ops) {
    if (op > 0 && op < 32) op_mask_ |= 1u << op;
  }
}

bool EventFilter::Matches(std::string_view table, uint8_t op) const {
  if (op_mask_ != 0 && (op >= 32 || (op_mask_ & (1u << op)) == 0)) return false;
  if (tables_.empty()) return true;
  for (const auto& glob : tables_) {
    if (GlobMatch(glob, table)) return true;
  }
  return false;
}

void EventFilter::AppendKey(std::string& out) const {
  // Length-prefixed, so that no two lists of globs give the same text.
  out.append(std::to_string(op_mask_));
  for (const auto& glob : tables_) {
    out.append(",").append(std::to_string(glob.size())).append(":").append(glob);
  }
}

}  // namespace sluice::service
