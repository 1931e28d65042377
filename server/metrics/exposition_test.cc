#include "server/metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/testing/prometheus_text.h"

namespace sluice::metrics {
namespace {

TEST(Exposition, CounterWithLabelsAndHelpAndType) {
  FamilySnapshot f;
  f.name = "sluice_events_ingested_total";
  f.help = "Events stored.";
  f.type = MetricType::kCounter;
  f.label_names = {"source", "table"};
  f.samples.push_back({{"shop", "shop.orders"}, 42, {}, 0, 0});
  f.samples.push_back({{"shop", "shop.items"}, 7, {}, 0, 0});
  std::vector<FamilySnapshot> all = {f};
  EXPECT_EQ(RenderText(all),
            "# HELP sluice_events_ingested_total Events stored.\n"
            "# TYPE sluice_events_ingested_total counter\n"
            "sluice_events_ingested_total{source=\"shop\",table=\"shop.orders\"} 42\n"
            "sluice_events_ingested_total{source=\"shop\",table=\"shop.items\"} 7\n");
}

TEST(Exposition, EscapesLabelValuesAndHelp) {
  FamilySnapshot f;
  f.name = "g";
  f.help = "back\\slash\nnewline \"quotes stay\"";
  f.type = MetricType::kGauge;
  f.label_names = {"l"};
  f.samples.push_back({{"a\\b\"c\nd"}, -1.5, {}, 0, 0});
  std::vector<FamilySnapshot> all = {f};
  const std::string text = RenderText(all);
  EXPECT_EQ(text,
            "# HELP g back\\\\slash\\nnewline \"quotes stay\"\n"
            "# TYPE g gauge\n"
            "g{l=\"a\\\\b\\\"c\\nd\"} -1.5\n");
  auto parsed = testing::ParsePrometheusText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->series[0].labels.at("l"), "a\\b\"c\nd");
}

TEST(Exposition, HistogramBucketsSumCountAndInf) {
  FamilySnapshot f;
  f.name = "sluice_append_latency_seconds";
  f.help = "Latency.";
  f.type = MetricType::kHistogram;
  f.label_names = {"source"};
  f.bounds = {0.001, 0.01, 0.1};
  Sample s;
  s.label_values = {"shop"};
  s.cumulative_counts = {1, 3, 3};
  s.count = 4;
  s.sum = 1.25;
  f.samples.push_back(s);
  std::vector<FamilySnapshot> all = {f};
  const std::string text = RenderText(all);
  EXPECT_EQ(text,
            "# HELP sluice_append_latency_seconds Latency.\n"
            "# TYPE sluice_append_latency_seconds histogram\n"
            "sluice_append_latency_seconds_bucket{source=\"shop\",le=\"0.001\"} 1\n"
            "sluice_append_latency_seconds_bucket{source=\"shop\",le=\"0.01\"} 3\n"
            "sluice_append_latency_seconds_bucket{source=\"shop\",le=\"0.1\"} 3\n"
            "sluice_append_latency_seconds_bucket{source=\"shop\",le=\"+Inf\"} 4\n"
            "sluice_append_latency_seconds_sum{source=\"shop\"} 1.25\n"
            "sluice_append_latency_seconds_count{source=\"shop\"} 4\n");
  EXPECT_TRUE(testing::ParsePrometheusText(text).ok());
}

TEST(Exposition, FamilyWithoutLabelsOrSamples) {
  FamilySnapshot a{"up", "Up.", MetricType::kGauge, {}, {}, {{{}, 1, {}, 0, 0}}};
  FamilySnapshot b{"empty_total", "Nothing yet.", MetricType::kCounter, {"x"}, {}, {}};
  std::vector<FamilySnapshot> all = {a, b};
  EXPECT_EQ(RenderText(all),
            "# HELP up Up.\n# TYPE up gauge\nup 1\n"
            "# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n");
}

TEST(Exposition, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(123456789012), "123456789012");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(2.5e20), "2.5e+20");
  EXPECT_EQ(FormatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(FormatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(Exposition, NameValidation) {
  EXPECT_TRUE(ValidateMetricName("sluice_events_total").ok());
  EXPECT_TRUE(ValidateMetricName("a:b_c9").ok());
  EXPECT_EQ(ValidateMetricName("9lives").message(),
            "metric name \"9lives\" is not valid: use [a-zA-Z_:][a-zA-Z0-9_:]*");
  EXPECT_FALSE(ValidateMetricName("").ok());
  EXPECT_FALSE(ValidateMetricName("a-b").ok());
  EXPECT_TRUE(ValidateLabelName("source").ok());
  EXPECT_FALSE(ValidateLabelName("a:b").ok());
  EXPECT_EQ(ValidateLabelName("__name__").message(),
            "label name \"__name__\" is reserved by Prometheus; choose another");
  EXPECT_FALSE(ValidateLabelName("le").ok());
}

// The strict test parser rejects what the format forbids (so the tests that use it can fail).
TEST(PrometheusTextParser, RejectsMalformedLines) {
  for (const char* bad : {
           "x 1",                                 // no trailing newline
           "\n",                                  // blank line
           "x{a=\"1\"  1\n",                      // unclosed labels
           "x{a=1} 1\n",                          // unquoted value
           "x  1\n",                              // two spaces
           "x one\n",                             // not a float
           "x{a=\"\\t\"} 1\n",                    // bad escape
           "x 1\nx 2\n",                          // repeated series
           "x 1\ny 1\nx{a=\"b\"} 1\n",            // not contiguous
           "#HELP x y\n",                         // comment without a space
           "# TYPE x counter\n# TYPE x gauge\n",  // second TYPE
           "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
           "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
       }) {
    EXPECT_FALSE(testing::ParsePrometheusText(bad).ok()) << bad;
  }
  auto ok = testing::ParsePrometheusText(
      "# HELP x X.\n# TYPE x counter\nx{a=\"1\",b=\"2\",} 3 1700000000000\n# a comment\n");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok->Find("x", {{"b", "2"}}), 3);
}

}  // namespace
}  // namespace sluice::metrics
