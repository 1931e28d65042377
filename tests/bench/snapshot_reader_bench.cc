// snapshot_reader_bench: the snapshot reader alone (every chunk read and encoded, nothing
// stored), next to the database's own client dumping the same table in the same run:
//   MariaDB   mariadb -e 'SELECT * FROM db.t' > /dev/null
//   Postgres  psql -c 'COPY schema.t TO STDOUT' > /dev/null
// Against a server that is already running (e.g. tests/testdb/testdb.sh start ...), so that
// runs of two builds can alternate against the same table. For each run it prints the wall
// time, the "own cpu" (the client's process, or this process for the reader: its parse +
// encode), and, with --server-pid, the CPU time the database server spent (that pid and its
// children, live or reaped: the postmaster with its backends, or mariadbd). With --digest it also prints a digest of every encoded event
// (body and table-state key), so two builds can be checked to encode exactly the same bytes
// (the digest's own CPU time is then in the reader's).
// Not a test: it prints figures.
//
// Usage: snapshot_reader_bench --url URL --table db.t [--runs N] [--chunk N] [--fill N]
//                              [--server-pid PID] [--no-client] [--digest]
//                              [--pg-format binary|text|both] [--my-protocol binary|text|both]
//                              [--pg-queries table|chunk|both]
//   --pg-format  the Postgres reader's COPY format (default binary, as sluiced reads); `both`
//             runs the text and the binary reader one after the other in each run, so their
//             CPU and digests compare under the same load.
//   --pg-queries  table (default, as the initial snapshot reads): one COPY stream per table cut
//             into chunks; chunk: one COPY (... LIMIT n) per chunk (as the watermark re-snapshot
//             reads); `both` runs the two one after the other in each run.
//   --my-protocol  the MariaDB reader's protocol (default binary, prepared statements, as
//             sluiced reads; text: COM_QUERY); `both` runs the two one after the other.
//   --fill N  first creates db.t as snapshot_bench does (id, varchar, decimal, datetime, text)
//             with N rows (dropping any table of that name).
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/config/source_config.h"
#include "server/pipeline/mysql_snapshot.h"
#include "server/pipeline/postgres_snapshot.h"
#include "server/pipeline/source_support.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double CpuOf(const rusage& u) {
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double SelfCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return CpuOf(u);
}

double ChildrenCpu() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return CpuOf(u);
}

// Fields of /proc/PID/stat after the command name: (3) state, (4) ppid, ... (14) utime,
// (15) stime, (16) cutime, (17) cstime. Returns false if the process is gone.
bool ReadStat(pid_t pid, long& ppid, double& own, double& reaped) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  long v[15] = {};
  fields >> state;
  for (long& x : v) fields >> x;  // fields 4..18
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  ppid = v[0];
  own = (v[10] + v[11]) / tick;
  reaped = (v[12] + v[13]) / tick;
  return true;
}

// CPU seconds of `server` and its children (live, and reaped ones through cutime/cstime).
double ServerCpu(pid_t server) {
  if (server <= 0) return 0;
  long ppid = 0;
  double own = 0, reaped = 0;
  if (!ReadStat(server, ppid, own, reaped)) return 0;
  double total = own + reaped;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* e = readdir(proc)) {
      const long pid = std::strtol(e->d_name, nullptr, 10);
      if (pid <= 0 || pid == server) continue;
      double child_own = 0, child_reaped = 0;
      if (ReadStat(static_cast<pid_t>(pid), ppid, child_own, child_reaped) && ppid == server) {
        total += child_own + child_reaped;
      }
    }
    closedir(proc);
  }
  return total;
}

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), std::string(s.message()).c_str());
    std::exit(1);
  }
}

// FNV-1a over every event's body and row key, in order.
struct Digest {
  uint64_t h = 1469598103934665603ull;
  void Add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xFF;  // separator
    h *= 1099511628211ull;
  }
};

struct ReaderRun {
  double secs = 0;
  uint64_t rows = 0;
  uint64_t digest = 0;
};

ReaderRun RunReader(pipeline::SnapshotReader& reader, storagepb::SnapshotTable table,
                    uint32_t chunk, bool with_digest) {
  ReaderRun out;
  Digest digest;
  const auto start = Clock::now();
  while (true) {
    auto got = reader.ReadEncodedChunk(table, chunk);
    Must(got.status(), "read chunk");
    for (size_t i = 0; with_digest && i < got->rows.size(); ++i) {
      digest.Add(got->rows.body(i));
      digest.Add(got->rows.row_key(i));
    }
    out.rows += got->rows.size();
    table.set_rows_done(out.rows);
    if (got->rows.size() < chunk) break;
    table.clear_last_key();
    for (auto& k : got->last_key) table.add_last_key(k);
  }
  out.secs = Seconds(start);
  out.digest = digest.h;
  return out;
}

struct Measured {
  double secs = 0, own_cpu = 0, server_cpu = 0;
};

