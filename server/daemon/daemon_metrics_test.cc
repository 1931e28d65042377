// DaemonMetrics over a real change log and registry: what a scrape shows after appends, source
// errors, snapshot progress and subscriber streams.
#include "server/daemon/daemon_metrics.h"

#include <gtest/gtest.h>

#include "storage/test_util.h"
#include "tests/testing/http_client.h"
#include "tests/testing/prometheus_text.h"

namespace sluice::daemon {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::MakeEvent;
using storage::testing::TempDir;

TEST(DaemonMetrics, ScrapeShowsIngestionErrorsSnapshotAndSubscribers) {
  TempDir dir;
  auto metrics = DaemonMetrics::Create();
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  storage::ChangeLogOptions options;
  options.sync = false;
  options.observer = metrics->get();
  auto log = storage::ChangeLog::Open(dir.path(), options);
  ASSERT_TRUE(log.ok()) << log.status();
  pipeline::SourceRegistry registry((*metrics)->RegistryHooks(**log));
  ASSERT_TRUE((*metrics)->Attach(**log, registry).ok());

  auto id = (*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok());
  pipeline::SourceRuntime runtime;
  runtime.name = "shop";
  registry.Upsert(runtime);
  registry.SetState("shop", v1::SOURCE_STATE_SNAPSHOTTING);
  v1::TableSnapshotProgress progress;
  progress.set_table("db.orders");
  progress.set_rows_done(1500);
  progress.set_rows_estimated(2000);
  registry.SetSnapshotProgress("shop", {progress});
  const int64_t commit = 1'700'000'000'000'000;
  ASSERT_TRUE((*log)
                  ->Append(*id, {MakeEvent("orders", 1, commit), MakeEvent("items", 2, commit)},
                           MakeCheckpoint("binlog.000001:100"))
                  .ok());
  ASSERT_TRUE((*log)->Append(*id, {MakeEvent("orders", 3, commit + 1)}, MakeCheckpoint("p")).ok());
  registry.SetError("shop", absl::UnavailableError("lost the server"));
  registry.SetError("shop", absl::UnavailableError("lost the server again"));
  registry.SetError("shop", absl::DataLossError("bad event"));
  auto stream = (*metrics)->subscriber_stats()->Open("shop", *id, LogOffset(1));
  service::SubscriberStats::Count(*stream, "db.orders");
  service::SubscriberStats::Count(*stream, "db.items");
  service::SubscriberStats::Sent(*stream, 2, LogOffset(3));

  auto scrape = testing::ParsePrometheusText((*metrics)->registry().RenderText());
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  const std::map<std::string, std::string> shop = {{"source", "shop"}};
  EXPECT_EQ(*scrape->Find("sluice_events_ingested_total", {{"table", "db.orders"}}), 2);
  EXPECT_EQ(*scrape->Find("sluice_events_ingested_total", {{"table", "db.items"}}), 1);
  EXPECT_EQ(*scrape->Find("sluice_transactions_ingested_total", shop), 2);
  auto bounds = (*log)->Bounds(*id);
  ASSERT_TRUE(bounds.ok());
  EXPECT_EQ(*scrape->Find("sluice_ingested_bytes_total", shop), bounds->stored_bytes);
  EXPECT_EQ(*scrape->Find("sluice_log_stored_bytes", shop), bounds->stored_bytes);
  EXPECT_EQ(*scrape->Find("sluice_append_latency_seconds_count", shop), 2);
  EXPECT_DOUBLE_EQ(*scrape->Find("sluice_source_last_commit_timestamp_seconds", shop),
                   static_cast<double>(commit + 1) / 1e6);
  EXPECT_GT(*scrape->Find("sluice_source_lag_seconds", shop), 0);
  EXPECT_EQ(*scrape->Find("sluice_source_errors_total", {{"code", "UNAVAILABLE"}}), 2);
  EXPECT_EQ(*scrape->Find("sluice_source_errors_total", {{"code", "DATA_LOSS"}}), 1);
  EXPECT_EQ(*scrape->Find("sluice_source_state", {{"state", "error"}}), 1);
  EXPECT_EQ(*scrape->Find("sluice_source_state", {{"state", "snapshotting"}}), 0);
  EXPECT_EQ(*scrape->Find("sluice_snapshot_rows_total", {{"table", "db.orders"}}), 1500);
  EXPECT_EQ(*scrape->Find("sluice_snapshot_rows_estimated", {{"table", "db.orders"}}), 2000);
  EXPECT_EQ(*scrape->Find("sluice_subscribers", shop), 1);
  EXPECT_EQ(*scrape->Find("sluice_subscriber_lag_events", shop), 1) << "sent 2 of 3";
  EXPECT_EQ(scrape->Sum("sluice_events_served_total", shop), 2);
  EXPECT_EQ(*scrape->Find("sluice_events_served_total", {{"source", "shop"}, {"table", "db.orders"}}),
            1);
  EXPECT_EQ(*scrape->Find("sluice_events_served_total", {{"source", "shop"}, {"table", "db.items"}}),
            1);
  EXPECT_EQ(*scrape->Find("sluice_log_last_offset", shop), 3);
  // No head probe yet: no lag in bytes or events, and no probe verdict.
  EXPECT_FALSE(scrape->Find("sluice_source_lag_bytes", shop).has_value());
  EXPECT_FALSE(scrape->Find("sluice_source_lag_events", shop).has_value());
  EXPECT_FALSE(scrape->Find("sluice_source_head_probe_ok", shop).has_value());
  pipeline::SourceLag lag;
  lag.head = "binlog.000002:400";
  lag.bytes = 1234;
  lag.events = 7;
  lag.probed_ts_micros = commit;
  registry.SetLag("shop", lag);
  scrape = testing::ParsePrometheusText((*metrics)->registry().RenderText());
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(*scrape->Find("sluice_source_lag_bytes", shop), 1234);
  EXPECT_EQ(*scrape->Find("sluice_source_lag_events", shop), 7);
  EXPECT_EQ(*scrape->Find("sluice_source_head_probe_ok", shop), 1);
  // A failed probe: unknown lag (no samples) and the verdict 0.
  pipeline::SourceLag failed;
  failed.probed_ts_micros = commit;
  failed.error = "head probe failed: refused";
  registry.SetLag("shop", failed);
  scrape = testing::ParsePrometheusText((*metrics)->registry().RenderText());
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_FALSE(scrape->Find("sluice_source_lag_bytes", shop).has_value());
  EXPECT_FALSE(scrape->Find("sluice_source_lag_events", shop).has_value());
  EXPECT_EQ(*scrape->Find("sluice_source_head_probe_ok", shop), 0);
  stream.reset();
  scrape = testing::ParsePrometheusText((*metrics)->registry().RenderText());
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(*scrape->Find("sluice_subscribers", shop), 0);
  EXPECT_FALSE(scrape->Find("sluice_subscriber_lag_events", shop).has_value());

  // Served over HTTP: /readyz follows the registry.
  ASSERT_TRUE((*metrics)->Serve("127.0.0.1:0").ok());
  ASSERT_NE((*metrics)->port(), 0);
  auto ready = testing::HttpGet(static_cast<uint16_t>((*metrics)->port()), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "not ready\nshop: error: bad event\n");
  registry.SetState("shop", v1::SOURCE_STATE_STREAMING);
  ready = testing::HttpGet(static_cast<uint16_t>((*metrics)->port()), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200);
  (*metrics)->Shutdown();
  log->reset();
}

TEST(DaemonMetrics, ServeNamesABadAddress) {
  auto metrics = DaemonMetrics::Create();
  ASSERT_TRUE(metrics.ok());
  absl::Status st = (*metrics)->Serve("nonsense");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_NE(st.message().find("nonsense"), std::string::npos) << st;
}

}  // namespace
}  // namespace sluice::daemon
