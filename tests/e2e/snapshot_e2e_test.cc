// The snapshot-then-stream switchover under fire, for each source (real MariaDB 10.11 and real
// PostgreSQL 15), observed only through sluicectl:
//
//   1. preload 50,000 rows across two tables with mixed types (one with a composite key);
//   2. start sluiced with snapshot=initial and a small chunk size;
//   3. while the snapshot runs, a writer commits random multi-statement transactions (inserts,
//      updates, some to NULL, deletes, one kind touching both tables, some rolled back);
//   4. kill -9 sluiced three times at random moments, the first one mid-snapshot, restarting
//      it each time;
//   5. once the writer stopped and sluice caught up, read everything with
//      `sluicectl tail SOURCE --from earliest --format json --idle-exit 3`.
//
// Then: offsets are contiguous from 1; each transaction's events are contiguous; replaying
// r/c/u/d/t by primary key gives exactly the tables' final contents, column by column; every
// preloaded row appears (as an "r" event, or in the change that altered it before its chunk
// was read).
//
// The seed is random unless SLUICE_TEST_SEED is set; it is printed, so a failure can be rerun.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
using google::protobuf::Value;
using storage::testing::TempDir;
using testing::TestDatabase;

constexpr int kRows1 = 30'000;  // t1 preload
constexpr int kRows2 = 20'000;  // t2 preload

