// snapshot_bench: how fast sluice's initial snapshot reads a table into the durable log, next to
// the database's own client dumping the same table to /dev/null in the same run:
//   MariaDB   mariadb -e 'SELECT * FROM t' > /dev/null
//   Postgres  psql -c 'COPY t TO STDOUT' > /dev/null
// sluice is timed from Start() until the source streams (every chunk durable: the snapshot's
// chunks are stored by bulk ingestion, ChangeLog::AppendSnapshotChunkAsync).
// For MariaDB it also counts the lock statements the server executed during the snapshot
// (Com_flush, Com_lock_tables, Com_unlock_tables): the target is zero.
// With --stages it also times the two halves apart: the reader alone (every chunk read and
// encoded, nothing stored) and the log alone (the same number of encoded rows appended).
// Not a test: it prints figures.
// --no-table-state runs sluice with table_state=false (no latest-row state beside the log).
// --runs N repeats the client, sluice and the stages N times against the same server.
// --ingest-rows N sets ChangeLogOptions::ingest_rows (rows per bulk ingestion) of the sluice run.
// --save-sample FILE (with --stages) writes the first read chunk of each source to FILE.mariadb /
// FILE.postgres; --sample FILE then times only the log-alone stages on that chunk, without a
// database (for profilers: perf, callgrind); --bulk-only skips the WAL stages there.
// Usage: snapshot_bench [--rows N] [--chunk N] [--only mariadb|postgres] [--stages]
//                       [--no-table-state] [--runs N] [--ingest-rows N] [--save-sample FILE]
//        snapshot_bench --sample FILE.postgres [--rows N] [--runs N] [--bulk-only]
#include <rocksdb/db.h>
#include <rocksdb/sst_file_writer.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "server/pipeline/mysql_snapshot.h"
#include "server/pipeline/mysql_source.h"
#include "server/pipeline/postgres_snapshot.h"
#include "server/pipeline/postgres_source.h"
#include "server/pipeline/source_support.h"
#include "storage/change_log.h"
#include "storage/test_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

