// An on-demand re-snapshot (`sluicectl snapshot`) survives kill -9 of sluiced, for each source
// (real MariaDB 10.11 and real PostgreSQL 15), observed only through sluicectl:
//
//   1. a table of 4,000 rows, a source with snapshot=never (so the re-snapshot is the only
//      place most rows can come from) and chunks of 50 rows;
//   2. a writer commits random inserts, updates (some to NULL) and deletes all along;
//   3. `sluicectl snapshot` is accepted; once `status` shows a random number of rows done, kill -9;
//   4. restart with the same data dir and *no* new command: the re-snapshot must continue by
//      itself (status shows it again, with at least the rows it had before the kill) and finish.
//
// Then: offsets contiguous from 1; replaying the log by key gives exactly the table's contents
// (rows the re-snapshot never read after the restart would be missing); and the keys of the
// "r" events increase strictly over the whole log: the chunks after the restart continue after
// the last durable key, nothing is read twice.
//
// The seed is random unless SLUICE_TEST_SEED is set; it is printed, so a failure can be rerun.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/e2e/replay_rows.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::JsonText;
using e2e::Kind;
using e2e::Normalize;
using e2e::Rows;
using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using e2e::TableSpec;
using google::protobuf::Struct;
using storage::testing::TempDir;
using testing::TestDatabase;

constexpr int kRows = 4'000;

class ResnapshotRestartE2E : public ::testing::TestWithParam<TestDatabase::Kind> {
 protected:
  void SetUp() override {
    const char* seed = std::getenv("SLUICE_TEST_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device()();
    std::cout << "SLUICE_TEST_SEED=" << seed_ << std::endl;
    RecordProperty("seed", std::to_string(seed_));
    auto db = TestDatabase::Shared(GetParam());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    mysql_ = GetParam() == TestDatabase::Kind::kMariaDb;
    table_ = mysql_ ? "test.rsr_t" : "public.rsr_t";
    if (!mysql_) {
      (void)db_->Exec("SELECT pg_drop_replication_slot('rsr_slot')");
      (void)db_->Exec("DROP PUBLICATION IF EXISTS rsr_pub");
    }
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS " + table_).ok());
    if (mysql_) {
      ASSERT_TRUE(
          db_->Exec("CREATE TABLE test.rsr_t (id INT PRIMARY KEY, v VARCHAR(32), n INT)").ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.rsr_t SELECT seq, CONCAT('v', seq), "
                                         "seq FROM seq_1_to_",
                                         kRows))
                      .ok());
    } else {
      ASSERT_TRUE(
          db_->Exec("CREATE TABLE public.rsr_t (id int PRIMARY KEY, v varchar(32), n int)").ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO public.rsr_t SELECT g, 'v' || g, g FROM "
                                         "generate_series(1, ",
                                         kRows, ") g"))
                      .ok());
    }
    spec_ = TableSpec{"rsr_t",
                      {"id"},
                      {"id", "v", "n"},
                      {Kind::kNumber, Kind::kText, Kind::kNumber},
                      "SELECT id, v, n FROM " + table_};
  }

  void TearDown() override {
    if (!mysql_ && db_ != nullptr) {
      (void)db_->Exec("SELECT pg_drop_replication_slot('rsr_slot')");
      (void)db_->Exec("DROP PUBLICATION IF EXISTS rsr_pub");
    }
  }

  std::vector<std::string> Args(const std::string& data_dir) const {
    std::string url = db_->Url();
    url += mysql_ ? "test?name=rsr&server_id=9311&tables=test.rsr_t"
                  : "?name=rsr&slot=rsr_slot&publication=rsr_pub&tables=public.rsr_t"
                    "&tls=disabled";
    // Small chunks and a pause after each: the re-snapshot takes a few seconds, so the kill
    // lands inside it.
    url += "&snapshot=never&snapshot_chunk_size=50&snapshot_pause_ms=20";
    return {"--data-dir", data_dir, "--listen", "127.0.0.1:0", "--source", url};
  }

  std::string StatusJson(const SluicedProcess& d) const {
    return RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"})
        .stdout_text;
  }

  // The re-snapshot's progress in `status`: rows done and whether it is done (nullopt when the
  // status shows no progress for the table).
  std::optional<std::pair<uint64_t, bool>> Progress(const std::string& status) const {
    const std::regex re("\"table\":\"" + std::regex_replace(table_, std::regex("\\."), "\\.") +
                        "\",\"rows_done\":([0-9]+),\"rows_estimated\":[0-9]+,\"done\":(true|"
                        "false)");
    std::smatch m;
    if (!std::regex_search(status, m, re)) return std::nullopt;
    return std::make_pair(std::stoull(m[1]), m[2] == "true");
  }

  // Random single-statement transactions until `stop`, then the marker row (id -1).
  void WriterLoop(std::atomic<bool>& stop, uint64_t seed) {
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    std::mt19937_64 rng(seed);
    int next_id = 100'000;
    while (!stop.load()) {
      const int id = std::uniform_int_distribution<int>(1, kRows + 100)(rng);
      std::string sql;
      switch (rng() % 5) {
        case 0:
          sql = absl::StrCat("UPDATE ", table_, " SET v = NULL, n = n + 1 WHERE id = ", id);
          break;
        case 1:
          sql = absl::StrCat("DELETE FROM ", table_, " WHERE id = ", id);
          break;
        case 2:
          // A key behind or ahead of the re-snapshot's cursor, or a new one at the end.
          sql = mysql_ ? absl::StrCat("INSERT IGNORE INTO test.rsr_t VALUES (", id, ", 're', 0)")
                       : absl::StrCat("INSERT INTO public.rsr_t VALUES (", id,
                                      ", 're', 0) ON CONFLICT DO NOTHING");
          break;
        case 3:
          sql = absl::StrCat("INSERT INTO ", table_, " VALUES (", next_id++, ", 'new', 1)");
          break;
        default:
          sql = absl::StrCat("UPDATE ", table_, " SET v = 'upd", rng() % 1000,
                             "', n = n * 2 WHERE id = ", id);
      }
      absl::Status st = (*conn)->Exec(sql);
      if (!st.ok()) {
        ADD_FAILURE() << "writer: " << st << " for " << sql;
        return;
      }
      ++transactions_;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 6));
    }
    ASSERT_TRUE((*conn)->Exec(absl::StrCat("INSERT INTO ", table_, " VALUES (-1, 'marker', 0)")).ok());
  }

  uint64_t seed_ = 0;
  TestDatabase* db_ = nullptr;
  bool mysql_ = true;
  std::string table_;
  TableSpec spec_;
  std::atomic<int> transactions_{0};
};

