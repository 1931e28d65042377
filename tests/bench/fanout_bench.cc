// fanout_bench: the scale check of durable and ephemeral subscribers (issue 5). A throwaway
// MariaDB and a real sluiced (the built binary); S concurrent subscriptions through the C++
// client (sluice::client), D of them durable and acking every batch; a writer inserting R rows/s
// for N seconds. Each row carries the writer's wall clock (microseconds, taken just before the
// INSERT is sent) because MariaDB's binlog commit times are whole seconds, so "latency" is from
// the statement that commits the row to the moment a subscriber's Next() returns it.
//
// Reported per phase: latency p50/p99/p99.9/max over every delivered event of the measured
// window (all subscribers), events/s delivered in total, completeness (every subscriber got
// every row), sluiced's RSS (VmHWM, VmRSS) and CPU seconds (utime+stime from /proc/PID/stat),
// the machine's load. The reference phase runs first in the same process with 1 subscriber.
// Not a test: it prints numbers. Usage:
//   fanout_bench [--seconds N] [--rate EVENTS_PER_S] [--subscribers S] [--durable D]
//                [--rows-per-insert K] [--also-rate EVENTS_PER_S] [--client-nice N]
//                [--client view|full|both|push] [--malloc-tuning 0|1] [--deadlock-check 0|1]
//                [--ack-every N]
// --client: how the subscribers read. `full` parses every message into a Batch (ChangeEvent
// messages); `view` reads a BatchView: each event's offset and op from its top-level fields and
// the id and ts_us columns by walking the row's bytes (EventView::After), nothing else. Both
// check every event: offsets contiguous per subscriber and row ids in order. `both` (default)
// runs the view phases, then the full-parse phases, each with its own 1-subscriber reference.
// --malloc-tuning 1 (default) sets glibc malloc to one arena without trimming (TuneMalloc).
// --ack-every N: durable consumers ack after every N messages with events (default 1).
// --deadlock-check 0 turns off abseil's Mutex deadlock detection, which Debian's abseil (built
// without NDEBUG) runs on every lock that gRPC takes; 1 (default) leaves it as a program gets it.
// --also-rate runs the fan-out phase a second time at a lower rate; --client-nice lowers the
// priority of the subscriber threads so that they cannot starve the writer, sluiced and MariaDB
// on a small machine (the clients then queue more).
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "clients/cpp/connection.h"
#include "clients/cpp/batch_view.h"
#include "clients/cpp/consumer.h"
#include "clients/cpp/push_subscription.h"
#include "clients/cpp/subscription.h"
#include "storage/test_util.h"
#include "tests/testing/test_database.h"

extern char** environ;

namespace sluice {
namespace {

using testing::TestDatabase;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Context switches of this process so far (voluntary + involuntary, all threads): each is a
// thread that slept and was woken, or was preempted.
int64_t ContextSwitches() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_nvcsw) + static_cast<int64_t>(u.ru_nivcsw);
}