// --no-table-state: the sluice run keeps no table state (table_state=false).
bool g_table_state = true;
// --ingest-experiment (with --stages): also times TimeIngest.
bool g_ingest_experiment = false;
// --runs N: the client, sluice (and --stages) timed N times against the same database server.
int g_runs = 1;
// --ingest-rows N: 0 keeps ChangeLogOptions' default.
size_t g_ingest_rows = 0;
// --save-sample FILE: the stages' sample chunk is written to FILE.<source>.
std::string g_save_sample;
// Bytes of the data dir after the last TimeLog (SST files, WAL, MANIFEST).
uint64_t g_last_disk_bytes = 0;
// CPU seconds of this process (sluice's reader, writer and RocksDB threads: the database server
// is another process) during the last TimeSluice.
double g_last_sluice_cpu = 0;
using testing::TestDatabase;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU seconds (user + system) of this process so far, every thread (RocksDB's included).
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds of the calling thread alone (the producer in TimeLog: copies of the sample and
// ChangeLog's appending-thread work); the rest of ProcessCpuSeconds is the log's writer thread
// and RocksDB's.
double ThreadCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The system (kernel) part of ProcessCpuSeconds.
double ProcessSystemSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
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
  storage::ChangeLogOptions options;
  if (g_ingest_rows != 0) options.ingest_rows = g_ingest_rows;
  auto log = storage::ChangeLog::Open(dir.path(), options);
  Must(log.status(), "open log");
  auto id = (*log)->RegisterSource(config.name, config.kind);
  Must(id.status(), "register");
  if (!g_table_state) Must((*log)->SetTableState(*id, false), "table state off");
  pipeline::SourceRegistry registry;
  pipeline::SourceRuntime runtime;
  runtime.name = config.name;
  runtime.kind = config.kind;
  registry.Upsert(runtime);
  const auto start = Clock::now();
  const double cpu = ProcessCpuSeconds();
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
  g_last_sluice_cpu = ProcessCpuSeconds() - cpu;
  source.Stop();
  const uint64_t stored = (*log)->Bounds(*id)->last.value();
  if (stored != rows) {
    std::fprintf(stderr, "sluice stored %llu events, expected %llu\n",
                 static_cast<unsigned long long>(stored), static_cast<unsigned long long>(rows));
    std::exit(1);
  }
  return secs;
}

// The reader alone: every chunk of `table` read and encoded, nothing stored.
double TimeReader(pipeline::SnapshotReader& reader, storagepb::SnapshotTable table, uint32_t chunk,
                  std::vector<storage::EncodedEvent>* first_chunk) {
  const auto start = Clock::now();
  uint64_t rows = 0;
  while (true) {
    auto got = reader.ReadEncodedChunk(table, chunk);
    Must(got.status(), "read chunk");
    const storage::EncodedChunk& got_rows = got->rows;
    rows += got_rows.size();
    table.set_rows_done(rows);
    if (got_rows.size() < chunk) break;
    table.clear_last_key();
    for (auto& k : got->last_key) table.add_last_key(k);
    if (first_chunk != nullptr && first_chunk->empty()) {
      for (size_t i = 0; i < got_rows.size(); ++i) {
        storage::EncodedEvent& e = first_chunk->emplace_back();
        e.body = got_rows.body(i);
        e.row_key = std::string(got_rows.row_key(i));
        e.table = pipeline::QualifiedName(table);
        e.op = v1::OP_READ;
      }
    }
  }
  return Seconds(start);
}

// The log alone: `rows` events appended in transactions of `chunk` (copies of one read chunk),
// WAL synced, two appends in flight as in RunSnapshot.
// `bulk`: by bulk ingestion (AppendSnapshotChunkAsync, as the snapshot stores its chunks), the
// window freed when a chunk is in the ingestion's files; otherwise by the WAL (AppendEncodedAsync).
double TimeLog(const std::vector<storage::EncodedEvent>& sample, uint64_t rows, bool state = true,
               bool bulk = false) {
  storage::testing::TempDir dir;
  storage::ChangeLogOptions options;
  if (g_ingest_rows != 0) options.ingest_rows = g_ingest_rows;
  auto log = storage::ChangeLog::Open(dir.path(), options);
  Must(log.status(), "open log");
  auto id = (*log)->RegisterSource("bench", v1::SOURCE_KIND_MYSQL);
  Must(id.status(), "register");
  if (!state) Must((*log)->SetTableState(*id, false), "table state off");
  v1::SourceInfo info;
  info.set_name("bench");
  info.set_snapshot(true);
  if (!sample.empty()) {  // a snapshot chunk's commit info names its table
    const std::string& table = sample[0].table;
    info.set_schema(table.substr(0, table.find('.')));
    info.set_table(table.substr(table.find('.') + 1));
  }
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int pending = 0;  // bulk: chunks not yet durable
  const auto start = Clock::now();
  for (uint64_t done = 0; done < rows; done += sample.size()) {
    std::vector<storage::EncodedEvent> events = sample;
    // The copies' table-state keys move up by `done`, as a real snapshot's do (repeated keys
    // would make every memtable insert a random one). The bench table's key is one int
    // column: row_key = 0x03, then the value ^ 2^63 as 8 big-endian bytes.
    for (storage::EncodedEvent& e : events) {
      if (!e.row_key || e.row_key->size() != 9) continue;
      uint64_t v = 0;
      for (int i = 1; i < 9; ++i) v = (v << 8) | static_cast<uint8_t>((*e.row_key)[i]);
      v += done;
      for (int i = 8; i >= 1; --i, v >>= 8) (*e.row_key)[i] = static_cast<char>(v & 0xFF);
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight < 2; });
      ++in_flight;
    }
    auto release = [&] {
      std::lock_guard<std::mutex> lock(mu);
      --in_flight;
      cv.notify_all();
    };
    if (bulk) {
      ++pending;
      (*log)->AppendSnapshotChunkAsync(*id, storage::testing::ToChunk(events), info, {},
                                       done + sample.size() >= rows, release, [&](auto r) {
                                         Must(r.status(), "append");
                                         std::lock_guard<std::mutex> lock(mu);
                                         --pending;
                                         cv.notify_all();
                                       });
    } else {
      (*log)->AppendEncodedAsync(*id, std::move(events), info, {}, [&, release](auto r) mutable {
        Must(r.status(), "append");
        release();
      });
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return in_flight == 0 && pending == 0; });
  const double secs = Seconds(start);
  lock.unlock();
  log->reset();  // closed: what stays on disk
  g_last_disk_bytes = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (f.is_regular_file()) g_last_disk_bytes += f.file_size();
  }
  return secs;
}

