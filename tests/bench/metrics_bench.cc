// metrics_bench: what counting costs on the ingest path. Counter::Inc through a handle (one
// thread and contended), Histogram::Observe, and DaemonMetrics::OnDurable for a group commit of
// 100 single-event transactions (what the change log's writer thread calls per group).
#include <benchmark/benchmark.h>

#include "server/daemon/daemon_metrics.h"
#include "server/metrics/registry.h"

namespace sluice {
namespace {

metrics::Counter& TheCounter() {
  static metrics::Registry* registry = new metrics::Registry();
  static metrics::Counter* counter =
      &(*registry->AddCounter("bench_total", "bench", {"source"}))->Labels({"shop"});
  return *counter;
}

void BM_CounterInc(benchmark::State& state) {
  metrics::Counter& c = TheCounter();
  for (auto _ : state) c.Inc();
  benchmark::DoNotOptimize(c.Value());
}
BENCHMARK(BM_CounterInc)->ThreadRange(1, 4);

void BM_HistogramObserve(benchmark::State& state) {
  metrics::Registry registry;
  auto family = registry.AddHistogram("bench_seconds", "bench", {},
                                      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1});
  metrics::Histogram& h = (*family)->Labels({});
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v > 0.2 ? 0.0001 : v * 1.5;
  }
}
BENCHMARK(BM_HistogramObserve);

// Per event: a group of 100 one-event transactions over 4 tables.
void BM_OnDurablePerEvent(benchmark::State& state) {
  auto m = daemon::DaemonMetrics::Create();
  std::vector<storage::TableEvents> tables[4] = {
      {{"shop.orders", 1}}, {{"shop.items", 1}}, {{"shop.users", 1}}, {{"shop.stock", 1}}};
  std::vector<storage::DurableAppend> group(100);
  for (size_t i = 0; i < group.size(); ++i) {
    group[i] = {storage::SourceId(1), "shop", 1, 200, 1'700'000'000'000'000, 900, tables[i % 4]};
  }
  for (auto _ : state) (*m)->OnDurable(group);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(group.size()));
}
BENCHMARK(BM_OnDurablePerEvent);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
