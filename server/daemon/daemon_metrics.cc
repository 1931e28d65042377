#include "server/daemon/daemon_metrics.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "server/config/listen_address.h"
#include "server/daemon/health.h"

namespace sluice::daemon {
namespace {

using metrics::MetricType;
using metrics::Sample;

Sample Value(std::vector<std::string> labels, double value) {
  Sample s;
  s.label_values = std::move(labels);
  s.value = value;
  return s;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Enqueue-to-durable latency buckets, in seconds: a group commit syncs the WAL once (about a
// millisecond on SSDs) and a full queue pushes back for longer.
const std::vector<double>& LatencyBounds() {
  static const std::vector<double> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBounds;
}

constexpr v1::SourceState kStates[] = {v1::SOURCE_STATE_CONNECTING, v1::SOURCE_STATE_SNAPSHOTTING,
                                       v1::SOURCE_STATE_STREAMING,  v1::SOURCE_STATE_PAUSED,
                                       v1::SOURCE_STATE_ERROR,      v1::SOURCE_STATE_STOPPED};

}  // namespace

absl::StatusOr<std::unique_ptr<DaemonMetrics>> DaemonMetrics::Create() {
  std::unique_ptr<DaemonMetrics> m(new DaemonMetrics());
  SLUICE_RETURN_IF_ERROR(m->Register());
  return m;
}

DaemonMetrics::~DaemonMetrics() { Shutdown(); }

absl::Status DaemonMetrics::Register() {
  SLUICE_ASSIGN_OR_RETURN(
      events_, registry_.AddCounter("sluice_events_ingested_total",
                                    "Change events stored durably in the change log, by source "
                                    "and table.",
                                    {"source", "table"}));
  SLUICE_ASSIGN_OR_RETURN(
      transactions_,
      registry_.AddCounter("sluice_transactions_ingested_total",
                           "Source transactions stored durably in the change log.", {"source"}));
  SLUICE_ASSIGN_OR_RETURN(
      bytes_, registry_.AddCounter("sluice_ingested_bytes_total",
                                   "Bytes of change log records stored, by source.", {"source"}));
  SLUICE_ASSIGN_OR_RETURN(
      latency_, registry_.AddHistogram("sluice_append_latency_seconds",
                                       "Time from handing a transaction to the change log to it "
                                       "being durable (queue wait plus group commit).",
                                       {"source"}, LatencyBounds()));
  SLUICE_ASSIGN_OR_RETURN(
      errors_, registry_.AddCounter("sluice_source_errors_total",
                                    "Source errors (each failed session), by status code.",
                                    {"source", "code"}));
  return registry_.AddCollector(
      "sluice_source_last_commit_timestamp_seconds",
      "Source commit time of the last stored transaction, as a Unix time.", MetricType::kGauge,
      {"source"}, [this](std::vector<Sample>& out) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [source, ts] : last_commit_micros_) {
          out.push_back(Value({source}, static_cast<double>(ts) / 1e6));
        }
      });
}

pipeline::RegistryHooks DaemonMetrics::RegistryHooks(const storage::ChangeLog& log) {
  pipeline::RegistryHooks hooks;
  hooks.position = [&log](const std::string& source) -> std::string {
    auto id = log.FindSource(source);
    if (!id.ok()) return "";
    auto checkpoint = log.Checkpoint(*id);
    return checkpoint.ok() ? checkpoint->position_text() : "";
  };
  hooks.on_error = [this](const std::string& source, const absl::Status& error) {
    errors_->Labels({source, absl::StatusCodeToString(error.code())}).Inc();
  };
  return hooks;
}

DaemonMetrics::SourceHandles& DaemonMetrics::Handles(const storage::DurableAppend& a) {
  auto [it, inserted] = handles_.try_emplace(a.source.value());
  if (inserted) {
    const std::string source(a.source_name);
    it->second.transactions = &transactions_->Labels({source});
    it->second.bytes = &bytes_->Labels({source});
    it->second.latency = &latency_->Labels({source});
  }
  return it->second;
}

void DaemonMetrics::OnDurable(std::span<const storage::DurableAppend> appends) {
  std::map<std::string_view, int64_t> commits;
  for (const storage::DurableAppend& a : appends) {
    SourceHandles& h = Handles(a);
    h.latency->Observe(static_cast<double>(a.latency_micros) / 1e6);
    if (a.events == 0) continue;  // a checkpoint-only append
    h.transactions->Inc();
    h.bytes->Inc(a.bytes);
    for (const storage::TableEvents& t : a.tables) {
      auto it = h.tables.find(t.table);
      if (it == h.tables.end()) {
        it = h.tables.emplace(t.table, &events_->Labels({std::string(a.source_name), t.table}))
                 .first;
      }
      it->second->Inc(t.events);
    }
    if (a.commit_ts_micros > 0) {
      int64_t& ts = commits[a.source_name];
      ts = std::max(ts, a.commit_ts_micros);
    }
  }
  if (commits.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [source, ts] : commits) {
    int64_t& stored = last_commit_micros_[std::string(source)];
    stored = std::max(stored, ts);
  }
}

absl::Status DaemonMetrics::Attach(const storage::ChangeLog& log,
                                   const pipeline::SourceRegistry& registry) {
  source_registry_ = &registry;
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_source_lag_seconds",
      "Seconds between now and the source commit time of the last stored transaction (grows "
      "while the source database is idle).",
      MetricType::kGauge, {"source"}, [this](std::vector<Sample>& out) {
        const int64_t now = NowMicros();
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [source, ts] : last_commit_micros_) {
          out.push_back(Value({source}, static_cast<double>(std::max<int64_t>(now - ts, 0)) / 1e6));
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_source_lag_bytes",
      "Binlog / WAL bytes from the stored position to the source server's head, as the last "
      "head probe measured them (no sample while unknown).",
      MetricType::kGauge, {"source"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          if (s.lag.bytes) out.push_back(Value({s.name}, static_cast<double>(*s.lag.bytes)));
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_source_lag_events",
      "Events behind the source server's head (MySQL: binlog row events after the stored "
      "position; Postgres: received events not yet durable, a lower bound); see docs/metrics.md.",
      MetricType::kGauge, {"source"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          if (s.lag.events) out.push_back(Value({s.name}, static_cast<double>(*s.lag.events)));
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_source_head_probe_ok",
      "1 when the last head probe measured the lag in bytes, 0 when it could not (no position "
      "stored yet, or the probe failed: the log says why).",
      MetricType::kGauge, {"source"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          if (s.lag.probed_ts_micros == 0) continue;
          out.push_back(Value({s.name}, s.lag.bytes ? 1.0 : 0.0));
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_source_state", "1 for the state each source is in, 0 for the others.",
      MetricType::kGauge, {"source", "state"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          for (v1::SourceState state : kStates) {
            out.push_back(
                Value({s.name, pipeline::StateName(state)}, s.state == state ? 1.0 : 0.0));
          }
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_snapshot_rows_total", "Rows copied by the initial snapshot, by source and table.",
      MetricType::kCounter, {"source", "table"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          for (const auto& t : s.snapshot_tables) {
            out.push_back(Value({s.name, t.table()}, static_cast<double>(t.rows_done())));
          }
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_snapshot_rows_estimated",
      "The source's estimate of each snapshotted table's rows (0: unknown).", MetricType::kGauge,
      {"source", "table"}, [&registry](std::vector<Sample>& out) {
        for (const auto& s : registry.Snapshot()) {
          for (const auto& t : s.snapshot_tables) {
            out.push_back(Value({s.name, t.table()}, static_cast<double>(t.rows_estimated())));
          }
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_log_stored_bytes",
      "Bytes of change log records stored in RocksDB (after retention), by source.",
      MetricType::kGauge, {"source"}, [&log](std::vector<Sample>& out) {
        for (const auto& s : log.Sources()) {
          auto b = log.Bounds(s.id);
          if (b.ok()) out.push_back(Value({s.name}, static_cast<double>(b->stored_bytes)));
        }
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_log_events", "Events stored in the change log (after retention), by source.",
      MetricType::kGauge, {"source"}, [&log](std::vector<Sample>& out) {
        for (const auto& s : log.Sources()) {
          auto b = log.Bounds(s.id);
          if (b.ok()) out.push_back(Value({s.name}, static_cast<double>(b->event_count())));
        }
      }));
  SLUICE_RETURN_IF_ERROR(
      registry_.AddCollector("sluice_events_served_total",
                             "Events sent to subscribers (Subscribe and Consume), by source and "
                             "table; a series appears once a table's first event is sent.",
                             MetricType::kCounter, {"source", "table"},
                             [this](std::vector<Sample>& out) {
                               for (const auto& [key, n] : subscribers_.ServedByTable()) {
                                 out.push_back(
                                     Value({key.first, key.second}, static_cast<double>(n)));
                               }
                             }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_subscribers", "Open subscriber streams (Subscribe and Consume), by source.",
      MetricType::kGauge, {"source"}, [this, &log](std::vector<Sample>& out) {
        std::map<std::string, double> open;
        for (const auto& s : log.Sources()) open[s.name] = 0;
        for (const auto& s : subscribers_.Streams()) open[s.source] += 1;
        for (const auto& [source, n] : open) out.push_back(Value({source}, n));
      }));
  SLUICE_RETURN_IF_ERROR(registry_.AddCollector(
      "sluice_subscriber_lag_events",
      "Events stored after the last one sent to each open subscriber stream.", MetricType::kGauge,
      {"source", "subscriber"}, [this, &log](std::vector<Sample>& out) {
        for (const auto& s : subscribers_.Streams()) {
          auto b = log.Bounds(s.source_id);
          if (!b.ok()) continue;
          const uint64_t last = b->last.value();
          const uint64_t lag = last > s.sent_through ? last - s.sent_through : 0;
          out.push_back(Value({s.source, std::to_string(s.id)}, static_cast<double>(lag)));
        }
      }));
  SLUICE_RETURN_IF_ERROR(
      registry_.AddCollector("sluice_rocksdb_live_sst_bytes",
                             "Bytes of RocksDB's live SST files in the data dir (without the WAL).",
                             MetricType::kGauge, {}, [&log](std::vector<Sample>& out) {
                               out.push_back(Value({}, static_cast<double>(log.LiveSstBytes())));
                             }));
  return registry_.AddCollector(
      "sluice_log_last_offset", "The last committed offset of each source's log.",
      MetricType::kGauge, {"source"}, [&log](std::vector<Sample>& out) {
        for (const auto& s : log.Sources()) {
          auto b = log.Bounds(s.id);
          if (b.ok()) out.push_back(Value({s.name}, static_cast<double>(b->last.value())));
        }
      });
}

absl::Status DaemonMetrics::Serve(const std::string& listen) {
  SLUICE_ASSIGN_OR_RETURN(auto address, config::ParseListenAddress(listen));
  std::map<std::string, metrics::HttpHandler> routes;
  routes["/metrics"] = [this] {
    return metrics::HttpResponse{200, metrics::kTextContentType, registry_.RenderText()};
  };
  routes["/healthz"] = [] {
    return metrics::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  };
  routes["/readyz"] = [this] {
    if (source_registry_ == nullptr) return Readiness({});
    return Readiness(source_registry_->Snapshot());
  };
  SLUICE_ASSIGN_OR_RETURN(http_, metrics::HttpServer::Start(address.first, address.second, routes));
  return absl::OkStatus();
}

void DaemonMetrics::Shutdown() {
  if (http_) http_->Shutdown();
}

}  // namespace sluice::daemon
