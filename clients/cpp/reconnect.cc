#include "clients/cpp/reconnect.h"

#include <algorithm>
#include <random>

namespace sluice::client {

bool IsTransient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds BackoffDelay(const ReconnectPolicy& policy, int attempt) {
  double base = static_cast<double>(policy.initial_delay.count());
  for (int i = 1; i < attempt && base < static_cast<double>(policy.max_delay.count()); ++i)
    base *= 2;
  base = std::min(base, static_cast<double>(policy.max_delay.count()));
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

void Canceller::SetContext(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(mu_);
  ctx_ = ctx;
  if (cancelled_ && ctx_ != nullptr) ctx_->TryCancel();
}

void Canceller::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    if (ctx_ != nullptr) ctx_->TryCancel();
  }
  cv_.notify_all();
}

bool Canceller::cancelled() const { return cancelled_.load(std::memory_order_acquire); }

bool Canceller::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, delay, [this] { return cancelled_.load(); });
  return !cancelled_.load();
}

absl::Status WaitToReconnect(const ReconnectPolicy& policy, Canceller& canceller,
                             const absl::Status& error, bool retryable, int& failures,
                             absl::string_view cancelled_message) {
  ++failures;
  if (!retryable || (policy.max_attempts >= 0 && failures > policy.max_attempts)) return error;
  const std::chrono::milliseconds delay = BackoffDelay(policy, failures);
  if (policy.on_reconnect) policy.on_reconnect(error, failures, delay);
  if (!canceller.Sleep(delay)) return absl::CancelledError(cancelled_message);
  return absl::OkStatus();
}

}  // namespace sluice::client
