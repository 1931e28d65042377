#include "server/daemon/daemon.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "server/config/listen_address.h"
#include "server/config/source_config.h"
#include "server/config/token_file.h"
#include "server/daemon/daemon_metrics.h"
#include "server/daemon/source_supervisor.h"
#include "server/logging/log.h"
#include "server/pipeline/source_registry.h"
#include "server/service/admin_service.h"
#include "server/service/authorizer.h"
#include "server/service/change_stream_service.h"
#include "server/service/subscriptions_service.h"

namespace sluice::daemon {
namespace {

absl::Status InvalidFlag(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(flag), ": ", std::string(why), " (see sluiced --help)"));
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

// The whole of a small file (certificates, keys). Bigger than 1 MiB is refused.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(what), " \"", path, "\" cannot be read: ", std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (in.bad() || text.size() > (1u << 20)) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(what), " \"", path, "\" cannot be read or is over 1 MiB"));
  }
  return text;
}

// Reads a PEM file and checks that it holds a block whose label contains `label`.
absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what,
                                    std::string_view label) {
  SLUICE_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, what));
  const size_t begin = text.find("-----BEGIN ");
  const size_t end = begin == std::string::npos ? begin : text.find("-----", begin + 11);
  if (end == std::string::npos ||
      text.substr(begin, end - begin).find(std::string(label)) == std::string::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(std::string(what), " \"", path, "\" holds no PEM ", std::string(label),
                     " (a block starting -----BEGIN ...", std::string(label), "-----)"));
  }
  return text;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

std::string Usage() {
  return R"(usage: sluiced --data-dir DIR [--listen HOST:PORT] [--source URL]... [options]
       sluiced --config FILE.yaml [flags that override the file]

  --data-dir DIR             where the change log lives (created if missing)
  --listen HOST:PORT         gRPC address (default 127.0.0.1:7070; port 0 picks a free one)
  --metrics-listen HOST:PORT serve /metrics (Prometheus), /healthz and /readyz over HTTP there
                             (port 0 picks a free one; off when not given)
  --log-format text|json     log lines for people (default) or one JSON object per line
  --source URL               a source to capture; repeatable. Forms:
      mysql://USER:PASS@HOST:PORT/?name=NAME&server_id=N&tables=DB.T,DB.*&snapshot=initial|never
      postgres://USER:PASS@HOST:PORT/DB?name=NAME&slot=S&publication=P&tables=SCHEMA.T&snapshot=initial|never
  --config FILE              YAML configuration (see docs/configuration.md)
  --retention-max-age DUR    drop transactions committed longer ago than DUR (e.g. 7d, 12h)
  --retention-max-bytes SIZE keep at most SIZE per source (e.g. 50GiB)
  --retention-interval DUR   how often retention runs (default 60s)
  --retention-force          apply the retention limits even to events a durable
                             subscription has not acked (see docs/subscriptions.md)
  --tls-cert FILE            serve gRPC over TLS with this PEM certificate (chain)...
  --tls-key FILE             ...and this PEM private key
  --tls-client-ca FILE       require client certificates signed by this CA (mTLS)
  --token-file FILE          require bearer tokens: lines "TOKEN ROLE", ROLE subscribe|admin,
                             mode 0600. Without it there is no authentication: keep --listen
                             on loopback.
  --check-config             validate the settings (and the TLS and token files), print a
                             summary and exit 0, or print the problem and exit 1
  --help                     this text
)";
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
      if (options.config.log_format == "json") options.log_format = logging::Format::kJson;
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
    if (flag == "--check-config") {
      options.check_config = true;
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
    } else if (flag == "--log-format") {
      SLUICE_ASSIGN_OR_RETURN(options.log_format, logging::ParseFormat(value));
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
    } else if (flag == "--tls-cert") {
      options.config.tls.cert_file = value;
    } else if (flag == "--tls-key") {
      options.config.tls.key_file = value;
    } else if (flag == "--tls-client-ca") {
      options.config.tls.client_ca_file = value;
    } else if (flag == "--token-file") {
      options.config.token_file = value;
    } else if (flag == "--retention-interval") {
      SLUICE_ASSIGN_OR_RETURN(int64_t us, ParseDurationMicros(value));
      options.retention_interval_ms = std::max<int64_t>(us / 1000, 1);
    } else {
      return InvalidFlag(flag, "unknown flag");
    }
  }
  if (!have_data_dir) return InvalidFlag("--data-dir", "is required");
  SLUICE_RETURN_IF_ERROR(config::ValidateServerTls(options.config.tls));
  SLUICE_RETURN_IF_ERROR(config::ParseListenAddress(options.config.listen).status());
  if (!options.config.metrics_listen.empty()) {
    SLUICE_RETURN_IF_ERROR(config::ParseListenAddress(options.config.metrics_listen).status());
  }
  return options;
}

