#include "server/daemon/source_supervisor.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "server/pipeline/mysql_source.h"
#include "server/pipeline/postgres_source.h"

namespace sluice::daemon {

SourceSupervisor::SourceSupervisor(storage::ChangeLog& log, pipeline::SourceRegistry& registry,
                                   storage::RetentionPolicy default_retention,
                                   std::function<void()> on_retention_change)
    : log_(log),
      registry_(registry),
      default_retention_(default_retention),
      on_retention_change_(std::move(on_retention_change)) {}

absl::Status SourceSupervisor::Add(const config::SourceConfig& source) {
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId id, log_.RegisterSource(source.name, source.kind));
  SLUICE_RETURN_IF_ERROR(log_.SetTableState(id, source.table_state));
  pipeline::SourceRuntime runtime;
  runtime.name = source.name;
  runtime.kind = source.kind;
  runtime.url_redacted = source.url_redacted;
  registry_.Upsert(runtime);
  if (source.retention_max_age_micros || source.retention_max_bytes) {
    // The source's own retention settings, over the daemon-wide policy.
    storage::RetentionPolicy policy = default_retention_;
    if (source.retention_max_age_micros) policy.max_age_micros = *source.retention_max_age_micros;
    if (source.retention_max_bytes) policy.max_bytes = *source.retention_max_bytes;
    std::lock_guard<std::mutex> lock(retention_mu_);
    retention_[source.name] = policy;
  }
  pipeline::HeadProbeOptions probe;
  if (source.heartbeat_ms) probe.interval = std::chrono::milliseconds(*source.heartbeat_ms);
  auto head = std::make_unique<pipeline::SourceHeadProbe>(source, log_, id, registry_, probe);
  std::lock_guard<std::mutex> lock(control_mu_);
  sources_[source.name] = Managed{source, id, nullptr, false, std::move(head)};
  return absl::OkStatus();
}

std::unique_ptr<pipeline::SourceRunner> SourceSupervisor::MakeRunner(const Managed& m) const {
  if (m.config.kind == v1::SOURCE_KIND_POSTGRES) {
    pipeline::PostgresSourceOptions options;
    if (m.config.heartbeat_ms) options.status_interval = std::chrono::milliseconds(*m.config.heartbeat_ms);
    return std::make_unique<pipeline::PostgresSource>(m.config, log_, m.id, registry_, options);
  }
  pipeline::MysqlSourceOptions options;
  if (m.config.heartbeat_ms) options.heartbeat_period = std::chrono::milliseconds(*m.config.heartbeat_ms);
  return std::make_unique<pipeline::MysqlSource>(m.config, log_, m.id, registry_, options);
}

void SourceSupervisor::StartAll() {
  std::lock_guard<std::mutex> lock(control_mu_);
  if (stopped_) return;
  for (auto& [name, m] : sources_) {
    if (m.runner != nullptr || m.paused) continue;
    m.runner = MakeRunner(m);
    m.runner->Start();
  }
  for (auto& [name, m] : sources_) m.head->Start();
}

void SourceSupervisor::StopAll() {
  std::lock_guard<std::mutex> lock(control_mu_);
  if (stopped_) return;
  stopped_ = true;
  // Probes end together: each may be inside a probe (bounded by its connect timeout).
  for (auto& [name, m] : sources_) m.head->RequestStop();
  for (auto& [name, m] : sources_) m.head->Stop();
  for (auto& [name, m] : sources_) {
    if (m.runner == nullptr) continue;
    m.runner->Stop();
    m.runner.reset();
  }
}

absl::Status SourceSupervisor::UnknownSource(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& [n, m] : sources_) names.push_back(n);
  return absl::NotFoundError(absl::StrCat(
      "no configured source is named \"", name, "\"",
      names.empty() ? std::string(" (this sluiced runs no sources)")
                    : absl::StrCat(" (configured: ", absl::StrJoin(names, ", "), ")")));
}

