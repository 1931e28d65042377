#include "server/pipeline/source_support.h"

#include <thread>

#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "proto/base/status_macros.h"

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

std::string PostgresSslMode(const std::string& tls_mode) {
  if (tls_mode == "disabled") return "disable";
  if (tls_mode == "required") return "require";
  if (tls_mode == "verify_ca") return "verify-ca";
  if (tls_mode == "verify_identity") return "verify-full";
  return "prefer";
}

pgclient::ConnectParams PostgresConnectParams(const config::SourceConfig& config,
                                              bool replication) {
  pgclient::ConnectParams params;
  params.host = config.host;
  params.port = config.port;
  params.user = config.user;
  params.password = config.password;
  params.database = config.database;
  params.sslmode = PostgresSslMode(config.tls_mode);
  params.sslrootcert = config.tls_ca_file;
  params.replication = replication;
  return params;
}

absl::StatusOr<mysqlclient::ConnectOptions> MysqlConnectOptions(
    const config::SourceConfig& config, std::chrono::milliseconds timeout) {
  mysqlclient::ConnectOptions opts;
  opts.host = config.host;
  opts.port = config.port;
  opts.user = config.user;
  opts.password = config.password;
  opts.timeout = absl::Milliseconds(timeout.count());
  SLUICE_ASSIGN_OR_RETURN(opts.tls, mysqlclient::ParseTlsMode(config.tls_mode));
  opts.tls_ca_file = config.tls_ca_file;
  return opts;
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

void SessionThread::Start(std::string name, SourceRegistry& registry,
                          std::chrono::milliseconds max_backoff, Session session) {
  thread_ = std::thread(
      [this, name = std::move(name), &registry, max_backoff, session = std::move(session)] {
        RunSessions(name, registry, stopping_, max_backoff, [&] { return session(stopping_); });
      });
}

void SessionThread::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

storage::AppendCallback AppendTracker::Track(std::function<void()> on_durable, uint64_t events) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
  }
  const auto n = static_cast<int64_t>(events);
  if (in_flight_ && n > 0) in_flight_->fetch_add(n);
  return [this, on_durable = std::move(on_durable), n](absl::StatusOr<LogOffset> r) {
    if (r.ok() && on_durable) on_durable();
    // A failed append's events are not durable either, but the session ends and a new one
    // reads them again: they stop counting here.
    if (in_flight_ && n > 0) in_flight_->fetch_sub(n);
    std::lock_guard<std::mutex> lock(mu_);
    if (!r.ok() && error_.ok()) error_ = r.status();
    if (--pending_ == 0) drained_.notify_all();
  };
}

void AppendTracker::Fail(absl::Status st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_.ok()) error_ = std::move(st);
}

absl::Status AppendTracker::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

int AppendTracker::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

void AppendTracker::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait(lock, [&] { return pending_ == 0; });
}

}  // namespace sluice::pipeline