// --save-sample / --sample: a chunk of encoded events in a file (op, table, row key, body).
void SaveSample(const std::vector<storage::EncodedEvent>& sample, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  auto put = [&](const std::string& s) {
    const uint64_t n = s.size();
    out.write(reinterpret_cast<const char*>(&n), sizeof n);
    out.write(s.data(), static_cast<std::streamsize>(n));
  };
  for (const storage::EncodedEvent& e : sample) {
    const uint64_t head = static_cast<uint64_t>(e.op) | (e.row_key ? uint64_t{1} << 32 : 0);
    out.write(reinterpret_cast<const char*>(&head), sizeof head);
    put(e.table);
    put(e.row_key.value_or(""));
    put(e.body);
  }
  if (!out) Must(absl::InternalError("write failed"), "save sample " + path);
}

std::vector<storage::EncodedEvent> LoadSample(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Must(absl::NotFoundError("cannot open"), "load sample " + path);
  auto get = [&](std::string& s) {
    uint64_t n = 0;
    in.read(reinterpret_cast<char*>(&n), sizeof n);
    if (!in || n > (uint64_t{1} << 30)) return false;
    s.resize(n);
    in.read(s.data(), static_cast<std::streamsize>(n));
    return static_cast<bool>(in);
  };
  std::vector<storage::EncodedEvent> sample;
  uint64_t head = 0;
  while (in.read(reinterpret_cast<char*>(&head), sizeof head)) {
    storage::EncodedEvent& e = sample.emplace_back();
    e.op = static_cast<v1::Op>(head & 0xFFFFFFFF);
    std::string key;
    if (!get(e.table) || !get(key) || !get(e.body)) {
      Must(absl::DataLossError("truncated"), "load sample " + path);
    }
    if (head >> 32) e.row_key = std::move(key);
  }
  return sample;
}

