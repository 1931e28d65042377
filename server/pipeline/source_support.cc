#include "server/pipeline/source_support.h"

#include <thread>

#include "absl/strings/cord.h"

namespace sluice::pipeline {

absl::Status Fatal(absl::Status s) {
  s.SetPayload("sluice/fatal", absl::Cord("1"));
  return s;
}

bool IsFatal(const absl::Status& s) { return s.GetPayload("sluice/fatal").has_value(); }

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void RunSessions(const std::string& name, SourceRegistry& registry,
                 const std::atomic<bool>& stopping, std::chrono::milliseconds max_backoff,
                 const std::function<absl::Status()>& session) {
  constexpr auto kInitial = std::chrono::milliseconds(500);
  constexpr auto kTick = std::chrono::milliseconds(100);
  auto backoff = kInitial;
  while (!stopping.load()) {
    const auto started = std::chrono::steady_clock::now();
    const absl::Status status = session();
    if (stopping.load()) break;
    registry.SetError(name, status);
    if (IsFatal(status)) return;  // stays in ERROR with the message; an operator must act
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1)) backoff = kInitial;
    for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stopping.load();
         waited += kTick) {
      std::this_thread::sleep_for(kTick);
    }
    backoff = std::min(backoff * 2, max_backoff);
  }
  registry.SetState(name, v1::SOURCE_STATE_STOPPED);
}

}  // namespace sluice::pipeline
