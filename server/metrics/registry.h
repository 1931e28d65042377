#pragma once
// Registry: sluiced's metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text format (exposition.h).
//
// Hot paths hold handles. A family hands out one Counter / Gauge / Histogram per set of label
// values (`Labels`, a map lookup under a lock: do it once and keep the reference); updating
// through the handle is a relaxed atomic add on a per-thread shard, a few nanoseconds, with no
// lookup and no lock. Handles live as long as the registry.
//
// Values computed at scrape time (lag, sizes, subscriber lists) are collector families: a
// callback that fills the samples when /metrics is read.
//
// Errors: Add* return InvalidArgument for a bad metric or label name (exposition.h) and
// AlreadyExists for a second family of one name. Thread-safety: every method may be called from
// any thread; collectors run on the thread that calls Snapshot/RenderText and must not call back
// into the registry.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/metrics/exposition.h"

namespace sluice::metrics {

namespace internal {
inline constexpr size_t kShards = 8;
// This thread's shard; threads are spread round-robin over the shards.
size_t ShardIndex();
}  // namespace internal

// Monotonic count. Inc is wait-free and contention-free across up to kShards threads.
class Counter {
 public:
  void Inc(uint64_t n = 1) {
    shards_[internal::ShardIndex()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Value() const;

 private:
  struct alignas(64) Shard {
    std::atomic<uint64_t> value{0};
  };
  std::array<Shard, internal::kShards> shards_;
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets (upper bounds, ascending), with their sum.
class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void Observe(double v);
  // Cumulative counts per bound, total count and sum (a consistent count; the sum may lag it by
  // observations in flight).
  void Read(std::vector<uint64_t>& cumulative, uint64_t& count, double& sum) const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, the last is +Inf
  std::atomic<double> sum_{0};
};

// All children of one metric name, one per set of label values.
template <typename T>
class Family {
 public:
  // The child for `values` (one per label name: missing values are "", extra ones are ignored),
  // created on first use. The reference stays valid for the registry's lifetime.
  T& Labels(std::vector<std::string> values);

 private:
  friend class Registry;
  Family(size_t label_count, std::vector<double> bounds)
      : label_count_(label_count), bounds_(std::move(bounds)) {}
  T* Make();

  const size_t label_count_;
  const std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;  // guarded by mu_
};

// Fills samples for a collector family: label values (one per label name) and the value.
using CollectFn = std::function<void(std::vector<Sample>& samples)>;

class Registry {
 public:
  absl::StatusOr<Family<Counter>*> AddCounter(std::string name, std::string help,
                                              std::vector<std::string> label_names);
  absl::StatusOr<Family<Gauge>*> AddGauge(std::string name, std::string help,
                                          std::vector<std::string> label_names);
  // `bounds` must be finite and strictly ascending (InvalidArgument otherwise).
  absl::StatusOr<Family<Histogram>*> AddHistogram(std::string name, std::string help,
                                                  std::vector<std::string> label_names,
                                                  std::vector<double> bounds);
  // A counter or gauge family whose samples `collect` computes at scrape time.
  absl::Status AddCollector(std::string name, std::string help, MetricType type,
                            std::vector<std::string> label_names, CollectFn collect);

  // Every family, in registration order, children sorted by label values.
  std::vector<FamilySnapshot> Snapshot() const;
  std::string RenderText() const;

 private:
  struct Entry {
    FamilySnapshot meta;  // name, help, type, label names, bounds; no samples
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
    CollectFn collect;
  };
  absl::Status Check(const std::string& name, const std::vector<std::string>& label_names) const;
  absl::Status Insert(Entry entry);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;  // guarded by mu_; never shrinks
};

template <typename T>
T& Family<T>::Labels(std::vector<std::string> values) {
  values.resize(label_count_);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = children_[std::move(values)];
  if (slot == nullptr) slot.reset(Make());
  return *slot;
}

}  // namespace sluice::metrics
