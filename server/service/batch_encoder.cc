#include "server/service/batch_encoder.h"

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
  buffer_.push_back(kEventsTag);
  AppendVarint(serialized_event.size(), buffer_);
  buffer_.append(serialized_event);
  ++events_;
}

const std::string& BatchEncoder::Finish(uint64_t next_offset, uint64_t last_offset,
                                        uint64_t committed_offset) {
  buffer_.push_back(kNextOffsetTag);
  AppendVarint(next_offset, buffer_);
  buffer_.push_back(kLastOffsetTag);
  AppendVarint(last_offset, buffer_);
  if (committed_offset != 0) {
    buffer_.push_back(kCommittedTag);
    AppendVarint(committed_offset, buffer_);
  }
  return buffer_;
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

}  // namespace sluice::service
