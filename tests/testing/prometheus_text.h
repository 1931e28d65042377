#pragma once
// A strict parser of the Prometheus text exposition format (0.0.4), for tests that read
// sluiced's /metrics. Written from the format's specification, independent of the renderer in
// server/metrics, so a test that parses a scrape checks the renderer too.
//
// Strict: every line is "# HELP name text", "# TYPE name counter|gauge|histogram|summary|untyped",
// another "# " comment, or a sample `name{label="value",...} value [timestamp]`; no blank lines.
// A family's TYPE comes before its samples and at most once, its samples are contiguous, no series
// repeats, and a histogram's buckets are cumulative, end with le="+Inf" and equal its _count.
//
// Errors: InvalidArgument naming the line number, the line and what was expected.
// Thread-safety: pure.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::testing {

struct PromSeries {
  std::string name;                           // as written, e.g. foo_bucket
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PromFamily {
  std::string type;  // "untyped" when no TYPE line
  std::string help;
};

struct PromScrape {
  std::map<std::string, PromFamily> families;
  std::vector<PromSeries> series;

  // The value of the series `name` whose labels include every pair of `labels`; nullopt when no
  // series matches (the first match otherwise).
  std::optional<double> Find(std::string_view name,
                             const std::map<std::string, std::string>& labels = {}) const;
  // The sum over every series `name` whose labels include `labels` (0 when none).
  double Sum(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  size_t Count(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
};

absl::StatusOr<PromScrape> ParsePrometheusText(std::string_view text);

}  // namespace sluice::testing