absl::Status CheckFiles(const DaemonOptions& options) {
  const config::ServerTls& tls = options.config.tls;
  if (tls.enabled()) {
    SLUICE_RETURN_IF_ERROR(ReadPem(tls.cert_file, "TLS certificate", "CERTIFICATE").status());
    SLUICE_RETURN_IF_ERROR(ReadPem(tls.key_file, "TLS key", "PRIVATE KEY").status());
    if (!tls.client_ca_file.empty()) {
      SLUICE_RETURN_IF_ERROR(ReadPem(tls.client_ca_file, "TLS client CA", "CERTIFICATE").status());
    }
  }
  if (!options.config.token_file.empty()) {
    SLUICE_RETURN_IF_ERROR(config::LoadTokenFile(options.config.token_file).status());
  }
  return absl::OkStatus();
}

std::string DescribeOptions(const DaemonOptions& options) {
  const config::ServerConfig& c = options.config;
  std::string out = absl::StrCat("data dir ", c.data_dir, "\nlisten ", c.listen);
  if (c.tls.enabled()) {
    absl::StrAppend(&out, " (TLS", c.tls.client_ca_file.empty() ? "" : ", client certificates",
                    ")");
  } else {
    absl::StrAppend(&out, " (plaintext)");
  }
  absl::StrAppend(&out, c.token_file.empty() ? ", no authentication"
                                             : absl::StrCat(", tokens from ", c.token_file));
  if (!c.metrics_listen.empty()) absl::StrAppend(&out, "\nmetrics ", c.metrics_listen);
  if (c.snapshot_ingest_rows || c.snapshot_ingest_bytes || c.snapshot_ingest_max_delay_ms) {
    const storage::ChangeLogOptions defaults;
    absl::StrAppend(
        &out, "\nsnapshot ingestion: ", c.snapshot_ingest_rows.value_or(defaults.ingest_rows),
        " rows, ", c.snapshot_ingest_bytes.value_or(defaults.ingest_bytes), " bytes, ",
        c.snapshot_ingest_max_delay_ms.value_or(defaults.ingest_max_delay_ms), " ms");
  }
  absl::StrAppend(&out, "\n", c.sources.size(), " source(s)");
  for (const auto& s : c.sources) absl::StrAppend(&out, "\n  ", s.name, "  ", s.url_redacted);
  return out;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(DaemonOptions options) {
  SLUICE_ASSIGN_OR_RETURN(auto listen, config::ParseListenAddress(options.config.listen));
  SLUICE_RETURN_IF_ERROR(CheckListenAddress(listen.first, listen.second, options.config.listen));

  const config::ServerTls& tls = options.config.tls;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls.enabled()) {
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    SLUICE_ASSIGN_OR_RETURN(pair.cert_chain,
                            ReadPem(tls.cert_file, "TLS certificate", "CERTIFICATE"));
    SLUICE_ASSIGN_OR_RETURN(pair.private_key, ReadPem(tls.key_file, "TLS key", "PRIVATE KEY"));
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    if (!tls.client_ca_file.empty()) {
      SLUICE_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                              ReadPem(tls.client_ca_file, "TLS client CA", "CERTIFICATE"));
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  }
  std::unique_ptr<service::Authorizer> authorizer;
  if (!options.config.token_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto tokens, config::LoadTokenFile(options.config.token_file));
    authorizer = std::make_unique<service::Authorizer>(std::move(tokens));
  } else if (!IsLoopback(listen.first)) {
    logging::Warn("", absl::StrCat("listening on ", options.config.listen,
                                   " without --token-file: anyone who can reach it can read "
                                   "every change and control the sources; add --token-file or "
                                   "listen on 127.0.0.1"));
  }

  std::unique_ptr<Daemon> d(new Daemon(std::move(options)));
  d->authorizer_ = std::move(authorizer);
  SLUICE_ASSIGN_OR_RETURN(d->metrics_, DaemonMetrics::Create());
  storage::ChangeLogOptions log_options;
  log_options.observer = d->metrics_.get();
  const config::ServerConfig& c = d->options_.config;
  if (c.snapshot_ingest_rows) log_options.ingest_rows = *c.snapshot_ingest_rows;
  if (c.snapshot_ingest_bytes) log_options.ingest_bytes = *c.snapshot_ingest_bytes;
  if (c.snapshot_ingest_max_delay_ms) {
    log_options.ingest_max_delay_ms = *c.snapshot_ingest_max_delay_ms;
  }
  SLUICE_ASSIGN_OR_RETURN(d->log_,
                          storage::ChangeLog::Open(d->options_.config.data_dir, log_options));
  d->registry_ = std::make_unique<pipeline::SourceRegistry>(d->metrics_->RegistryHooks(*d->log_));
  d->sources_ = std::make_unique<SourceSupervisor>(*d->log_, *d->registry_, d->options_.retention,
                                                   [raw = d.get()] { raw->KickRetention(); });
  for (const auto& source : d->options_.config.sources) {
    SLUICE_RETURN_IF_ERROR(d->sources_->Add(source));
  }
  service::SubscribeOptions subscribe;
  subscribe.authorizer = d->authorizer_.get();
  subscribe.stats = d->metrics_->subscriber_stats();
  d->stream_service_ = std::make_unique<service::ChangeStreamService>(*d->log_, subscribe);
  d->admin_service_ = std::make_unique<service::AdminService>(
      *d->log_, *d->registry_, d->sources_.get(), d->authorizer_.get());

  SLUICE_ASSIGN_OR_RETURN(d->subscriptions_, storage::SubscriptionStore::Open(*d->log_));
  d->admin_service_->set_subscriptions(d->subscriptions_.get());
  service::ConsumeOptions consume;
  consume.stats = d->metrics_->subscriber_stats();
  consume.authorizer = d->authorizer_.get();
  d->subscriptions_service_ =
      std::make_unique<service::SubscriptionsService>(*d->log_, *d->subscriptions_, consume);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(d->options_.config.listen, credentials, &d->port_);
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
  SLUICE_RETURN_IF_ERROR(d->metrics_->Attach(*d->log_, *d->registry_));
  if (!d->options_.config.metrics_listen.empty()) {
    SLUICE_RETURN_IF_ERROR(d->metrics_->Serve(d->options_.config.metrics_listen));
  }
  d->retention_thread_ = std::thread([raw = d.get()] { raw->RetentionLoop(); });
  d->sources_->StartAll();
  return d;
}