class SnapshotE2E : public ::testing::TestWithParam<TestDatabase::Kind> {
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
    prefix_ = mysql_ ? "test." : "public.";
    for (const char* t : {"snap_t1", "snap_t2"}) {
      ASSERT_TRUE(db_->Exec(absl::StrCat("DROP TABLE IF EXISTS ", prefix_, t)).ok());
    }
    if (mysql_) {
      ASSERT_TRUE(db_->Exec("CREATE TABLE test.snap_t1 (id INT PRIMARY KEY, name VARCHAR(64), "
                            "amount DECIMAL(12,2), created DATETIME(6), flag TINYINT, "
                            "ratio DOUBLE, data VARBINARY(32))")
                      .ok());
      ASSERT_TRUE(db_->Exec("CREATE TABLE test.snap_t2 (a INT, b VARCHAR(16), val BIGINT, "
                            "note TEXT, day DATE, PRIMARY KEY (a, b))")
                      .ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat(
                              "INSERT INTO test.snap_t1 SELECT seq, CONCAT('name-', seq), "
                              "seq / 100, TIMESTAMP('2026-01-01') + INTERVAL seq * 1001 "
                              "MICROSECOND, seq % 3, seq / 4, UNHEX(SHA1(seq)) FROM seq_1_to_",
                              kRows1))
                      .ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat(
                              "INSERT INTO test.snap_t2 SELECT seq DIV 2, CONCAT('b', seq % 2), "
                              "seq * 1000003, IF(seq % 7 = 0, NULL, REPEAT('x', seq % 50)), "
                              "DATE('2020-01-01') + INTERVAL seq DAY FROM seq_1_to_",
                              kRows2))
                      .ok());
    } else {
      ASSERT_TRUE(db_->Exec("CREATE TABLE public.snap_t1 (id int PRIMARY KEY, name varchar(64), "
                            "amount numeric(12,2), created timestamp(6), flag smallint, "
                            "ratio float8, data bytea)")
                      .ok());
      ASSERT_TRUE(db_->Exec("CREATE TABLE public.snap_t2 (a int, b varchar(16), val bigint, "
                            "note text, day date, PRIMARY KEY (a, b))")
                      .ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat(
                              "INSERT INTO public.snap_t1 SELECT g, 'name-' || g, "
                              "round(g / 100.0, 2), timestamp '2026-01-01' + g * interval "
                              "'1001 microseconds', g % 3, g / 4.0, "
                              "decode(md5(g::text), 'hex') FROM generate_series(1, ",
                              kRows1, ") g"))
                      .ok());
      ASSERT_TRUE(db_->Exec(absl::StrCat(
                              "INSERT INTO public.snap_t2 SELECT g / 2, 'b' || (g % 2), "
                              "g::bigint * 1000003, CASE WHEN g % 7 = 0 THEN NULL ELSE "
                              "repeat('x', g % 50) END, date '2020-01-01' + g FROM "
                              "generate_series(1, ",
                              kRows2, ") g"))
                      .ok());
    }
    tables_ = Specs();
    preload_ = SourceRows();
    ASSERT_EQ(preload_[0].size(), static_cast<size_t>(kRows1));
    ASSERT_EQ(preload_[1].size(), static_cast<size_t>(kRows2));
  }

  std::vector<TableSpec> Specs() const {
    TableSpec t1{"snap_t1",
                 {"id"},
                 {"id", "name", "amount", "created", "flag", "ratio", "data"},
                 {Kind::kNumber, Kind::kText, Kind::kText, Kind::kDateTime, Kind::kNumber,
                  Kind::kNumber, Kind::kText},
                 ""};
    TableSpec t2{"snap_t2",
                 {"a", "b"},
                 {"a", "b", "val", "note", "day"},
                 {Kind::kNumber, Kind::kText, Kind::kNumber, Kind::kText, Kind::kText},
                 ""};
    if (mysql_) {
      t1.select =
          "SELECT id, name, CAST(amount AS CHAR), DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f'), "
          "flag, ratio, TO_BASE64(data) FROM test.snap_t1";
      t2.select = "SELECT a, b, val, note, CAST(day AS CHAR) FROM test.snap_t2";
    } else {
      t1.select =
          "SELECT id, name, amount::text, to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), flag, "
          "ratio, encode(data, 'base64') FROM public.snap_t1";
      t2.select = "SELECT a, b, val, note, day::text FROM public.snap_t2";
    }
    return {t1, t2};
  }

  // The tables' current contents, normalized.
  std::vector<Rows> SourceRows() { return e2e::SourceRows(*db_, tables_); }

  std::vector<std::string> Args(const std::string& data_dir,
                                const std::string& snapshot = "initial",
                                int chunk_size = 100) const {
    std::string url = db_->Url();
    // MySQL: the path names the database for the re-snapshot's signal table.
    url += mysql_ ? "test?name=snap&server_id=9301&tables=test.snap_t1,test.snap_t2"
                  : "?name=snap&slot=snap_slot&publication=snap_pub&tables=public.snap_t1,"
                    "public.snap_t2&tls=disabled";
    url += "&snapshot=" + snapshot + "&snapshot_chunk_size=" + std::to_string(chunk_size);
    // A pause after each chunk keeps the initial snapshot running for a few seconds (about 5),
    // so that the first kill can land inside it however fast the machine is.
    if (snapshot == "initial") url += "&snapshot_pause_ms=10";
    return {"--data-dir", data_dir, "--listen", "127.0.0.1:0", "--source", url};
  }

  static uint64_t LastOffset(const std::string& status) {
    const size_t at = status.find("\"last_offset\":");
    return at == std::string::npos ? 0 : std::strtoull(status.c_str() + at + 14, nullptr, 10);
  }

  std::string StatusJson(const SluicedProcess& d) const {
    return RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"})
        .stdout_text;
  }

  // Random transactions until `stop`, then the marker row.
  void WriterLoop(std::atomic<bool>& stop, uint64_t seed) {
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    std::mt19937_64 rng(seed);
    int next_id = 1'000'000;
    auto pick1 = [&] { return std::uniform_int_distribution<int>(1, kRows1 + 200)(rng); };
    auto pick2 = [&] { return std::uniform_int_distribution<int>(0, kRows2 / 2 + 100)(rng); };
    const std::string t1 = prefix_ + "snap_t1";
    const std::string t2 = prefix_ + "snap_t2";
    const std::string null_or_name = "NULL";
    while (!stop.load()) {
      std::vector<std::string> stmts;
      const int n = std::uniform_int_distribution<int>(1, 5)(rng);
      for (int i = 0; i < n; ++i) {
        const int id = pick1();
        const int a = pick2();
        const std::string b = absl::StrCat("'b", rng() % 3, "'");
        switch (rng() % 8) {
          case 0:
            stmts.push_back(absl::StrCat("INSERT INTO ", t1, " VALUES (", next_id++, ", 'new-",
                                         rng() % 1000, "', ", rng() % 100000, ".25, ",
                                         mysql_ ? "'2026-02-03 04:05:06.789'"
                                                : "timestamp '2026-02-03 04:05:06.789'",
                                         ", 1, 0.5, NULL)"));
            break;
          case 1:
            stmts.push_back(absl::StrCat("UPDATE ", t1, " SET name = NULL, ratio = NULL WHERE id = ",
                                         id));
            break;
          case 2:
            stmts.push_back(absl::StrCat("UPDATE ", t1, " SET name = 'upd-", rng() % 1000,
                                         "', amount = amount + 1 WHERE id = ", id));
            break;
          case 3:
            stmts.push_back(absl::StrCat("DELETE FROM ", t1, " WHERE id = ", id));
            break;
          case 4:
            stmts.push_back(absl::StrCat("DELETE FROM ", t2, " WHERE a = ", a));
            break;
          case 5:
            stmts.push_back(absl::StrCat("UPDATE ", t2, " SET note = NULL, val = val + 1 WHERE a = ",
                                         a));
            break;
          case 6:
            // One transaction touching both tables (keys of the insert are always new).
            stmts.push_back(absl::StrCat("UPDATE ", t1, " SET flag = 2 WHERE id = ", id));
            stmts.push_back(absl::StrCat(
                "INSERT INTO ", t2, " VALUES (", 100'000 + next_id++, ", ", b,
                ", 7, 'both', ", mysql_ ? "'2030-01-01'" : "date '2030-01-01'", ")"));
            break;
          default:
            stmts.push_back(absl::StrCat("UPDATE ", t2, " SET day = NULL WHERE a = ", a,
                                         " AND b = ", b));
        }
      }
      const bool rollback = rng() % 10 == 0;
      std::string sql = mysql_ ? "START TRANSACTION; " : "BEGIN; ";
      for (const auto& s : stmts) absl::StrAppend(&sql, s, "; ");
      absl::StrAppend(&sql, rollback ? "ROLLBACK" : "COMMIT");
      absl::Status st = (*conn)->Exec(sql);
      if (!st.ok()) {
        (void)(*conn)->Exec("ROLLBACK");
        ADD_FAILURE() << "writer: " << st << " for " << sql;
        return;
      }
      ++transactions_;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 8));
    }
    // The marker: once it is in the log, sluice has caught up with everything before it.
    ASSERT_TRUE((*conn)->Exec(absl::StrCat("INSERT INTO ", t2, " VALUES (-1, 'marker', 0, NULL, NULL)"))
                    .ok());
  }

  // All the checks on the events read back. `only_table`: check that table only (by index),
  // without the kill and preload expectations (the re-snapshot test).
  void Check(const std::vector<std::string>& lines, int kills, bool killed_mid_snapshot,
             std::optional<size_t> only_table = std::nullopt) {
    if (!only_table) {
      EXPECT_EQ(kills, 3);
      EXPECT_TRUE(killed_mid_snapshot) << "no kill came while the snapshot ran";
    }
    std::vector<Rows> replay(tables_.size());
    std::vector<std::set<std::string>> seen(tables_.size());
    uint64_t expect_offset = 1;
    uint64_t expect_index = 0;
    size_t reads = 0;
    for (const std::string& line : lines) {
      Struct e;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
      const auto& f = e.fields();
      ASSERT_EQ(static_cast<uint64_t>(f.at("offset").number_value()), expect_offset)
          << "offsets are not contiguous at " << line;
      ++expect_offset;
      const auto& txn = f.at("txn").struct_value().fields();
      const auto index = static_cast<uint64_t>(txn.at("index").number_value());
      ASSERT_EQ(index, expect_index) << "a transaction's events are not contiguous at " << line;
      expect_index = txn.at("last").bool_value() ? 0 : index + 1;
      const std::string op = f.at("op").string_value();
      if (op == "ddl") continue;  // e.g. the re-snapshot's CREATE TABLE of its signal table
      const std::string table = f.at("source").struct_value().fields().at("table").string_value();
      const size_t ti = table == "snap_t1" ? 0 : table == "snap_t2" ? 1 : tables_.size();
      ASSERT_LT(ti, tables_.size()) << "an event of another table: " << line;
      const TableSpec& t = tables_[ti];
      if (op == "t") {
        replay[ti].clear();
        continue;
      }
      ASSERT_TRUE(op == "r" || op == "c" || op == "u" || op == "d") << line;
      const auto& key = f.at("key").struct_value().fields();
      std::vector<std::string> parts;
      for (const std::string& k : t.keys) {
        size_t c = 0;
        while (t.columns[c] != k) ++c;
        ASSERT_TRUE(key.contains(k)) << line;
        parts.push_back(Normalize(t.kinds[c], JsonText(key.at(k))));
      }
      const std::string k = absl::StrJoin(parts, "|");
      seen[ti].insert(k);
      if (op == "d") {
        replay[ti].erase(k);
        continue;
      }
      if (op == "r") ++reads;
      std::set<std::string> unchanged;
      for (const Value& u : f.at("unchanged").list_value().values()) {
        unchanged.insert(u.string_value());
      }
      const auto& after = f.at("after").struct_value().fields();
      auto prior = replay[ti].find(k);
      std::vector<std::string> row(t.columns.size(), "<missing>");
      for (size_t c = 0; c < t.columns.size(); ++c) {
        if (after.contains(t.columns[c])) {
          row[c] = Normalize(t.kinds[c], JsonText(after.at(t.columns[c])));
        } else if (unchanged.contains(t.columns[c]) && prior != replay[ti].end()) {
          row[c] = prior->second[c];
        }
      }
      replay[ti][k] = std::move(row);
    }
    EXPECT_EQ(expect_index, 0u) << "the log ends inside a transaction";
    std::cout << lines.size() << " events, " << reads << " snapshot reads, " << transactions_
              << " writer transactions" << std::endl;

    const std::vector<Rows> source = SourceRows();
    for (size_t ti = 0; ti < tables_.size(); ++ti) {
      if (only_table && ti != *only_table) continue;
      e2e::ExpectSameRows(tables_[ti], source[ti], replay[ti]);
      if (only_table) continue;
      size_t missing = 0;
      for (const auto& [k, row] : preload_[ti]) missing += !seen[ti].contains(k);
      EXPECT_EQ(missing, 0u) << tables_[ti].name << ": preloaded rows that never appear";
    }
  }

  uint64_t seed_ = 0;
  TestDatabase* db_ = nullptr;
  bool mysql_ = true;
  std::string prefix_;
  std::vector<TableSpec> tables_;
  std::vector<Rows> preload_;
  std::atomic<int> transactions_{0};
};

