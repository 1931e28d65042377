// sluicectl binlog decode: print the changes in MySQL/MariaDB binlog files, offline.
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "clients/sluicectl/binlog_decode.h"
#include "clients/sluicectl/cli.h"

namespace sluice::cli {
namespace {

constexpr char kBinlogUsage[] =
    "usage: sluicectl binlog decode FILE... [--format json|text] [--start-position N] "
    "[--stop-position N]";

bool ParsePosition(const std::string& flag, const std::string& value, uint64_t& out,
                   std::string& error) {
  if (!absl::SimpleAtoi(value, &out)) {
    error = flag + " \"" + value + "\" is not a byte offset";
    return false;
  }
  return true;
}

// Writes chunks of lines to stdout. A failed write (the reader went away, e.g. `| head`) turns
// into Cancelled so that decoding stops.
class Output {
 public:
  absl::Status Chunk(std::string_view chunk) {
    const bool ok = std::fwrite(chunk.data(), 1, chunk.size(), stdout) == chunk.size() &&
                    std::fflush(stdout) == 0;
    if (!ok) {
      closed_ = true;
      return absl::CancelledError("stdout is closed");
    }
    return absl::OkStatus();
  }
  bool closed() const { return closed_; }

 private:
  bool closed_ = false;
};

int RunDecode(const GlobalOptions& global, const std::vector<std::string>& args) {
  BinlogDecodeOptions options;
  std::string format = global.format;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--")) {
      options.files.push_back(a);
      continue;
    }
    if (a == "--help") {
      std::cout << kBinlogUsage << "\n";
      return kExitOk;
    }
    if (i + 1 >= args.size()) return Fail(kExitUsage, a + " needs a value\n" + kBinlogUsage);
    const std::string& v = args[++i];
    std::string error;
    uint64_t position = 0;
    if (a == "--format") {
      format = v;
    } else if (a == "--start-position") {
      if (!ParsePosition(a, v, position, error)) return Fail(kExitUsage, error);
      if (position < 4) {
        return Fail(kExitUsage, "--start-position " + v +
                                    " is before the first event; binlog events start at 4");
      }
      options.start_position = position;
    } else if (a == "--stop-position") {
      if (!ParsePosition(a, v, position, error)) return Fail(kExitUsage, error);
      options.stop_position = position;
    } else {
      return Fail(kExitUsage, "unknown binlog decode flag " + a + "\n" + kBinlogUsage);
    }
  }
  if (options.files.empty()) {
    return Fail(kExitUsage, std::string("binlog decode needs at least one FILE\n") + kBinlogUsage);
  }
  if (format != "json" && format != "text") {
    return Fail(kExitUsage, "--format \"" + format + "\" is not json or text");
  }
  options.json = format == "json";

  Output out;
  BinlogDecodeStats stats;
  absl::Status st = DecodeBinlogFilesChunked(
      options, [&out](std::string_view chunk) { return out.Chunk(chunk); }, &stats);
  if (out.closed()) return kExitOk;  // the reader of our output went away
  if (!st.ok()) return Fail(kExitFailed, std::string(st.message()));
  if (stats.skipped_statements > 0) {
    std::cerr << "sluicectl: note: skipped " << stats.skipped_statements
              << " event(s) without rows: statement-based DML (binlog_format was not ROW) or "
                 "INCIDENT events\n";
  }
  for (const std::string& file : stats.unfinished) {
    std::cerr << "sluicectl: note: " << file
              << " ends inside a transaction; its changes were printed without a commit (the "
                 "file was cut short, or the server was still writing it)\n";
  }
  return kExitOk;
}

}  // namespace

int RunBinlog(const GlobalOptions& global, const std::vector<std::string>& args) {
  if (args.empty()) return Fail(kExitUsage, std::string("binlog needs a verb\n") + kBinlogUsage);
  if (args[0] == "decode") {
    return RunDecode(global, std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return Fail(kExitUsage, "unknown binlog verb \"" + args[0] + "\"\n" + kBinlogUsage);
}

}  // namespace sluice::cli
