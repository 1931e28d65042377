#pragma once
// SourceRegistry: the runtime state of every source this server runs (or holds data for), as
// shown by the Status RPC. Source connectors report their state and errors here.
//
// Every state change and every error is also logged (server/logging), with the source's stored
// position when RegistryHooks::position is set; a new source is logged with its url_redacted.
//
// Thread-safety: all methods may be called from any thread. Hooks run outside the registry's
// lock, on the calling thread.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sluice/v1/event.pb.h"
#include "sluice/v1/service.pb.h"

namespace sluice::pipeline {

struct SourceRuntime {
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;
  std::string url_redacted;
  v1::SourceState state = v1::SOURCE_STATE_UNSPECIFIED;
  std::string last_error;
  int64_t last_error_ts_micros = 0;
  std::vector<v1::TableSnapshotProgress> snapshot_tables;
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
  std::vector<SourceRuntime> Snapshot() const;

 private:
  std::string Position(const std::string& name) const;

  const RegistryHooks hooks_;
  mutable std::mutex mu_;
  std::map<std::string, SourceRuntime> sources_;  // guarded by mu_
};

}  // namespace sluice::pipeline