absl::Status SourceSupervisor::Pause(const std::string& source) {
  std::lock_guard<std::mutex> lock(control_mu_);
  if (stopped_) return absl::FailedPreconditionError("sluiced is shutting down");
  auto it = sources_.find(source);
  if (it == sources_.end()) return UnknownSource(source);
  Managed& m = it->second;
  if (m.paused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source \"", source, "\" is already paused: resume it with sluicectl resume ", source));
  }
  if (m.runner != nullptr) {
    m.runner->Stop();  // the session ends and its queued appends finish
    m.runner.reset();
  }
  m.paused = true;
  registry_.SetState(source, v1::SOURCE_STATE_PAUSED);
  return absl::OkStatus();
}

absl::Status SourceSupervisor::Resume(const std::string& source) {
  std::lock_guard<std::mutex> lock(control_mu_);
  if (stopped_) return absl::FailedPreconditionError("sluiced is shutting down");
  auto it = sources_.find(source);
  if (it == sources_.end()) return UnknownSource(source);
  Managed& m = it->second;
  if (!m.paused) {
    return absl::FailedPreconditionError(absl::StrCat("source \"", source, "\" is not paused"));
  }
  m.paused = false;
  registry_.SetState(source, v1::SOURCE_STATE_CONNECTING);
  m.runner = MakeRunner(m);
  m.runner->Start();
  return absl::OkStatus();
}

absl::Status SourceSupervisor::Snapshot(const std::string& source, const std::string& table,
                                        const std::string& where) {
  std::lock_guard<std::mutex> lock(control_mu_);
  if (stopped_) return absl::FailedPreconditionError("sluiced is shutting down");
  auto it = sources_.find(source);
  if (it == sources_.end()) return UnknownSource(source);
  if (it->second.paused || it->second.runner == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source \"", source, "\" is paused: resume it (sluicectl resume ", source,
        ") before re-snapshotting a table"));
  }
  return it->second.runner->RequestSnapshot(table, where);
}

std::vector<v1::ConfiguredSource> SourceSupervisor::ListSources() const {
  std::map<std::string, v1::SourceState> states;
  for (const auto& r : registry_.Snapshot()) states[r.name] = r.state;
  std::vector<v1::ConfiguredSource> out;
  // `config` and `id` never change after Add, and Adds happen before any other thread runs,
  // so the configurations are read without control_mu_ (held for seconds during a pause).
  for (const auto& [name, m] : sources_) {
    v1::ConfiguredSource c;
    c.set_name(name);
    c.set_kind(m.config.kind);
    c.set_url(m.config.url_redacted);
    c.set_state(states[name]);
    for (const auto& t : m.config.tables) c.add_tables(t);
    c.set_snapshot(std::string(config::SnapshotModeName(m.config.snapshot)));
    const storage::RetentionPolicy policy = RetentionFor(name);
    c.mutable_retention()->set_max_age_micros(policy.max_age_micros);
    c.mutable_retention()->set_max_bytes(policy.max_bytes);
    out.push_back(std::move(c));
  }
  return out;
}

storage::RetentionPolicy SourceSupervisor::RetentionFor(const std::string& name) const {
  std::lock_guard<std::mutex> lock(retention_mu_);
  auto it = retention_.find(name);
  return it == retention_.end() ? default_retention_ : it->second;
}

absl::StatusOr<storage::RetentionPolicy> SourceSupervisor::Retention(
    const std::string& source) const {
  SLUICE_RETURN_IF_ERROR(log_.FindSource(source).status());
  return RetentionFor(source);
}

absl::StatusOr<storage::RetentionPolicy> SourceSupervisor::SetRetention(
    const std::string& source, std::optional<int64_t> max_age_micros,
    std::optional<uint64_t> max_bytes) {
  SLUICE_RETURN_IF_ERROR(log_.FindSource(source).status());
  storage::RetentionPolicy policy;
  {
    std::lock_guard<std::mutex> lock(retention_mu_);
    auto it = retention_.find(source);
    policy = it == retention_.end() ? default_retention_ : it->second;
    if (max_age_micros) policy.max_age_micros = *max_age_micros;
    if (max_bytes) policy.max_bytes = *max_bytes;
    retention_[source] = policy;
  }
  if (on_retention_change_) on_retention_change_();
  return policy;
}

}  // namespace sluice::daemon
