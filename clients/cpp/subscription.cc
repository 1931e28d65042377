#include "clients/cpp/subscription.h"

#include <utility>

#include "clients/cpp/connection.h"

namespace sluice::client {

Subscription::Subscription(std::shared_ptr<grpc::Channel> channel, SubscribeOptions options)
    : channel_(std::move(channel)), options_(std::move(options)) {
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
  reader_ = internal::StartSubscribe(*channel_, *ctx_, options_.request);
  in_bootstrap_ = false;
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

absl::Status Subscription::ReadMessage() {
  while (true) {
    if (canceller_.cancelled()) {
      CloseStream().IgnoreError();
      return absl::CancelledError("the subscription was cancelled");
    }
    if (reader_ == nullptr) Open();
    if (reader_->Read(&message_)) {
      failures_ = 0;
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

absl::Status Subscription::Accept(const absl::Status& read, uint64_t next_offset,
                                  uint64_t snapshot_offset, bool snapshot_done, bool& begins) {
  begins = false;
  if (!read.ok()) {
    // Bytes we cannot read: end this stream and report them, never skip them silently.
    ctx_->TryCancel();
    CloseStream().IgnoreError();
    return read;
  }
  if (snapshot_offset != 0) {
    begins = !in_bootstrap_;
    in_bootstrap_ = !snapshot_done;
    // A bootstrap message's next_offset (N + 1) is where the log follows once the rows are
    // all sent: resuming there before snapshot_done would skip the rest of the rows.
    if (!snapshot_done) return absl::OkStatus();
  }
  if (next_offset != 0) resume_ = LogOffset(next_offset);
  return absl::OkStatus();
}

absl::Status Subscription::Next(Batch& batch) {
  absl::Status read = ReadMessage();
  if (!read.ok()) return read;
  const absl::Status parsed = internal::ParseInto(message_, batch);  // before next_offset()
  bool begins = false;
  absl::Status accepted = Accept(parsed, batch.response().next_offset(),
                                 batch.response().snapshot_offset(),
                                 batch.response().snapshot_done(), begins);
  batch.set_bootstrap_begins(begins);
  return accepted;
}

absl::Status Subscription::Next(BatchView& batch) {
  absl::Status read = ReadMessage();
  if (!read.ok()) return read;
  const absl::Status indexed = internal::IndexInto(message_, batch);  // before next_offset()
  bool begins = false;
  absl::Status accepted = Accept(indexed, batch.next_offset().value(), batch.snapshot_offset(),
                                 batch.snapshot_done(), begins);
  batch.set_bootstrap_begins(begins);
  return accepted;
}

}  // namespace sluice::client
