#pragma once
// PushSubscription: an ephemeral subscription (ChangeStream.Subscribe) whose messages are handed
// to a callback on gRPC's own threads (the callback API) as BatchViews, so one process can hold
// hundreds of streams without a thread blocked per stream.
//
//   sluice::client::PushSubscription sub(channel, request, [](const BatchView& batch) {
//     for (const EventView& e : batch.events()) ...  // quick: this runs on a gRPC thread
//   });
//   sub.Start();
//   ...
//   sub.Cancel();
//   absl::Status end = sub.Wait();
//
// Unlike Subscription it does not reconnect: the stream ends with the server's status (or
// DATA_LOSS for a malformed message); open a new one at resume_offset() to continue after the
// last batch handed out, every event once and in order. While a SNAPSHOT_THEN_STREAM bootstrap
// is being sent (before snapshot_done) resume_offset() stays where it was (0 on a fresh one):
// the rows are not a position, a new stream bootstraps again.
//
// Thread-safety: the callback is called for one message at a time, in order, never after Wait()
// returned. Start() once; Cancel(), Wait() and resume_offset() from any thread.

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "clients/cpp/batch_view.h"
#include "proto/base/positions.h"
#include "sluice/v1/service.pb.h"

namespace sluice::client {

class PushSubscription : private grpc::ClientReadReactor<grpc::ByteBuffer> {
 public:
  using OnBatch = std::function<void(const BatchView& batch)>;

  PushSubscription(std::shared_ptr<grpc::Channel> channel, v1::SubscribeRequest request,
                   OnBatch on_batch);
  ~PushSubscription() override;  // cancels and waits
  PushSubscription(const PushSubscription&) = delete;
  PushSubscription& operator=(const PushSubscription&) = delete;

  void Start();
  void Cancel();
  // Blocks until the stream ended; its status (CANCELLED after Cancel()).
  absl::Status Wait();
  LogOffset resume_offset() const { return LogOffset(resume_.load()); }

 private:
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  std::shared_ptr<grpc::Channel> channel_;
  v1::SubscribeRequest request_;
  OnBatch on_batch_;
  grpc::ClientContext ctx_;
  grpc::ByteBuffer message_;
  BatchView view_;
  absl::Status error_;  // a message we could not read (the callback thread only)
  std::atomic<uint64_t> resume_{0};
  bool in_bootstrap_ = false;  // gRPC's callback thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool done_ = false;
  absl::Status status_;
};

}  // namespace sluice::client
