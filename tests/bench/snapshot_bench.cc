// snapshot_bench: how fast sluice's initial snapshot reads a table into the durable log, next to
// the database's own client dumping the same table to /dev/null in the same run:
//   MariaDB   mariadb -e 'SELECT * FROM t' > /dev/null
//   Postgres  psql -c 'COPY t TO STDOUT' > /dev/null
// sluice is timed from Start() until the source streams (every chunk durable, WAL synced).
// For MariaDB it also counts the lock statements the server executed during the snapshot
// (Com_flush, Com_lock_tables, Com_unlock_tables): the target is zero.
// Not a test: it prints figures. Usage: snapshot_bench [--rows N] [--chunk N] [--only mariadb|postgres]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>

#include "server/pipeline/mysql_source.h"
#include "server/pipeline/postgres_source.h"
#include "storage/change_log.h"
#include "storage/test_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;
using testing::TestDatabase;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

long MaxRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), std::string(s.message()).c_str());
    std::exit(1);
  }
}

// Runs `command` through sh, output to /dev/null; the wall time in seconds.
double TimeShell(const std::string& command, const std::map<std::string, std::string>& env) {
  const auto start = Clock::now();
  auto r = testing::RunSubprocess({"/bin/sh", "-c", command + " > /dev/null"}, env,
                                  std::chrono::minutes(10));
  const double secs = Seconds(start);
  if (!r.ok() || r->exit_code != 0) {
    std::fprintf(stderr, "%s failed: %s\n", command.c_str(),
                 r.ok() ? r->stderr_text.c_str() : std::string(r.status().message()).c_str());
    std::exit(1);
  }
  return secs;
}

std::map<std::string, uint64_t> LockCounters(TestDatabase& db) {
  std::map<std::string, uint64_t> out;
  auto rows = db.Query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_flush', 'Com_lock_tables', "
      "'Com_unlock_tables', 'Com_lock_tables_for_backup', 'Com_backup_lock')");
  if (rows.ok()) {
    for (const auto& r : *rows) out[r[0]] = std::stoull(r[1]);
  }
  return out;
}

// sluice's snapshot of the whole database into a fresh log; seconds until streaming.
template <typename Source>
double TimeSluice(const config::SourceConfig& config, uint64_t rows) {
  storage::testing::TempDir dir;
  auto log = storage::ChangeLog::Open(dir.path());
  Must(log.status(), "open log");
  auto id = (*log)->RegisterSource(config.name, config.kind);
  Must(id.status(), "register");
  pipeline::SourceRegistry registry;
  pipeline::SourceRuntime runtime;
  runtime.name = config.name;
  runtime.kind = config.kind;
  registry.Upsert(runtime);
  const auto start = Clock::now();
  Source source(config, **log, *id, registry);
  source.Start();
  while (true) {
    const auto snap = registry.Snapshot()[0];
    if (snap.state == v1::SOURCE_STATE_STREAMING) break;
    if (snap.state == v1::SOURCE_STATE_ERROR) {
      std::fprintf(stderr, "sluice: %s\n", snap.last_error.c_str());
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double secs = Seconds(start);
  source.Stop();
  const uint64_t stored = (*log)->Bounds(*id)->last.value();
  if (stored != rows) {
    std::fprintf(stderr, "sluice stored %llu events, expected %llu\n",
                 static_cast<unsigned long long>(stored), static_cast<unsigned long long>(rows));
    std::exit(1);
  }
  return secs;
}

void Report(const char* who, uint64_t rows, double ref_secs, const char* ref_name,
            double sluice_secs) {
  std::printf("%-9s %9llu rows  %-44s %8.0f rows/s (%.2f s)\n", who,
              static_cast<unsigned long long>(rows), ref_name, rows / ref_secs, ref_secs);
  std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s)  = %.0f %% of the reference\n", "", "",
              "sluice snapshot (durable, fsync'd)", rows / sluice_secs, sluice_secs,
              100.0 * ref_secs / sluice_secs);
}

