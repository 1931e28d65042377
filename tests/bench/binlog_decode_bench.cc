// binlog_decode_bench: the offline binlog decode rate of sluice next to
// `mariadb-binlog -v --base64-output=decode-rows` on the same file, in the same run.
//
// It starts a throwaway MariaDB 10.11, fills a mixed-type table (15 columns: integers, DECIMAL,
// DOUBLE, DATETIME(6), TIMESTAMP(3), DATE, TIME, utf8mb4 VARCHAR, CHAR, ENUM, TEXT with NULLs)
// with bulk INSERT ... SELECT in transactions of 250,000 rows, flushes the binlog, then times on
// the binlog file that holds the rows (warm page cache, one thread each), in the same run:
//   0. the reference: `mariadb-binlog -v --base64-output=decode-rows FILE > /dev/null`;
//   1. sluice decode with every row as a v1::Row (what the live source does), and with one reused
//      v1::Row (ForEachRow), with and without rendering the row images as JSON;
//   2. the flat decode (ForEachFlatRow: no heap object per value), with and without row JSON;
//   3. sluice::cli::DecodeBinlogFiles (what `sluicectl binlog decode --format json` runs) with
//      the lines counted, and the CLI itself, JSON and text, with stdout to /dev/null.
// Each is timed in wall-clock and CPU seconds (this thread's, or the child's for the commands);
// rates and the ratio to mariadb-binlog are printed from both. Not a test: it prints figures
// (best of --repeat runs, by CPU time).
//
// Usage: binlog_decode_bench [--rows N] [--repeat R] [--file BINLOG] [--keep COPY] [--flat-only]
//   --file: skip MariaDB and time an existing binlog file; --keep: copy the generated binlog there;
//   --flat-only: only the flat decode (with and without row JSON), e.g. under perf record.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "clients/sluicectl/binlog_decode.h"
#include "proto/base/text_buffer.h"
#include "proto/base/value_json.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/flat_row.h"
#include "protocol/mysql/flat_row_json.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU seconds of this thread, and of the waited-for children (user + system).
double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double ChildrenCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// Wall and CPU time of one measurement. On the shared, loaded build machine the wall time
// includes waiting for a core; the CPU time is what the work took on the core it had.
struct Timing {
  double wall = 0;
  double cpu = 0;
};

[[noreturn]] void Die(const std::string& what, const absl::Status& st) {
  std::fprintf(stderr, "binlog_decode_bench: %s: %s\n", what.c_str(),
               std::string(st.message()).c_str());
  std::exit(1);
}