TEST_P(ResnapshotRestartE2E, KilledMidResnapshotContinuesAfterTheLastDurableChunk) {
  TempDir data;
  std::mt19937_64 rng(seed_);
  std::atomic<bool> stop{false};
  std::unique_ptr<std::thread> writer;
  struct JoinWriter {  // also when an assertion returns early
    std::atomic<bool>& stop;
    std::unique_ptr<std::thread>& writer;
    ~JoinWriter() {
      stop = true;
      if (writer && writer->joinable()) writer->join();
    }
  } join_writer{stop, writer};
  uint64_t rows_at_kill = 0;
  {
    SluicedProcess d(Args(data.path()));
    e2e::WaitStreaming(d);
    writer = std::make_unique<std::thread>([&] { WriterLoop(stop, seed_ + 1); });
    auto r = RunCommand({Sluicectl(), "--server", d.address(), "snapshot", "rsr", table_});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text << d.Log();
    EXPECT_NE(r.stdout_text.find("accepted"), std::string::npos) << r.stdout_text;
    const uint64_t target = std::uniform_int_distribution<uint64_t>(300, 2'800)(rng);
    std::string status;
    for (int i = 0; i < 1200; ++i) {
      status = StatusJson(d);
      auto p = Progress(status);
      if (p && (p->first >= target || p->second)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto p = Progress(status);
    ASSERT_TRUE(p.has_value()) << status << d.Log();
    ASSERT_FALSE(p->second) << "the re-snapshot finished before the kill: " << status;
    rows_at_kill = p->first;
    d.Kill();
    std::cout << "killed at " << rows_at_kill << " rows done (target " << target << ")"
              << std::endl;
  }

  SluicedProcess d(Args(data.path()));
  // No new command: the stored re-snapshot continues, from at least the rows it had done.
  std::optional<std::pair<uint64_t, bool>> first_seen;
  std::optional<std::pair<uint64_t, bool>> p;
  std::string status;
  for (int i = 0; i < 3000; ++i) {
    status = StatusJson(d);
    p = Progress(status);
    if (p && !first_seen) first_seen = p;
    if (p && p->second) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(first_seen.has_value()) << "the re-snapshot was not continued: " << status
                                      << d.Log();
  EXPECT_GE(first_seen->first, rows_at_kill) << "progress went back after the restart";
  ASSERT_TRUE(p && p->second) << "the continued re-snapshot did not finish: " << status << d.Log();
  std::cout << "after the restart first seen at " << first_seen->first << " rows; done at "
            << p->first << std::endl;

  stop = true;
  writer->join();
  writer.reset();
  std::vector<std::string> lines;
  bool marker = false;
  for (int attempt = 0; attempt < 40 && !marker; ++attempt) {
    auto t = RunCommand({Sluicectl(), "--server", d.address(), "tail", "rsr", "--from", "earliest",
                         "--format", "json", "--idle-exit", "3"});
    ASSERT_EQ(t.exit_code, 0) << t.stderr_text;
    marker = t.stdout_text.find("\"v\":\"marker\"") != std::string::npos;
    if (marker) {
      std::istringstream in(t.stdout_text);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
  }
  ASSERT_TRUE(marker) << "sluice did not catch up: " << StatusJson(d) << d.Log();

  Rows replay;
  uint64_t expect_offset = 1;
  size_t reads = 0;
  std::optional<double> last_read_key;
  for (const std::string& line : lines) {
    Struct e;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
    const auto& f = e.fields();
    ASSERT_EQ(static_cast<uint64_t>(f.at("offset").number_value()), expect_offset)
        << "offsets are not contiguous at " << line;
    ++expect_offset;
    const std::string op = f.at("op").string_value();
    if (op == "ddl") continue;  // the signal table's CREATE TABLE (MariaDB)
    ASSERT_EQ(f.at("source").struct_value().fields().at("table").string_value(), "rsr_t") << line;
    ASSERT_TRUE(op == "r" || op == "c" || op == "u" || op == "d") << line;
    const double id = f.at("key").struct_value().fields().at("id").number_value();
    const std::string k = Normalize(Kind::kNumber, JsonText(f.at("key").struct_value().fields().at("id")));
    if (op == "d") {
      replay.erase(k);
      continue;
    }
    if (op == "r") {
      ++reads;
      EXPECT_TRUE(!last_read_key || id > *last_read_key)
          << "key " << id << " read again (or out of order) after key " << *last_read_key;
      last_read_key = id;
    }
    const auto& after = f.at("after").struct_value().fields();
    std::vector<std::string> row;
    for (size_t c = 0; c < spec_.columns.size(); ++c) {
      row.push_back(after.contains(spec_.columns[c])
                        ? Normalize(spec_.kinds[c], JsonText(after.at(spec_.columns[c])))
                        : "<missing>");
    }
    replay[k] = std::move(row);
  }
  std::cout << lines.size() << " events, " << reads << " re-snapshot reads, " << transactions_
            << " writer transactions" << std::endl;
  EXPECT_GT(reads, rows_at_kill);
  e2e::ExpectSameRows(spec_, e2e::SourceRows(*db_, {spec_})[0], replay);
}

INSTANTIATE_TEST_SUITE_P(Sources, ResnapshotRestartE2E,
                         ::testing::Values(TestDatabase::Kind::kMariaDb,
                                           TestDatabase::Kind::kPostgres),
                         [](const auto& info) {
                           return info.param == TestDatabase::Kind::kMariaDb ? "MariaDb"
                                                                             : "Postgres";
                         });

}  // namespace
}  // namespace sluice
