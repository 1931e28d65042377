// sluicectl pause, resume, retention and snapshot: changing what a source does.
#include <chrono>
#include <thread>
#include <cstdlib>
#include <optional>
#include <iostream>

#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/progress.h"
#include "clients/sluicectl/output.h"
#include "proto/base/units.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

constexpr char kRetentionUsage[] =
    "usage: sluicectl retention SOURCE [--max-age DURATION|none] [--max-bytes SIZE|none] "
    "[--format text|json]\n  (DURATION like 7d, 12h, 30m; SIZE like 50GiB, 512MiB; none removes "
    "the limit)";

// Pausing waits for the source's in-flight appends; give it time.
void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

void PrintSourceState(const std::string& verb, const v1::SourceStatus& s,
                      const std::string& format) {
  if (format == "json") {
    std::cout << "{\"source\":" << JsonString(s.name())
              << ",\"state\":" << JsonString(StateName(s.state()))
              << ",\"last_offset\":" << s.last_offset()
              << ",\"checkpoint\":" << JsonString(s.checkpoint()) << "}" << std::endl;
    return;
  }
  std::cout << verb << " " << s.name() << ": state " << StateName(s.state()) << ", last offset "
            << s.last_offset() << ", position " << (s.checkpoint().empty() ? "-" : s.checkpoint())
            << std::endl;
}

int RunPauseOrResume(const GlobalOptions& global, const std::vector<std::string>& args,
                     bool pause) {
  const std::string verb = pause ? "pause" : "resume";
  auto parsed = ParseVerbArgs(global, args, {}, 1, 1,
                              "usage: sluicectl " + verb + " SOURCE [--format text|json]");
  if (!parsed) return kExitUsage;
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  grpc::Status status;
  v1::SourceStatus after;
  if (pause) {
    v1::PauseSourceRequest req;
    req.set_source(parsed->positional[0]);
    v1::PauseSourceResponse resp;
    status = stub->PauseSource(&ctx, req, &resp);
    after = resp.status();
  } else {
    v1::ResumeSourceRequest req;
    req.set_source(parsed->positional[0]);
    v1::ResumeSourceResponse resp;
    status = stub->ResumeSource(&ctx, req, &resp);
    after = resp.status();
  }
  if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
  PrintSourceState(pause ? "paused" : "resumed", after, parsed->format);
  return kExitOk;
}

}  // namespace

int RunPause(const GlobalOptions& global, const std::vector<std::string>& args) {
  return RunPauseOrResume(global, args, true);
}

int RunResume(const GlobalOptions& global, const std::vector<std::string>& args) {
  return RunPauseOrResume(global, args, false);
}

int RunRetention(const GlobalOptions& global, const std::vector<std::string>& args) {
  auto parsed = ParseVerbArgs(global, args, {"--max-age", "--max-bytes"}, 1, 1, kRetentionUsage);
  if (!parsed) return kExitUsage;
  v1::RetentionRequest req;
  req.set_source(parsed->positional[0]);
  if (auto it = parsed->flags.find("--max-age"); it != parsed->flags.end()) {
    if (it->second == "none") {
      req.set_max_age_micros(0);
    } else {
      auto age = ParseDurationMicros(it->second);
      if (!age.ok()) return Fail(kExitUsage, "--max-age: " + std::string(age.status().message()));
      req.set_max_age_micros(*age);
    }
  }
  if (auto it = parsed->flags.find("--max-bytes"); it != parsed->flags.end()) {
    if (it->second == "none") {
      req.set_max_bytes(0);
    } else {
      auto bytes = ParseByteSize(it->second);
      if (!bytes.ok()) {
        return Fail(kExitUsage, "--max-bytes: " + std::string(bytes.status().message()));
      }
      req.set_max_bytes(*bytes);
    }
  }
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::RetentionResponse resp;
  grpc::Status status = stub->Retention(&ctx, req, &resp);
  if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
  const bool changed = req.has_max_age_micros() || req.has_max_bytes();
  if (parsed->format == "json") {
    std::cout << "{\"source\":" << JsonString(resp.source())
              << ",\"changed\":" << (changed ? "true" : "false")
              << ",\"retention\":" << RetentionJson(resp.retention()) << "}" << std::endl;
    return kExitOk;
  }
  TextTable table({"SOURCE", "MAX AGE", "MAX BYTES"});
  table.AddRow(
      {resp.source(), RetentionAgeText(resp.retention()), RetentionBytesText(resp.retention())});
  table.Print();
  return kExitOk;
}

