// sluicectl: the sluice admin and tail CLI.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "clients/sluicectl/cli.h"

namespace {

constexpr char kUsage[] =
    R"(usage: sluicectl [--server HOST:PORT] [--format text|json] [--tls-ca FILE]
                 [--tls-cert FILE --tls-key FILE] [--token-file FILE] VERB [ARGS]

verbs:
  status                      per-source state, offsets, lag, checkpoint, last error and
                              snapshot progress
  sources                     the configured sources (passwords redacted)
  pause SOURCE | resume SOURCE
                              stop reading a source / read it again from where it stopped
  retention SOURCE [--max-age DURATION|none] [--max-bytes SIZE|none]
                              show or change a source's retention (until sluiced restarts)
  log SOURCE [--from OFFSET|earliest] [--limit N]
                              the stored events, like tail without following
  snapshot SOURCE TABLE [--where SQL] [--wait SECONDS]
                              re-read a table as "r" events while the source streams
                              (watermarks; no locks); --wait follows it to the end
  tail SOURCE [--from earliest|latest|OFFSET|TIME] [--table GLOB]... [--op c,u,d,...]
              [--format json|text|debezium] [--limit N] [--idle-exit SECONDS]
                              stream a source's events, one per line (debezium: Debezium's
                              JSON envelope, see docs/event-format.md)
  subscriptions list [SOURCE] | create NAME --source SOURCE [--from POS] [--table GLOB]...
              [--op LIST] [--columns TABLE_GLOB=COL,...]... | reset NAME --to POS | delete NAME
                              durable subscriptions: lag, unacked events, filters (POS:
                              earliest|latest|OFFSET|TIME)
  table SOURCE TABLE [--key COLUMN=VALUE]... [--limit N]
                              the current rows of a table (the latest row per primary key,
                              kept beside the log; docs/subscriptions.md)
  binlog decode FILE... [--format json|text] [--start-position N] [--stop-position N]
                              print the changes in MySQL/MariaDB binlog files (offline,
                              no server needed), in the shape tail prints; memory: 2 MiB
                              buffers, at most 64 MiB of a transaction kept read ahead

--server defaults to $SLUICE_SERVER or 127.0.0.1:7070. Every verb takes --format text|json.
--tls-ca FILE verifies a TLS server (--tls-cert/--tls-key add a client certificate);
--token-file FILE (or $SLUICE_TOKEN) sends a bearer token.
)";

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  sluice::cli::GlobalOptions global;
  if (const char* env = std::getenv("SLUICE_SERVER"); env && *env) global.server = env;
  std::vector<std::string> args(argv + 1, argv + argc);
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("-"); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= args.size())
      return sluice::cli::Fail(sluice::cli::kExitUsage, a + " needs a value");
    if (a == "--server") {
      global.server = args[++i];
    } else if (a == "--tls-ca") {
      global.tls_ca = args[++i];
    } else if (a == "--tls-cert") {
      global.tls_cert = args[++i];
    } else if (a == "--tls-key") {
      global.tls_key = args[++i];
    } else if (a == "--token-file") {
      global.token = sluice::cli::ReadTokenFile(args[++i]);
      if (global.token.empty()) return sluice::cli::kExitUsage;
    } else if (a == "--format") {
      global.format = args[++i];
      if (global.format != "text" && global.format != "json") {
        return sluice::cli::Fail(sluice::cli::kExitUsage,
                                 "--format \"" + global.format + "\" is not text or json");
      }
    } else {
      return sluice::cli::Fail(sluice::cli::kExitUsage, "unknown flag " + a + "\n" + kUsage);
    }
  }
  if (const char* env = std::getenv("SLUICE_TOKEN"); env && *env && global.token.empty()) {
    global.token = env;
  }
  if (!sluice::cli::SetConnectionSecurity(global)) return sluice::cli::kExitUsage;
  if (i >= args.size()) {
    std::cerr << kUsage;
    return sluice::cli::kExitUsage;
  }
  const std::string verb = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
  // Verbs also accept --format after the verb.
  if (verb == "status") {
    for (size_t k = 0; k + 1 < rest.size(); ++k) {
      if (rest[k] == "--format") {
        global.format = rest[k + 1];
        rest.erase(rest.begin() + static_cast<long>(k), rest.begin() + static_cast<long>(k) + 2);
        break;
      }
    }
    return sluice::cli::RunStatus(global, rest);
  }
  if (verb == "tail") return sluice::cli::RunTail(global, rest);
  if (verb == "binlog") return sluice::cli::RunBinlog(global, rest);
  if (verb == "sources") return sluice::cli::RunSources(global, rest);
  if (verb == "pause") return sluice::cli::RunPause(global, rest);
  if (verb == "resume") return sluice::cli::RunResume(global, rest);
  if (verb == "retention") return sluice::cli::RunRetention(global, rest);
  if (verb == "log") return sluice::cli::RunLog(global, rest);
  if (verb == "snapshot") return sluice::cli::RunSnapshot(global, rest);
  if (verb == "subscriptions") return sluice::cli::RunSubscriptions(global, rest);
  if (verb == "table") return sluice::cli::RunTable(global, rest);
  return sluice::cli::Fail(sluice::cli::kExitUsage, "unknown verb \"" + verb + "\"\n" + kUsage);
}