// Creates and fills the table; returns the path of the binlog file that holds the rows.
std::string Generate(testing::TestDatabase& db, uint64_t rows) {
  auto exec = [&](const std::string& sql) {
    absl::Status st = db.Exec(sql);
    if (!st.ok()) Die(sql.substr(0, 200), st);
  };
  exec("SET SESSION time_zone = '+00:00'");
  exec(
      "CREATE TABLE bench (id BIGINT PRIMARY KEY, i INT NOT NULL, u INT UNSIGNED, bi BIGINT, "
      "d DECIMAL(12,2), f DOUBLE, dt DATETIME(6), ts TIMESTAMP(3) NULL, dd DATE, t TIME, "
      "name VARCHAR(64), code CHAR(8), e ENUM('new','paid','shipped','cancelled'), flag TINYINT, "
      "note TEXT NULL) DEFAULT CHARSET=utf8mb4");
  constexpr uint64_t kChunk = 250'000;
  const auto start = Clock::now();
  for (uint64_t first = 1; first <= rows; first += kChunk) {
    const uint64_t last = std::min(rows, first + kChunk - 1);
    exec(absl::StrCat(
        "INSERT INTO bench SELECT s, s * 7919 % 2147483647 - 1073741823, "
        "s * 2654435761 % 4294967296, s * 1000003 - 500000000000, (s % 100000) / 100 - 250, "
        "s / 7, FROM_UNIXTIME(1700000000 + s + (s % 1000000) / 1000000), "
        "FROM_UNIXTIME(1700000000 + s + (s % 1000) / 1000), "
        "DATE('2000-01-01') + INTERVAL (s % 10000) DAY, SEC_TO_TIME(s % 86400), "
        "CONCAT('customer-', s, IF(s % 10 = 0, ' héllo 中文', '')), LPAD(HEX(s), 8, '0'), "
        "1 + s % 4, s % 2, IF(s % 5 = 0, NULL, REPEAT('n', s % 40)) "
        "FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_",
        first, "_to_", last, ") AS numbers"));
  }
  exec("FLUSH BINARY LOGS");
  std::printf("generated %llu rows in %.1f s\n", static_cast<unsigned long long>(rows),
              Seconds(start));
  auto dir = db.Query("SELECT @@datadir");
  auto logs = db.Query("SHOW BINARY LOGS");
  if (!dir.ok()) Die("SELECT @@datadir", dir.status());
  if (!logs.ok()) Die("SHOW BINARY LOGS", logs.status());
  // The largest file holds the rows.
  std::string best;
  uint64_t best_size = 0;
  for (const auto& row : *logs) {
    const uint64_t size = std::stoull(row[1]);
    if (size > best_size) {
      best_size = size;
      best = row[0];
    }
  }
  std::string path = (*dir)[0][0];
  if (!path.ends_with('/')) path.push_back('/');
  return path + best;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct DecodeResult {
  uint64_t rows = 0;
  uint64_t events = 0;
  double seconds = 0;  // wall
  double cpu = 0;      // this thread's CPU time
};

// 1. BinlogFileReader over the whole file: every event decoded, every row to values.
DecodeResult DecodeOnly(const std::string& bytes, const std::string& name) {
  DecodeResult r;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  mysql::BinlogFileReader reader(
      mysql::Bytes(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()), name);
  while (true) {
    auto ev = reader.Next();
    if (!ev.ok()) Die("decode", ev.status());
    if (!ev->has_value()) break;
    ++r.events;
    if (const auto* rows = std::get_if<mysql::RowsEvent>(&(*ev)->body)) r.rows += rows->rows.size();
  }
  r.seconds = Seconds(start);
  r.cpu = ThreadCpuSeconds() - cpu_start;
  return r;
}

// 1b. The streaming path: rows deferred by the decoder and visited one at a time with
// mysql::ForEachRow (one reused row, so its allocations are kept). With `render`, every row image
// is also rendered as canonical JSON (AppendRowJson), the per-row work of printing it.
DecodeResult DecodeStreaming(const std::string& bytes, bool render, uint64_t* out_bytes) {
  DecodeResult r;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  mysql::BinlogDecoder decoder;
  decoder.set_defer_rows(true);
  std::string json;
  uint64_t rendered = 0;
  const mysql::RowVisitor visit = [&](const mysql::RowsEvent&, const mysql::RowChange& c) {
    ++r.rows;
    if (render) {
      json.clear();
      if (c.before) AppendRowJson(*c.before, json);
      if (c.after) AppendRowJson(*c.after, json);
      rendered += json.size() + 1;
    }
    return absl::OkStatus();
  };
  std::function<void(const mysql::Event&)> walk = [&](const mysql::Event& e) {
    if (const auto* p = std::get_if<mysql::TransactionPayload>(&e.body)) {
      for (const auto& inner : p->events) walk(inner);
    }
    if (const auto* rows = std::get_if<mysql::RowsEvent>(&e.body)) {
      absl::Status st = mysql::ForEachRow(*rows, decoder.format(), visit);
      if (!st.ok()) Die("visit rows", st);
    }
  };
  const std::string_view file(bytes);
  uint64_t pos = 4;
  while (pos + mysql::kEventHeaderLength <= file.size()) {
    const auto* data = reinterpret_cast<const std::byte*>(file.data() + pos);
    auto h = mysql::DecodeEventHeader({data, file.size() - pos});
    if (!h.ok() || h->event_size < mysql::kEventHeaderLength || h->event_size > file.size() - pos) {
      Die("decode", h.ok() ? absl::DataLossError("bad event size") : h.status());
    }
    auto e = decoder.Decode({data, h->event_size}, pos);
    if (!e.ok()) Die("decode", e.status());
    ++r.events;
    walk(*e);
    pos += h->event_size;
  }
  r.seconds = Seconds(start);
  r.cpu = ThreadCpuSeconds() - cpu_start;
  if (out_bytes != nullptr) *out_bytes = rendered;
  return r;
}

// 1c. The flat path (what `sluicectl binlog decode` runs): rows deferred by the decoder and
// decoded with mysql::ForEachFlatRow into two reused FlatRows, no heap object per value. With
// `render`, every row image is also rendered as canonical JSON (AppendFlatRowJson into a reused
// TextBuffer, as the CLI does).
DecodeResult DecodeFlat(const std::string& bytes, bool render, uint64_t* out_bytes) {
  DecodeResult r;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  mysql::BinlogDecoder decoder;
  decoder.set_defer_rows(true);
  TextBuffer json;
  uint64_t rendered = 0;
  std::optional<mysql::ColumnKeys> keys;
  std::shared_ptr<const mysql::TableMap> keys_table;
  const mysql::FlatRowVisitor visit = [&](const mysql::RowsEvent& header,
                                          const mysql::FlatRowChange& c) {
    ++r.rows;
    if (render) {
      if (keys_table != header.table) {
        keys.emplace(*header.table);
        keys_table = header.table;
      }
      json.Clear();
      if (c.before) AppendFlatRowJson(*c.before, *keys, json);
      if (c.after) AppendFlatRowJson(*c.after, *keys, json);
      rendered += json.size() + 1;
    }
    return absl::OkStatus();
  };
  std::function<void(const mysql::Event&)> walk = [&](const mysql::Event& e) {
    if (const auto* p = std::get_if<mysql::TransactionPayload>(&e.body)) {
      for (const auto& inner : p->events) walk(inner);
    }
    if (const auto* rows = std::get_if<mysql::RowsEvent>(&e.body)) {
      absl::Status st = mysql::ForEachFlatRow(*rows, decoder.format(), visit);
      if (!st.ok()) Die("visit rows", st);
    }
  };
  const std::string_view file(bytes);
  uint64_t pos = 4;
  while (pos + mysql::kEventHeaderLength <= file.size()) {
    const auto* data = reinterpret_cast<const std::byte*>(file.data() + pos);
    auto h = mysql::DecodeEventHeader({data, file.size() - pos});
    if (!h.ok() || h->event_size < mysql::kEventHeaderLength || h->event_size > file.size() - pos) {
      Die("decode", h.ok() ? absl::DataLossError("bad event size") : h.status());
    }
    auto e = decoder.Decode({data, h->event_size}, pos);
    if (!e.ok()) Die("decode", e.status());
    ++r.events;
    walk(*e);
    pos += h->event_size;
  }
  r.seconds = Seconds(start);
  r.cpu = ThreadCpuSeconds() - cpu_start;
  if (out_bytes != nullptr) *out_bytes = rendered;
  return r;
}

struct RenderResult {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double cpu = 0;
};

// 2. What `sluicectl binlog decode --format json` runs (DecodeBinlogFilesChunked), with the
// output counted instead of written.
RenderResult DecodeAssembleRender(const std::string& path) {
  RenderResult r;
  cli::BinlogDecodeOptions options;
  options.files = {path};
  options.json = true;
  cli::BinlogDecodeStats stats;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  absl::Status st = cli::DecodeBinlogFilesChunked(
      options,
      [&r](std::string_view chunk) {
        r.bytes += chunk.size();
        return absl::OkStatus();
      },
      &stats);
  if (!st.ok()) Die("decode + render", st);
  r.lines = stats.changes;
  r.seconds = Seconds(start);
  r.cpu = ThreadCpuSeconds() - cpu_start;
  return r;
}

// 3. A command with its stdout sent to /dev/null; wall time.
Timing TimeCommand(const std::string& command) {
  const auto start = Clock::now();
  const double cpu_start = ChildrenCpuSeconds();
  auto r =
      testing::RunSubprocess({"sh", "-c", command + " > /dev/null"}, {}, std::chrono::minutes(30));
  const Timing t{Seconds(start), ChildrenCpuSeconds() - cpu_start};
  if (!r.ok()) Die(command, r.status());
  if (r->exit_code != 0) {
    Die(command, absl::InternalError(absl::StrCat("exit ", r->exit_code, ": ", r->stderr_text)));
  }
  return t;
}

std::string SluicectlPath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string self = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  // <build>/tests/bench/binlog_decode_bench -> <build>/clients/sluicectl/sluicectl
  for (int i = 0; i < 3 && !self.empty(); ++i) self = self.substr(0, self.rfind('/'));
  return self + "/clients/sluicectl/sluicectl";
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

int Main(uint64_t rows, int repeat, std::string file, const std::string& keep, bool flat_only) {
  std::unique_ptr<testing::TestDatabase> db;
  if (file.empty()) {
    auto started = testing::TestDatabase::Start(testing::TestDatabase::Kind::kMariaDb);
    if (!started.ok()) Die("cannot start MariaDB", started.status());
    db = *std::move(started);
    file = Generate(*db, rows);
    if (!keep.empty()) {
      std::filesystem::copy_file(file, keep, std::filesystem::copy_options::overwrite_existing);
      std::printf("copied the binlog to %s\n", keep.c_str());
    }
  }
  const std::string bytes = ReadFile(file);
  const double mb = static_cast<double>(bytes.size()) / 1e6;
  const std::string name = file.substr(file.rfind('/') + 1);
  std::printf("file %s: %.1f MB; %u hardware threads (%s); load average before: ", file.c_str(), mb,
              std::thread::hardware_concurrency(), CpuModel().c_str());
  {
    std::ifstream load("/proc/loadavg");
    std::string l;
    std::getline(load, l);
    std::printf("%s\n", l.c_str());
  }

  if (flat_only) {
    // For profiling (perf record): the flat decode alone, then with row JSON.
    for (int i = 0; i < repeat; ++i) {
      DecodeResult f = DecodeFlat(bytes, false, nullptr);
      uint64_t json_bytes = 0;
      DecodeResult fj = DecodeFlat(bytes, true, &json_bytes);
      std::printf("flat decode %.3f s (%.0f rows/s); + row JSON %.3f s (%.0f rows/s, %.1f MB)\n",
                  f.seconds, static_cast<double>(f.rows) / f.seconds, fj.seconds,
                  static_cast<double>(fj.rows) / fj.seconds, static_cast<double>(json_bytes) / 1e6);
    }
    return 0;
  }
  DecodeResult decode;
  DecodeResult streaming;
  DecodeResult streaming_json;
  uint64_t streaming_json_bytes = 0;
  DecodeResult flat;
  DecodeResult flat_json;
  uint64_t flat_json_bytes = 0;
  RenderResult render;
  Timing sluicectl{1e99, 1e99}, sluicectl_text{1e99, 1e99}, mariadb{1e99, 1e99};
  const std::string sluicectl_cmd =
      absl::StrCat("'", SluicectlPath(), "' binlog decode --format json '", file, "'");
  const std::string sluicectl_text_cmd =
      absl::StrCat("'", SluicectlPath(), "' binlog decode --format text '", file, "'");
  const std::string mariadb_cmd =
      absl::StrCat("mariadb-binlog -v --base64-output=decode-rows '", file, "'");
  // Best of `repeat`, by CPU time (wall time is kept alongside).
  auto keep_best = [](int i, auto& best, const auto& run) {
    if (i == 0 || run.cpu < best.cpu) best = run;
  };
  auto keep_best_timing = [](Timing& best, const Timing& run) {
    if (run.cpu < best.cpu) best = run;
  };
  for (int i = 0; i < repeat; ++i) {
    keep_best_timing(mariadb, TimeCommand(mariadb_cmd));
    keep_best(i, decode, DecodeOnly(bytes, name));
    keep_best(i, streaming, DecodeStreaming(bytes, false, nullptr));
    keep_best(i, streaming_json, DecodeStreaming(bytes, true, &streaming_json_bytes));
    keep_best(i, flat, DecodeFlat(bytes, false, nullptr));
    keep_best(i, flat_json, DecodeFlat(bytes, true, &flat_json_bytes));
    keep_best(i, render, DecodeAssembleRender(file));
    keep_best_timing(sluicectl, TimeCommand(sluicectl_cmd));
    keep_best_timing(sluicectl_text, TimeCommand(sluicectl_text_cmd));
  }
  const double n = static_cast<double>(decode.rows);
  std::printf("%llu rows in %llu events; best of %d runs (by CPU time), one thread each;\n",
              static_cast<unsigned long long>(decode.rows),
              static_cast<unsigned long long>(decode.events), repeat);
  std::printf("rates and ratios from CPU time (wall-clock rate and ratio in brackets):\n");
  auto line = [&](const char* what, double wall, double cpu) {
    std::printf(
        "  %-55s %6.3f s cpu %6.3f s wall %9.0f rows/s %6.1f MB/s %5.1fx  [%9.0f rows/s %5.1fx]\n",
        what, cpu, wall, n / cpu, mb / cpu, mariadb.cpu / cpu, n / wall, mariadb.wall / wall);
  };
  if (streaming.rows != decode.rows || streaming_json.rows != decode.rows ||
      flat.rows != decode.rows || flat_json.rows != decode.rows) {
    Die("streaming decode", absl::InternalError("row counts differ between decode paths"));
  }
  if (flat_json_bytes != streaming_json_bytes) {
    Die("flat decode", absl::InternalError("flat and protobuf row JSON differ in size"));
  }
  line("reference: mariadb-binlog -v --base64-output=decode-rows", mariadb.wall, mariadb.cpu);
  line("sluice decode, rows as v1::Row (BinlogFileReader)", decode.seconds, decode.cpu);
  line("sluice decode, one reused v1::Row (ForEachRow)", streaming.seconds, streaming.cpu);
  line("  + row JSON (AppendRowJson)", streaming_json.seconds, streaming_json.cpu);
  line("sluice flat decode (ForEachFlatRow)", flat.seconds, flat.cpu);
  line("  + row JSON (AppendFlatRowJson)", flat_json.seconds, flat_json.cpu);
  line("sluice binlog decode --format json, in process", render.seconds, render.cpu);
  line("sluicectl binlog decode --format json > /dev/null", sluicectl.wall, sluicectl.cpu);
  line("sluicectl binlog decode --format text > /dev/null", sluicectl_text.wall,
       sluicectl_text.cpu);
  std::printf("  (JSON output: %llu lines, %.1f MB; the row images' JSON alone: %.1f MB)\n",
              static_cast<unsigned long long>(render.lines),
              static_cast<double>(render.bytes) / 1e6, static_cast<double>(flat_json_bytes) / 1e6);
  {
    std::ifstream load("/proc/loadavg");
    std::string l;
    std::getline(load, l);
    std::printf("load average after: %s\n", l.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  uint64_t rows = 1'000'000;
  int repeat = 3;
  std::string file;
  std::string keep;
  bool flat_only = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--flat-only") {
      flat_only = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "binlog_decode_bench: %s needs a value\n", flag.c_str());
      return 2;
    }
    if (flag == "--rows") {
      rows = std::stoull(argv[i + 1]);
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::stoi(argv[i + 1]));
    } else if (flag == "--file") {
      file = argv[i + 1];
    } else if (flag == "--keep") {
      keep = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: binlog_decode_bench [--rows N] [--repeat R] [--file BINLOG] [--keep "
                   "COPY] [--flat-only]\n");
      return 2;
    }
  }
  return sluice::Main(rows, repeat, file, keep, flat_only);
}