void BenchMariaDb(uint64_t rows, uint32_t chunk) {
  auto db = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  Must(db.status(), "start mariadb");
  TestDatabase& my = **db;
  Must(my.Exec("CREATE TABLE test.bench_snap (id INT PRIMARY KEY, name VARCHAR(40), "
               "amount DECIMAL(12,2), created DATETIME(6), note TEXT)"),
       "create");
  Must(my.Exec("INSERT INTO test.bench_snap SELECT seq, CONCAT('name-', seq), seq / 100, "
               "TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, REPEAT('n', seq % 60) FROM seq_1_to_" +
               std::to_string(rows)),
       "fill");
  const std::string client = "mariadb -h 127.0.0.1 -P " + std::to_string(my.port()) + " -u " +
                             my.user() + " -p" + my.password() +
                             " --skip-ssl -e 'SELECT * FROM test.bench_snap'";
  TimeShell(client, {});  // warm the buffer pool
  const double ref = TimeShell(client, {});

  config::SourceConfig c;
  c.name = "bench";
  c.kind = v1::SOURCE_KIND_MYSQL;
  c.host = my.host();
  c.port = static_cast<uint16_t>(my.port());
  c.user = my.user();
  c.password = my.password();
  c.server_id = 7001;
  c.tls_mode = "disabled";
  c.tables = {"test.bench_snap"};
  c.snapshot_chunk_size = chunk;
  const auto before = LockCounters(my);
  const double ours = TimeSluice<pipeline::MysqlSource>(c, rows);
  const auto after = LockCounters(my);
  Report("mariadb", rows, ref, "mariadb -e 'SELECT * ...' > /dev/null", ours);
  std::printf("%-9s lock statements during the snapshot:", "");
  for (const auto& [name, n] : after) {
    std::printf(" %s +%llu", name.c_str(),
                static_cast<unsigned long long>(n - (before.count(name) ? before.at(name) : 0)));
  }
  std::printf("  (lock held: 0 ms)\n");
}

void BenchPostgres(uint64_t rows, uint32_t chunk) {
  auto db = TestDatabase::Start(TestDatabase::Kind::kPostgres);
  Must(db.status(), "start postgres");
  TestDatabase& pg = **db;
  Must(pg.Exec("CREATE TABLE bench_snap (id int PRIMARY KEY, name varchar(40), "
               "amount numeric(12,2), created timestamp(6), note text)"),
       "create");
  Must(pg.Exec("INSERT INTO bench_snap SELECT g, 'name-' || g, round(g / 100.0, 2), "
               "timestamp '2026-01-01' + g * interval '1 second', repeat('n', g % 60) "
               "FROM generate_series(1, " +
               std::to_string(rows) + ") g"),
       "fill");
  Must(pg.Exec("VACUUM ANALYZE bench_snap"), "vacuum");
  Must(pg.Exec("CREATE PUBLICATION bench_pub FOR TABLE bench_snap"), "publication");
  const std::string client = "psql -h 127.0.0.1 -p " + std::to_string(pg.port()) + " -U " +
                             pg.user() + " -d " + pg.database() +
                             " -c 'COPY bench_snap TO STDOUT'";
  const std::map<std::string, std::string> env = {{"PGPASSWORD", pg.password()}};
  TimeShell(client, env);
  const double ref = TimeShell(client, env);

  config::SourceConfig c;
  c.name = "bench";
  c.kind = v1::SOURCE_KIND_POSTGRES;
  c.host = pg.host();
  c.port = static_cast<uint16_t>(pg.port());
  c.user = pg.user();
  c.password = pg.password();
  c.database = pg.database();
  c.slot = "bench_slot";
  c.publication = "bench_pub";
  c.tls_mode = "disabled";
  c.snapshot_chunk_size = chunk;
  const double ours = TimeSluice<pipeline::PostgresSource>(c, rows);
  Report("postgres", rows, ref, "psql -c 'COPY ... TO STDOUT' > /dev/null", ours);
}

int Main(int argc, char** argv) {
  uint64_t rows = 1'000'000;
  uint32_t chunk = 10'000;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--chunk")) chunk = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  std::printf("snapshot_bench: %llu rows (id, varchar, decimal, datetime, text), chunks of %u\n",
              static_cast<unsigned long long>(rows), chunk);
  if (only.empty() || only == "mariadb") BenchMariaDb(rows, chunk);
  if (only.empty() || only == "postgres") BenchPostgres(rows, chunk);
  std::printf("max RSS of this process (server side of sluice included): %ld MiB\n", MaxRssMiB());
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
