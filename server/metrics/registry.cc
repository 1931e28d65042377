#include "server/metrics/registry.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"

namespace sluice::metrics {

namespace internal {
size_t ShardIndex() {
  static std::atomic<size_t> next{0};
  thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return index;
}
}  // namespace internal

uint64_t Counter::Value() const {
  uint64_t total = 0;
  for (const Shard& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

void Gauge::Add(double delta) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Read(std::vector<uint64_t>& cumulative, uint64_t& count, double& sum) const {
  cumulative.assign(bounds_.size(), 0);
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  count = running + buckets_[bounds_.size()].load(std::memory_order_relaxed);
  sum = sum_.load(std::memory_order_relaxed);
}

template <>
Counter* Family<Counter>::Make() {
  return new Counter();
}
template <>
Gauge* Family<Gauge>::Make() {
  return new Gauge();
}
template <>
Histogram* Family<Histogram>::Make() {
  return new Histogram(bounds_);
}

absl::Status Registry::Check(const std::string& name,
                             const std::vector<std::string>& label_names) const {
  SLUICE_RETURN_IF_ERROR(ValidateMetricName(name));
  for (const auto& l : label_names) {
    absl::Status s = ValidateLabelName(l);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status Registry::Insert(Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : entries_) {
    if (e->meta.name == entry.meta.name) {
      return absl::AlreadyExistsError(
          absl::StrCat("metric \"", entry.meta.name, "\" is registered twice"));
    }
  }
  entries_.push_back(std::make_unique<Entry>(std::move(entry)));
  return absl::OkStatus();
}

absl::StatusOr<Family<Counter>*> Registry::AddCounter(std::string name, std::string help,
                                                      std::vector<std::string> label_names) {
  SLUICE_RETURN_IF_ERROR(Check(name, label_names));
  Entry e;
  e.counters.reset(new Family<Counter>(label_names.size(), {}));
  Family<Counter>* out = e.counters.get();
  e.meta = {std::move(name), std::move(help), MetricType::kCounter, std::move(label_names), {}, {}};
  SLUICE_RETURN_IF_ERROR(Insert(std::move(e)));
  return out;
}

absl::StatusOr<Family<Gauge>*> Registry::AddGauge(std::string name, std::string help,
                                                  std::vector<std::string> label_names) {
  SLUICE_RETURN_IF_ERROR(Check(name, label_names));
  Entry e;
  e.gauges.reset(new Family<Gauge>(label_names.size(), {}));
  Family<Gauge>* out = e.gauges.get();
  e.meta = {std::move(name), std::move(help), MetricType::kGauge, std::move(label_names), {}, {}};
  SLUICE_RETURN_IF_ERROR(Insert(std::move(e)));
  return out;
}

absl::StatusOr<Family<Histogram>*> Registry::AddHistogram(std::string name, std::string help,
                                                          std::vector<std::string> label_names,
                                                          std::vector<double> bounds) {
  SLUICE_RETURN_IF_ERROR(Check(name, label_names));
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": histogram bounds must be finite and strictly ascending (bound ", i, ")"));
    }
  }
  Entry e;
  e.histograms.reset(new Family<Histogram>(label_names.size(), bounds));
  Family<Histogram>* out = e.histograms.get();
  e.meta = {std::move(name),        std::move(help),   MetricType::kHistogram,
            std::move(label_names), std::move(bounds), {}};
  SLUICE_RETURN_IF_ERROR(Insert(std::move(e)));
  return out;
}

absl::Status Registry::AddCollector(std::string name, std::string help, MetricType type,
                                    std::vector<std::string> label_names, CollectFn collect) {
  SLUICE_RETURN_IF_ERROR(Check(name, label_names));
  if (type == MetricType::kHistogram) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": collector families are counters or gauges"));
  }
  Entry e;
  e.meta = {std::move(name), std::move(help), type, std::move(label_names), {}, {}};
  e.collect = std::move(collect);
  return Insert(std::move(e));
}

std::vector<FamilySnapshot> Registry::Snapshot() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : entries_) entries.push_back(e.get());
  }
  std::vector<FamilySnapshot> out;
  out.reserve(entries.size());
  for (const Entry* e : entries) {
    FamilySnapshot f = e->meta;
    if (e->counters) {
      std::lock_guard<std::mutex> lock(e->counters->mu_);
      for (const auto& [labels, c] : e->counters->children_) {
        f.samples.push_back({labels, static_cast<double>(c->Value()), {}, 0, 0});
      }
    } else if (e->gauges) {
      std::lock_guard<std::mutex> lock(e->gauges->mu_);
      for (const auto& [labels, g] : e->gauges->children_) {
        f.samples.push_back({labels, g->Value(), {}, 0, 0});
      }
    } else if (e->histograms) {
      std::lock_guard<std::mutex> lock(e->histograms->mu_);
      for (const auto& [labels, h] : e->histograms->children_) {
        Sample s;
        s.label_values = labels;
        h->Read(s.cumulative_counts, s.count, s.sum);
        f.samples.push_back(std::move(s));
      }
    } else if (e->collect) {
      e->collect(f.samples);
      for (Sample& s : f.samples) s.label_values.resize(f.label_names.size());
      std::sort(f.samples.begin(), f.samples.end(),
                [](const Sample& a, const Sample& b) { return a.label_values < b.label_values; });
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string Registry::RenderText() const {
  std::vector<FamilySnapshot> families = Snapshot();
  return metrics::RenderText(families);
}

}  // namespace sluice::metrics
