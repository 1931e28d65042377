#pragma once
// The reconnect policy shared by Subscription and Consumer: which stream endings are worth
// another attempt, how long to wait before it (exponential backoff with jitter, reset once a
// message arrives), and a wait that Cancel() cuts short.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sluice::client {

struct ReconnectPolicy {
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{5000};
  // Failed attempts in a row (no message received in between) before the error is returned;
  // -1: no limit; 0: never reconnect (the first error is returned as it is).
  int max_attempts = -1;
  // Called before each reconnect with the error that ended the stream, the attempt number
  // (1-based, reset by every message received) and the delay. A wrong address is otherwise
  // retried quietly forever; use this to log. Called on the thread that called Next().
  std::function<void(const absl::Status& error, int attempt, std::chrono::milliseconds delay)>
      on_reconnect;
};

// Codes that say "the server or the network went away", not "your request is wrong":
// UNAVAILABLE (sluiced restarting or unreachable), CANCELLED by the server, DEADLINE_EXCEEDED,
// INTERNAL, UNKNOWN (a dropped connection), RESOURCE_EXHAUSTED.
bool IsTransient(grpc::StatusCode code);

// The delay before attempt `attempt` (1-based): initial_delay * 2^(attempt-1), at most
// max_delay, with +/-20% jitter.
std::chrono::milliseconds BackoffDelay(const ReconnectPolicy& policy, int attempt);

// Cancellation of one stream object: Cancel() may be called from any thread, once or more; it
// cancels the call in flight (grpc::ClientContext::TryCancel) and wakes a backoff wait.
class Canceller {
 public:
  // The call in flight, or nullptr between calls. The context must stay alive until it is
  // replaced or cleared.
  void SetContext(grpc::ClientContext* ctx);
  void Cancel();
  bool cancelled() const;
  // Sleeps for `delay` or until Cancel(); returns false when cancelled.
  bool Sleep(std::chrono::milliseconds delay);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* ctx_ = nullptr;
  // Set under mu_ (Sleep waits on it); read without the lock by cancelled(), which a
  // Subscription or Consumer asks on every message.
  std::atomic<bool> cancelled_{false};
};

// After a stream ended with `error`: counts the failure in `failures` and, when `retryable` and
// the policy allows another attempt, reports it (on_reconnect) and waits the backoff delay.
// Returns OK to reconnect, `error` to give up, or CANCELLED with `cancelled_message` when
// Cancel() cut the wait short.
absl::Status WaitToReconnect(const ReconnectPolicy& policy, Canceller& canceller,
                             const absl::Status& error, bool retryable, int& failures,
                             absl::string_view cancelled_message);

}  // namespace sluice::client
