// sluicectl status: per-source state, offsets, lag (seconds behind the last commit; bytes and
// events behind the server's head), checkpoint, last error and snapshot progress.
#include <cstdio>
#include <iostream>

#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/output.h"
#include "proto/base/event_json.h"
#include "proto/base/time_format.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

std::string LagText(const v1::SourceStatus& s) {
  if (s.last_commit_ts_micros() == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(s.lag_micros()) / 1e6);
  return buf;
}

// Behind the server's head: "-" before the first probe, "?" when unknown, ">=N" for a lower bound.
std::string BytesBehindText(const v1::SourceStatus& s) {
  if (!s.has_head_lag()) return "-";
  return s.head_lag().has_bytes() ? std::to_string(s.head_lag().bytes()) : "?";
}

std::string EventsBehindText(const v1::SourceStatus& s) {
  if (!s.has_head_lag()) return "-";
  const auto& lag = s.head_lag();
  if (!lag.has_events()) return "?";
  return (lag.events_lower_bound() ? ">=" : "") + std::to_string(lag.events());
}

std::string OptionalJson(bool has, uint64_t value) {
  return has ? std::to_string(value) : std::string("null");
}

std::string SnapshotJson(const v1::SourceStatus& s) {
  std::string out = "[";
  for (int i = 0; i < s.snapshot_tables_size(); ++i) {
    const auto& t = s.snapshot_tables(i);
    if (i) out += ",";
    out += "{\"table\":" + JsonString(t.table()) +
           ",\"rows_done\":" + std::to_string(t.rows_done()) +
           ",\"rows_estimated\":" + std::to_string(t.rows_estimated()) +
           ",\"done\":" + (t.done() ? "true" : "false") + "}";
  }
  return out + "]";
}

std::string RetentionHoldJson(const v1::SourceStatus& s) {
  if (!s.has_retention_hold()) return "null";
  const auto& h = s.retention_hold();
  return "{\"subscription\":" + JsonString(h.subscription()) +
         ",\"committed_offset\":" + std::to_string(h.committed_offset()) +
         ",\"events_held\":" + std::to_string(h.events_held()) + "}";
}

void PrintJson(const v1::StatusResponse& resp) {
  std::string out = "{\"version\":" + JsonString(resp.version()) + ",\"sources\":[";
  for (int i = 0; i < resp.sources_size(); ++i) {
    const auto& s = resp.sources(i);
    if (i) out += ",";
    out += "{\"name\":" + JsonString(s.name());
    out += ",\"kind\":" + JsonString(SourceKindName(s.kind()));
    out += ",\"state\":" + JsonString(StateName(s.state()));
    out += ",\"first_offset\":" + std::to_string(s.first_offset());
    out += ",\"last_offset\":" + std::to_string(s.last_offset());
    out += ",\"stored_bytes\":" + std::to_string(s.stored_bytes());
    out += ",\"checkpoint\":" + JsonString(s.checkpoint());
    out += ",\"last_error\":" + (s.last_error().empty() ? "null" : JsonString(s.last_error()));
    out += ",\"last_error_time\":" + JsonTime(s.last_error_ts_micros());
    out += ",\"url\":" + JsonString(s.url());
    out += ",\"last_commit_time\":" + JsonTime(s.last_commit_ts_micros());
    out += ",\"lag_seconds\":";
    if (s.last_commit_ts_micros() == 0) {
      out += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(s.lag_micros()) / 1e6);
      out += buf;
    }
    const auto& lag = s.head_lag();
    out += ",\"lag_bytes\":" + OptionalJson(lag.has_bytes(), lag.bytes());
    out += ",\"lag_events\":" + OptionalJson(lag.has_events(), lag.events());
    out += ",\"lag_events_lower_bound\":";
    out += lag.events_lower_bound() ? "true" : "false";
    out += ",\"head\":" + (lag.head().empty() ? "null" : JsonString(lag.head()));
    out += ",\"lag_probe_time\":" + JsonTime(lag.probed_ts_micros());
    out += ",\"lag_error\":" + (lag.error().empty() ? "null" : JsonString(lag.error()));
    out += ",\"retention\":" + RetentionJson(s.retention());
    out += ",\"snapshot\":" + SnapshotJson(s);
    out += ",\"retention_hold\":" + RetentionHoldJson(s);
    out += "}";
  }
  out += "]}";
  std::cout << out << std::endl;
}

void PrintText(const v1::StatusResponse& resp) {
  if (resp.sources_size() == 0) {
    std::cout << "no sources (start sluiced with --source URL)" << std::endl;
    return;
  }
  TextTable table({"SOURCE", "KIND", "STATE", "FIRST", "LAST", "STORED", "LAG", "BYTES BEHIND",
                   "EVENTS BEHIND", "CHECKPOINT", "LAST ERROR"});
  for (const auto& s : resp.sources()) {
    std::string error = s.last_error();
    if (s.last_error_ts_micros() != 0) {
      error = FormatTimestampMicros(s.last_error_ts_micros()) + " " + error;
    }
    table.AddRow({s.name(), std::string(SourceKindName(s.kind())), StateName(s.state()),
                  std::to_string(s.first_offset()), std::to_string(s.last_offset()),
                  std::to_string(s.stored_bytes()), LagText(s), BytesBehindText(s),
                  EventsBehindText(s), s.checkpoint().empty() ? "-" : s.checkpoint(),
                  error.empty() ? "-" : error});
  }
  table.Print();
  for (const auto& s : resp.sources()) {
    if (!s.has_head_lag() || s.head_lag().error().empty()) continue;
    std::cout << "\nlag of " << s.name() << ": " << s.head_lag().error() << std::endl;
  }
  for (const auto& s : resp.sources()) {
    if (!s.has_retention_hold()) continue;
    const auto& h = s.retention_hold();
    std::cout << "\nwarning: subscription '" << h.subscription() << "' holds back retention of '"
              << s.name() << "': it acked up to offset " << h.committed_offset() << ", so "
              << h.events_held()
              << " events the retention limits would remove are kept; ack, reset or delete it "
                 "(sluicectl subscriptions ...), or start sluiced with --retention-force"
              << std::endl;
  }
  for (const auto& s : resp.sources()) {
    if (s.snapshot_tables_size() == 0) continue;
    std::cout << "\nsnapshot of " << s.name() << ":\n";
    TextTable progress({"TABLE", "ROWS", "ESTIMATED", "DONE"});
    for (const auto& t : s.snapshot_tables()) {
      progress.AddRow({t.table(), std::to_string(t.rows_done()),
                       t.rows_estimated() == 0 ? "?" : std::to_string(t.rows_estimated()),
                       t.done() ? "yes" : "no"});
    }
    progress.Print();
  }
}

}  // namespace

int RunStatus(const GlobalOptions& global, const std::vector<std::string>& args) {
  if (!args.empty()) return Fail(kExitUsage, "status takes no arguments, got \"" + args[0] + "\"");
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::StatusResponse resp;
  grpc::Status status = stub->Status(&ctx, v1::StatusRequest(), &resp);
  if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
  if (global.format == "json") {
    PrintJson(resp);
  } else {
    PrintText(resp);
  }
  return kExitOk;
}

}  // namespace sluice::cli