// CPU seconds of the calling thread.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
    std::exit(1);
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// utime + stime of process `pid` in seconds (/proc/PID/stat fields 14 and 15).
double CpuSeconds(pid_t pid) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream in(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// sluiced as a child process; its stderr goes to a file in its data dir's parent.
class Sluiced {
 public:
  Sluiced(const std::string& binary, const std::string& source_url) {
    log_ = dir_.path() + "/sluiced.log";
    std::vector<std::string> args = {binary,     "--data-dir",  dir_.path() + "/data",
                                     "--listen", "127.0.0.1:0", "--source",
                                     source_url};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
      std::fprintf(stderr, "cannot start %s\n", binary.c_str());
      std::exit(1);
    }
    posix_spawn_file_actions_destroy(&actions);
    const std::regex serving("serving on port ([0-9]+)");
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::smatch m;
      const std::string text = ReadAll(log_);
      if (std::regex_search(text, m, serving)) port_ = std::stoi(m[1]);
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) {
      std::fprintf(stderr, "sluiced did not start:\n%s\n", ReadAll(log_).c_str());
      std::exit(1);
    }
  }
  ~Sluiced() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // VmHWM and VmRSS in MiB.
  std::pair<double, double> Rss() const {
    std::istringstream in(ReadAll("/proc/" + std::to_string(pid_) + "/status"));
    double hwm = 0, rss = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("VmHWM:")) hwm = std::stod(line.substr(6)) / 1024;
      if (line.starts_with("VmRSS:")) rss = std::stod(line.substr(6)) / 1024;
    }
    return {hwm, rss};
  }
  double CpuSeconds() const { return sluice::CpuSeconds(pid_); }

 private:
  storage::testing::TempDir dir_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Latencies in 20 us buckets up to 2 s, then 10 ms buckets up to 2 min (beyond: the last
// bucket), plus the exact maximum.
class Histogram {
 public:
  static constexpr int64_t kFineMicros = 20;
  static constexpr int64_t kFineBuckets = 100'000;  // 2 s
  static constexpr int64_t kCoarseMicros = 10'000;
  static constexpr int64_t kCoarseBuckets = 11'800;  // up to 120 s
  Histogram() : counts_(kFineBuckets + kCoarseBuckets, 0) {}
  void Add(int64_t micros) {
    micros = std::max<int64_t>(micros, 0);
    int64_t b = micros < kFineBuckets * kFineMicros
                    ? micros / kFineMicros
                    : kFineBuckets + (micros - kFineBuckets * kFineMicros) / kCoarseMicros;
    b = std::min<int64_t>(b, static_cast<int64_t>(counts_.size()) - 1);
    ++counts_[static_cast<size_t>(b)];
    ++total_;
    max_ = std::max(max_, micros);
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    max_ = std::max(max_, o.max_);
  }
  // The upper edge of the bucket holding quantile q, in milliseconds.
  double QuantileMs(double q) const {
    const uint64_t want = static_cast<uint64_t>(q * static_cast<double>(total_));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > want) {
        const int64_t b = static_cast<int64_t>(i) + 1;
        const int64_t edge = b <= kFineBuckets
                                 ? b * kFineMicros
                                 : kFineBuckets * kFineMicros + (b - kFineBuckets) * kCoarseMicros;
        return static_cast<double>(std::min(edge, max_)) / 1000.0;
      }
    }
    return static_cast<double>(max_) / 1000.0;
  }
  uint64_t total() const { return total_; }
  double max_ms() const { return static_cast<double>(max_) / 1000.0; }

 private:
  std::vector<uint32_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ = 0;
};

struct Options {
  int seconds = 10;
  int rate = 10'000;
  int subscribers = 100;
  int durable = 10;
  int rows_per_insert = 20;
  int also_rate = 0;    // > 0: the fan-out phase again at this rate
  int client_nice = 0;  // nice value of the subscriber threads (the writer keeps 0)
  bool view = false;    // subscribers read BatchView (lazy) instead of Batch (parsed)
  bool push = false;    // view, and the ephemeral subscribers are PushSubscriptions
  int malloc_tuning = 1;  // 1: one malloc arena and no trimming (see TuneMalloc)
  int deadlock_check = 1;  // 0: turn off absl::Mutex deadlock detection (see Main)
  int ack_every = 1;       // durable consumers ack after every this many messages with events
};

// One subscriber thread: counts the rows with id in [first_id, last_id] and their latency.
struct Subscriber {
  Histogram latency;
  std::atomic<int64_t> max_id{0};
  uint64_t measured = 0;
  uint64_t messages = 0;  // messages with events
  uint64_t bytes = 0;  // view mode: message bytes received
  uint64_t last_offset = 0;
  uint64_t out_of_order = 0;  // an offset or row id that did not follow the previous one
  absl::Status status;
  std::unique_ptr<client::Subscription> sub;
  std::unique_ptr<client::Consumer> consumer;
  std::unique_ptr<client::PushSubscription> push;  // push mode: no thread
  std::thread thread;
};

// What a subscriber reads of an event: its offset, and for an insert of test.fan the id and
// the writer's clock (columns id and ts_us). Full mode: from the parsed ChangeEvent.
struct Seen {
  uint64_t offset = 0;
  bool row = false;
  int64_t id = 0;
  int64_t ts_us = 0;
};

absl::StatusOr<Seen> Look(const v1::ChangeEvent& e) {
  Seen s{.offset = e.offset()};
  if (e.op() != v1::OP_INSERT || e.after().fields_size() < 2) return s;
  s.row = true;
  s.id = e.after().fields(0).value().int64();
  s.ts_us = e.after().fields(1).value().int64();
  return s;
}

