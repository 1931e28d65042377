#pragma once
// SourceRegistry: the runtime state of every source this server runs (or holds data for), as
// shown by the Status RPC. Source connectors report their state and errors here.
//
// Thread-safety: all methods may be called from any thread.

#include <cstdint>
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

class SourceRegistry {
 public:
  // Adds or replaces the entry for runtime.name.
  void Upsert(SourceRuntime runtime);
  void SetState(const std::string& name, v1::SourceState state);
  // Records `error` as the source's last error (with the current time) and sets state ERROR.
  void SetError(const std::string& name, const absl::Status& error);
  // Replaces the source's snapshot progress.
  void SetSnapshotProgress(const std::string& name, std::vector<v1::TableSnapshotProgress> tables);
  std::vector<SourceRuntime> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, SourceRuntime> sources_;  // guarded by mu_
};

}  // namespace sluice::pipeline