// --ingest-experiment: what bulk ingestion could save. The same rows as TimeLog written as
// RocksDB SST files, one per column family per chunk (log records, table-state rows and a
// one-key "checkpoint" file), each chunk's files ingested atomically with IngestExternalFiles
// (move_files), in place of a WAL write + memtable inserts + flush. Raw RocksDB, not the
// ChangeLog: an upper bound of the gain, not a design.
double TimeIngest(const std::vector<storage::EncodedEvent>& sample, uint64_t rows) {
  storage::testing::TempDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", rocksdb::ColumnFamilyOptions()},
      {"table", rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto rs = rocksdb::DB::Open(options, dir.path() + "/db", cfs, &handles, &raw);
  if (!rs.ok()) Must(absl::InternalError(rs.ToString()), "open rocksdb");
  std::unique_ptr<rocksdb::DB> db(raw);
  auto check = [](const rocksdb::Status& st, const char* what) {
    if (!st.ok()) Must(absl::InternalError(st.ToString()), what);
  };
  auto be = [](uint64_t v, int bytes, std::string& out) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  const std::string table_prefix =
      std::string("\0\0\0\1", 4) + "test.bench_snap" + std::string("\0\1", 2);
  std::string key;
  std::string value;
  uint64_t offset = 0;
  int file = 0;
  const auto start = Clock::now();
  for (uint64_t done = 0; done < rows; done += sample.size()) {
    std::vector<rocksdb::IngestExternalFileArg> args(3);
    rocksdb::SstFileWriter log_w(rocksdb::EnvOptions(), options, handles[1]);
    rocksdb::SstFileWriter table_w(rocksdb::EnvOptions(), options, handles[2]);
    rocksdb::SstFileWriter meta_w(rocksdb::EnvOptions(), options, handles[0]);
    const std::string base = dir.path() + "/chunk" + std::to_string(file++);
    check(log_w.Open(base + ".log.sst"), "open log sst");
    check(table_w.Open(base + ".table.sst"), "open table sst");
    check(meta_w.Open(base + ".meta.sst"), "open meta sst");
    // Table-state keys: the sample's row keys moved up by `done` (as TimeLog does), in order.
    for (const storage::EncodedEvent& e : sample) {
      ++offset;
      key.clear();
      be(1, 4, key);
      be(offset, 8, key);
      value.clear();
      be(offset, 8, value);  // stands for the record header and assigned fields
      value.append(e.body);
      check(log_w.Put(key, value), "log put");
      if (!e.row_key || e.row_key->size() != 9) continue;
      uint64_t v = 0;
      for (int i = 1; i < 9; ++i) v = (v << 8) | static_cast<uint8_t>((*e.row_key)[i]);
      key = table_prefix;
      key.push_back((*e.row_key)[0]);
      be(v + done, 8, key);
      check(table_w.Put(key, value), "table put");
    }
    check(meta_w.Put("state/bench", std::to_string(offset)), "meta put");
    check(log_w.Finish(), "finish log sst");
    check(table_w.Finish(), "finish table sst");
    check(meta_w.Finish(), "finish meta sst");
    const char* suffix[3] = {".log.sst", ".table.sst", ".meta.sst"};
    rocksdb::ColumnFamilyHandle* cf[3] = {handles[1], handles[2], handles[0]};
    for (int i = 0; i < 3; ++i) {
      args[i].column_family = cf[i];
      args[i].external_files = {base + suffix[i]};
      args[i].options.move_files = true;
    }
    check(db->IngestExternalFiles(args), "ingest");
  }
  const double secs = Seconds(start);
  for (auto* h : handles) check(db->DestroyColumnFamilyHandle(h), "close cf");
  return secs;
}

// --stages: times the reader alone over `table`, then the log alone (with and without table
// state, and by bulk ingestion with it) on copies of its first chunk, and prints the four.
void TimeAndReportStages(pipeline::SnapshotReader& reader, const storagepb::SnapshotTable& table,
                         uint32_t chunk, uint64_t rows, const char* source) {
  std::vector<storage::EncodedEvent> sample;
  double cpu = ProcessCpuSeconds();
  const double reader_secs = TimeReader(reader, table, chunk, &sample);
  const double reader_cpu = ProcessCpuSeconds() - cpu;
  if (!g_save_sample.empty()) SaveSample(sample, g_save_sample + "." + source);
  cpu = ProcessCpuSeconds();
  const double log_secs = TimeLog(sample, rows);
  const double log_cpu = ProcessCpuSeconds() - cpu;
  cpu = ProcessCpuSeconds();
  const double no_state_secs = TimeLog(sample, rows, false);
  const double no_state_cpu = ProcessCpuSeconds() - cpu;
  // CPU: of this process (all threads) during the stage; less sensitive than the wall time to
  // the other work on the machine.
  std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s)\n", "", "",
              "stage: reader alone (read + encode)", rows / reader_secs, reader_secs, reader_cpu);
  std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s)\n", "", "",
              "stage: log alone (append, fsync'd)", rows / log_secs, log_secs, log_cpu);
  std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s)\n", "", "",
              "stage: log alone, table state off", rows / no_state_secs, no_state_secs,
              no_state_cpu);
  cpu = ProcessCpuSeconds();
  const double bulk_secs = TimeLog(sample, rows, true, true);
  const double bulk_cpu = ProcessCpuSeconds() - cpu;
  std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s, %.1f MiB on disk)\n", "", "",
              "stage: log alone, bulk ingestion (snapshot)", rows / bulk_secs, bulk_secs, bulk_cpu,
              g_last_disk_bytes / 1048576.0);
  if (g_ingest_experiment) {
    cpu = ProcessCpuSeconds();
    const double ingest_secs = TimeIngest(sample, rows);
    const double ingest_cpu = ProcessCpuSeconds() - cpu;
    std::printf("%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s)\n", "", "",
                "experiment: raw SST ingest, log + state", rows / ingest_secs, ingest_secs,
                ingest_cpu);
  }
}

