// Smoke test for tests/testdb/testdb.sh and sluice::testing::TestDatabase: each server starts,
// is configured the way sluice needs (ROW binlog with full metadata / logical WAL), round-trips
// rows, and is cleaned up without leftovers. A server that cannot start fails fast with its log.

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_database.h"

namespace {

using ::sluice::testing::kNull;
using ::sluice::testing::SqlConnection;
using ::sluice::testing::TestDatabase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Kind = TestDatabase::Kind;

// The shared server of `kind`, or a test failure carrying the start-up error.
TestDatabase* SharedOrFail(Kind kind) {
  absl::StatusOr<TestDatabase*> db = TestDatabase::Shared(kind);
  if (!db.ok()) {
    ADD_FAILURE() << "cannot start " << sluice::testing::KindName(kind) << ": " << db.status();
    return nullptr;
  }
  return *db;
}

// The single value of a one-row, one-column query.
std::string Scalar(TestDatabase& db, const std::string& sql) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = db.Query(sql);
  if (!rows.ok()) {
    ADD_FAILURE() << sql << ": " << rows.status();
    return "";
  }
  if (rows->size() != 1 || (*rows)[0].size() != 1) {
    ADD_FAILURE() << sql << ": expected one value, got " << rows->size() << " rows";
    return "";
  }
  return (*rows)[0][0];
}

// True while a live (not zombie) process with this pid exists.
bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z' &&
         line[paren + 2] != 'X';
}

// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    ::setenv(name, value, /*overwrite=*/1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// ---------------------------------------------------------------------------------------------
// MariaDB

TEST(MariaDbTestDatabase, RoundTripsRows) {
  TestDatabase* db = SharedOrFail(Kind::kMariaDb);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->MysqlUrl(), "mysql://sluice:sluice@127.0.0.1:" + std::to_string(db->port()) + "/");
  EXPECT_EQ(db->database(), "sluice_test");

  ASSERT_TRUE(db->Exec("DROP TABLE IF EXISTS smoke_rows;"
                       " CREATE TABLE smoke_rows (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL,"
                       " price DECIMAL(10,2), note TEXT NULL)")
                  .ok());
  absl::Status insert = db->Exec(
      "INSERT INTO smoke_rows VALUES (1, 'alpha', 1.50, NULL), (2, 'h\xC3\xA9llo \xE2\x98\x83',"
      " -3.25, 'x'); INSERT INTO smoke_rows VALUES (3, '', 0, 'NULL')");
  ASSERT_TRUE(insert.ok()) << insert;

  auto rows = db->Query("SELECT id, name, price, note FROM smoke_rows ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(ElementsAre("1", "alpha", "1.50", kNull),
                                 ElementsAre("2", "h\xC3\xA9llo \xE2\x98\x83", "-3.25", "x"),
                                 ElementsAre("3", "", "0.00", "NULL")));
  auto nullable = db->QueryNullable("SELECT note FROM smoke_rows WHERE id = 1");
  ASSERT_TRUE(nullable.ok()) << nullable.status();
  ASSERT_EQ(nullable->size(), 1u);
  EXPECT_FALSE((*nullable)[0][0].has_value());

  // Session state carries over between calls on the shared admin session.
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO smoke_rows VALUES (4, 'rolled back', 0, NULL)").ok());
  ASSERT_TRUE(db->Exec("ROLLBACK").ok());
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM smoke_rows"), "3");

  absl::Status bad = db->Exec("SELECT * FROM no_such_table");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("1146"));
}

TEST(MariaDbTestDatabase, BinlogIsConfiguredForCdc) {
  TestDatabase* db = SharedOrFail(Kind::kMariaDb);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Scalar(*db, "SELECT @@binlog_format"), "ROW");
  EXPECT_EQ(Scalar(*db, "SELECT @@binlog_row_metadata"), "FULL");
  EXPECT_EQ(Scalar(*db, "SELECT @@binlog_row_image"), "FULL");
  EXPECT_EQ(Scalar(*db, "SELECT @@log_bin"), "1");
  EXPECT_EQ(Scalar(*db, "SELECT @@server_id"), "1");
  EXPECT_EQ(Scalar(*db, "SELECT @@gtid_strict_mode"), "1");
  EXPECT_EQ(Scalar(*db, "SELECT @@log_slave_updates"), "1");
  EXPECT_EQ(Scalar(*db, "SELECT @@binlog_checksum"), "CRC32");

  auto logs = db->Query("SHOW BINARY LOGS");
  ASSERT_TRUE(logs.ok()) << logs.status();
  ASSERT_THAT(*logs, Not(IsEmpty()));
  EXPECT_THAT((*logs)[0][0], HasSubstr("mariadb-bin."));

  ASSERT_TRUE(
      db->Exec("DROP TABLE IF EXISTS smoke_gtid; CREATE TABLE smoke_gtid (id INT PRIMARY KEY);"
               " INSERT INTO smoke_gtid VALUES (1)")
          .ok());
  EXPECT_THAT(Scalar(*db, "SELECT @@gtid_binlog_pos"), HasSubstr("0-1-"));
}

