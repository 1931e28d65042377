// sluicectl subscriptions list|create|reset|delete: manage durable subscriptions.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "clients/sluicectl/cli.h"
#include "proto/base/event_json.h"
#include "proto/base/time_format.h"
#include "proto/base/value_json.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::cli {
namespace {

constexpr char kSubscriptionsUsage[] =
    R"(usage: sluicectl subscriptions list [SOURCE] [--format text|json]
       sluicectl subscriptions create NAME --source SOURCE
                 [--from earliest|latest|OFFSET|TIME|snapshot]
                 [--table GLOB]... [--op c,u,d,r,t,ddl,m] [--columns TABLE_GLOB=COL,COL]...
                 [--format text|json]
       sluicectl subscriptions reset NAME --to earliest|latest|OFFSET|TIME [--format text|json]
       sluicectl subscriptions delete NAME [--format text|json]
  --from / --to: the next event the subscription delivers (TIME: the first transaction
  committed at or after it, like 2026-01-02T03:04:05Z). --from snapshot: each stream first sends
  the table state (rows consistent at an offset N, then the log after N) until N is acked.
  --columns keeps only those columns (and the key columns) of matching tables.)";

int Usage(const std::string& problem) {
  return Fail(kExitUsage, problem + "\n" + kSubscriptionsUsage);
}

bool ParsePosition(const std::string& flag, const std::string& text, v1::StartPosition& start,
                   std::string& error) {
  if (text == "earliest") {
    start.mutable_earliest();
    return true;
  }
  if (text == "latest") {
    start.mutable_latest();
    return true;
  }
  uint64_t offset = 0;
  if (absl::SimpleAtoi(text, &offset)) {
    if (offset == 0) {
      error = flag + " 0: offsets start at 1";
      return false;
    }
    start.set_offset(offset);
    return true;
  }
  auto ts = ParseTimestamp(text);
  if (!ts.ok()) {
    error = flag + " \"" + text +
            "\" is not earliest, latest, an offset or a time like 2026-01-02T03:04:05Z";
    return false;
  }
  start.set_commit_ts_micros(*ts);
  return true;
}