// View mode: the offset from the event's top level, the two columns by walking the row's bytes.
absl::StatusOr<Seen> Look(const client::EventView& e) {
  Seen s{.offset = e.offset()};
  if (e.op() != v1::OP_INSERT) return s;
  absl::StatusOr<std::optional<client::ValueView>> id = e.After("id");
  absl::StatusOr<std::optional<client::ValueView>> ts = e.After("ts_us");
  if (!id.ok()) return id.status();
  if (!ts.ok()) return ts.status();
  if (!id->has_value() || !ts->has_value()) return s;
  absl::StatusOr<int64_t> id_value = (*id)->int64();
  absl::StatusOr<int64_t> ts_value = (*ts)->int64();
  if (!id_value.ok()) return id_value.status();
  if (!ts_value.ok()) return ts_value.status();
  s.row = true;
  s.id = *id_value;
  s.ts_us = *ts_value;
  return s;
}

// One message: every event's offset must follow the previous one (the log holds only
// test.fan and nothing is filtered) and every row's id the previous row's. False on an error
// (in sub.status).
template <typename BatchType>
bool Handle(Subscriber& sub, const BatchType& batch, const std::atomic<int64_t>& first_measured) {
  const int64_t now = NowMicros();
  sub.messages += !batch.heartbeat();
  if constexpr (std::is_same_v<BatchType, client::BatchView>) sub.bytes += batch.bytes().size();
  const int64_t first = first_measured.load(std::memory_order_relaxed);
  int64_t max_id = sub.max_id.load(std::memory_order_relaxed);
  for (const auto& e : batch.events()) {
    absl::StatusOr<Seen> seen = Look(e);
    if (!seen.ok()) {
      sub.status = seen.status();
      return false;
    }
    if (sub.last_offset != 0 && seen->offset != sub.last_offset + 1) ++sub.out_of_order;
    sub.last_offset = seen->offset;
    if (!seen->row) continue;
    if (max_id != 0 && seen->id != max_id + 1) ++sub.out_of_order;
    max_id = seen->id;
    if (seen->id < first) continue;
    ++sub.measured;
    sub.latency.Add(now - seen->ts_us);
  }
  sub.max_id.store(max_id, std::memory_order_relaxed);
  return true;
}

// One message as received by a view subscriber (the first with at least 10 events), kept for
// MeasureDecode.
std::mutex sample_mu;
std::string sample_message;
std::atomic<bool> have_sample{false};

void KeepSample(const client::BatchView& batch) {
  if (have_sample.load(std::memory_order_relaxed) || batch.events().size() < 10) return;
  std::lock_guard<std::mutex> lock(sample_mu);
  if (sample_message.empty()) sample_message = std::string(batch.bytes());
  have_sample = true;
}

volatile int64_t decode_sink = 0;  // keeps MeasureDecode's work observable

// The client's own work on one message, without gRPC or the kernel: what a view subscriber does
// after gRPC hands it a message (BatchView::Adopt, or the copy of a message that arrived in
// several slices, then Index, then Handle's Look of every event), timed over many rounds of
// the same recorded message on this thread. The lowest of 5 runs is printed (least disturbed by
// the machine's other load).
void MeasureDecode() {
  std::string bytes;
  {
    std::lock_guard<std::mutex> lock(sample_mu);
    bytes = sample_message;
  }
  if (bytes.empty()) return;
  const grpc::Slice slice(bytes.data(), bytes.size(), grpc::Slice::STATIC_SLICE);
  client::BatchView view;
  constexpr int kRounds = 20'000;
  for (const bool copy : {false, true}) {
    double best = 1e9;
    size_t events = 0;
    for (int run = 0; run < 5; ++run) {
      const double t0 = ThreadCpuSeconds();
      int64_t sum = 0;
      for (int i = 0; i < kRounds; ++i) {
        if (copy) {
          view.Fresh().assign(bytes);
        } else {
          view.Adopt(slice);
        }
        Must(view.Index(), "index the sample message");
        for (const client::EventView& e : view.events()) {
          absl::StatusOr<Seen> seen = Look(e);
          Must(seen.status(), "look at the sample message");
          sum += seen->id;
        }
        events = view.events().size();
      }
      best = std::min(best, ThreadCpuSeconds() - t0);
      decode_sink = sum;
    }
    std::printf("decode     %s: %.2f us per message of %zu events and %zu bytes (Index and the "
                "subscriber's Look of every event; lowest of 5 runs of %d)\n",
                copy ? "copied from several slices" : "one slice, adopted", 1e6 * best / kRounds,
                events, bytes.size(), kRounds);
  }
  std::fflush(stdout);
}

