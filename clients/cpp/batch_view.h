#pragma once
// BatchView: one message of a subscription kept as the bytes received, with a lazy EventView
// per event instead of parsed ChangeEvent messages. Subscription::Next(BatchView&) and
// Consumer::Next(BatchView&) fill it with the same delivery guarantees as Next(Batch&): the
// same events in the same order, once. Use it when most events are routed, counted or checked
// by a few fields; EventView::Parse() builds a full ChangeEvent on demand.
//
// Memory: the message's bytes (at most max_batch_bytes, 1 MiB by default) and one small view per
// event. A message that arrived as one slice is held as it is (no copy); one that arrived in
// pieces is copied into a buffer that keeps its capacity across messages. Views are valid until
// the next Next() with this batch.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/slice.h>

#include "absl/status/status.h"
#include "clients/cpp/event_view.h"
#include "proto/base/positions.h"

namespace sluice::client {

class BatchView {
 public:
  BatchView() = default;
  BatchView(const BatchView&) = delete;
  BatchView& operator=(const BatchView&) = delete;

  // The events handed out (a consumer leaves out the redelivered ones it handed out before).
  std::span<const EventView> events() const {
    return std::span<const EventView>(events_).subspan(first_);
  }
  bool heartbeat() const { return events().empty(); }
  // As in Batch: the offset the server reads next, the log's last offset when the message was
  // built, the committed offset (durable subscriptions; 0 otherwise), and the snapshot fields of
  // SNAPSHOT_THEN_STREAM.
  LogOffset next_offset() const { return LogOffset(next_offset_); }
  LogOffset last_offset() const { return LogOffset(last_offset_); }
  LogOffset committed_offset() const { return LogOffset(committed_offset_); }
  uint64_t snapshot_offset() const { return snapshot_offset_; }
  bool snapshot_done() const { return snapshot_done_; }
  // As Batch::bootstrap_begins(): the first message of a bootstrap; a consumer's copy starts
  // over.
  bool bootstrap_begins() const { return bootstrap_begins_; }
  void set_bootstrap_begins(bool begins) { bootstrap_begins_ = begins; }
  // The whole serialized SubscribeResponse as received.
  std::string_view bytes() const { return bytes_; }

  // For Subscription and Consumer: the buffer to receive the next message into (emptied).
  std::string& Fresh();
  // Or: the message is `message`, one contiguous slice gRPC received, held without a copy.
  void Adopt(grpc::Slice message);
  // Reads the message now held (the buffer from Fresh(), or the adopted slice): its events
  // (each EventView::Read) and offsets. DataLoss when the bytes are not a well-formed
  // SubscribeResponse.
  absl::Status Index();
  // Leaves out the first `n` events (redeliveries a consumer already handed out).
  void DropFront(size_t n) { first_ += n; }

 private:
  std::string buffer_;
  grpc::Slice slice_;
  std::string_view bytes_;  // buffer_ or slice_
  std::vector<EventView> events_;
  size_t first_ = 0;
  uint64_t next_offset_ = 0;
  uint64_t last_offset_ = 0;
  uint64_t committed_offset_ = 0;
  uint64_t snapshot_offset_ = 0;
  bool snapshot_done_ = false;
  bool bootstrap_begins_ = false;
};

}  // namespace sluice::client
