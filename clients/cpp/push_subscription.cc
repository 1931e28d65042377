#include "clients/cpp/push_subscription.h"

#include <utility>

#include "clients/cpp/connection.h"
#include "clients/cpp/raw_call.h"

namespace sluice::client {

PushSubscription::PushSubscription(std::shared_ptr<grpc::Channel> channel,
                                   v1::SubscribeRequest request, OnBatch on_batch)
    : channel_(std::move(channel)), request_(std::move(request)), on_batch_(std::move(on_batch)) {
  if (!request_.has_start()) request_.mutable_start()->mutable_earliest();
}

PushSubscription::~PushSubscription() {
  Cancel();
  Wait().IgnoreError();
}

void PushSubscription::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  internal::StartSubscribe(*channel_, ctx_, request_, this);
  StartRead(&message_);
  StartCall();
}

void PushSubscription::Cancel() { ctx_.TryCancel(); }

absl::Status PushSubscription::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_) return absl::FailedPreconditionError("the subscription was not started");
  cv_.wait(lock, [this] { return done_; });
  return status_;
}

void PushSubscription::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended: OnDone follows
  absl::Status indexed = internal::IndexInto(message_, view_);
  if (!indexed.ok()) {
    // Bytes we cannot read: end the stream and report them, never skip them silently.
    error_ = indexed;
    ctx_.TryCancel();
    return;
  }
  view_.set_bootstrap_begins(view_.snapshot_offset() != 0 && !in_bootstrap_);
  in_bootstrap_ = view_.snapshot_offset() != 0 && !view_.snapshot_done();
  on_batch_(view_);
  // Not inside a bootstrap: its next_offset (N + 1) is where the log follows once every row
  // is sent (a new stream then has to bootstrap again: resume_offset() stays 0).
  if (view_.next_offset().value() != 0 && !in_bootstrap_) resume_ = view_.next_offset().value();
  StartRead(&message_);
}

void PushSubscription::OnDone(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = !error_.ok() ? error_
            : status.ok() ? absl::UnavailableError(kStreamEndedMessage)
                          : FromGrpc(status);
  done_ = true;
  cv_.notify_all();
}

}  // namespace sluice::client
