// sluice_bench: prints throughput and latency figures for the change log and gRPC serving,
// next to RocksDB's own sequential write/read rates measured in the same run as the reference.
// Not a test: it asserts nothing about speed. Usage: sluice_bench [--events N] [--dir DIR]
#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/service/change_stream_service.h"
#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Percentiles {
  double p50, p99, max;
};
Percentiles Summarize(std::vector<double>& us) {
  if (us.empty()) return {0, 0, 0};
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)], us.back()};
}

std::string FreshDir(const std::string& base, const std::string& name) {
  std::string d = base + "/" + name;
  std::filesystem::remove_all(d);
  return d;
}

void RocksReference(const std::string& base, uint64_t n) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, FreshDir(base, "rocks"), &raw);
  if (!s.ok()) {
    std::printf("rocksdb reference failed: %s\n", s.ToString().c_str());
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(200, 'v');
  for (bool sync : {false, true}) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    auto t0 = Clock::now();
    uint64_t key_base = sync ? n : 0;
    for (uint64_t i = 0; i < n; i += 100) {
      rocksdb::WriteBatch batch;
      for (uint64_t k = i; k < i + 100; ++k) {
        char key[8];
        uint64_t v = key_base + k;
        for (int b = 7; b >= 0; --b, v >>= 8) key[b] = static_cast<char>(v & 0xff);
        batch.Put(rocksdb::Slice(key, 8), value);
      }
      db->Write(wo, &batch).PermitUncheckedError();
    }
    double secs = Seconds(t0, Clock::now());
    std::printf("%-58s %12.0f events/s\n",
                sync ? "rocksdb reference: sequential write, 100/batch, sync each"
                     : "rocksdb reference: sequential write, 100/batch, no sync",
                n / secs);
  }
  auto t0 = Clock::now();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  double secs = Seconds(t0, Clock::now());
  std::printf("%-58s %12.0f events/s\n", "rocksdb reference: sequential read (iterator)",
              count / secs);
}

void AppendBench(const std::string& base, uint64_t n, int txn_size) {
  auto log = *storage::ChangeLog::Open(FreshDir(base, "append" + std::to_string(txn_size)));
  auto source = *log->RegisterSource("bench", v1::SOURCE_KIND_MYSQL);
  std::vector<double> latency_us;
  latency_us.reserve(n / txn_size);
  std::mutex mu;
  std::condition_variable cv;
  uint64_t acked = 0;
  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; i += txn_size) {
    std::vector<v1::ChangeEvent> txn;
    txn.reserve(txn_size);
    for (int k = 0; k < txn_size; ++k)
      txn.push_back(storage::testing::MakeOrderEvent(
          i + k, 1'700'000'000'000'000 + static_cast<int64_t>(i + k)));
    v1::SourceCheckpoint cp;
    cp.set_position_text(std::to_string(i));
    auto submitted = Clock::now();
    log->AppendAsync(source, std::move(txn), std::move(cp),
                     [&, submitted](absl::StatusOr<LogOffset> r) {
                       double us = Seconds(submitted, Clock::now()) * 1e6;
                       std::lock_guard<std::mutex> lock(mu);
                       latency_us.push_back(us);
                       if (r.ok()) acked = r->value();
                       cv.notify_all();
                     });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return acked >= n; });
  }
  double secs = Seconds(t0, Clock::now());
  auto p = Summarize(latency_us);
  char label[96];
  std::snprintf(label, sizeof label, "sluice append: 200-byte events, %d-event transactions",
                txn_size);
  std::printf(
      "%-58s %12.0f events/s   (%.0f txn/s; ack latency p50 %.0f us, p99 %.0f us, "
      "max %.0f us)\n",
      label, n / secs, n / secs / txn_size, p.p50, p.p99, p.max);
}

// One transaction at a time, each waiting for its own sync: the latency a lone source sees.
void SerialAppendBench(const std::string& base, int txns) {
  auto log = *storage::ChangeLog::Open(FreshDir(base, "serial"));
  auto source = *log->RegisterSource("bench", v1::SOURCE_KIND_MYSQL);
  std::vector<double> latency_us;
  auto t0 = Clock::now();
  for (int i = 0; i < txns; ++i) {
    auto start = Clock::now();
    (void)log->Append(source, {storage::testing::MakeOrderEvent(i)}, v1::SourceCheckpoint());
    latency_us.push_back(Seconds(start, Clock::now()) * 1e6);
  }
  double secs = Seconds(t0, Clock::now());
  auto p = Summarize(latency_us);
  std::printf("%-58s %12.0f events/s   (append latency p50 %.0f us, p99 %.0f us, max %.0f us)\n",
              "sluice append: 1-event transactions, one at a time", txns / secs, p.p50, p.p99,
              p.max);
}

void CatchUpBench(const std::string& base, uint64_t n, uint32_t batch_events) {
  auto log = *storage::ChangeLog::Open(FreshDir(base, "catchup"));
  auto source = *log->RegisterSource("bench", v1::SOURCE_KIND_MYSQL);
  for (uint64_t i = 0; i < n; i += 1000) {
    std::vector<v1::ChangeEvent> txn;
    for (uint64_t k = i; k < std::min(n, i + 1000); ++k)
      txn.push_back(storage::testing::MakeOrderEvent(k));
    log->AppendAsync(source, std::move(txn), v1::SourceCheckpoint(), [](auto) {});
  }
  (void)log->Append(source, {}, v1::SourceCheckpoint());  // waits for everything before it
  service::ChangeStreamService service(*log);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::ChangeStream::NewStub(channel);
  for (int round = 0; round < 2; ++round) {  // round 0 warms the block cache and the channel
    grpc::ClientContext ctx;
    v1::SubscribeRequest req;
    req.set_source("bench");
    req.mutable_start()->mutable_earliest();
    req.set_max_batch_events(batch_events);
    auto t0 = Clock::now();
    auto reader = stub->Subscribe(&ctx, req);
    v1::SubscribeResponse resp;
    uint64_t got = 0;
    while (got < n && reader->Read(&resp)) got += resp.events_size();
    double secs = Seconds(t0, Clock::now());
    ctx.TryCancel();
    reader->Finish().ok();
    if (round == 1) {
      char label[96];
      std::snprintf(label, sizeof label, "sluice gRPC catch-up: 1 subscriber, %u-event batches",
                    batch_events);
      std::printf("%-58s %12.0f events/s   (%llu events, %.2f s, parsed by the client)\n", label,
                  got / secs, static_cast<unsigned long long>(got), secs);
    }
  }
  server->Shutdown();
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  uint64_t n = 1'000'000;
  std::string dir = std::filesystem::temp_directory_path() / "sluice-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--events") n = std::stoull(argv[i + 1]);
    if (a == "--dir") dir = argv[i + 1];
  }
  std::filesystem::create_directories(dir);
  std::printf("sluice_bench: %llu events per run, data in %s, %u hardware threads\n",
              static_cast<unsigned long long>(n), dir.c_str(), std::thread::hardware_concurrency());
  sluice::RocksReference(dir, n);
  sluice::SerialAppendBench(dir, 2000);
  sluice::AppendBench(dir, n / 10, 1);
  sluice::AppendBench(dir, n, 100);
  sluice::CatchUpBench(dir, n, 1024);
  sluice::CatchUpBench(dir, n, 4096);
  std::filesystem::remove_all(dir);
  return 0;
}