TEST_P(SnapshotE2E, KilledThreeTimesStillExactlyOnce) {
  TempDir data;
  std::mt19937_64 rng(seed_);
  std::atomic<bool> stop{false};
  std::unique_ptr<std::thread> writer;
  int kills = 0;
  bool killed_mid_snapshot = false;
  for (int round = 0; round < 4; ++round) {
    SluicedProcess d(Args(data.path()));
    if (round == 0) {
      // Wait for the snapshot to be running, then start the writer.
      std::string status;
      for (int i = 0; i < 400; ++i) {
        status = StatusJson(d);
        if (status.find("\"snapshotting\"") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      ASSERT_NE(status.find("\"snapshotting\""), std::string::npos) << status << d.Log();
      writer = std::make_unique<std::thread>([&] { WriterLoop(stop, seed_ + 1); });
    }
    if (round == 3) {
      stop = true;
      writer->join();
      // Wait for the marker, then read everything.
      std::vector<std::string> lines;
      bool marker = false;
      for (int attempt = 0; attempt < 40 && !marker; ++attempt) {
        auto r = RunCommand({Sluicectl(), "--server", d.address(), "tail", "snap", "--from",
                             "earliest", "--format", "json", "--idle-exit", "3"});
        ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
        marker = r.stdout_text.find("\"b\":\"marker\"") != std::string::npos;
        if (marker) {
          std::istringstream in(r.stdout_text);
          for (std::string line; std::getline(in, line);) lines.push_back(line);
        }
      }
      ASSERT_TRUE(marker) << "sluice did not catch up: " << StatusJson(d) << d.Log();
      Check(lines, kills, killed_mid_snapshot);
      return;
    }
    // A random moment. The first kill comes mid-snapshot: once a random number of the 50,000
    // rows is stored (the snapshot is fast, so this watches progress rather than the clock).
    // The others come anywhere in the next seconds.
    std::string before;
    std::string when;
    if (round == 0) {
      const uint64_t target = std::uniform_int_distribution<uint64_t>(1'000, 40'000)(rng);
      for (int i = 0; i < 2000; ++i) {
        before = StatusJson(d);
        if (LastOffset(before) >= target || before.find("\"snapshotting\"") == std::string::npos) {
          break;
        }
      }
      when = absl::StrCat("at offset >= ", target);
    } else {
      const int wait_ms = std::uniform_int_distribution<int>(100, 2500)(rng);
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      before = StatusJson(d);
      when = absl::StrCat("after ", wait_ms, " ms");
    }
    d.Kill();
    if (before.find("\"snapshotting\"") != std::string::npos) killed_mid_snapshot = true;
    ++kills;
    std::cout << "kill " << kills << " " << when << "; status was " << before << std::endl;
  }
}

// `sluicectl snapshot` re-reads a table while the writer runs (watermarks, no locks): with no
// initial snapshot (snapshot=never), replaying the log still gives exactly the table's contents.
TEST_P(SnapshotE2E, SluicectlSnapshotWhileWritingReplaysToTheSource) {
  if (!mysql_) {
    // A fresh slot and publication: the kill test may have left them behind.
    (void)db_->Exec("SELECT pg_drop_replication_slot('snap_slot')");
    (void)db_->Exec("DROP PUBLICATION IF EXISTS snap_pub");
  }
  TempDir data;
  SluicedProcess d(Args(data.path(), "never", 1000));
  e2e::WaitStreaming(d);
  std::atomic<bool> stop{false};
  std::thread writer([&] { WriterLoop(stop, seed_ + 2); });
  const std::string table = prefix_ + "snap_t1";
  // Each chunk waits for its high watermark to come through the stream: allow minutes.
  auto run_long = [](const std::vector<std::string>& argv) {
    auto r = testing::RunSubprocess(argv, {}, std::chrono::seconds(400));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : testing::SubprocessResult{};
  };
  auto r = run_long({Sluicectl(), "--server", d.address(), "snapshot", "snap", table, "--wait",
                     "300"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text << d.Log();
  EXPECT_NE(r.stdout_text.find("snapshot of " + table + " on snap done"), std::string::npos)
      << r.stdout_text;
  // A second one, limited by a WHERE condition.
  auto where = run_long({Sluicectl(), "--server", d.address(), "snapshot", "snap", table,
                         "--where", "id <= 10", "--wait", "300", "--format", "json"});
  EXPECT_EQ(where.exit_code, 0) << where.stderr_text;
  EXPECT_NE(where.stdout_text.find("\"done\":true"), std::string::npos) << where.stdout_text;
  auto bad = RunCommand({Sluicectl(), "--server", d.address(), "snapshot", "snap", "nodots"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.stderr_text.find("is not of the form"), std::string::npos) << bad.stderr_text;
  stop = true;
  writer.join();
  std::vector<std::string> lines;
  bool marker = false;
  for (int attempt = 0; attempt < 40 && !marker; ++attempt) {
    auto t = RunCommand({Sluicectl(), "--server", d.address(), "tail", "snap", "--from",
                         "earliest", "--format", "json", "--idle-exit", "3"});
    ASSERT_EQ(t.exit_code, 0) << t.stderr_text;
    marker = t.stdout_text.find("\"b\":\"marker\"") != std::string::npos;
    if (marker) {
      std::istringstream in(t.stdout_text);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
  }
  ASSERT_TRUE(marker) << "sluice did not catch up: " << StatusJson(d) << d.Log();
  Check(lines, 0, false, /*only_table=*/0);
}

INSTANTIATE_TEST_SUITE_P(Sources, SnapshotE2E,
                         ::testing::Values(TestDatabase::Kind::kMariaDb,
                                           TestDatabase::Kind::kPostgres),
                         [](const auto& info) {
                           return info.param == TestDatabase::Kind::kMariaDb ? "MariaDb"
                                                                             : "Postgres";
                         });

}  // namespace
}  // namespace sluice
