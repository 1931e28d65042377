// pg_ingest_bench: how fast sluice durably ingests a Postgres change stream, next to
// pg_recvlogical (pgoutput, output to /dev/null) reading the same WAL in the same run.
//
// It starts a throwaway PostgreSQL 15, creates two slots before the workload (one per consumer),
// writes the workload (inserts and updates in transactions of 100 rows), notes the end LSN, then
// times each consumer from start until it has everything up to that LSN: pg_recvlogical with
// --endpos, sluice until its durable checkpoint reaches the LSN. Not a test: it prints figures.
// Usage: pg_ingest_bench [--rows N] [--first sluice|pg_recvlogical] (run both orders: the
// second reader finds the WAL warmer in the page cache)
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "server/pipeline/postgres_source.h"
#include "storage/change_log.h"
#include "storage/test_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

int Main(int rows, bool sluice_first) {
  auto db = testing::TestDatabase::Start(testing::TestDatabase::Kind::kPostgres);
  if (!db.ok()) {
    std::fprintf(stderr, "cannot start postgres: %s\n", std::string(db.status().message()).c_str());
    return 1;
  }
  auto& pg = **db;
  auto exec = [&](const std::string& sql) {
    auto s = pg.Exec(sql);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", sql.c_str(), std::string(s.message()).c_str());
      std::exit(1);
    }
  };
  exec("CREATE TABLE bench (id int PRIMARY KEY, balance bigint, filler text)");
  exec("CREATE PUBLICATION bench_pub FOR TABLE bench");
  exec("SELECT pg_create_logical_replication_slot('sluice_bench', 'pgoutput')");
  exec("SELECT pg_create_logical_replication_slot('recv_bench', 'pgoutput')");
  // pgbench-like: each transaction inserts 50 rows and updates 50.
  const int txns = rows / 100;
  for (int t = 0; t < txns; ++t) {
    const int base = t * 50;
    exec("BEGIN; INSERT INTO bench SELECT g, g, repeat('x', 80) FROM generate_series(" +
         std::to_string(base + 1) + ", " + std::to_string(base + 50) +
         ") g; UPDATE bench SET balance = balance + 1 WHERE id > " + std::to_string(base) +
         " AND id <= " + std::to_string(base + 50) + "; COMMIT");
  }
  auto lsn_rows = pg.Query("SELECT pg_current_wal_lsn()");
  const std::string end_lsn = (*lsn_rows)[0][0];
  auto end = ParseLsn(end_lsn);
  std::printf("pg_ingest_bench: %d change events in %d transactions, WAL end %s\n", txns * 100,
              txns, end_lsn.c_str());

  // pg_recvlogical: decode everything up to the end LSN, output to /dev/null.
  double recv_secs = 0;
  auto run_recv = [&]() -> bool {
    auto t0 = Clock::now();
    auto recv = testing::RunSubprocess({"/usr/lib/postgresql/15/bin/pg_recvlogical",
                                        "-h",
                                        "127.0.0.1",
                                        "-p",
                                        std::to_string(pg.port()),
                                        "-U",
                                        pg.user(),
                                        "-d",
                                        pg.database(),
                                        "--slot",
                                        "recv_bench",
                                        "--start",
                                        "--endpos",
                                        end_lsn,
                                        "-o",
                                        "proto_version=1",
                                        "-o",
                                        "publication_names=bench_pub",
                                        "-f",
                                        "/dev/null",
                                        "--no-loop"},
                                       {{"PGPASSWORD", pg.password()}}, std::chrono::minutes(10));
    recv_secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!recv.ok() || recv->exit_code != 0) {
      std::fprintf(
          stderr, "pg_recvlogical failed: %s\n",
          recv.ok() ? recv->stderr_text.c_str() : std::string(recv.status().message()).c_str());
      return false;
    }
    return true;
  };

  // sluice: connect, decode, append with a WAL sync, until the durable checkpoint reaches the end.
  storage::testing::TempDir dir;
  auto log = *storage::ChangeLog::Open(dir.path());
  auto id = *log->RegisterSource("bench", v1::SOURCE_KIND_POSTGRES);
  config::SourceConfig config;
  config.name = "bench";
  config.kind = v1::SOURCE_KIND_POSTGRES;
  config.host = pg.host();
  config.port = static_cast<uint16_t>(pg.port());
  config.user = pg.user();
  config.password = pg.password();
  config.database = pg.database();
  config.slot = "sluice_bench";
  config.publication = "bench_pub";
  config.tls_mode = "disabled";
  pipeline::SourceRegistry registry;
  pipeline::SourceRuntime runtime;
  runtime.name = "bench";
  registry.Upsert(runtime);
  double sluice_secs = 0;
  auto run_sluice = [&] {
    auto t0 = Clock::now();
    {
      pipeline::PostgresSource source(config, *log, id, registry);
      source.Start();
      while (log->Bounds(id)->last.value() < static_cast<uint64_t>(txns * 100)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    sluice_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  };
  if (sluice_first) run_sluice();
  if (!run_recv()) return 1;
  if (!sluice_first) run_sluice();
  std::printf("order: %s first\n", sluice_first ? "sluice" : "pg_recvlogical");
  const double events = txns * 100.0;
  std::printf("%-52s %10.0f events/s  (%.2f s)\n", "pg_recvlogical (pgoutput -> /dev/null)",
              events / recv_secs, recv_secs);
  std::printf("%-52s %10.0f events/s  (%.2f s)\n", "sluice (pgoutput -> durable change log)",
              events / sluice_secs, sluice_secs);
  std::printf("sluice / pg_recvlogical: %.0f %%\n", 100.0 * recv_secs / sluice_secs);
  (void)end;
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  int rows = 200'000;
  bool sluice_first = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--rows") rows = std::stoi(argv[i + 1]);
    if (std::string(argv[i]) == "--first") sluice_first = std::string(argv[i + 1]) == "sluice";
  }
  return sluice::Main(rows, sluice_first);
}