void Daemon::KickRetention() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    retention_kicked_ = true;
  }
  cv_.notify_all();
}

void Daemon::RetentionLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    retention_kicked_ = false;
    lock.unlock();
    for (const auto& s : log_->Sources()) {
      const storage::RetentionPolicy policy = sources_->RetentionFor(s.name);
      if (policy.max_age_micros == 0 && policy.max_bytes == 0) continue;
      auto r = subscriptions_->ApplyRetention(s.id, policy, options_.retention_force);
      if (!r.ok()) {
        logging::Error(s.name, "retention failed",
                       {{"code", absl::StatusCodeToString(r.status().code())},
                        {"error", std::string(r.status().message())}});
      }
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(options_.retention_interval_ms),
                 [&] { return stopping_ || retention_kicked_; });
  }
}

void Daemon::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (metrics_) metrics_->Shutdown();  // its scrapes read the log and the registry
  // Phase 1: streams end with a status naming where to resume; the server stops accepting and
  // waits (briefly) for the unary calls in flight.
  if (stream_service_) stream_service_->CloseAll();
  // Consumers of durable subscriptions are told to reconnect (they resume after their acks).
  if (subscriptions_service_) subscriptions_service_->CloseAll();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(3));
  // Phase 2: sources stop reading, finish their queued appends and acknowledge the source up to
  // them; then the log closes.
  if (sources_) sources_->StopAll();
  if (retention_thread_.joinable()) retention_thread_.join();
  server_.reset();
  admin_service_.reset();
  stream_service_.reset();
  subscriptions_service_.reset();
  sources_.reset();
  subscriptions_.reset();
  log_.reset();
}

int Daemon::metrics_port() const { return metrics_ ? metrics_->port() : 0; }

Daemon::~Daemon() { Shutdown(); }

}  // namespace sluice::daemon
