#include "server/pipeline/source_registry.h"

#include <chrono>

namespace sluice::pipeline {

void SourceRegistry::Upsert(SourceRuntime runtime) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string name = runtime.name;
  sources_[name] = std::move(runtime);
}

void SourceRegistry::SetState(const std::string& name, v1::SourceState state) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_[name].state = state;
}

void SourceRegistry::SetError(const std::string& name, const absl::Status& error) {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::lock_guard<std::mutex> lock(mu_);
  SourceRuntime& s = sources_[name];
  s.state = v1::SOURCE_STATE_ERROR;
  s.last_error = std::string(error.message());
  s.last_error_ts_micros = now;
}

void SourceRegistry::SetSnapshotProgress(const std::string& name,
                                         std::vector<v1::TableSnapshotProgress> tables) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_[name].snapshot_tables = std::move(tables);
}

std::vector<SourceRuntime> SourceRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SourceRuntime> out;
  out.reserve(sources_.size());
  for (const auto& [name, s] : sources_) out.push_back(s);
  return out;
}

}  // namespace sluice::pipeline
