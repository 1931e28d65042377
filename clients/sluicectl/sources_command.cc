// sluicectl sources: the configured sources, secrets redacted.
#include <iostream>

#include "absl/strings/str_join.h"
#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/output.h"
#include "proto/base/event_json.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {

int RunSources(const GlobalOptions& global, const std::vector<std::string>& args) {
  auto parsed =
      ParseVerbArgs(global, args, {}, 0, 0, "usage: sluicectl sources [--format text|json]");
  if (!parsed) return kExitUsage;
  auto stub = v1::Admin::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListSourcesResponse resp;
  grpc::Status status = stub->ListSources(&ctx, v1::ListSourcesRequest(), &resp);
  if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
  if (parsed->format == "json") {
    std::string out = "{\"sources\":[";
    for (int i = 0; i < resp.sources_size(); ++i) {
      const auto& s = resp.sources(i);
      if (i) out += ",";
      out += "{\"name\":" + JsonString(s.name()) +
             ",\"kind\":" + JsonString(SourceKindName(s.kind())) +
             ",\"state\":" + JsonString(StateName(s.state())) + ",\"url\":" + JsonString(s.url()) +
             ",\"tables\":[";
      for (int t = 0; t < s.tables_size(); ++t) out += (t ? "," : "") + JsonString(s.tables(t));
      out += "],\"snapshot\":" + JsonString(s.snapshot()) +
             ",\"retention\":" + RetentionJson(s.retention()) + "}";
    }
    std::cout << out << "]}" << std::endl;
    return kExitOk;
  }
  if (resp.sources_size() == 0) {
    std::cout << "no sources configured (start sluiced with --source URL or a config file)"
              << std::endl;
    return kExitOk;
  }
  TextTable table({"SOURCE", "KIND", "STATE", "TABLES", "SNAPSHOT", "MAX AGE", "MAX BYTES", "URL"});
  for (const auto& s : resp.sources()) {
    table.AddRow({s.name(), std::string(SourceKindName(s.kind())), StateName(s.state()),
                  s.tables_size() == 0 ? "*" : absl::StrJoin(s.tables(), ","), s.snapshot(),
                  RetentionAgeText(s.retention()), RetentionBytesText(s.retention()), s.url()});
  }
  table.Print();
  return kExitOk;
}

}  // namespace sluice::cli
