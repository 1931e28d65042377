// sluicectl table SOURCE TABLE [--key COLUMN=VALUE]... [--limit N]: the current rows of a table
// from the server's table state (Admin.ReadTable), as a text table or one JSON object per row.
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "clients/sluicectl/cli.h"
#include "clients/sluicectl/output.h"
#include "proto/base/value_json.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

constexpr char kTableUsage[] =
    "usage: sluicectl table SOURCE TABLE [--key COLUMN=VALUE]... [--limit N] [--format text|json]\n"
    "  TABLE is db.table (MySQL) or schema.table (Postgres); --key keeps the rows whose column\n"
    "  has that value (as JSON prints it, strings without quotes); --limit defaults to 1000";
constexpr uint64_t kPerCall = 10'000;

// A cell of the text table: strings as they are, NULL for null, other values as JSON.
std::string Cell(const v1::Value& value) {
  if (value.kind_case() == v1::Value::kString) return value.string();
  if (value.kind_case() == v1::Value::kNull || value.kind_case() == v1::Value::KIND_NOT_SET) {
    return "NULL";
  }
  return ValueToJson(value);
}

}  // namespace

int RunTable(const GlobalOptions& global, const std::vector<std::string>& args) {
  // --key may repeat: take those out before the shared parser (one value per flag).
  std::vector<std::string> rest;
  v1::ReadTableRequest req;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--key") {
      rest.push_back(args[i]);
      continue;
    }
    if (i + 1 >= args.size()) return Fail(kExitUsage, std::string("--key needs COLUMN=VALUE\n") + kTableUsage);
    const std::string& kv = args[++i];
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(kExitUsage, "--key \"" + kv + "\" is not COLUMN=VALUE");
    }
    auto* w = req.add_where();
    w->set_column(kv.substr(0, eq));
    w->set_value(kv.substr(eq + 1));
  }
  auto parsed = ParseVerbArgs(global, rest, {"--limit"}, 2, 2, kTableUsage);
  if (!parsed) return kExitUsage;
  uint64_t limit = 1000;
  if (auto it = parsed->flags.find("--limit"); it != parsed->flags.end()) {
    if (!absl::SimpleAtoi(it->second, &limit) || limit == 0) {
      return Fail(kExitUsage, "--limit \"" + it->second + "\" is not a positive number");
    }
  }
  req.set_source(parsed->positional[0]);
  req.set_table(parsed->positional[1]);
  const bool json = parsed->format == "json";
  auto stub = v1::Admin::NewStub(Connect(global.server));
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> cells;
  uint64_t printed = 0;
  bool more = false;
  while (printed < limit) {
    req.set_limit(static_cast<uint32_t>(std::min(limit - printed, kPerCall)));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::ReadTableResponse resp;
    grpc::Status status = stub->ReadTable(&ctx, req, &resp);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    std::string out;
    for (const auto& row : resp.rows()) {
      if (json) {
        AppendRowJson(row.after(), out);
        out += '\n';
        continue;
      }
      std::vector<std::string> line(headers.size());
      for (const auto& f : row.after().fields()) {
        size_t k = 0;
        while (k < headers.size() && headers[k] != f.name()) ++k;
        if (k == headers.size()) {
          headers.push_back(f.name());
          line.emplace_back();
        }
        line[k] = Cell(f.value());
      }
      cells.push_back(std::move(line));
    }
    if (!out.empty() &&
        (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)) {
      return kExitOk;  // the reader went away (`| head`)
    }
    printed += static_cast<uint64_t>(resp.rows_size());
    req.set_cursor(resp.next_cursor());
    if (resp.next_cursor().empty()) break;
    more = printed >= limit;
  }
  if (!json) {
    TextTable table(headers);
    for (auto& line : cells) {
      line.resize(headers.size());
      table.AddRow(std::move(line));
    }
    if (!headers.empty()) table.Print();
    std::cerr << printed << (printed == 1 ? " row" : " rows")
              << (more ? " (more rows: raise --limit)" : "") << "\n";
  }
  return kExitOk;
}

}  // namespace sluice::cli
