#pragma once
// Helpers shared by the source connectors: fatal-error marking and the reconnect loop.
//
// Thread-safety: the functions are thread-safe; RunSessions runs on the caller's thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/mysqlclient/connection.h"
#include "protocol/pgclient/replication_connection.h"
#include "server/config/source_config.h"
#include "server/pipeline/source_registry.h"
#include "server/pipeline/source_runner.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

// Marks `s` as an error that reconnecting will not fix: the source stays in ERROR until an
// operator acts.
absl::Status Fatal(absl::Status s);
bool IsFatal(const absl::Status& s);

int64_t NowMicros();

// libpq's sslmode for a source's tls mode (disabled, preferred, required, verify_ca,
// verify_identity; anything else is "prefer").
std::string PostgresSslMode(const std::string& tls_mode);

// The libpq parameters for a Postgres source: host, port, user, password, database and TLS
// (sslmode, sslrootcert) from `config`; the caller adds a timeout or an application name.
pgclient::ConnectParams PostgresConnectParams(const config::SourceConfig& config,
                                              bool replication);

// The connection options for a MySQL/MariaDB source: host, port, user, password, TLS (mode and
// CA file) from `config`, and `timeout`. InvalidArgument for an unknown tls mode.
absl::StatusOr<mysqlclient::ConnectOptions> MysqlConnectOptions(
    const config::SourceConfig& config, std::chrono::milliseconds timeout);

// Runs `session` (connect, stream until an error or `stopping`) again and again until `stopping`
// is set. After a transient error the source's registry entry shows the error and the next
// session starts after a capped exponential backoff (0.5 s doubling up to `max_backoff`; reset
// once a session has lasted a minute). After a Fatal error it returns, leaving the source in
// ERROR. On a stop the state becomes STOPPED.
void RunSessions(const std::string& name, SourceRegistry& registry,
                 const std::atomic<bool>& stopping, std::chrono::milliseconds max_backoff,
                 const std::function<absl::Status()>& session);

// The thread a connector runs its sessions on (RunSessions). Start() once; Stop() sets the
// stopping flag and joins (idempotent; the destructor stops too).
class SessionThread {
 public:
  using Session = std::function<absl::Status(const std::atomic<bool>& stopping)>;
  ~SessionThread() { Stop(); }
  void Start(std::string name, SourceRegistry& registry, std::chrono::milliseconds max_backoff,
             Session session);
  void Stop();

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A session's appends in flight: how many, the first failure, and waiting for them all.
// Thread-safe: callbacks run on the log's writer thread.
class AppendTracker {
 public:
  // `in_flight` (may be null) counts the change events of the tracked appends that are not
  // durable yet (SourceRegistry::InFlightEvents), for the lag in events.
  explicit AppendTracker(std::shared_ptr<std::atomic<int64_t>> in_flight = nullptr)
      : in_flight_(std::move(in_flight)) {}
  ~AppendTracker() { Drain(); }
  // The callback for one AppendAsync of `events` change events. On success `on_durable` (if
  // any) runs before the append stops counting as pending; a failure is kept as error().
  storage::AppendCallback Track(std::function<void()> on_durable = {}, uint64_t events = 0);
  // Records `st` as the error if there is none yet.
  void Fail(absl::Status st);
  absl::Status error() const;
  int pending() const;
  void Drain();

 private:
  mutable std::mutex mu_;
  std::condition_variable drained_;
  int pending_ = 0;     // guarded by mu_
  absl::Status error_;  // guarded by mu_
  const std::shared_ptr<std::atomic<int64_t>> in_flight_;
};

// A connector that runs sessions on its own thread (RunSessions): construct, Start(), Stop().
// A final subclass implements RunSession and must call Stop() in its own destructor, so that its
// thread never runs a session on a half-destroyed object.
template <typename Options>
class SessionSource : public SourceRunner {
 public:
  // `log` and `registry` must outlive the source. `id` is the source's id in `log`.
  SessionSource(config::SourceConfig config, storage::ChangeLog& log, storage::SourceId id,
                SourceRegistry& registry, Options options = {})
      : config_(std::move(config)), log_(log), id_(id), registry_(registry), options_(options) {}

  void Start() override {
    thread_.Start(config_.name, registry_, options_.max_backoff,
                  [this](const std::atomic<bool>& stopping) { return RunSession(stopping); });
  }
  void Stop() override { thread_.Stop(); }

 protected:
  // One session: connect, stream until an error or `stopping`.
  virtual absl::Status RunSession(const std::atomic<bool>& stopping) = 0;

  const config::SourceConfig config_;
  storage::ChangeLog& log_;
  const storage::SourceId id_;
  SourceRegistry& registry_;
  const Options options_;

 private:
  SessionThread thread_;
};

// What every session of a connector works with; connectors' Session classes derive from it.
// The derived destructor must call appends_.Drain() first: queued appends call back into it.
template <typename Options>
class SessionBase {
 public:
  SessionBase(const config::SourceConfig& config, storage::ChangeLog& log, storage::SourceId id,
              SourceRegistry& registry, const Options& options, const std::atomic<bool>& stopping)
      : config_(config),
        log_(log),
        id_(id),
        registry_(registry),
        options_(options),
        stopping_(stopping) {}

 protected:
  const config::SourceConfig& config_;
  storage::ChangeLog& log_;
  storage::SourceId id_;
  SourceRegistry& registry_;
  const Options& options_;
  const std::atomic<bool>& stopping_;
  AppendTracker appends_{registry_.InFlightEvents(config_.name)};
};

}  // namespace sluice::pipeline
