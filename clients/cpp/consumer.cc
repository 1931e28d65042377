#include "clients/cpp/consumer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "clients/cpp/connection.h"

namespace sluice::client {
namespace {

absl::StatusOr<LogOffset> UnaryAck(v1::Subscriptions::Stub& stub, const std::string& subscription,
                                   uint64_t offset, std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  v1::AckRequest req;
  req.set_subscription(subscription);
  req.set_offset(offset);
  v1::AckResponse resp;
  grpc::Status status = stub.Ack(&ctx, req, &resp);
  if (!status.ok()) return FromGrpc(status);
  return LogOffset(resp.committed_offset());
}

// ABORTED with this text: the subscription was reset; reconnecting continues from the new
// position (the server's message says "... was reset ...").
bool IsReset(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         status.message().find("was reset") != absl::string_view::npos;
}

}  // namespace

Consumer::Consumer(std::shared_ptr<grpc::Channel> channel, ConsumeOptions options)
    : stub_(v1::Subscriptions::NewStub(channel)),
      options_(std::move(options)),
      channel_(std::move(channel)) {}

Consumer::~Consumer() {
  canceller_.Cancel();
  CloseStream().IgnoreError();
}

void Consumer::Cancel() { canceller_.Cancel(); }

LogOffset Consumer::committed_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LogOffset(committed_);
}

LogOffset Consumer::acked_offset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return LogOffset(acked_);
}

// Acks that a broken stream may not have carried: commit them before the server redelivers.
// Best effort: if this fails the new stream carries them once it has caught up to them.
void Consumer::CommitPendingAcks() {
  uint64_t pending = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (acked_ > committed_) pending = acked_;
  }
  if (pending == 0) return;
  auto committed = UnaryAck(*stub_, options_.open.subscription(), pending, std::chrono::seconds(5));
  if (committed.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    committed_ = std::max(committed_, committed->value());
  }
}

void Consumer::Open() {
  CommitPendingAcks();
  ctx_ = std::make_unique<grpc::ClientContext>();
  canceller_.SetContext(ctx_.get());
  stream_ = internal::StartConsume(*channel_, *ctx_);
  v1::ConsumeRequest open;
  *open.mutable_open() = options_.open;
  first_message_ = true;
  in_bootstrap_ = false;
  std::lock_guard<std::mutex> lock(mu_);
  stream_sent_ = 0;
  stream_acked_ = 0;
  writable_ = stream_->Write(open);
}

absl::Status Consumer::CloseStream() {
  if (stream_ == nullptr) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mu_);
    writable_ = false;
  }
  grpc::Status status = stream_->Finish();
  canceller_.SetContext(nullptr);
  stream_.reset();
  ctx_.reset();
  if (status.ok()) return absl::UnavailableError(kStreamEndedMessage);
  return FromGrpc(status);
}

void Consumer::SendAckLocked() {
  if (!writable_) return;
  // Never beyond what this stream was sent: the server would end it (INVALID_ARGUMENT).
  const uint64_t target = std::min(acked_, stream_sent_);
  if (target <= stream_acked_ || target <= committed_) return;
  v1::ConsumeRequest ack;
  ack.set_ack(target);
  if (stream_->Write(ack)) {
    stream_acked_ = target;
  } else {
    writable_ = false;  // the stream broke; Next() notices and reconnects
  }
}

absl::Status Consumer::Ack(LogOffset offset) {
  std::lock_guard<std::mutex> lock(mu_);
  if (offset.value() > ackable_) {
    return absl::InvalidArgumentError("ack of offset " + std::to_string(offset.value()) +
                                      " is beyond the last offset handed out (" +
                                      std::to_string(ackable_) + ")");
  }
  if (offset.value() <= acked_) return absl::OkStatus();
  acked_ = offset.value();
  SendAckLocked();
  return absl::OkStatus();
}

absl::StatusOr<LogOffset> Consumer::Flush(std::chrono::milliseconds timeout) {
  uint64_t target = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (acked_ <= committed_) return LogOffset(committed_);
    // With this consumer connected the server accepts at most what the stream was sent.
    target = writable_ ? std::min(acked_, std::max(stream_sent_, committed_)) : acked_;
    if (target <= committed_) return LogOffset(committed_);
  }
  auto committed = UnaryAck(*stub_, options_.open.subscription(), target, timeout);
  if (!committed.ok()) return committed.status();
  std::lock_guard<std::mutex> lock(mu_);
  committed_ = std::max(committed_, committed->value());
  return LogOffset(committed_);
}

absl::Status Consumer::Close() {
  absl::StatusOr<LogOffset> flushed = Flush();
  canceller_.Cancel();
  if (stream_ != nullptr) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      writable_ = false;
    }
    stream_->WritesDone();
  }
  CloseStream().IgnoreError();
  return flushed.status();
}

