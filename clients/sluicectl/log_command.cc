// sluicectl log SOURCE --from N --limit M: stored events, like tail without following.
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/output.h"
#include "proto/base/event_json.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

constexpr char kLogUsage[] =
    "usage: sluicectl log SOURCE [--from OFFSET|earliest] [--limit N] [--format text|json]\n"
    "  (--limit defaults to 100; more than 10000 is read in several calls)";
constexpr uint64_t kPerCall = 10'000;

}  // namespace

int RunLog(const GlobalOptions& global, const std::vector<std::string>& args) {
  auto parsed = ParseVerbArgs(global, args, {"--from", "--limit"}, 1, 1, kLogUsage);
  if (!parsed) return kExitUsage;
  uint64_t from = 0;  // earliest
  uint64_t limit = 100;
  if (auto it = parsed->flags.find("--from");
      it != parsed->flags.end() && it->second != "earliest") {
    if (!absl::SimpleAtoi(it->second, &from) || from == 0) {
      return Fail(kExitUsage,
                  "--from \"" + it->second + "\" is not an offset (1, 2, ...) or earliest");
    }
  }
  if (auto it = parsed->flags.find("--limit"); it != parsed->flags.end()) {
    if (!absl::SimpleAtoi(it->second, &limit) || limit == 0) {
      return Fail(kExitUsage, "--limit \"" + it->second + "\" is not a positive number");
    }
  }
  auto stub = v1::Admin::NewStub(Connect(global.server));
  uint64_t printed = 0;
  while (printed < limit) {
    v1::ReadLogRequest req;
    req.set_source(parsed->positional[0]);
    req.set_from_offset(from);
    req.set_limit(static_cast<uint32_t>(std::min(limit - printed, kPerCall)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::ReadLogResponse resp;
    grpc::Status status = stub->ReadLog(&ctx, req, &resp);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    std::string out;
    for (const auto& e : resp.events()) {
      out += parsed->format == "json" ? EventToJson(e) : EventToText(e);
      out += '\n';
    }
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
      return kExitOk;  // the reader went away (`| head`)
    }
    printed += static_cast<uint64_t>(resp.events_size());
    if (resp.events_size() == 0 || resp.next_offset() > resp.last_offset()) break;  // the end
    from = resp.next_offset();
  }
  return kExitOk;
}

}  // namespace sluice::cli
