#include "server/pipeline/source_registry.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/logging/log.h"

namespace sluice::pipeline {

std::string StateName(v1::SourceState state) {
  std::string name = v1::SourceState_Name(state);
  constexpr std::string_view kPrefix = "SOURCE_STATE_";
  if (name.starts_with(kPrefix)) name = name.substr(kPrefix.size());
  return name.empty() ? absl::StrCat("state ", static_cast<int>(state))
                      : absl::AsciiStrToLower(name);
}

std::string SourceRegistry::Position(const std::string& name) const {
  std::string position = hooks_.position ? hooks_.position(name) : std::string();
  return position.empty() ? "none" : position;
}

void SourceRegistry::Upsert(SourceRuntime runtime) {
  const std::string name = runtime.name;
  const std::string url = runtime.url_redacted;
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    added = sources_.find(name) == sources_.end();
    sources_[name] = std::move(runtime);
  }
  if (added) logging::Info(name, "source configured", {{"url", url}});
}

void SourceRegistry::SetState(const std::string& name, v1::SourceState state) {
  v1::SourceState old = v1::SOURCE_STATE_UNSPECIFIED;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SourceRuntime& s = sources_[name];
    old = s.state;
    s.state = state;
  }
  if (old == state) return;
  logging::Info(name, absl::StrCat("state ", StateName(old), " -> ", StateName(state)),
                {{"position", Position(name)}});
}

void SourceRegistry::SetError(const std::string& name, const absl::Status& error) {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  v1::SourceState old = v1::SOURCE_STATE_UNSPECIFIED;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SourceRuntime& s = sources_[name];
    old = s.state;
    s.state = v1::SOURCE_STATE_ERROR;
    s.last_error = std::string(error.message());
    s.last_error_ts_micros = now;
  }
  logging::Error(name, absl::StrCat("state ", StateName(old), " -> error"),
                 {{"code", absl::StatusCodeToString(error.code())},
                  {"error", std::string(error.message())},
                  {"position", Position(name)}});
  if (hooks_.on_error) hooks_.on_error(name, error);
}

void SourceRegistry::SetSnapshotProgress(const std::string& name,
                                         std::vector<v1::TableSnapshotProgress> tables) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_[name].snapshot_tables = std::move(tables);
}

void SourceRegistry::SetLag(const std::string& name, SourceLag lag) {
  std::lock_guard<std::mutex> lock(mu_);
  sources_[name].lag = std::move(lag);
}

std::shared_ptr<std::atomic<int64_t>> SourceRegistry::InFlightEvents(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& counter = in_flight_[name];
  if (counter == nullptr) counter = std::make_shared<std::atomic<int64_t>>(0);
  return counter;
}

std::vector<SourceRuntime> SourceRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SourceRuntime> out;
  out.reserve(sources_.size());
  for (const auto& [name, s] : sources_) out.push_back(s);
  return out;
}

}  // namespace sluice::pipeline
