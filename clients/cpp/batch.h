#pragma once
// One message of a subscription as the client hands it out: events in offset order and the
// offsets that place them in the log.

#include <google/protobuf/arena.h>

#include "proto/base/positions.h"
#include "sluice/v1/service.pb.h"

namespace sluice::client {

// The message lives on an arena owned by the batch: parsing a message of many events then
// costs a few large allocations instead of several per event, and the next Next() frees it all
// at once. The events are valid until the next Next() with this batch.
class Batch {
 public:
  Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // The server's message. A consumer removes the events it already handed out (redeliveries)
  // before it returns the batch, so `events()` holds only new events.
  const v1::SubscribeResponse& response() const { return *response_; }
  const google::protobuf::RepeatedPtrField<v1::ChangeEvent>& events() const {
    return response_->events();
  }
  // No events: the subscriber is caught up, or filters skipped what was read.
  bool heartbeat() const { return response_->events().empty(); }
  // The offset the server reads next: acking next_offset - 1 also covers filtered events.
  LogOffset next_offset() const { return LogOffset(response_->next_offset()); }
  // The log's last offset when the message was built (for lag and progress).
  LogOffset last_offset() const { return LogOffset(response_->last_offset()); }
  // Durable subscriptions: the committed offset the server confirmed; 0 for ephemeral ones.
  LogOffset committed_offset() const { return LogOffset(response_->committed_offset()); }
  // SNAPSHOT_THEN_STREAM (Subscribe, or a durable subscription created with it): the rows of
  // a bootstrap (offset 0) come in messages with snapshot_offset() = N; after the one with
  // snapshot_done() the log follows from N + 1.
  uint64_t snapshot_offset() const { return response_->snapshot_offset(); }
  bool snapshot_done() const { return response_->snapshot_done(); }
  // True on the first message of a bootstrap. A stream that broke before the bootstrap was
  // done (or, for a durable subscription, before N was acked) bootstraps again after the
  // reconnect, at a newer N: rows deleted in between are in neither bootstrap nor in the log
  // after the new N, so a consumer that keeps a copy starts it over when this is true.
  bool bootstrap_begins() const { return bootstrap_begins_; }
  void set_bootstrap_begins(bool begins) { bootstrap_begins_ = begins; }

  // For Subscription and Consumer: frees the previous message and returns an empty one to read
  // the next into.
  v1::SubscribeResponse& Fresh();
  v1::SubscribeResponse& mutable_response() { return *response_; }

 private:
  google::protobuf::Arena arena_;
  v1::SubscribeResponse* response_;  // on arena_
  bool bootstrap_begins_ = false;
};

// The message of a stream that the server ended without an error (never in normal operation).
inline constexpr char kStreamEndedMessage[] = "the server ended the stream";

}  // namespace sluice::client
