#pragma once
// SourceSupervisor: owns the runners of sluiced's configured sources and implements the Admin
// service's SourceControl: list, pause, resume, per-source retention, and re-snapshots.
//
// Pause stops the source's runner (its session ends, its queued appends finish, and the source
// is acknowledged up to them), destroys it and marks the source PAUSED; Resume builds a new
// runner, which starts from the stored checkpoint, so no committed change is lost or repeated.
// A pause lasts until Resume or until sluiced restarts (a restart runs every configured source).
//
// Every source also has a head probe (pipeline/source_head.h) that publishes its lag in bytes and
// events behind the server's head in the registry; it runs from StartAll to StopAll, also while
// the source is paused, every heartbeat_ms (5 s when the source sets none).
//
// Retention starts as the daemon-wide policy; SetRetention overrides it per source until
// sluiced restarts. RetentionFor is what the retention loop applies.
//
// Thread-safety: every method may be called from any thread. Pause/Resume/StopAll are
// serialized; Pause and StopAll block until the runner has stopped.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/config/source_config.h"
#include "server/pipeline/source_head.h"
#include "server/pipeline/source_registry.h"
#include "server/pipeline/source_runner.h"
#include "server/service/source_control.h"
#include "storage/change_log.h"

namespace sluice::daemon {

class SourceSupervisor final : public service::SourceControl {
 public:
  // `log` and `registry` must outlive the supervisor. `on_retention_change` (may be empty) runs
  // after SetRetention changed a policy, so that the retention loop can run at once.
  SourceSupervisor(storage::ChangeLog& log, pipeline::SourceRegistry& registry,
                   storage::RetentionPolicy default_retention,
                   std::function<void()> on_retention_change);
  ~SourceSupervisor() override { StopAll(); }

  // Registers `source` in the log and the registry; its runner starts with StartAll.
  absl::Status Add(const config::SourceConfig& source);
  void StartAll();
  // Stops every runner (each finishes its appends); later Pause/Resume fail. Idempotent.
  void StopAll();

  // The policy the retention loop applies to the stored source `name`.
  storage::RetentionPolicy RetentionFor(const std::string& name) const;

  std::vector<v1::ConfiguredSource> ListSources() const override;
  absl::Status Pause(const std::string& source) override;
  absl::Status Resume(const std::string& source) override;
  absl::StatusOr<storage::RetentionPolicy> Retention(const std::string& source) const override;
  absl::StatusOr<storage::RetentionPolicy> SetRetention(const std::string& source,
                                                        std::optional<int64_t> max_age_micros,
                                                        std::optional<uint64_t> max_bytes) override;
  absl::Status Snapshot(const std::string& source, const std::string& table,
                        const std::string& where) override;

 private:
  struct Managed {
    config::SourceConfig config;
    storage::SourceId id;
    std::unique_ptr<pipeline::SourceRunner> runner;  // null while paused or before StartAll
    bool paused = false;
    std::unique_ptr<pipeline::SourceHeadProbe> head;  // runs from StartAll to StopAll
  };
  std::unique_ptr<pipeline::SourceRunner> MakeRunner(const Managed& m) const;
  absl::Status UnknownSource(const std::string& name) const;

  storage::ChangeLog& log_;
  pipeline::SourceRegistry& registry_;
  const storage::RetentionPolicy default_retention_;
  const std::function<void()> on_retention_change_;

  // Held while a runner starts or stops (which may take seconds): serializes control calls.
  mutable std::mutex control_mu_;
  std::map<std::string, Managed> sources_;  // guarded by control_mu_ (the map's shape is fixed
                                            // after the Adds, before any thread uses it)
  bool stopped_ = false;                    // guarded by control_mu_

  mutable std::mutex retention_mu_;
  std::map<std::string, storage::RetentionPolicy> retention_;  // guarded by retention_mu_
};

}  // namespace sluice::daemon
