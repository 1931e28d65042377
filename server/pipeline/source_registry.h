#pragma once
// SourceRegistry: the runtime state of every source this server runs (or holds data for), as
// shown by the Status RPC. Source connectors report their state and errors here.
//
// Every state change and every error is also logged (server/logging), with the source's stored
// position when RegistryHooks::position is set; a new source is logged with its url_redacted.
//
// Thread-safety: all methods may be called from any thread. Hooks run outside the registry's
// lock, on the calling thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sluice/v1/event.pb.h"
#include "sluice/v1/service.pb.h"

namespace sluice::pipeline {

// How far the change log is behind the source server's head, as the last head probe saw it
// (source_head.h; the meaning of each number is in docs/metrics.md). A number the probe could not
// measure is nullopt, with the reason in `error`.
struct SourceLag {
  std::string head;                // the server's head position ("binlog.000003:1234", "0/16B3748")
  std::optional<uint64_t> bytes;   // binlog / WAL bytes from the stored position to the head
  std::optional<uint64_t> events;  // events behind (see docs/metrics.md)
  bool events_lower_bound = false;  // true when `events` counts only what sluice has received
  int64_t probed_ts_micros = 0;     // when the probe ran (0: never)
  std::string error;                // why the last probe failed or measured only part
};

struct SourceRuntime {
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;
  std::string url_redacted;
  v1::SourceState state = v1::SOURCE_STATE_UNSPECIFIED;
  std::string last_error;
  int64_t last_error_ts_micros = 0;
  std::vector<v1::TableSnapshotProgress> snapshot_tables;
  SourceLag lag;
};

struct RegistryHooks {
  // The source's stored position as text (for log lines); may be null.
  std::function<std::string(const std::string& source)> position;
  // Called after every SetError (for error metrics); may be null.
  std::function<void(const std::string& source, const absl::Status& error)> on_error;
};

// "streaming" for SOURCE_STATE_STREAMING, and so on.
std::string StateName(v1::SourceState state);

class SourceRegistry {
 public:
  explicit SourceRegistry(RegistryHooks hooks = {}) : hooks_(std::move(hooks)) {}

  // Adds or replaces the entry for runtime.name.
  void Upsert(SourceRuntime runtime);
  void SetState(const std::string& name, v1::SourceState state);
  // Records `error` as the source's last error (with the current time) and sets state ERROR.
  void SetError(const std::string& name, const absl::Status& error);
  // Replaces the source's snapshot progress.
  void SetSnapshotProgress(const std::string& name, std::vector<v1::TableSnapshotProgress> tables);
  // Replaces the source's lag behind the server's head (from its head probe).
  void SetLag(const std::string& name, SourceLag lag);
  std::vector<SourceRuntime> Snapshot() const;

  // The count of the source's change events handed to the change log and not durable yet
  // (AppendTracker adds and subtracts; the head probe reads it). Never null; the same counter
  // for the same name as long as the registry lives.
  std::shared_ptr<std::atomic<int64_t>> InFlightEvents(const std::string& name);

 private:
  std::string Position(const std::string& name) const;

  const RegistryHooks hooks_;
  mutable std::mutex mu_;
  std::map<std::string, SourceRuntime> sources_;  // guarded by mu_
  std::map<std::string, std::shared_ptr<std::atomic<int64_t>>> in_flight_;  // guarded by mu_
};

}  // namespace sluice::pipeline