// --sample FILE: the log-alone stages on a saved chunk, no database.
void BenchSample(const std::string& path, uint64_t rows, bool bulk_only) {
  const std::vector<storage::EncodedEvent> sample = LoadSample(path);
  if (sample.empty()) Must(absl::InvalidArgumentError("no events"), "load sample " + path);
  size_t body = 0;
  size_t key = 0;
  for (const storage::EncodedEvent& e : sample) {
    body += e.body.size();
    key += e.row_key ? e.row_key->size() : 0;
  }
  std::printf("sample %s: %zu events, body %.1f bytes, row key %.1f bytes on average\n",
              path.c_str(), sample.size(), static_cast<double>(body) / sample.size(),
              static_cast<double>(key) / sample.size());
  for (int run = 1; run <= g_runs; ++run) {
    auto stage = [&](const char* name, bool state, bool bulk) {
      const double cpu = ProcessCpuSeconds();
      const double sys = ProcessSystemSeconds();
      const double own = ThreadCpuSeconds();
      const double secs = TimeLog(sample, rows, state, bulk);
      const double used = ProcessCpuSeconds() - cpu;
      const double log_used = used - (ThreadCpuSeconds() - own);
      const double used_sys = ProcessSystemSeconds() - sys;
      std::printf(
          "%-44s %8.0f rows/s (%.2f s, cpu %.2f s, system %.2f s; the log's threads "
          "%.2f s per 1M rows; %.1f MiB on disk)\n",
          name, rows / secs, secs, used, used_sys, log_used * 1e6 / rows,
          g_last_disk_bytes / 1048576.0);
      std::fflush(stdout);
    };
    if (!bulk_only) {
      stage("stage: log alone (append, fsync'd)", true, false);
      stage("stage: log alone, table state off", false, false);
    }
    stage("stage: log alone, bulk ingestion (snapshot)", true, true);
  }
}

void Report(const char* who, uint64_t rows, double ref_secs, const char* ref_name,
            double sluice_secs) {
  std::printf("%-9s %9llu rows  %-44s %8.0f rows/s (%.2f s)\n", who,
              static_cast<unsigned long long>(rows), ref_name, rows / ref_secs, ref_secs);
  std::printf(
      "%-9s %9s       %-44s %8.0f rows/s (%.2f s, cpu %.2f s)  = %.0f %% of the reference\n", "",
      "", "sluice snapshot (durable, fsync'd)", rows / sluice_secs, sluice_secs, g_last_sluice_cpu,
      100.0 * ref_secs / sluice_secs);
}

void BenchMariaDb(uint64_t rows, uint32_t chunk, bool stages) {
  auto db = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  Must(db.status(), "start mariadb");
  TestDatabase& my = **db;
  Must(my.Exec("CREATE TABLE test.bench_snap (id INT PRIMARY KEY, name VARCHAR(40), "
               "amount DECIMAL(12,2), created DATETIME(6), note TEXT)"),
       "create");
  Must(my.Exec(
           "INSERT INTO test.bench_snap SELECT seq, CONCAT('name-', seq), seq / 100, "
           "TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, REPEAT('n', seq % 60) FROM seq_1_to_" +
           std::to_string(rows)),
       "fill");
  const std::string client = "mariadb -h 127.0.0.1 -P " + std::to_string(my.port()) + " -u " +
                             my.user() + " -p" + my.password() +
                             " --skip-ssl -e 'SELECT * FROM test.bench_snap'";
  TimeShell(client, {});  // warm the buffer pool
  for (int run = 1; run <= g_runs; ++run) {
    if (g_runs > 1) std::printf("mariadb run %d of %d\n", run, g_runs);
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
    if (stages) {
      auto options = pipeline::MysqlConnectOptions(c, std::chrono::seconds(10));
      Must(options.status(), "connect options");
      auto conn = mysqlclient::MysqlConnection::Connect(*options);
      Must(conn.status(), "connect");
      Must(pipeline::OpenMysqlSnapshot(**conn, true, false).status(), "open snapshot");
      auto tables = pipeline::ListMysqlTables(
          **conn, [](std::string_view db, std::string_view t) { return t == "bench_snap"; });
      Must(tables.status(), "list tables");
      pipeline::MysqlSnapshotReader reader(**conn);
      TimeAndReportStages(reader, (*tables)[0], chunk, rows, "mariadb");
    }
    std::printf("%-9s lock statements during the snapshot:", "");
    for (const auto& [name, n] : after) {
      std::printf(" %s +%llu", name.c_str(),
                  static_cast<unsigned long long>(n - (before.count(name) ? before.at(name) : 0)));
    }
    std::printf("  (lock held: 0 ms)\n");
    std::fflush(stdout);
  }
}