// Polls Status until the re-snapshot of req.table() is done (returns its rows), failed or
// `seconds` passed (prints why and returns nullopt).
static std::optional<uint64_t> WaitForSnapshot(const GlobalOptions& global, v1::Admin::Stub& stub,
                                               const v1::SnapshotTableRequest& req, int seconds) {
  ProgressLine progress("rows of " + req.table(), ProgressLine::Total::kEstimate);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::string first_error;
  bool first = true;
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::StatusResponse resp;
    grpc::Status st = stub.Status(&ctx, v1::StatusRequest(), &resp);
    if (!st.ok()) {
      Fail(kExitFailed, DescribeRpcError(st, global.server));
      return std::nullopt;
    }
    for (const auto& s : resp.sources()) {
      if (s.name() != req.source()) continue;
      if (first) {
        first_error = s.last_error();
        first = false;
      } else if (s.last_error() != first_error &&
                 s.last_error().find("re-snapshot of " + req.table()) != std::string::npos) {
        progress.Clear();
        Fail(kExitFailed, s.last_error());
        return std::nullopt;
      }
      for (const auto& t : s.snapshot_tables()) {
        if (t.table() != req.table()) continue;
        progress.Update(t.rows_done(), t.rows_estimated());
        if (t.done()) {
          progress.Clear();
          return t.rows_done();
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  progress.Clear();
  Fail(kExitFailed, "the re-snapshot of " + req.table() + " did not finish within " +
                        std::to_string(seconds) + " s; it goes on: see sluicectl status");
  return std::nullopt;
}

int RunSnapshot(const GlobalOptions& global, const std::vector<std::string>& args) {
  auto parsed = ParseVerbArgs(global, args, {"--where", "--wait"}, 2, 2,
                              "usage: sluicectl snapshot SOURCE TABLE [--where SQL] "
                              "[--wait SECONDS] [--format text|json]");
  if (!parsed) return kExitUsage;
  v1::SnapshotTableRequest req;
  req.set_source(parsed->positional[0]);
  req.set_table(parsed->positional[1]);
  if (auto it = parsed->flags.find("--where"); it != parsed->flags.end()) req.set_where(it->second);
  int wait_seconds = 0;
  if (auto it = parsed->flags.find("--wait"); it != parsed->flags.end()) {
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || v <= 0 || v > 86'400) {
      return Fail(kExitUsage, "--wait \"" + it->second + "\" is not a number of seconds (1..86400)");
    }
    wait_seconds = static_cast<int>(v);
  }
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::SnapshotTableResponse resp;
  grpc::Status status = stub->SnapshotTable(&ctx, req, &resp);
  if (!status.ok()) {
    // sluiced's own answers about the request (not picked up, dropped, not yet stored) come
    // with codes (UNAVAILABLE, DEADLINE_EXCEEDED) that would otherwise read as "cannot reach
    // sluiced" or "did not answer": print them as they are.
    if (status.error_message().starts_with("the re-snapshot")) {
      return Fail(kExitFailed, "snapshot of " + req.table() + " on " + req.source() + ": " +
                                   status.error_message());
    }
    return Fail(kExitFailed, DescribeRpcError(status, global.server));
  }
  std::optional<uint64_t> rows;
  if (wait_seconds > 0) {
    rows = WaitForSnapshot(global, *stub, req, wait_seconds);
    if (!rows) return kExitFailed;
  }
  if (parsed->format == "json") {
    std::cout << "{\"source\":" << JsonString(req.source())
              << ",\"table\":" << JsonString(req.table()) << ",\"started\":true"
              << (rows ? ",\"done\":true,\"rows\":" + std::to_string(*rows) : std::string())
              << "}" << std::endl;
  } else if (rows) {
    std::cout << "snapshot of " << req.table() << " on " << req.source() << " done: " << *rows
              << " rows" << std::endl;
  } else {
    std::cout << "snapshot of " << req.table() << " accepted on " << req.source()
              << ": stored, so it continues after a restart (sluicectl status shows its progress)"
              << std::endl;
  }
  return kExitOk;
}

}  // namespace sluice::cli
