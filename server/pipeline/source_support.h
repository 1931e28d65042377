#pragma once
// Helpers shared by the source connectors: fatal-error marking and the reconnect loop.
//
// Thread-safety: the functions are thread-safe; RunSessions runs on the caller's thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "server/pipeline/source_registry.h"

namespace sluice::pipeline {

// Marks `s` as an error that reconnecting will not fix: the source stays in ERROR until an
// operator acts.
absl::Status Fatal(absl::Status s);
bool IsFatal(const absl::Status& s);

int64_t NowMicros();

// Runs `session` (connect, stream until an error or `stopping`) again and again until `stopping`
// is set. After a transient error the source's registry entry shows the error and the next
// session starts after a capped exponential backoff (0.5 s doubling up to `max_backoff`; reset
// once a session has lasted a minute). After a Fatal error it returns, leaving the source in
// ERROR. On a stop the state becomes STOPPED.
void RunSessions(const std::string& name, SourceRegistry& registry,
                 const std::atomic<bool>& stopping, std::chrono::milliseconds max_backoff,
                 const std::function<absl::Status()>& session);

}  // namespace sluice::pipeline
