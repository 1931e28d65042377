#pragma once
// The Prometheus text exposition format, version 0.0.4: a pure rendering of metric families as
// scraped by Prometheus from /metrics.
//
//   # HELP sluice_events_ingested_total Events stored in the change log.
//   # TYPE sluice_events_ingested_total counter
//   sluice_events_ingested_total{source="shop",table="shop.orders"} 42
//
// Histograms render as NAME_bucket{...,le="B"} (cumulative, ending with le="+Inf"), NAME_sum and
// NAME_count. Label values escape \ " and newline; HELP text escapes \ and newline. Values are
// integers when integral, otherwise the shortest round-trip decimal; +Inf, -Inf, NaN as spelled.
//
// Errors: ValidateMetricName / ValidateLabelName return InvalidArgument naming the bad name and
// the allowed alphabet. Rendering never fails. Thread-safety: pure functions, thread-compatible.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace sluice::metrics {

inline constexpr char kTextContentType[] = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };

struct Sample {
  std::vector<std::string> label_values;  // one per FamilySnapshot::label_names
  double value = 0;                       // counters and gauges
  // Histograms: count of observations <= bounds[i] (cumulative), the total count and the sum.
  std::vector<uint64_t> cumulative_counts;
  uint64_t count = 0;
  double sum = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms: finite upper bounds, ascending
  std::vector<Sample> samples;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
absl::Status ValidateMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved) and not "le" (histogram buckets).
absl::Status ValidateLabelName(std::string_view name);

// "1", "0.005", "2.5e+06", "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);
// Appends `value` with \ -> \\, " -> \", newline -> \n.
void AppendEscapedLabelValue(std::string_view value, std::string& out);

// Renders every family, in the given order; a family without samples renders only HELP/TYPE.
std::string RenderText(std::span<const FamilySnapshot> families);

}  // namespace sluice::metrics
