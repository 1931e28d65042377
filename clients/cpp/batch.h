#pragma once
// One message of a subscription as the client hands it out: events in offset order and the
// offsets that place them in the log.

#include "proto/base/positions.h"
#include "sluice/v1/service.pb.h"

namespace sluice::client {

struct Batch {
  // The server's message. A consumer removes the events it already handed out (redeliveries)
  // before it returns the batch, so `response.events()` holds only new events.
  v1::SubscribeResponse response;

  const google::protobuf::RepeatedPtrField<v1::ChangeEvent>& events() const {
    return response.events();
  }
  // No events: the subscriber is caught up, or filters skipped what was read.
  bool heartbeat() const { return response.events().empty(); }
  // The offset the server reads next: acking next_offset - 1 also covers filtered events.
  LogOffset next_offset() const { return LogOffset(response.next_offset()); }
  // The log's last offset when the message was built (for lag and progress).
  LogOffset last_offset() const { return LogOffset(response.last_offset()); }
  // Durable subscriptions: the committed offset the server confirmed; 0 for ephemeral ones.
  LogOffset committed_offset() const { return LogOffset(response.committed_offset()); }
};

// The message of a stream that the server ended without an error (never in normal operation).
inline constexpr char kStreamEndedMessage[] = "the server ended the stream";

}  // namespace sluice::client