bool ParseOpList(const std::string& list, v1::CreateSubscriptionRequest& req, std::string& error) {
  static const std::pair<const char*, v1::Op> kOps[] = {
      {"r", v1::OP_READ},     {"c", v1::OP_INSERT}, {"u", v1::OP_UPDATE}, {"d", v1::OP_DELETE},
      {"t", v1::OP_TRUNCATE}, {"ddl", v1::OP_DDL},  {"m", v1::OP_MESSAGE}};
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string op = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    bool found = false;
    for (const auto& [code, value] : kOps) {
      if (op == code) {
        req.add_ops(value);
        found = true;
      }
    }
    if (!found) {
      error = "--op \"" + op + "\" is not one of r, c, u, d, t, ddl, m";
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

bool ParseColumns(const std::string& text, v1::CreateSubscriptionRequest& req, std::string& error) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size()) {
    error =
        "--columns \"" + text + "\" is not TABLE_GLOB=COLUMN,COLUMN (e.g. shop.orders=id,total)";
    return false;
  }
  auto* p = req.add_projections();
  p->set_table(text.substr(0, eq));
  size_t pos = eq + 1;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string column =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (column.empty()) {
      error = "--columns \"" + text + "\" has an empty column name";
      return false;
    }
    p->add_columns(column);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

std::string Json(const v1::SubscriptionInfo& s) {
  std::string out = "{\"name\":";
  AppendJsonString(s.name(), out);
  out += ",\"source\":";
  AppendJsonString(s.source(), out);
  out += ",\"committed_offset\":" + std::to_string(s.committed_offset());
  out += ",\"last_offset\":" + std::to_string(s.last_offset());
  out += ",\"lag_events\":" + std::to_string(s.lag_events());
  out += ",\"unacked_events\":" + std::to_string(s.unacked_events());
  out += std::string(",\"connected\":") + (s.connected() ? "true" : "false");
  out += ",\"tables\":[";
  for (int i = 0; i < s.tables_size(); ++i) {
    if (i) out += ",";
    AppendJsonString(s.tables(i), out);
  }
  out += "],\"ops\":[";
  for (int i = 0; i < s.ops_size(); ++i) {
    if (i) out += ",";
    AppendJsonString(OpCode(static_cast<v1::Op>(s.ops(i))), out);
  }
  out += "],\"projections\":[";
  for (int i = 0; i < s.projections_size(); ++i) {
    if (i) out += ",";
    out += "{\"table\":";
    AppendJsonString(s.projections(i).table(), out);
    out += ",\"columns\":[";
    for (int k = 0; k < s.projections(i).columns_size(); ++k) {
      if (k) out += ",";
      AppendJsonString(s.projections(i).columns(k), out);
    }
    out += "]}";
  }
  out += "],\"created\":";
  AppendJsonString(FormatTimestampMicros(s.created_ts_micros()), out);
  out += ",\"acked\":";
  if (s.acked_ts_micros() == 0) {
    out += "null";
  } else {
    AppendJsonString(FormatTimestampMicros(s.acked_ts_micros()), out);
  }
  out += "}";
  return out;
}

std::string Filters(const v1::SubscriptionInfo& s) {
  std::string out;
  for (const auto& t : s.tables()) out += (out.empty() ? "tables=" : ",") + t;
  std::string ops;
  for (int op : s.ops()) {
    ops += (ops.empty() ? "" : ",") + std::string(OpCode(static_cast<v1::Op>(op)));
  }
  if (!ops.empty()) out += (out.empty() ? "" : " ") + std::string("ops=") + ops;
  for (const auto& p : s.projections()) {
    out += (out.empty() ? "" : " ") + std::string("columns=") + p.table() + "=";
    for (int k = 0; k < p.columns_size(); ++k) out += (k ? "," : "") + p.columns(k);
  }
  return out.empty() ? "-" : out;
}

void PrintText(const std::vector<v1::SubscriptionInfo>& subs) {
  if (subs.empty()) {
    std::cout << "no subscriptions (create one with `sluicectl subscriptions create`)" << std::endl;
    return;
  }
  std::printf("%-20s %-14s %12s %12s %10s %10s %-9s %s\n", "NAME", "SOURCE", "COMMITTED", "LAST",
              "LAG", "UNACKED", "CONNECTED", "FILTERS");
  for (const auto& s : subs) {
    std::printf("%-20s %-14s %12llu %12llu %10llu %10llu %-9s %s\n", s.name().c_str(),
                s.source().c_str(), static_cast<unsigned long long>(s.committed_offset()),
                static_cast<unsigned long long>(s.last_offset()),
                static_cast<unsigned long long>(s.lag_events()),
                static_cast<unsigned long long>(s.unacked_events()), s.connected() ? "yes" : "no",
                Filters(s).c_str());
  }
}

void Print(const std::string& format, const std::vector<v1::SubscriptionInfo>& subs, bool as_list) {
  if (format != "json") {
    PrintText(subs);
    return;
  }
  if (!as_list) {
    std::cout << Json(subs.at(0)) << std::endl;
    return;
  }
  std::string out = "{\"subscriptions\":[";
  for (size_t i = 0; i < subs.size(); ++i) out += (i ? "," : "") + Json(subs[i]);
  out += "]}";
  std::cout << out << std::endl;
}

struct Parsed {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;
};

// Splits `args` into positional arguments and "--flag value" pairs; --format is applied here.
bool Split(const std::vector<std::string>& args, std::string& format, Parsed& out,
           std::string& error) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].starts_with("--")) {
      out.positional.push_back(args[i]);
      continue;
    }
    if (i + 1 >= args.size()) {
      error = args[i] + " needs a value";
      return false;
    }
    if (args[i] == "--format") {
      format = args[++i];
      if (format != "text" && format != "json") {
        error = "--format \"" + format + "\" is not text or json";
        return false;
      }
      continue;
    }
    out.flags.emplace_back(args[i], args[i + 1]);
    ++i;
  }
  return true;
}

