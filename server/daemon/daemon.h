#pragma once
// Daemon: wires one sluiced process together: the change log in the data dir, the configured
// sources, the gRPC services and the retention loop.
//
// Security: gRPC over TLS when config.tls has a certificate (mTLS when it has a client CA), and
// bearer-token auth when config.token_file is set; otherwise plaintext without auth, which is
// only safe on loopback (the default listen address).
//
// Lifecycle: Start() -> (serve) -> Shutdown() (idempotent; also run by the destructor).
// Shutdown happens in two phases: first every subscriber stream ends with UNAVAILABLE naming the
// offset to resume from, and the gRPC server stops accepting and finishes the calls in flight;
// then the sources stop (each finishes its in-flight appends and acknowledges the source up to
// them), the retention loop ends, and the change log closes (flushing what is queued).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/units.h"
#include "server/config/server_config.h"
#include "server/logging/log.h"
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

namespace sluice::service {
class Authorizer;
}  // namespace sluice::service

namespace sluice::pipeline {
class SourceRegistry;
}  // namespace sluice::pipeline

namespace sluice::daemon {

class SourceSupervisor;
class DaemonMetrics;

struct DaemonOptions {
  // --log-format: text (default) or json lines.
  logging::Format log_format = logging::Format::kText;
  config::ServerConfig config;
  storage::RetentionPolicy retention;  // every source's policy until changed at runtime
  int64_t retention_interval_ms = 60'000;
  // --retention-force: apply the limits even to events a durable subscription has not acked.
  bool retention_force = false;
  bool check_config = false;  // --check-config: validate and exit
};

// What --check-config checks beyond parsing: the TLS files hold a certificate and key in PEM,
// and the token file loads (permissions included). The first problem, naming the file.
absl::Status CheckFiles(const DaemonOptions& options);
// The short summary --check-config prints for valid settings.
std::string DescribeOptions(const DaemonOptions& options);

// Parses sluiced's command line (see --help). `--config FILE` loads the YAML file first; the other
// flags then override its settings and `--source` adds sources. InvalidArgument with a one-line
// message for any bad flag or value; the special status NotFound("help") means --help was asked.
absl::StatusOr<DaemonOptions> ParseArgs(const std::vector<std::string>& args);
std::string Usage();

// The unit parsers the flags use (proto/base/units.h).
using ::sluice::ParseByteSize;
using ::sluice::ParseDurationMicros;

class Daemon {
 public:
  // Opens the data dir, registers the sources, and starts serving. FailedPrecondition for an
  // unusable data dir or listen address, with a message that names it.
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(DaemonOptions options);
  ~Daemon();

  // The port the gRPC server listens on (useful with port 0).
  int port() const { return port_; }
  // The port of the HTTP metrics server (--metrics-listen); 0 when it is not served.
  int metrics_port() const;
  void Shutdown();

 private:
  explicit Daemon(DaemonOptions options);
  void RetentionLoop();
  void KickRetention();

  DaemonOptions options_;
  std::unique_ptr<DaemonMetrics> metrics_;  // the log's observer: outlives log_
  std::unique_ptr<storage::ChangeLog> log_;
  std::unique_ptr<storage::SubscriptionStore> subscriptions_;
  std::unique_ptr<pipeline::SourceRegistry> registry_;
  std::unique_ptr<SourceSupervisor> sources_;
  std::unique_ptr<service::Authorizer> authorizer_;  // null without a token file
  std::unique_ptr<service::ChangeStreamService> stream_service_;
  std::unique_ptr<service::AdminService> admin_service_;
  std::unique_ptr<service::SubscriptionsService> subscriptions_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;          // guarded by mu_
  bool retention_kicked_ = false;  // guarded by mu_: a policy changed, run now
  std::thread retention_thread_;
};

}  // namespace sluice::daemon
