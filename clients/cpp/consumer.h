#pragma once
// Consumer: a durable named subscription (Subscriptions.Consume, docs/subscriptions.md) as a
// blocking iterator of batches with cumulative acks, reconnecting by itself.
//
//   sluice::client::ConsumeOptions options;
//   options.open.set_subscription("lake-writer");
//   sluice::client::Consumer consumer(channel, options);
//   sluice::client::Batch batch;
//   while (consumer.Next(batch).ok()) {
//     ... process batch.events() ...
//     consumer.Ack(LogOffset(batch.next_offset().value() - 1));
//   }
//
// Delivery starts after the subscription's committed offset on the server. After a reconnect
// (transient errors as in ReconnectPolicy, a server restart, a reset of the subscription), the
// server redelivers everything after its committed offset. The consumer drops the redelivered
// events it already handed out, so within one Consumer the caller sees each event once, in
// order. A new process (a new Consumer) gets every event after the last committed ack again:
// only un-acked events are repeated, none is lost.
//
// A subscription created with `snapshot_then_stream` first sends a bootstrap: state rows with
// offset 0, all handed out (never dropped as redeliveries), the first batch of each bootstrap
// with bootstrap_begins(). Until N (the bootstrap's snapshot_offset) is acked, every new stream
// bootstraps again at a newer N, and a consumer that keeps a copy starts it over then
// (docs/subscriptions.md, "Durable subscriptions that bootstrap").
//
// Acks are cumulative and go out on the stream. When the stream broke before the server
// confirmed them, they are committed with the unary Ack before the next stream opens, or on
// the new stream once it has caught up to them. Flush() makes them durable now.
//
// A reset of the subscription (ABORTED "was reset", or a committed offset that went down
// while the consumer was away) starts over at the new position: acks not committed before it
// are dropped (they would undo the reset) and events are handed out again from there.
//
// Thread-safety: Next() from one thread at a time. Ack(), Flush(), Cancel() and the accessors
// may be called from any thread, also while Next() blocks.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/functional/function_ref.h"
#include "clients/cpp/batch.h"
#include "clients/cpp/batch_view.h"
#include "clients/cpp/raw_call.h"
#include "clients/cpp/reconnect.h"
#include "proto/base/positions.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::client {

struct ConsumeOptions {
  // The Open message: subscription name, create_if_missing with source, start and filters,
  // batch sizes and max_unacked_events/bytes (service.proto).
  v1::ConsumeRequest::Open open;
  ReconnectPolicy reconnect;
};

class Consumer {
 public:
  // `channel` is shared; nothing is sent until the first Next().
  Consumer(std::shared_ptr<grpc::Channel> channel, ConsumeOptions options);
  ~Consumer();  // cancels the stream; call Close() first to commit the acks
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Blocks until the next message and stores it in `batch`, without the events already handed
  // out (a batch may then hold none, like a heartbeat). Errors: CANCELLED after Cancel();
  // NOT_FOUND (no such subscription and no create_if_missing), FAILED_PRECONDITION (other
  // filters or source, retention removed the next event), ABORTED (another consumer opened the
  // subscription, or it was deleted), UNAUTHENTICATED, ...: the server's code and message;
  // DATA_LOSS when a message is not a well-formed SubscribeResponse (the stream is ended).
  absl::Status Next(Batch& batch);
  // The same message kept as bytes with a lazy view per event (BatchView), same errors.
  absl::Status Next(BatchView& batch);

  // Cumulative: every event at or below `offset` is processed. `offset` may be at most the
  // next_offset - 1 of the last batch Next() returned; a bigger one is InvalidArgument. An ack
  // at or below an earlier one does nothing. Returns at once (the ack is sent, not confirmed).
  absl::Status Ack(LogOffset offset);

  // Commits the acks given so far with the unary Ack and returns the committed offset, durable
  // on the server. Errors of the call (UNAVAILABLE while sluiced is down, ...).
  absl::StatusOr<LogOffset> Flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Flush() (best effort), then ends the stream. Next() returns CANCELLED afterwards.
  absl::Status Close();

  // Ends the consumer from any thread: a Next() in progress or later returns CANCELLED.
  void Cancel();

  // The committed offset the server last confirmed.
  LogOffset committed_offset() const;
  // The highest offset acked by the caller.
  LogOffset acked_offset() const;

 private:
  void Open();
  absl::Status CloseStream();
  // Blocks until the next message arrives (reconnecting as needed) and leaves it in message_.
  absl::Status ReadMessage();
  // The bookkeeping of a message read: its committed and next offsets and its `events` event
  // offsets. Returns how many leading events were handed out before (to drop): none of a
  // bootstrap message (snapshot_offset set), whose rows all have offset 0; `begins` tells
  // whether the message is the first of a bootstrap.
  size_t Accept(uint64_t committed, uint64_t next_offset, size_t events,
                absl::FunctionRef<uint64_t(size_t)> offset_at, uint64_t snapshot_offset,
                bool snapshot_done, bool& begins);
  // A message that could not be read ends the stream; returns `error`.
  absl::Status Abandon(const absl::Status& error);
  void SendAckLocked();
  void CommitPendingAcks();

  std::unique_ptr<v1::Subscriptions::Stub> stub_;
  ConsumeOptions options_;
  Canceller canceller_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<internal::RawConsumeStream> stream_;
  grpc::ByteBuffer message_;
  int failures_ = 0;
  bool first_message_ = true;  // the next message is the first of its stream
  bool in_bootstrap_ = false;  // the stream is sending a bootstrap's rows
  uint64_t delivered_ = 0;     // the highest event offset handed out (Next's thread only)

  mutable std::mutex mu_;      // guards the fields below and writes on stream_
  bool writable_ = false;      // stream_ is open for acks
  uint64_t ackable_ = 0;       // the highest offset the caller may ack
  uint64_t acked_ = 0;         // the highest offset the caller acked
  uint64_t stream_sent_ = 0;   // next_offset - 1 of the last message of this stream
  uint64_t stream_acked_ = 0;  // the highest ack written on this stream
  uint64_t committed_ = 0;     // the server's committed offset, as last confirmed
};

// Commits a cumulative ack of `subscription` without a stream (Subscriptions.Ack); returns the
// committed offset once it is durable. With a consumer connected, the offset may be at most
// what that consumer was sent; without one, the log's last offset.
absl::StatusOr<LogOffset> AckSubscription(
    std::shared_ptr<grpc::Channel> channel, const std::string& subscription, LogOffset offset,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace sluice::client