absl::Status Consumer::ReadMessage() {
  while (true) {
    if (canceller_.cancelled()) {
      CloseStream().IgnoreError();
      return absl::CancelledError("the consumer was cancelled");
    }
    if (stream_ == nullptr) Open();
    if (stream_->Read(&message_)) {
      failures_ = 0;
      return absl::OkStatus();
    }
    absl::Status error = CloseStream();
    if (canceller_.cancelled()) return absl::CancelledError("the consumer was cancelled");
    const bool reset = IsReset(error);
    if (reset) {
      std::lock_guard<std::mutex> lock(mu_);
      delivered_ = 0;
      acked_ = 0;
      ackable_ = 0;
      committed_ = 0;
    }
    const bool retryable = reset || IsTransient(static_cast<grpc::StatusCode>(error.code()));
    absl::Status wait = WaitToReconnect(options_.reconnect, canceller_, error, retryable,
                                        failures_, "the consumer was cancelled");
    if (!wait.ok()) return wait;
  }
}

size_t Consumer::Accept(uint64_t committed, uint64_t next_offset, size_t events,
                        absl::FunctionRef<uint64_t(size_t)> offset_at, uint64_t snapshot_offset,
                        bool snapshot_done, bool& begins) {
  std::lock_guard<std::mutex> lock(mu_);
  begins = snapshot_offset != 0 && !in_bootstrap_;
  in_bootstrap_ = snapshot_offset != 0 && !snapshot_done;
  if (first_message_ && committed < committed_) {
    // Reset while we were away: start over at the new position.
    delivered_ = 0;
    acked_ = 0;
    ackable_ = 0;
    committed_ = 0;
  }
  first_message_ = false;
  committed_ = std::max(committed_, committed);
  if (next_offset > 0) stream_sent_ = std::max(stream_sent_, next_offset - 1);
  // A bootstrap's rows (offset 0) are all handed out, each time the server sends them: a
  // repeated bootstrap is a new state (bootstrap_begins), not a redelivery to drop.
  if (snapshot_offset != 0) {
    ackable_ = std::max(ackable_, stream_sent_);
    SendAckLocked();
    return 0;
  }
  // Skip the redelivered events that were handed out already (a prefix: offsets ascend).
  size_t skip = 0;
  while (skip < events && offset_at(skip) <= delivered_) ++skip;
  if (skip < events) delivered_ = offset_at(events - 1);
  ackable_ = std::max(ackable_, stream_sent_);
  SendAckLocked();
  return skip;
}

absl::Status Consumer::Abandon(const absl::Status& error) {
  // Bytes we cannot read: end this stream and report them, never skip them silently.
  ctx_->TryCancel();
  CloseStream().IgnoreError();
  return error;
}

absl::Status Consumer::Next(Batch& batch) {
  absl::Status read = ReadMessage();
  if (!read.ok()) return read;
  absl::Status parsed = internal::ParseInto(message_, batch);
  if (!parsed.ok()) return Abandon(parsed);
  v1::SubscribeResponse& r = batch.mutable_response();
  bool begins = false;
  const size_t skip =
      Accept(r.committed_offset(), r.next_offset(), static_cast<size_t>(r.events_size()),
             [&r](size_t i) { return r.events(static_cast<int>(i)).offset(); },
             r.snapshot_offset(), r.snapshot_done(), begins);
  batch.set_bootstrap_begins(begins);
  if (skip > 0) r.mutable_events()->DeleteSubrange(0, static_cast<int>(skip));
  return absl::OkStatus();
}

absl::Status Consumer::Next(BatchView& batch) {
  absl::Status read = ReadMessage();
  if (!read.ok()) return read;
  absl::Status indexed = internal::IndexInto(message_, batch);
  if (!indexed.ok()) return Abandon(indexed);
  const std::span<const EventView> events = batch.events();
  bool begins = false;
  batch.DropFront(Accept(batch.committed_offset().value(), batch.next_offset().value(),
                         events.size(), [&events](size_t i) { return events[i].offset(); },
                         batch.snapshot_offset(), batch.snapshot_done(), begins));
  batch.set_bootstrap_begins(begins);
  return absl::OkStatus();
}

absl::StatusOr<LogOffset> AckSubscription(std::shared_ptr<grpc::Channel> channel,
                                          const std::string& subscription, LogOffset offset,
                                          std::chrono::milliseconds timeout) {
  auto stub = v1::Subscriptions::NewStub(std::move(channel));
  return UnaryAck(*stub, subscription, offset.value(), timeout);
}

}  // namespace sluice::client
