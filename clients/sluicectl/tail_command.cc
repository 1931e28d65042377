// sluicectl tail: stream a source's events to stdout, one per line.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "clients/cpp/connection.h"
#include "clients/cpp/subscription.h"
#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/progress.h"
#include "proto/base/debezium_json.h"
#include "proto/base/event_json.h"
#include "proto/base/time_format.h"

namespace sluice::cli {
namespace {

constexpr char kTailUsage[] =
    "usage: sluicectl tail SOURCE [--from earliest|latest|OFFSET|TIME] [--table GLOB]... "
    "[--op c,u,d,r,t,ddl,m] [--format json|text|debezium] [--limit N] [--idle-exit SECONDS]";

bool ParseStart(const std::string& from, v1::StartPosition& start, std::string& error) {
  if (from == "earliest") {
    start.mutable_earliest();
    return true;
  }
  if (from == "latest") {
    start.mutable_latest();
    return true;
  }
  uint64_t offset = 0;
  if (absl::SimpleAtoi(from, &offset)) {
    if (offset == 0) {
      error = "--from 0: offsets start at 1";
      return false;
    }
    start.set_offset(offset);
    return true;
  }
  auto ts = ParseTimestamp(from);
  if (!ts.ok()) {
    error = "--from \"" + from +
            "\" is not earliest, latest, an offset or a time like 2026-01-02T03:04:05Z";
    return false;
  }
  start.set_commit_ts_micros(*ts);
  return true;
}

bool ParseOps(const std::string& list, v1::SubscribeRequest& req, std::string& error) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string op = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (op == "r")
      req.add_ops(v1::OP_READ);
    else if (op == "c")
      req.add_ops(v1::OP_INSERT);
    else if (op == "u")
      req.add_ops(v1::OP_UPDATE);
    else if (op == "d")
      req.add_ops(v1::OP_DELETE);
    else if (op == "t")
      req.add_ops(v1::OP_TRUNCATE);
    else if (op == "ddl")
      req.add_ops(v1::OP_DDL);
    else if (op == "m")
      req.add_ops(v1::OP_MESSAGE);
    else {
      error = "--op \"" + op + "\" is not one of r, c, u, d, t, ddl, m";
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

// Cancels the subscription when no event has arrived for `idle` (heartbeats do not count).
class IdleWatchdog {
 public:
  IdleWatchdog(client::Subscription& sub, std::chrono::milliseconds idle) : sub_(sub), idle_(idle) {
    if (idle_.count() > 0) thread_ = std::thread([this] { Run(); });
  }
  ~IdleWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Activity() {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = std::chrono::steady_clock::now();
  }
  bool fired() const { return fired_.load(); }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      auto deadline = last_ + idle_;
      if (std::chrono::steady_clock::now() >= deadline) {
        fired_ = true;
        sub_.Cancel();
        return;
      }
      cv_.wait_until(lock, deadline);
    }
  }

  client::Subscription& sub_;
  std::chrono::milliseconds idle_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace

int RunTail(const GlobalOptions& global, const std::vector<std::string>& args) {
  v1::SubscribeRequest req;
  std::string format = global.format;
  std::string from = "latest";
  uint64_t limit = 0;
  double idle_exit = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      if (!req.source().empty())
        return Fail(kExitUsage, std::string("unexpected argument \"") + a + "\"\n" + kTailUsage);
      req.set_source(a);
      continue;
    }
    if (i + 1 >= args.size()) return Fail(kExitUsage, a + " needs a value\n" + kTailUsage);
    const std::string& v = args[++i];
    std::string error;
    if (a == "--from") {
      from = v;
    } else if (a == "--table") {
      req.add_tables(v);
    } else if (a == "--op") {
      if (!ParseOps(v, req, error)) return Fail(kExitUsage, error);
    } else if (a == "--format") {
      format = v;
    } else if (a == "--limit") {
      if (!absl::SimpleAtoi(v, &limit))
        return Fail(kExitUsage, "--limit \"" + v + "\" is not a number");
    } else if (a == "--idle-exit") {
      if (!absl::SimpleAtod(v, &idle_exit) || idle_exit < 0) {
        return Fail(kExitUsage, "--idle-exit \"" + v + "\" is not a number of seconds");
      }
    } else {
      return Fail(kExitUsage, "unknown tail flag " + a + "\n" + kTailUsage);
    }
  }
  if (req.source().empty())
    return Fail(kExitUsage, std::string("tail needs a SOURCE\n") + kTailUsage);
  if (format != "json" && format != "text" && format != "debezium") {
    return Fail(kExitUsage, "--format \"" + format + "\" is not json, text or debezium");
  }
  std::string error;
  if (!ParseStart(from, *req.mutable_start(), error)) return Fail(kExitUsage, error);

  // Through sluice::client, without reconnecting: tail reports the first error (a shutdown
  // names the offset to resume from) and the caller decides.
  client::SubscribeOptions options;
  options.request = std::move(req);
  options.reconnect.max_attempts = 0;
  client::Subscription sub(Connect(global.server), std::move(options));
  IdleWatchdog watchdog(sub, std::chrono::milliseconds(static_cast<int64_t>(idle_exit * 1000)));
  client::Batch batch;
  absl::Status status;
  uint64_t printed = 0;
  bool reached_limit = false;
  std::string out;
  DebeziumRenderer debezium;  // keeps the transaction counters across batches
  // On a terminal only: how far catching up has come.
  ProgressLine progress("events");
  while (!reached_limit && (status = sub.Next(batch)).ok()) {
    progress.Update(batch.next_offset().value() - 1, batch.last_offset().value());
    if (batch.heartbeat()) continue;
    watchdog.Activity();
    out.clear();
    for (const auto& e : batch.events()) {
      if (format == "debezium") {
        // DDL events have no Debezium data-change shape and print nothing (docs/event-format.md).
        if (std::optional<std::string> line = debezium.Render(e)) {
          out += *line;
          out += '\n';
        }
      } else {
        out += format == "json" ? EventToJson(e) : EventToText(e);
        out += '\n';
      }
      if (limit != 0 && ++printed >= limit) {
        reached_limit = true;
        break;
      }
    }
    if (progress.enabled()) progress.Clear();  // the line is redrawn after the events
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
      return kExitOk;  // the reader of our output went away (e.g. `| head`)
    }
  }
  progress.Clear();
  if (reached_limit || watchdog.fired()) return kExitOk;
  if (status.message() == client::kStreamEndedMessage)
    return Fail(kExitFailed, client::kStreamEndedMessage);
  return Fail(kExitFailed, DescribeRpcError(client::ToGrpc(status), global.server));
}

}  // namespace sluice::cli
