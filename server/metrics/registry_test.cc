#include "server/metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/testing/prometheus_text.h"

namespace sluice::metrics {
namespace {

TEST(Registry, CountersFromManyThreadsAddUp) {
  Registry r;
  auto family = r.AddCounter("events_total", "Events.", {"source"});
  ASSERT_TRUE(family.ok()) << family.status();
  Counter& c = (*family)->Labels({"shop"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 100000; ++i) c.Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 800000u);
  EXPECT_EQ(&(*family)->Labels({"shop"}), &c) << "the same labels give the same handle";
  auto parsed = testing::ParsePrometheusText(r.RenderText());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed->Find("events_total", {{"source", "shop"}}), 800000);
}

TEST(Registry, GaugesHistogramsAndCollectorsRender) {
  Registry r;
  auto g = r.AddGauge("lag_seconds", "Lag.", {"source"});
  auto h = r.AddHistogram("latency_seconds", "Latency.", {}, {0.01, 0.1, 1});
  ASSERT_TRUE(g.ok() && h.ok());
  (*g)->Labels({"b"}).Set(2.5);
  (*g)->Labels({"a"}).Add(1);
  (*g)->Labels({"a"}).Add(-3);
  Histogram& lat = (*h)->Labels({});
  for (double v : {0.001, 0.01, 0.05, 0.5, 5.0}) lat.Observe(v);
  ASSERT_TRUE(r.AddCollector("subscribers", "Subscribers.", MetricType::kGauge, {"source"},
                             [](std::vector<Sample>& out) {
                               out.push_back({{"z"}, 1, {}, 0, 0});
                               out.push_back({{"y"}, 2, {}, 0, 0});
                             })
                  .ok());
  const std::string text = r.RenderText();
  auto parsed = testing::ParsePrometheusText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(*parsed->Find("lag_seconds", {{"source", "a"}}), -2);
  EXPECT_EQ(*parsed->Find("lag_seconds", {{"source", "b"}}), 2.5);
  EXPECT_EQ(*parsed->Find("latency_seconds_bucket", {{"le", "0.01"}}), 2);
  EXPECT_EQ(*parsed->Find("latency_seconds_bucket", {{"le", "0.1"}}), 3);
  EXPECT_EQ(*parsed->Find("latency_seconds_bucket", {{"le", "1"}}), 4);
  EXPECT_EQ(*parsed->Find("latency_seconds_bucket", {{"le", "+Inf"}}), 5);
  EXPECT_EQ(*parsed->Find("latency_seconds_count"), 5);
  EXPECT_NEAR(*parsed->Find("latency_seconds_sum"), 5.561, 1e-9);
  EXPECT_EQ(parsed->families.at("subscribers").type, "gauge");
  // Collector samples are sorted by labels.
  EXPECT_LT(text.find("subscribers{source=\"y\"} 2"), text.find("subscribers{source=\"z\"} 1"));
}

TEST(Registry, RejectsBadNamesDuplicatesAndBounds) {
  Registry r;
  EXPECT_EQ(r.AddCounter("bad-name", "", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.AddCounter("x", "", {"__bad"}).status().message(),
            "x: label name \"__bad\" is reserved by Prometheus; choose another");
  ASSERT_TRUE(r.AddCounter("x", "", {}).ok());
  EXPECT_EQ(r.AddGauge("x", "", {}).status().message(), "metric \"x\" is registered twice");
  EXPECT_EQ(r.AddHistogram("h", "", {}, {1, 1}).status().message(),
            "h: histogram bounds must be finite and strictly ascending (bound 1)");
  EXPECT_FALSE(r.AddCollector("c", "", MetricType::kHistogram, {}, nullptr).ok());
}

}  // namespace
}  // namespace sluice::metrics
