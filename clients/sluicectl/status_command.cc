// sluicectl status: per-source state, offsets, checkpoint and last error.
#include <iostream>

#include "clients/sluicectl/cli.h"
#include "proto/base/event_json.h"
#include "proto/base/time_format.h"
#include "proto/base/value_json.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

std::string StateName(v1::SourceState state) {
  switch (state) {
    case v1::SOURCE_STATE_CONNECTING:
      return "connecting";
    case v1::SOURCE_STATE_SNAPSHOTTING:
      return "snapshotting";
    case v1::SOURCE_STATE_STREAMING:
      return "streaming";
    case v1::SOURCE_STATE_PAUSED:
      return "paused";
    case v1::SOURCE_STATE_ERROR:
      return "error";
    case v1::SOURCE_STATE_STOPPED:
      return "stopped";
    default:
      return "unknown";
  }
}

void PrintJson(const v1::StatusResponse& resp) {
  std::string out = "{\"version\":";
  AppendJsonString(resp.version(), out);
  out += ",\"sources\":[";
  for (int i = 0; i < resp.sources_size(); ++i) {
    const auto& s = resp.sources(i);
    if (i) out += ",";
    out += "{\"name\":";
    AppendJsonString(s.name(), out);
    out += ",\"kind\":";
    AppendJsonString(SourceKindName(s.kind()), out);
    out += ",\"state\":";
    AppendJsonString(StateName(s.state()), out);
    out += ",\"first_offset\":" + std::to_string(s.first_offset());
    out += ",\"last_offset\":" + std::to_string(s.last_offset());
    out += ",\"stored_bytes\":" + std::to_string(s.stored_bytes());
    out += ",\"checkpoint\":";
    AppendJsonString(s.checkpoint(), out);
    out += ",\"last_error\":";
    if (s.last_error().empty()) {
      out += "null";
    } else {
      AppendJsonString(s.last_error(), out);
    }
    out += ",\"last_error_time\":";
    if (s.last_error_ts_micros() == 0) {
      out += "null";
    } else {
      AppendJsonString(FormatTimestampMicros(s.last_error_ts_micros()), out);
    }
    out += ",\"url\":";
    AppendJsonString(s.url(), out);
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
  std::printf("%-16s %-9s %-12s %12s %12s  %-24s %s\n", "SOURCE", "KIND", "STATE", "FIRST", "LAST",
              "CHECKPOINT", "LAST ERROR");
  for (const auto& s : resp.sources()) {
    std::string error = s.last_error();
    if (s.last_error_ts_micros() != 0) {
      error = FormatTimestampMicros(s.last_error_ts_micros()) + " " + error;
    }
    std::printf("%-16s %-9s %-12s %12llu %12llu  %-24s %s\n", s.name().c_str(),
                std::string(SourceKindName(s.kind())).c_str(), StateName(s.state()).c_str(),
                static_cast<unsigned long long>(s.first_offset()),
                static_cast<unsigned long long>(s.last_offset()),
                s.checkpoint().empty() ? "-" : s.checkpoint().c_str(),
                error.empty() ? "-" : error.c_str());
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