// The thread of a blocking subscriber (Subscription or Consumer).
template <typename BatchType>
void Receive(Subscriber& sub, BatchType& batch, const std::atomic<int64_t>& first_measured,
             int ack_every) {
  int unacked = 0;  // messages with events since the last ack
  while (true) {
    sub.status = sub.consumer ? sub.consumer->Next(batch) : sub.sub->Next(batch);
    if (!sub.status.ok()) return;
    if (!Handle(sub, batch, first_measured)) return;
    if constexpr (std::is_same_v<BatchType, client::BatchView>) KeepSample(batch);
    if (sub.consumer && !batch.heartbeat() && ++unacked >= ack_every) {
      unacked = 0;
      sub.status = sub.consumer->Ack(LogOffset(batch.next_offset().value() - 1));
      if (!sub.status.ok()) return;
    }
  }
}

// glibc malloc for a process that receives a lot: one arena instead of one per thread, and
// freed memory kept instead of handed back to the kernel. With the defaults, the 100 receiving
// threads' arenas shrink after each large message and gRPC's next receive buffer is faulted in
// page by page again (perf: a third of the client's time in page faults under recvmsg).
void TuneMalloc() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

std::string Uptime() {
  std::string s = ReadAll("/proc/loadavg");
  return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
}

// Runs one phase: subscribers connect, the writer inserts for `seconds`, everyone drains.
void RunPhase(const std::string& name, TestDatabase& db, Sluiced& d, const Options& o,
              int subscribers, int durable, int64_t& next_id) {
  auto channel = client::MakeChannel(d.address());
  std::atomic<int64_t> first_measured{INT64_MAX};
  std::vector<std::unique_ptr<Subscriber>> subs;
  static int phase_no = 0;
  ++phase_no;
  for (int i = 0; i < subscribers; ++i) {
    auto s = std::make_unique<Subscriber>();
    if (i < durable) {
      client::ConsumeOptions co;
      co.open.set_subscription("fan-" + std::to_string(phase_no) + "-" + std::to_string(i));
      co.open.set_create_if_missing(true);
      co.open.set_source("bench");
      co.open.mutable_start()->mutable_latest();
      s->consumer = std::make_unique<client::Consumer>(channel, co);
    } else if (o.push) {
      v1::SubscribeRequest request;
      request.set_source("bench");
      request.mutable_start()->mutable_latest();
      Subscriber* raw = s.get();
      s->push = std::make_unique<client::PushSubscription>(
          channel, request, [raw, &first_measured](const client::BatchView& batch) {
            if (raw->status.ok() && !Handle(*raw, batch, first_measured)) raw->push->Cancel();
            KeepSample(batch);
          });
      s->push->Start();
      subs.push_back(std::move(s));
      continue;
    } else {
      client::SubscribeOptions so;
      so.request.set_source("bench");
      so.request.mutable_start()->mutable_latest();
      s->sub = std::make_unique<client::Subscription>(channel, so);
    }
    Subscriber* raw = s.get();
    s->thread = std::thread([raw, &first_measured, &o] {
      if (o.client_nice != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), o.client_nice);
      if (o.view) {
        client::BatchView batch;
        Receive(*raw, batch, first_measured, o.ack_every);
      } else {
        client::Batch batch;
        Receive(*raw, batch, first_measured, o.ack_every);
      }
    });
    subs.push_back(std::move(s));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // every stream open and caught up

  // The writer: multi-row INSERTs on a fixed schedule (catching up without sleep if late).
  auto conn = db.Connect();
  Must(conn.status(), "connect writer");
  const double cpu0 = d.CpuSeconds();
  const double client_cpu0 = CpuSeconds(getpid());
  const int64_t switches0 = ContextSwitches();
  const double writer_cpu0 = ThreadCpuSeconds();
  const double db_cpu0 = CpuSeconds(db.pid());
  const auto start = std::chrono::steady_clock::now();
  const auto warmup = std::chrono::seconds(1);
  const int per_second = o.rate / o.rows_per_insert;
  const auto period = std::chrono::nanoseconds(1'000'000'000LL / per_second);
  const int64_t total_inserts = static_cast<int64_t>(per_second) * (o.seconds + 1);
  int64_t measured_from = -1;
  for (int64_t n = 0; n < total_inserts; ++n) {
    std::this_thread::sleep_until(start + period * n);
    if (measured_from < 0 && std::chrono::steady_clock::now() - start >= warmup) {
      measured_from = next_id;
      first_measured = next_id;
    }
    const int64_t ts = NowMicros();
    std::string sql = "INSERT INTO test.fan (id, ts_us, pad) VALUES ";
    for (int k = 0; k < o.rows_per_insert; ++k) {
      sql += (k ? ",(" : "(") + std::to_string(next_id++) + "," + std::to_string(ts) +
             ",'0123456789abcdef0123456789abcdef')";
    }
    Must((*conn)->Exec(sql), "insert");
  }
  const double writer_cpu = ThreadCpuSeconds() - writer_cpu0;
  const double wrote_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t last_id = next_id - 1;
  const auto measured_start = start + warmup;
  // Drain: wait (up to 60 s) until every subscriber has the last row.
  const auto drain_start = std::chrono::steady_clock::now();
  for (auto& s : subs) {
    while (s->max_id.load() < last_id &&
           std::chrono::steady_clock::now() - drain_start < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const double delivered_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_start).count();
  const double cpu = d.CpuSeconds() - cpu0;
  const double client_cpu = CpuSeconds(getpid()) - client_cpu0;
  const int64_t switches = ContextSwitches() - switches0;
  const double db_cpu = CpuSeconds(db.pid()) - db_cpu0;
  const double phase_secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto [hwm, rss] = d.Rss();
  for (auto& s : subs) {
    if (s->consumer) s->consumer->Cancel();
    if (s->sub) s->sub->Cancel();
    if (s->push) s->push->Cancel();
  }
  Histogram all;
  uint64_t delivered = 0;
  uint64_t messages = 0;
  int complete = 0;
  uint64_t out_of_order = 0;
  uint64_t bytes = 0;
  int failed = 0;
  const uint64_t expected = static_cast<uint64_t>(last_id - measured_from + 1);
  for (auto& s : subs) {
    if (s->thread.joinable()) s->thread.join();
    if (s->push) {
      const absl::Status end = s->push->Wait();
      if (s->status.ok()) s->status = end;
    }
    all.Merge(s->latency);
    delivered += s->measured;
    messages += s->messages;
    complete += s->measured == expected;
    out_of_order += s->out_of_order;
    bytes += s->bytes;
    if (!s->status.ok() && s->status.code() != absl::StatusCode::kCancelled) {
      if (failed++ == 0) std::printf("  subscriber error: %s\n", s->status.ToString().c_str());
    }
  }
  const double written_rate = static_cast<double>(last_id - measured_from + 1) /
                              (wrote_secs - std::chrono::duration<double>(warmup).count());
  std::printf("%s: %d subscribers (%d durable, acking every %d batches), %s client, phase %.1f s\n",
              name.c_str(), subscribers, durable, o.ack_every,
              o.push   ? "push (PushSubscription + Consumer, BatchView)"
              : o.view ? "view (BatchView)"
                       : "full-parse (Batch)",
              phase_secs);
  std::printf("  written    %.0f rows/s (measured window, after 1 s of warm-up)\n", written_rate);
  std::printf(
      "  delivered  %.0f events/s in total (%.1f events per message); %d of %d subscribers got "
      "every row within 60 s of the last insert; %llu out of order, %d failed\n",
      static_cast<double>(delivered) / delivered_secs,
      messages ? static_cast<double>(delivered) / static_cast<double>(messages) : 0.0, complete,
      subscribers, static_cast<unsigned long long>(out_of_order), failed);
  if (o.view) {
    std::printf("  received   %.1f MB/s of messages in total (%.0f bytes per event)\n",
                static_cast<double>(bytes) / delivered_secs / 1e6,
                delivered ? static_cast<double>(bytes) / static_cast<double>(delivered) : 0.0);
  }
  std::printf("  latency    p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms (%llu samples)\n",
              all.QuantileMs(0.5), all.QuantileMs(0.99), all.QuantileMs(0.999), all.max_ms(),
              static_cast<unsigned long long>(all.total()));
  std::printf("  sluiced    cpu %.2f s (%.0f%% of one core)  VmHWM %.0f MiB  VmRSS %.0f MiB\n", cpu,
              100.0 * cpu / phase_secs, hwm, rss);
  std::printf(
      "  others     subscriber threads cpu %.2f s (%.2f us per event), writer thread %.2f s, "
      "mariadbd %.2f s; load %s\n",
      client_cpu - writer_cpu,
      delivered ? 1e6 * (client_cpu - writer_cpu) / static_cast<double>(delivered) : 0.0,
      writer_cpu, db_cpu, Uptime().c_str());
  // Per message with events, all subscribers; the writer's share is about one per INSERT.
  std::printf(
      "  client     %llu messages with events, %.1f us of subscriber threads' cpu and %.2f "
      "context switches per message\n",
      static_cast<unsigned long long>(messages),
      messages ? 1e6 * (client_cpu - writer_cpu) / static_cast<double>(messages) : 0.0,
      messages ? static_cast<double>(switches) / static_cast<double>(messages) : 0.0);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Options o;
  std::string client_modes = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (flag == "--client") {
      client_modes = argv[i + 1];
      if (client_modes != "view" && client_modes != "full" && client_modes != "both" &&
          client_modes != "push") {
        std::fprintf(stderr, "--client is view, full, both or push\n");
        return 2;
      }
    } else if (flag == "--seconds")
      o.seconds = v;
    else if (flag == "--rate")
      o.rate = v;
    else if (flag == "--subscribers")
      o.subscribers = v;
    else if (flag == "--durable")
      o.durable = v;
    else if (flag == "--rows-per-insert")
      o.rows_per_insert = v;
    else if (flag == "--also-rate")
      o.also_rate = v;
    else if (flag == "--client-nice")
      o.client_nice = v;
    else if (flag == "--malloc-tuning")
      o.malloc_tuning = v;
    else if (flag == "--deadlock-check")
      o.deadlock_check = v;
    else if (flag == "--ack-every")
      o.ack_every = v;
    else {
      std::fprintf(stderr,
                   "usage: fanout_bench [--seconds N] [--rate EVENTS_PER_S] [--subscribers S] "
                   "[--durable D] [--rows-per-insert K] [--also-rate EVENTS_PER_S] "
                   "[--client-nice N] [--client view|full|both|push] [--malloc-tuning 0|1] "
                   "[--deadlock-check 0|1] [--ack-every N]\n");
      return 2;
    }
  }
  if (o.seconds <= 0 || o.rate <= 0 || o.rows_per_insert <= 0 || o.durable > o.subscribers ||
      o.ack_every < 1 ||
      o.rate < o.rows_per_insert || (o.also_rate > 0 && o.also_rate < o.rows_per_insert)) {
    std::fprintf(stderr, "bad flags\n");
    return 2;
  }
  if (o.malloc_tuning) TuneMalloc();
  // Debian's abseil is built without NDEBUG, so absl::Mutex (which gRPC locks several times per
  // message) checks every lock against a process-wide lock graph unless this turns it off.
  if (!o.deadlock_check) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const char* bin = std::getenv("SLUICE_BINARY_DIR");
  std::string binary_dir = bin ? bin : "";
  if (binary_dir.empty()) {
    char self[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    binary_dir = std::string(self, n > 0 ? static_cast<size_t>(n) : 0);
    binary_dir = binary_dir.substr(0, binary_dir.rfind('/')) + "/../..";  // tests/bench/..
  }
  auto db = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  Must(db.status(), "start MariaDB");
  Must((*db)->Exec("CREATE TABLE test.fan (id BIGINT PRIMARY KEY, ts_us BIGINT NOT NULL, "
                   "pad VARCHAR(40))"),
       "create table");
  Sluiced d(binary_dir + "/server/daemon/sluiced",
            "mysql://" + (*db)->user() + ":" + (*db)->password() +
                "@127.0.0.1:" + std::to_string((*db)->port()) +
                "/?name=bench&server_id=9301&tables=test.fan&snapshot=never");
  std::printf(
      "fanout_bench: %d s at %d rows/s (%d rows per INSERT), client nice %d, malloc tuning %s, "
      "absl deadlock check %s, %d cores, load %s\n",
      o.seconds, o.rate, o.rows_per_insert, o.client_nice, o.malloc_tuning ? "on" : "off",
      o.deadlock_check ? "on" : "off",
      static_cast<int>(std::thread::hardware_concurrency()), Uptime().c_str());
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the source connects
  int64_t next_id = 1;
  // The view mode first: the full-parse fan-out may leave subscribers far behind.
  for (const bool view : {true, false}) {
    if (client_modes != "both" && (client_modes == "view" || client_modes == "push") != view) {
      continue;
    }
    o.view = view;
    o.push = client_modes == "push";
    const std::string mode = o.push ? " (push)" : view ? " (view)" : " (full)";
    RunPhase("reference" + mode, **db, d, o, 1, 0, next_id);
    RunPhase("fan-out" + mode, **db, d, o, o.subscribers, o.durable, next_id);
    if (o.also_rate > 0) {
      Options lower = o;
      lower.rate = o.also_rate;
      RunPhase("fan-out at " + std::to_string(o.also_rate) + " rows/s" + mode, **db, d, lower,
               o.subscribers, o.durable, next_id);
    }
  }
  if (client_modes != "full") MeasureDecode();
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