TEST(MariaDbTestDatabase, ReplicationUserHasCdcPrivilegesOnly) {
  TestDatabase* db = SharedOrFail(Kind::kMariaDb);
  ASSERT_NE(db, nullptr);
  absl::StatusOr<std::unique_ptr<SqlConnection>> user = db->Connect(TestDatabase::Role::kUser);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_TRUE((*user)->Query("SHOW BINARY LOGS").ok());  // REPLICATION CLIENT
  EXPECT_TRUE((*user)->Query("SELECT @@gtid_binlog_pos").ok());
  EXPECT_TRUE((*user)->Query("SELECT * FROM mysql.user").ok());  // global SELECT
  EXPECT_TRUE((*user)->Exec("FLUSH BINARY LOGS").ok());          // RELOAD
  EXPECT_TRUE((*user)->Exec("CREATE DATABASE test_smoke_user; DROP DATABASE test_smoke_user").ok());
  EXPECT_FALSE((*user)->Exec("CREATE DATABASE not_a_test_db").ok());
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

TEST(PostgresTestDatabase, RoundTripsRows) {
  TestDatabase* db = SharedOrFail(Kind::kPostgres);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->PostgresUrl(),
            "postgres://sluice:sluice@127.0.0.1:" + std::to_string(db->port()) + "/sluice_test");
  ASSERT_TRUE(db->Exec("DROP TABLE IF EXISTS smoke_rows;"
                       " CREATE TABLE smoke_rows (id INT PRIMARY KEY, name TEXT NOT NULL,"
                       " price NUMERIC(10,2), note TEXT, tags INT[])")
                  .ok());
  absl::Status insert = db->Exec(
      "INSERT INTO smoke_rows VALUES (1, 'alpha', 1.5, NULL, '{1,2}'),"
      " (2, 'h\xC3\xA9llo \xE2\x98\x83', -3.25, 'x', NULL);"
      " INSERT INTO smoke_rows VALUES (3, '', 0, 'NULL', '{}')");
  ASSERT_TRUE(insert.ok()) << insert;

  auto rows = db->Query("SELECT id, name, price, note, tags FROM smoke_rows ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(*rows, ElementsAre(ElementsAre("1", "alpha", "1.50", kNull, "{1,2}"),
                                 ElementsAre("2", "h\xC3\xA9llo \xE2\x98\x83", "-3.25", "x", kNull),
                                 ElementsAre("3", "", "0.00", "NULL", "{}")));

  ASSERT_TRUE(db->Exec("BEGIN").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO smoke_rows VALUES (4, 'rolled back', 0, NULL, NULL)").ok());
  ASSERT_TRUE(db->Exec("ROLLBACK").ok());
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM smoke_rows"), "3");

  absl::Status bad = db->Exec("SELECT * FROM no_such_table");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("42P01"));
}

TEST(PostgresTestDatabase, LogicalDecodingIsConfigured) {
  TestDatabase* db = SharedOrFail(Kind::kPostgres);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Scalar(*db, "SHOW wal_level"), "logical");
  EXPECT_EQ(Scalar(*db, "SHOW max_replication_slots"), "10");
  EXPECT_EQ(Scalar(*db, "SHOW max_wal_senders"), "10");
  EXPECT_EQ(Scalar(*db, "SELECT rolreplication FROM pg_roles WHERE rolname = current_user"), "t");

  auto slot = db->Query(
      "SELECT slot_name, lsn IS NOT NULL FROM pg_create_logical_replication_slot('s1', "
      "'pgoutput')");
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_THAT(*slot, ElementsAre(ElementsAre("s1", "t")));
  EXPECT_EQ(Scalar(*db, "SELECT plugin FROM pg_replication_slots WHERE slot_name = 's1'"),
            "pgoutput");
  ASSERT_TRUE(db->Exec("SELECT pg_drop_replication_slot('s1')").ok());
  EXPECT_EQ(Scalar(*db, "SELECT COUNT(*) FROM pg_replication_slots"), "0");
}

// ---------------------------------------------------------------------------------------------
// Lifecycle, for both kinds.

class LifecycleTest : public ::testing::TestWithParam<Kind> {};

TEST_P(LifecycleTest, StopKillsTheServerAndRemovesItsDirectory) {
  absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Start(GetParam());
  ASSERT_TRUE(db.ok()) << db.status();
  const pid_t pid = (*db)->pid();
  const std::string dir = (*db)->dir();
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_TRUE(std::filesystem::exists(dir));
  EXPECT_TRUE((*db)->Exec("CREATE TABLE lifecycle (id INT)").ok());
  EXPECT_LT((*db)->start_duration(), absl::Seconds(60));

  absl::Status stop = (*db)->Stop();
  ASSERT_TRUE(stop.ok()) << stop;
  EXPECT_FALSE(ProcessAlive(pid)) << "server pid " << pid << " survived Stop()";
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " survived Stop()";
  EXPECT_EQ((*db)->Exec("SELECT 1").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*db)->Stop().ok());  // idempotent
}

TEST_P(LifecycleTest, ServerThatCannotStartFailsFastWithItsLog) {
  const bool mariadb = GetParam() == Kind::kMariaDb;
  ScopedEnv bad_option(mariadb ? "SLUICE_TESTDB_MARIADB_ARGS" : "SLUICE_TESTDB_POSTGRES_ARGS",
                       mariadb ? "--no-such-option=1" : "-c no_such_setting=1");
  const absl::Time before = absl::Now();
  absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Start(GetParam());
  ASSERT_FALSE(db.ok());
  EXPECT_LT(absl::Now() - before, absl::Seconds(30));
  EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable);
  const std::string message(db.status().message());
  EXPECT_THAT(message, HasSubstr("exited during start-up"));
  EXPECT_THAT(message, HasSubstr("last 40 lines of"));
  EXPECT_THAT(message, HasSubstr(mariadb ? "unknown variable 'no-such-option=1'"
                                         : "unrecognized configuration parameter"));
}

INSTANTIATE_TEST_SUITE_P(Kinds, LifecycleTest, ::testing::Values(Kind::kMariaDb, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return std::string(info.param == Kind::kMariaDb ? "MariaDb"
                                                                           : "Postgres");
                         });

}  // namespace