grpc::ClientContext* WithDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return &ctx;
}

}  // namespace

int RunSubscriptions(const GlobalOptions& global, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("subscriptions needs list, create, reset or delete");
  const std::string action = args[0];
  std::string format = global.format;
  Parsed p;
  std::string error;
  if (!Split({args.begin() + 1, args.end()}, format, p, error)) return Usage(error);
  auto stub = v1::Subscriptions::NewStub(Connect(global.server));
  grpc::ClientContext ctx;
  grpc::Status status;

  if (action == "list") {
    if (p.positional.size() > 1 || !p.flags.empty()) {
      return Usage("subscriptions list takes at most a SOURCE and --format");
    }
    v1::ListSubscriptionsRequest req;
    if (!p.positional.empty()) req.set_source(p.positional[0]);
    v1::ListSubscriptionsResponse resp;
    status = stub->ListSubscriptions(WithDeadline(ctx), req, &resp);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    Print(format, {resp.subscriptions().begin(), resp.subscriptions().end()}, true);
    return kExitOk;
  }
  if (p.positional.size() != 1) return Usage("subscriptions " + action + " needs one NAME");
  const std::string& name = p.positional[0];

  if (action == "create") {
    v1::CreateSubscriptionRequest req;
    req.set_name(name);
    for (const auto& [flag, value] : p.flags) {
      if (flag == "--source") {
        req.set_source(value);
      } else if (flag == "--from" && value == "snapshot") {
        req.mutable_start()->mutable_snapshot_then_stream();
      } else if (flag == "--from") {
        if (!ParsePosition(flag, value, *req.mutable_start(), error)) return Usage(error);
      } else if (flag == "--table") {
        req.add_tables(value);
      } else if (flag == "--op") {
        if (!ParseOpList(value, req, error)) return Usage(error);
      } else if (flag == "--columns") {
        if (!ParseColumns(value, req, error)) return Usage(error);
      } else {
        return Usage("unknown flag " + flag + " for subscriptions create");
      }
    }
    if (req.source().empty()) return Usage("subscriptions create needs --source SOURCE");
    v1::SubscriptionInfo info;
    status = stub->CreateSubscription(WithDeadline(ctx), req, &info);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    Print(format, {info}, false);
    return kExitOk;
  }
  if (action == "reset") {
    v1::ResetSubscriptionRequest req;
    req.set_name(name);
    for (const auto& [flag, value] : p.flags) {
      if (flag != "--to") return Usage("unknown flag " + flag + " for subscriptions reset");
      if (!ParsePosition(flag, value, *req.mutable_start(), error)) return Usage(error);
    }
    if (!req.has_start()) return Usage("subscriptions reset needs --to");
    v1::SubscriptionInfo info;
    status = stub->ResetSubscription(WithDeadline(ctx), req, &info);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    Print(format, {info}, false);
    return kExitOk;
  }
  if (action == "delete") {
    if (!p.flags.empty()) return Usage("subscriptions delete takes only NAME and --format");
    v1::DeleteSubscriptionRequest req;
    req.set_name(name);
    v1::DeleteSubscriptionResponse resp;
    status = stub->DeleteSubscription(WithDeadline(ctx), req, &resp);
    if (!status.ok()) return Fail(kExitFailed, DescribeRpcError(status, global.server));
    if (format == "json") {
      std::string out = "{\"deleted\":";
      AppendJsonString(name, out);
      std::cout << out << "}" << std::endl;
    } else {
      std::cout << "deleted subscription " << name << std::endl;
    }
    return kExitOk;
  }
  return Usage("unknown subscriptions action \"" + action + "\"");
}

}  // namespace sluice::cli
