#include "clients/cpp/batch_view.h"

#include <utility>

#include "clients/cpp/wire_reader.h"

namespace sluice::client {
namespace {

// SubscribeResponse field numbers (proto/sluice/v1/service.proto).
constexpr uint32_t kEvents = 1;
constexpr uint32_t kNextOffset = 2;
constexpr uint32_t kLastOffset = 3;
constexpr uint32_t kCommittedOffset = 4;
constexpr uint32_t kSnapshotOffset = 5;
constexpr uint32_t kSnapshotDone = 6;

}  // namespace

void BatchView::Adopt(grpc::Slice message) {
  Fresh();
  slice_ = std::move(message);
  bytes_ = std::string_view(reinterpret_cast<const char*>(slice_.begin()), slice_.size());
}

std::string& BatchView::Fresh() {
  buffer_.clear();
  slice_ = grpc::Slice();
  bytes_ = {};
  events_.clear();
  first_ = 0;
  next_offset_ = last_offset_ = committed_offset_ = snapshot_offset_ = 0;
  snapshot_done_ = false;
  return buffer_;
}

absl::Status BatchView::Index() {
  if (slice_.size() == 0) bytes_ = buffer_;
  events_.clear();
  WireReader r(bytes_);
  while (r.Next()) {
    const uint32_t f = r.field();
    if (f < kEvents || f > kSnapshotDone) continue;  // unknown fields are skipped
    const WireType want = f == kEvents ? WireType::kLen : WireType::kVarint;
    if (r.wire_type() != want) {
      return absl::DataLossError("SubscribeResponse field " + std::to_string(f) +
                                 " has the wrong wire type");
    }
    switch (f) {
      case kEvents: {
        absl::StatusOr<EventView> e = EventView::Read(r.bytes());
        if (!e.ok()) {
          return absl::DataLossError("event " + std::to_string(events_.size()) +
                                     " of a SubscribeResponse: " + std::string(e.status().message()));
        }
        events_.push_back(*e);
        break;
      }
      case kNextOffset:
        next_offset_ = r.value();
        break;
      case kLastOffset:
        last_offset_ = r.value();
        break;
      case kCommittedOffset:
        committed_offset_ = r.value();
        break;
      case kSnapshotOffset:
        snapshot_offset_ = r.value();
        break;
      case kSnapshotDone:
        snapshot_done_ = r.value() != 0;
        break;
    }
  }
  return r.status();
}

}  // namespace sluice::client
