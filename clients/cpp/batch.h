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

  // For Subscription and Consumer: frees the previous message and returns an empty one to read
  // the next into.
  v1::SubscribeResponse& Fresh();
  v1::SubscribeResponse& mutable_response() { return *response_; }

 private:
  google::protobuf::Arena arena_;
  v1::SubscribeResponse* response_;  // on arena_
};

// The message of a stream that the server ended without an error (never in normal operation).
inline constexpr char kStreamEndedMessage[] = "the server ended the stream";

}  // namespace sluice::client
