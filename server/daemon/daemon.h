#pragma once
// Daemon: wires one sluiced process together: the change log in the data dir, the configured
// sources, the gRPC services and the retention loop.
//
// Lifecycle: Start() -> (serve) -> Shutdown() (idempotent; also run by the destructor).
// Shutdown happens in two phases: the gRPC server stops accepting and ends every stream, then
// the services, the retention loop and finally the change log (which drains queued appends)
// are torn down.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config/server_config.h"
#include "storage/change_log.h"
#include "storage/subscriptions.h"

namespace grpc {
class Server;
}

namespace sluice::service {
class ChangeStreamService;
class SubscriptionsService;
class AdminService;
}  // namespace sluice::service

namespace sluice::pipeline {
class SourceRegistry;
class SourceRunner;
}  // namespace sluice::pipeline

namespace sluice::daemon {

struct DaemonOptions {
  config::ServerConfig config;
  storage::RetentionPolicy retention;  // applied to every source
  int64_t retention_interval_ms = 60'000;
  // --retention-force: apply the limits even to events a durable subscription has not acked.
  bool retention_force = false;
};

// Parses sluiced's command line (see --help). `--config FILE` loads the YAML file first; the other
// flags then override its settings and `--source` adds sources. InvalidArgument with a one-line
// message for any bad flag or value; the special status NotFound("help") means --help was asked.
absl::StatusOr<DaemonOptions> ParseArgs(const std::vector<std::string>& args);
std::string Usage();

// "7d", "12h", "30m", "45s", "500ms" -> microseconds.
absl::StatusOr<int64_t> ParseDurationMicros(std::string_view text);
// "50GiB", "10MiB", "512KiB", "1GB", "1000" -> bytes.
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

class Daemon {
 public:
  // Opens the data dir, registers the sources, and starts serving. FailedPrecondition for an
  // unusable data dir or listen address, with a message that names it.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(DaemonOptions options);
  ~Daemon();

  // The port the gRPC server listens on (useful with port 0).
  int port() const { return port_; }
  void Shutdown();

 private:
  explicit Daemon(DaemonOptions options);
  void RetentionLoop();

  DaemonOptions options_;
  std::unique_ptr<storage::ChangeLog> log_;
  std::unique_ptr<storage::SubscriptionStore> subscriptions_;
  std::unique_ptr<pipeline::SourceRegistry> registry_;
  std::vector<std::unique_ptr<pipeline::SourceRunner>> runners_;
  std::unique_ptr<service::ChangeStreamService> stream_service_;
  std::unique_ptr<service::AdminService> admin_service_;
  std::unique_ptr<service::SubscriptionsService> subscriptions_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread retention_thread_;
};

}  // namespace sluice::daemon
