// sluicectl pause, resume, retention and snapshot: changing what a source does.
#include <iostream>

#include "clients/sluicectl/cli.h"
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

int RunSnapshot(const GlobalOptions& global, const std::vector<std::string>& args) {
  auto parsed = ParseVerbArgs(global, args, {"--where"}, 2, 2,
                              "usage: sluicectl snapshot SOURCE TABLE [--where SQL] "
                              "[--format text|json]");
  if (!parsed) return kExitUsage;
  v1::SnapshotTableRequest req;
  req.set_source(parsed->positional[0]);
  req.set_table(parsed->positional[1]);
  if (auto it = parsed->flags.find("--where"); it != parsed->flags.end()) req.set_where(it->second);
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::SnapshotTableResponse resp;
  grpc::Status status = stub->SnapshotTable(&ctx, req, &resp);
  if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
  if (parsed->format == "json") {
    std::cout << "{\"source\":" << JsonString(req.source())
              << ",\"table\":" << JsonString(req.table()) << ",\"started\":true}" << std::endl;
  } else {
    std::cout << "snapshot of " << req.table() << " started on " << req.source() << std::endl;
  }
  return kExitOk;
}

}  // namespace sluice::cli