void BenchPostgres(uint64_t rows, uint32_t chunk, bool stages) {
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
                             pg.user() + " -d " + pg.database() + " -c 'COPY bench_snap TO STDOUT'";
  const std::map<std::string, std::string> env = {{"PGPASSWORD", pg.password()}};
  TimeShell(client, env);
  for (int run = 1; run <= g_runs; ++run) {
    if (g_runs > 1) std::printf("postgres run %d of %d\n", run, g_runs);
    const double ref = TimeShell(client, env);

    config::SourceConfig c;
    c.name = "bench";
    c.kind = v1::SOURCE_KIND_POSTGRES;
    c.host = pg.host();
    c.port = static_cast<uint16_t>(pg.port());
    c.user = pg.user();
    c.password = pg.password();
    c.database = pg.database();

    c.publication = "bench_pub";
    c.tls_mode = "disabled";
    c.snapshot_chunk_size = chunk;
    c.slot = "bench_slot_" + std::to_string(run);
    const double ours = TimeSluice<pipeline::PostgresSource>(c, rows);
    Report("postgres", rows, ref, "psql -c 'COPY ... TO STDOUT' > /dev/null", ours);
    if (stages) {
      auto conn = pgclient::ReplicationConnection::Connect(
          pipeline::PostgresConnectParams(c, /*replication=*/false));
      Must(conn.status(), "connect");
      Must(pipeline::OpenPostgresSnapshot(**conn, ""), "open snapshot");
      auto tables = pipeline::ListPostgresTables(**conn, "bench_pub");
      Must(tables.status(), "list tables");
      const postgres::TypeResolver resolver;
      pipeline::PostgresSnapshotReader reader(**conn, resolver);
      reader.set_chunk_queries(pipeline::PostgresSnapshotReader::ChunkQueries::kOnePerTable);
      TimeAndReportStages(reader, (*tables)[0], chunk, rows, "postgres");
    }
    std::fflush(stdout);
  }
}

int Main(int argc, char** argv) {
  uint64_t rows = 1'000'000;
  uint32_t chunk = 10'000;
  std::string only;
  std::string sample;
  bool stages = false;
  bool bulk_only = false;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--stages")) {
      stages = true;
    } else if (!std::strcmp(argv[i], "--save-sample") && has_value) {
      g_save_sample = argv[++i];
    } else if (!std::strcmp(argv[i], "--sample") && has_value) {
      sample = argv[++i];
    } else if (!std::strcmp(argv[i], "--bulk-only")) {
      bulk_only = true;
    } else if (!std::strcmp(argv[i], "--no-table-state")) {
      g_table_state = false;
    } else if (!std::strcmp(argv[i], "--rows") && has_value) {
      rows = std::stoull(argv[++i]);
    } else if (!std::strcmp(argv[i], "--ingest-experiment")) {
      g_ingest_experiment = true;
    } else if (!std::strcmp(argv[i], "--ingest-rows") && has_value) {
      g_ingest_rows = std::stoull(argv[++i]);
    } else if (!std::strcmp(argv[i], "--runs") && has_value) {
      g_runs = std::max(1, std::stoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--chunk") && has_value) {
      chunk = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (!std::strcmp(argv[i], "--only") && has_value) {
      only = argv[++i];
    }
  }
  if (!sample.empty()) {
    BenchSample(sample, rows, bulk_only);
    std::printf("max RSS of this process: %ld MiB\n", MaxRssMiB());
    return 0;
  }
  std::printf(
      "snapshot_bench: %llu rows (id, varchar, decimal, datetime, text), chunks of %u, "
      "table state %s\n",
      static_cast<unsigned long long>(rows), chunk, g_table_state ? "on" : "off");
  if (only.empty() || only == "mariadb") BenchMariaDb(rows, chunk, stages);
  if (only.empty() || only == "postgres") BenchPostgres(rows, chunk, stages);
  std::printf("max RSS of this process (server side of sluice included): %ld MiB\n", MaxRssMiB());
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
