#include "server/daemon/daemon.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "server/config/listen_address.h"
#include "server/config/source_config.h"
#include "server/pipeline/mysql_source.h"
#include "server/pipeline/postgres_source.h"
#include "server/pipeline/source_registry.h"
#include "server/service/admin_service.h"
#include "server/service/change_stream_service.h"
#include "server/service/subscriptions_service.h"

namespace sluice::daemon {
namespace {

absl::Status InvalidFlag(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(flag), ": ", std::string(why), " (see sluiced --help)"));
}

// Splits "N<unit>" into the number and the unit.
bool SplitNumber(std::string_view text, uint64_t& number, std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 18) return false;
  number = std::stoull(std::string(text.substr(0, i)));
  unit = text.substr(i);
  return true;
}

// Tries to bind the listen address ourselves so that a bad address gets a precise message;
// gRPC only logs the reason.
absl::Status CheckListenAddress(const std::string& host, uint16_t port, const std::string& text) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(),
                       &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    return absl::OkStatus();  // a host name: leave resolution to gRPC
  }
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return absl::OkStatus();
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (rc == 0) return absl::OkStatus();
  std::string hint = err == EADDRINUSE      ? "another process is listening there; pick another "
                                              "port with --listen"
                     : err == EADDRNOTAVAIL ? "that address is not on this machine; use "
                                              "127.0.0.1 or a local interface address"
                     : err == EACCES        ? "ports below 1024 need privileges; use a higher port"
                                            : "check the --listen address";
  return absl::FailedPreconditionError(
      absl::StrCat("cannot listen on ", text, ": ", std::strerror(err), " (", hint, ")"));
}

}  // namespace

std::string Usage() {
  return R"(usage: sluiced --data-dir DIR [--listen HOST:PORT] [--source URL]... [options]
       sluiced --config FILE.yaml [flags that override the file]

  --data-dir DIR             where the change log lives (created if missing)
  --listen HOST:PORT         gRPC address (default 127.0.0.1:7070; port 0 picks a free one)
  --metrics-listen HOST:PORT HTTP metrics address (reserved; not served yet)
  --source URL               a source to capture; repeatable. Forms:
      mysql://USER:PASS@HOST:PORT/?name=NAME&server_id=N&tables=DB.T,DB.*&snapshot=initial|never
      postgres://USER:PASS@HOST:PORT/DB?name=NAME&slot=S&publication=P&tables=SCHEMA.T&snapshot=initial|never
  --config FILE              YAML configuration (see docs/configuration.md)
  --retention-max-age DUR    drop transactions committed longer ago than DUR (e.g. 7d, 12h)
  --retention-max-bytes SIZE keep at most SIZE per source (e.g. 50GiB)
  --retention-interval DUR   how often retention runs (default 60s)
  --retention-force          apply the retention limits even to events a durable
                             subscription has not acked (see docs/subscriptions.md)
  --help                     this text
)";
}

absl::StatusOr<int64_t> ParseDurationMicros(std::string_view text) {
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, n, unit)) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", std::string(text),
                                                   "\" is not a number with a unit (7d, 12h, "
                                                   "30m, 45s, 500ms)"));
  }
  int64_t scale = 0;
  if (unit == "ms")
    scale = 1000;
  else if (unit == "s" || unit.empty())
    scale = 1'000'000;
  else if (unit == "m")
    scale = 60'000'000;
  else if (unit == "h")
    scale = 3'600'000'000;
  else if (unit == "d")
    scale = 86'400'000'000;
  else {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", std::string(text),
                                                   "\" has an unknown unit; use ms, s, m, h or d"));
  }
  return static_cast<int64_t>(n) * scale;
}

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, n, unit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "size \"", std::string(text), "\" is not a number with a unit (50GiB, 10MiB, 1000)"));
  }
  uint64_t scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = uint64_t{1} << 10;
  else if (unit == "MiB")
    scale = uint64_t{1} << 20;
  else if (unit == "GiB")
    scale = uint64_t{1} << 30;
  else if (unit == "TiB")
    scale = uint64_t{1} << 40;
  else if (unit == "KB")
    scale = 1000;
  else if (unit == "MB")
    scale = 1000 * 1000;
  else if (unit == "GB")
    scale = 1000 * 1000 * 1000;
  else {
    return absl::InvalidArgumentError(absl::StrCat(
        "size \"", std::string(text), "\" has an unknown unit; use B, KiB, MiB, GiB, TiB"));
  }
  return n * scale;
}

