#include "clients/cpp/subscription.h"

#include <utility>

#include "clients/cpp/connection.h"

namespace sluice::client {

Subscription::Subscription(std::shared_ptr<grpc::Channel> channel, SubscribeOptions options)
    : stub_(v1::ChangeStream::NewStub(std::move(channel))), options_(std::move(options)) {
  if (!options_.request.has_start()) options_.request.mutable_start()->mutable_earliest();
}

Subscription::~Subscription() {
  canceller_.Cancel();
  CloseStream().IgnoreError();
}

void Subscription::Cancel() { canceller_.Cancel(); }

void Subscription::Open() {
  if (resume_.value() != 0) options_.request.mutable_start()->set_offset(resume_.value());
  ctx_ = std::make_unique<grpc::ClientContext>();
  canceller_.SetContext(ctx_.get());
  reader_ = stub_->Subscribe(ctx_.get(), options_.request);
}

absl::Status Subscription::CloseStream() {
  if (reader_ == nullptr) return absl::OkStatus();
  grpc::Status status = reader_->Finish();
  canceller_.SetContext(nullptr);
  reader_.reset();
  ctx_.reset();
  if (status.ok()) return absl::UnavailableError(kStreamEndedMessage);
  return FromGrpc(status);
}

absl::Status Subscription::Next(Batch& batch) {
  while (true) {
    if (canceller_.cancelled()) {
      CloseStream().IgnoreError();
      return absl::CancelledError("the subscription was cancelled");
    }
    if (reader_ == nullptr) Open();
    if (reader_->Read(&batch.Fresh())) {
      failures_ = 0;
      if (batch.response().next_offset() != 0) resume_ = batch.next_offset();
      return absl::OkStatus();
    }
    absl::Status error = CloseStream();
    if (canceller_.cancelled()) return absl::CancelledError("the subscription was cancelled");
    const auto code = static_cast<grpc::StatusCode>(error.code());
    // ABORTED: the server closed every subscription (admin CloseAll); a new one is welcome.
    const bool retryable = IsTransient(code) || code == grpc::StatusCode::ABORTED;
    absl::Status wait = WaitToReconnect(options_.reconnect, canceller_, error, retryable,
                                        failures_, "the subscription was cancelled");
    if (!wait.ok()) return wait;
  }
}

}  // namespace sluice::client
