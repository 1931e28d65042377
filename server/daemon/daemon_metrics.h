#pragma once
// DaemonMetrics: what sluiced measures and serves on --metrics-listen (/metrics, /healthz,
// /readyz). The metric names and meanings are listed in docs/metrics.md.
//
// Ingestion is counted as the change log reports durable appends (it is the log's
// AppendObserver: pass it in ChangeLogOptions::observer); source errors through the registry's
// on_error hook; everything else (lag, stored bytes, source state, snapshot progress) is read
// from the log and the registry when /metrics is scraped; served events and subscriber lag from
// the SubscriberStats the gRPC services fill.
//
// Lifecycle: Create, give it to the log, Attach the log and registry, Serve; Shutdown (stops the
// HTTP server) before the log and the registry are destroyed; destroy after the log.
// Errors: Serve returns FailedPrecondition naming the address when it cannot listen.
// Thread-safety: OnDurable runs on the log's writer thread, or on its ingesting thread for a
// snapshot ingestion; the two never overlap (storage/append_observer.h), so handles_ needs no
// lock. The rest runs from any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "server/metrics/http_server.h"
#include "server/metrics/registry.h"
#include "server/pipeline/source_registry.h"
#include "server/service/subscriber_stats.h"
#include "storage/change_log.h"

namespace sluice::daemon {

class DaemonMetrics final : public storage::AppendObserver {
 public:
  static absl::StatusOr<std::unique_ptr<DaemonMetrics>> Create();
  ~DaemonMetrics() override;

  void OnDurable(std::span<const storage::DurableAppend> appends) override;

  // Hooks for the SourceRegistry: log lines carry the source's stored position, errors are
  // counted by status code.
  pipeline::RegistryHooks RegistryHooks(const storage::ChangeLog& log);
  // Registers the scrape-time metrics of `log` and `registry` (both must outlive Shutdown).
  absl::Status Attach(const storage::ChangeLog& log, const pipeline::SourceRegistry& registry);
  // What subscriber streams are sent: give it to the services (SubscribeOptions::stats,
  // ConsumeOptions::stats); Attach exports it.
  service::SubscriberStats* subscriber_stats() { return &subscribers_; }
  // Serves /metrics, /healthz and /readyz on `listen` ("HOST:PORT"; port 0 picks one).
  absl::Status Serve(const std::string& listen);
  int port() const { return http_ ? http_->port() : 0; }
  void Shutdown();

  metrics::Registry& registry() { return registry_; }

 private:
  DaemonMetrics() = default;
  absl::Status Register();

  // Handles of one source, used only by OnDurable.
  struct SourceHandles {
    metrics::Counter* transactions = nullptr;
    metrics::Counter* bytes = nullptr;
    metrics::Histogram* latency = nullptr;
    std::unordered_map<std::string, metrics::Counter*> tables;
  };
  SourceHandles& Handles(const storage::DurableAppend& a);

  metrics::Registry registry_;
  metrics::Family<metrics::Counter>* events_ = nullptr;
  metrics::Family<metrics::Counter>* transactions_ = nullptr;
  metrics::Family<metrics::Counter>* bytes_ = nullptr;
  metrics::Family<metrics::Histogram>* latency_ = nullptr;
  metrics::Family<metrics::Counter>* errors_ = nullptr;
  std::unordered_map<uint32_t, SourceHandles> handles_;  // OnDurable only

  mutable std::mutex mu_;
  std::map<std::string, int64_t> last_commit_micros_;  // guarded by mu_; per source

  service::SubscriberStats subscribers_;
  const pipeline::SourceRegistry* source_registry_ = nullptr;
  std::unique_ptr<metrics::HttpServer> http_;
};

}  // namespace sluice::daemon
