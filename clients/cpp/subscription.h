#pragma once
// Subscription: an ephemeral subscription (ChangeStream.Subscribe) as a blocking iterator of
// batches that reconnects by itself.
//
//   auto channel = sluice::client::MakeChannel({.target = "127.0.0.1:7070"});
//   sluice::client::SubscribeOptions options;
//   options.request.set_source("shop");
//   options.request.mutable_start()->mutable_earliest();
//   sluice::client::Subscription sub(*channel, options);
//   sluice::client::Batch batch;
//   while (sub.Next(batch).ok()) {
//     for (const auto& event : batch.events()) ...
//   }
//
// Reconnect: when the stream ends with a transient error (ReconnectPolicy: sluiced restarted,
// the network dropped, the server shut down and named the offset to resume from) or when the
// server ends it, the subscription opens a new stream after the last batch it handed out
// (at that batch's next_offset), so the caller sees every event once and in order. Before the
// first message arrives it reuses the original start; for `latest` or a time that can be a
// later point. A SNAPSHOT_THEN_STREAM start whose bootstrap (the state rows, offset 0) broke
// off before snapshot_done bootstraps again from the start (the rows are not a position to
// resume from); the batch that starts each bootstrap has bootstrap_begins(). Errors that are
// not transient are returned from Next(): OUT_OF_RANGE when
// retention removed the resume offset, NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED, ...
//
// Memory: one message (at most the request's max_batch_bytes, 1 MiB by default) is held by the
// caller's Batch; gRPC's flow control bounds what waits in the channel.
//
// Thread-safety: Next() is called from one thread at a time; Cancel() from any thread.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/status.h"
#include "clients/cpp/batch.h"
#include "clients/cpp/batch_view.h"
#include "clients/cpp/raw_call.h"
#include "clients/cpp/reconnect.h"
#include "proto/base/positions.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::client {

struct SubscribeOptions {
  // Source, start (default: earliest), table/op filters, projections and batch sizes, as in
  // service.proto. The start is replaced by the resume offset after a reconnect.
  v1::SubscribeRequest request;
  ReconnectPolicy reconnect;
};

class Subscription {
 public:
  // `channel` is shared; nothing is sent until the first Next().
  Subscription(std::shared_ptr<grpc::Channel> channel, SubscribeOptions options);
  ~Subscription();  // cancels the stream in flight
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Blocks until the next message and stores it in `batch` (a heartbeat has no events).
  // Errors: CANCELLED after Cancel(); the server's error (same code and message) when it is
  // not transient or the reconnect policy gave up; UNAVAILABLE kStreamEndedMessage when the
  // server ended the stream and reconnecting is off.
  // DATA_LOSS when a message is not a well-formed SubscribeResponse (the stream is ended).
  absl::Status Next(Batch& batch);
  // The same message kept as bytes with a lazy view per event (BatchView), same errors.
  absl::Status Next(BatchView& batch);

  // Ends the subscription from any thread: a Next() in progress or later returns CANCELLED.
  void Cancel();

  // Where a new stream would start: the next_offset of the last batch handed out (0 before
  // the first).
  LogOffset resume_offset() const { return resume_; }

 private:
  void Open();
  absl::Status CloseStream();
  // Blocks until the next message arrives (reconnecting as needed) and leaves it in message_.
  absl::Status ReadMessage();
  // After a message was read: DATA_LOSS `error` ends the stream; OK records the resume offset
  // (not during a bootstrap: a message with snapshot_offset and not snapshot_done). Returns
  // whether the message begins a bootstrap in `begins`.
  absl::Status Accept(const absl::Status& read, uint64_t next_offset, uint64_t snapshot_offset,
                      bool snapshot_done, bool& begins);

  std::shared_ptr<grpc::Channel> channel_;
  SubscribeOptions options_;
  Canceller canceller_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<internal::RawReader> reader_;
  grpc::ByteBuffer message_;
  LogOffset resume_;
  int failures_ = 0;  // failed attempts in a row
  bool in_bootstrap_ = false;  // the stream is sending a bootstrap's rows
};

}  // namespace sluice::client