absl::StatusOr<DaemonOptions> ParseArgs(const std::vector<std::string>& args) {
  DaemonOptions options;
  // --config first, so that the other flags override it wherever they stand.
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" || args[i].starts_with("--config=")) {
      std::string path;
      if (args[i] == "--config") {
        if (i + 1 >= args.size()) return InvalidFlag("--config", "needs a file name");
        path = args[i + 1];
      } else {
        path = args[i].substr(9);
      }
      SLUICE_ASSIGN_OR_RETURN(options.config, config::LoadConfigFile(path));
    }
  }
  bool have_data_dir = !options.config.data_dir.empty();
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    if (flag == "--help" || flag == "-h") return absl::NotFoundError("help");
    if (flag == "--retention-force") {
      options.retention_force = true;
      continue;
    }
    if (!flag.starts_with("--")) {
      return InvalidFlag(flag, "unexpected argument; flags start with --");
    }
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return InvalidFlag(flag, "needs a value");
      value = args[++i];
    }
    if (flag == "--config") {
      continue;
    } else if (flag == "--data-dir") {
      options.config.data_dir = value;
      have_data_dir = true;
    } else if (flag == "--listen") {
      options.config.listen = value;
    } else if (flag == "--metrics-listen") {
      options.config.metrics_listen = value;
    } else if (flag == "--source") {
      SLUICE_ASSIGN_OR_RETURN(config::SourceConfig source, config::ParseSourceUrl(value));
      for (const auto& s : options.config.sources) {
        if (s.name == source.name) {
          return InvalidFlag("--source", absl::StrCat("two sources are named \"", source.name,
                                                      "\"; give each a unique name="));
        }
      }
      options.config.sources.push_back(std::move(source));
    } else if (flag == "--retention-max-age") {
      SLUICE_ASSIGN_OR_RETURN(options.retention.max_age_micros, ParseDurationMicros(value));
    } else if (flag == "--retention-max-bytes") {
      SLUICE_ASSIGN_OR_RETURN(options.retention.max_bytes, ParseByteSize(value));
    } else if (flag == "--retention-interval") {
      SLUICE_ASSIGN_OR_RETURN(int64_t us, ParseDurationMicros(value));
      options.retention_interval_ms = std::max<int64_t>(us / 1000, 1);
    } else {
      return InvalidFlag(flag, "unknown flag");
    }
  }
  if (!have_data_dir) return InvalidFlag("--data-dir", "is required");
  SLUICE_RETURN_IF_ERROR(config::ParseListenAddress(options.config.listen).status());
  if (!options.config.metrics_listen.empty()) {
    SLUICE_RETURN_IF_ERROR(config::ParseListenAddress(options.config.metrics_listen).status());
  }
  return options;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(DaemonOptions options) {
  SLUICE_ASSIGN_OR_RETURN(auto listen, config::ParseListenAddress(options.config.listen));
  SLUICE_RETURN_IF_ERROR(CheckListenAddress(listen.first, listen.second, options.config.listen));

  std::unique_ptr<Daemon> d(new Daemon(std::move(options)));
  SLUICE_ASSIGN_OR_RETURN(d->log_, storage::ChangeLog::Open(d->options_.config.data_dir));
  d->registry_ = std::make_unique<pipeline::SourceRegistry>();
  for (const auto& source : d->options_.config.sources) {
    SLUICE_ASSIGN_OR_RETURN(storage::SourceId id, d->log_->RegisterSource(source.name, source.kind));
    pipeline::SourceRuntime runtime;
    runtime.name = source.name;
    runtime.kind = source.kind;
    runtime.url_redacted = source.url_redacted;
    d->registry_->Upsert(runtime);
    if (source.kind == v1::SOURCE_KIND_POSTGRES) {
      d->runners_.push_back(
          std::make_unique<pipeline::PostgresSource>(source, *d->log_, id, *d->registry_));
      continue;
    }
    d->runners_.push_back(
        std::make_unique<pipeline::MysqlSource>(source, *d->log_, id, *d->registry_));
  }
  d->stream_service_ = std::make_unique<service::ChangeStreamService>(*d->log_);
  d->admin_service_ = std::make_unique<service::AdminService>(*d->log_, *d->registry_);

  SLUICE_ASSIGN_OR_RETURN(d->subscriptions_, storage::SubscriptionStore::Open(*d->log_));
  d->admin_service_->set_subscriptions(d->subscriptions_.get());
  d->subscriptions_service_ =
      std::make_unique<service::SubscriptionsService>(*d->log_, *d->subscriptions_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(d->options_.config.listen, grpc::InsecureServerCredentials(), &d->port_);
  builder.RegisterService(d->stream_service_.get());
  builder.RegisterService(d->admin_service_.get());
  builder.RegisterService(d->subscriptions_service_.get());
  // Subscribers keep long-lived streams; accept their keepalive pings.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  d->server_ = builder.BuildAndStart();
  if (d->server_ == nullptr || d->port_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot listen on ", d->options_.config.listen,
                     ": the gRPC server failed to bind (check the --listen address)"));
  }
  d->retention_thread_ = std::thread([raw = d.get()] { raw->RetentionLoop(); });
  for (auto& runner : d->runners_) runner->Start();
  return d;
}

void Daemon::RetentionLoop() {
  const auto& policy = options_.retention;
  if (policy.max_age_micros == 0 && policy.max_bytes == 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    for (const auto& s : log_->Sources()) {
      auto r = subscriptions_->ApplyRetention(s.id, policy, options_.retention_force);
      if (!r.ok()) {
        std::cerr << "sluiced: retention of source '" << s.name << "' failed: " << r.status()
                  << "\n";
      }
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.retention_interval_ms),
                 [&] { return stopping_; });
  }
}

void Daemon::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // Sources stop reading and wait for their queued appends before the log closes.
  for (auto& runner : runners_) runner->Stop();
  runners_.clear();
  if (retention_thread_.joinable()) retention_thread_.join();
  server_.reset();
  admin_service_.reset();
  stream_service_.reset();
  subscriptions_service_.reset();
  subscriptions_.reset();
  log_.reset();
}

Daemon::~Daemon() { Shutdown(); }

}  // namespace sluice::daemon