void Print(const char* what, uint64_t rows, const Measured& m, const std::string& extra) {
  std::printf("  %-38s %9.0f rows/s  wall %5.2f s  own cpu %5.2f s  server cpu %5.2f s%s\n",
              what, rows / m.secs, m.secs, m.own_cpu, m.server_cpu, extra.c_str());
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  std::string url, table_name;
  int runs = 3;
  uint32_t chunk = 10'000;
  uint64_t fill = 0;
  pid_t server_pid = 0;
  bool client = true;
  bool with_digest = false;
  std::string pg_format = "binary";
  std::string my_protocol = "binary";
  std::string pg_queries = "table";
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--url") && has_value) {
      url = argv[++i];
    } else if (!std::strcmp(argv[i], "--table") && has_value) {
      table_name = argv[++i];
    } else if (!std::strcmp(argv[i], "--runs") && has_value) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--chunk") && has_value) {
      chunk = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (!std::strcmp(argv[i], "--fill") && has_value) {
      fill = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--server-pid") && has_value) {
      server_pid = static_cast<pid_t>(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--no-client")) {
      client = false;
    } else if (!std::strcmp(argv[i], "--digest")) {
      with_digest = true;
    } else if (!std::strcmp(argv[i], "--pg-format") && has_value) {
      pg_format = argv[++i];
    } else if (!std::strcmp(argv[i], "--pg-queries") && has_value) {
      pg_queries = argv[++i];
    } else if (!std::strcmp(argv[i], "--my-protocol") && has_value) {
      my_protocol = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: snapshot_reader_bench --url URL --table db.t [--runs N] [--chunk N] "
                   "[--fill N] [--server-pid PID] [--no-client] [--digest] "
                   "[--pg-format binary|text|both] [--my-protocol binary|text|both] "
                   "[--pg-queries table|chunk|both]\n");
      return 2;
    }
  }
  const size_t dot = table_name.find('.');
  if (url.empty() || dot == std::string::npos) {
    std::fprintf(stderr, "--url and --table db.t are required\n");
    return 2;
  }
  auto config = config::ParseSourceUrl(url);
  Must(config.status(), "--url");
  config->tls_mode = "disabled";
  const bool postgres = config->kind == v1::SOURCE_KIND_POSTGRES;
  const std::string db = table_name.substr(0, dot), name = table_name.substr(dot + 1);

  std::unique_ptr<pgclient::ReplicationConnection> pg;
  std::unique_ptr<mysqlclient::MysqlConnection> my;
  const postgres::TypeResolver resolver;
  // The readers each run times, with their labels.
  std::vector<std::pair<std::string, std::unique_ptr<pipeline::SnapshotReader>>> readers;
  storagepb::SnapshotTable table;
  std::string client_command;
  if (postgres) {
    auto conn = pgclient::ReplicationConnection::Connect(
        pipeline::PostgresConnectParams(*config, /*replication=*/false));
    Must(conn.status(), "connect");
    pg = *std::move(conn);
    if (fill > 0) {
      const std::string t = absl::StrCat(pg->QuoteIdentifier(db), ".", pg->QuoteIdentifier(name));
      Must(pg->Query(absl::StrCat("DROP TABLE IF EXISTS ", t)).status(), "drop");
      Must(pg->Query(absl::StrCat("CREATE TABLE ", t,
                                  " (id int PRIMARY KEY, name varchar(40), amount numeric(12,2), "
                                  "created timestamp(6), note text)"))
               .status(),
           "create");
      Must(pg->Query(absl::StrCat("INSERT INTO ", t,
                                  " SELECT g, 'name-' || g, round(g / 100.0, 2), timestamp "
                                  "'2026-01-01' + g * interval '1 second', repeat('n', g % 60) "
                                  "FROM generate_series(1, ",
                                  fill, ") g"))
               .status(),
           "fill");
      Must(pg->Query(absl::StrCat("VACUUM ANALYZE ", t)).status(), "vacuum");
    }
    Must(pipeline::OpenPostgresSnapshot(*pg, ""), "open snapshot");
    table.set_database(db);
    table.set_table(name);
    table.add_key_columns("id");
    using Reader = pipeline::PostgresSnapshotReader;
    for (const char* queries : {"chunk", "table"}) {
      if (pg_queries != "both" && pg_queries != queries) continue;
      for (const char* format : {"text", "binary"}) {
        if (pg_format != "both" && pg_format != format) continue;
        auto r = std::make_unique<Reader>(*pg, resolver);
        r->set_copy_format(std::string(format) == "text" ? Reader::CopyFormat::kText
                                                         : Reader::CopyFormat::kBinary);
        r->set_chunk_queries(std::string(queries) == "table" ? Reader::ChunkQueries::kOnePerTable
                                                             : Reader::ChunkQueries::kOnePerChunk);
        readers.emplace_back(absl::StrCat("reader alone, COPY ", format, ", per ", queries),
                             std::move(r));
      }
    }
    if (readers.empty()) {
      std::fprintf(stderr, "--pg-format: binary, text or both; --pg-queries: table, chunk or both\n");
      return 2;
    }
    client_command = absl::StrCat("PGPASSWORD='", config->password, "' psql -h ", config->host,
                                  " -p ", config->port, " -U ", config->user, " -d ",
                                  config->database, " -c 'COPY ", table_name, " TO STDOUT'");
  } else {
    auto options = pipeline::MysqlConnectOptions(*config, std::chrono::seconds(10));
    Must(options.status(), "connect options");
    auto conn = mysqlclient::MysqlConnection::Connect(*options);
    Must(conn.status(), "connect");
    my = *std::move(conn);
    if (fill > 0) {
      const std::string t = absl::StrCat(pipeline::QuoteMysqlIdentifier(db), ".",
                                         pipeline::QuoteMysqlIdentifier(name));
      Must(my->Query(absl::StrCat("USE ", pipeline::QuoteMysqlIdentifier(db))).status(), "use");
      Must(my->Query(absl::StrCat("DROP TABLE IF EXISTS ", t)).status(), "drop");
      Must(my->Query(absl::StrCat("CREATE TABLE ", t,
                                  " (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12,2), "
                                  "created DATETIME(6), note TEXT)"))
               .status(),
           "create");
      Must(my->Query(absl::StrCat("INSERT INTO ", t,
                                  " SELECT seq, CONCAT('name-', seq), seq / 100, "
                                  "TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, "
                                  "REPEAT('n', seq % 60) FROM seq_1_to_",
                                  fill))
               .status(),
           "fill");
    }
    Must(pipeline::OpenMysqlSnapshot(*my, true, false).status(), "open snapshot");
    auto tables = pipeline::ListMysqlTables(*my, [&](std::string_view d, std::string_view t) {
      return d == db && t == name;
    });
    Must(tables.status(), "list tables");
    if (tables->empty()) {
      std::fprintf(stderr, "no table %s\n", table_name.c_str());
      return 1;
    }
    table = (*tables)[0];
    for (const char* protocol : {"text", "binary"}) {
      if (my_protocol != "both" && my_protocol != protocol) continue;
      auto r = std::make_unique<pipeline::MysqlSnapshotReader>(*my);
      if (std::string(protocol) == "text") r->set_protocol(pipeline::MysqlRowProtocol::kText);
      readers.emplace_back(absl::StrCat("reader alone, ", protocol, " protocol"), std::move(r));
    }
    if (readers.empty()) {
      std::fprintf(stderr, "--my-protocol: binary, text or both\n");
      return 2;
    }
    client_command = absl::StrCat("mariadb -h ", config->host, " -P ", config->port, " -u ",
                                  config->user, " -p'", config->password,
                                  "' --skip-ssl -e 'SELECT * FROM ", table_name, "'");
  }
  client_command += " > /dev/null";
  if (client && std::system(client_command.c_str()) != 0) {  // warm-up
    std::fprintf(stderr, "%s failed\n", client_command.c_str());
    return 1;
  }
  std::printf("snapshot_reader_bench: %s, chunks of %u\n", table_name.c_str(), chunk);
  for (int run = 1; run <= runs; ++run) {
    std::printf("run %d of %d\n", run, runs);
    Measured c;
    if (client) {
      const double children = ChildrenCpu(), server = ServerCpu(server_pid);
      const auto start = Clock::now();
      if (std::system(client_command.c_str()) != 0) return 1;
      c.secs = Seconds(start);
      // The server may still be ending the client's session (a Postgres backend outlives psql
      // for a moment): let it finish, so its time is not counted as the reader's.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      c.own_cpu = ChildrenCpu() - children;
      c.server_cpu = ServerCpu(server_pid) - server;
    }
    for (auto& [label, reader] : readers) {
      Measured m;
      const double self = SelfCpu(), server = ServerCpu(server_pid);
      const ReaderRun r = RunReader(*reader, table, chunk, with_digest);
      m.secs = r.secs;
      m.own_cpu = SelfCpu() - self;
      m.server_cpu = ServerCpu(server_pid) - server;
      // The client dumps the same rows (the whole table) as the reader.
      if (client && &reader == &readers.front().second) {
        Print(postgres ? "psql COPY" : "mariadb -e SELECT", r.rows, c, "");
      }
      char digest[64];
      std::snprintf(digest, sizeof digest, "  %llu rows",
                    static_cast<unsigned long long>(r.rows));
      if (with_digest) {
        std::snprintf(digest, sizeof digest, "  %llu rows, digest %016llx",
                      static_cast<unsigned long long>(r.rows),
                      static_cast<unsigned long long>(r.digest));
      }
      Print(label.c_str(), r.rows, m,
            client ? absl::StrCat(digest, absl::StrFormat("  = %.2fx the client", c.secs / m.secs))
                   : std::string(digest));
    }
  }
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  std::printf("max RSS of this process: %ld MiB\n", u.ru_maxrss / 1024);
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
