// MysqlSource against a real MariaDB 10.11, where reading the source goes wrong for good or the
// log cannot store a request: a table sluice's user cannot see makes the snapshot refuse with
// the GRANT to run (never a silent skip); a table dropped during the snapshot is skipped and its
// DROP streamed; a permanent server error, or a login the server refuses (a wrong password),
// stops the source once, naming the fix; a re-snapshot request whose append fails is refused
// with the cause instead of "it runs".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/pipeline/mysql_source_fixture.h"

namespace sluice::pipeline {
namespace {

using ::testing::HasSubstr;

class MysqlSourceErrorsTest : public MysqlSourceTest {
 protected:
  // Starts the source without waiting for a state.
  void Launch(MysqlSourceOptions options = {}) {
    options.heartbeat_period = std::chrono::milliseconds(500);
    options.max_backoff = std::chrono::milliseconds(1000);
    source_.reset();
    registry_.SetState(config_.name, v1::SOURCE_STATE_STOPPED);  // not an earlier run's state
    source_ = std::make_unique<MysqlSource>(config_, *log_, id_, registry_, options);
    source_->Start();
  }
  // Waits until the source streams; the error if it ends in ERROR first.
  std::string WaitForStreaming() {
    for (int i = 0; i < 1200; ++i) {
      const auto snap = registry_.Snapshot()[0];
      if (snap.state == v1::SOURCE_STATE_STREAMING) return "";
      if (snap.state == v1::SOURCE_STATE_ERROR) return snap.last_error;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "never streamed";
  }
  // The source stays in ERROR with the same error (a retry would set it again within the 0.5 s
  // + 1 s backoff).
  void ExpectNotRetried() {
    const auto before = registry_.Snapshot()[0];
    std::this_thread::sleep_for(std::chrono::seconds(3));
    const auto after = registry_.Snapshot()[0];
    EXPECT_EQ(after.state, v1::SOURCE_STATE_ERROR);
    EXPECT_EQ(after.last_error_ts_micros, before.last_error_ts_micros) << after.last_error;
  }
  size_t Count(const std::vector<v1::ChangeEvent>& events, const std::string& table, v1::Op op) {
    size_t n = 0;
    for (const auto& e : events) n += e.source().table() == table && e.op() == op;
    return n;
  }
};

// A user with SELECT on one table of a database does not see the others: with tables=db.* the
// snapshot would lack them while their changes stream. Refused, naming the scope and the GRANT,
// and not retried; naming only the granted table works; after the GRANT a restart reads all.
TEST_F(MysqlSourceErrorsTest, InvisibleTableRefusesTheSnapshotWithTheGrant) {
  ASSERT_TRUE(db_->Exec("DROP DATABASE IF EXISTS ms_priv").ok());
  ASSERT_TRUE(db_->Exec("CREATE DATABASE ms_priv").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE ms_priv.seen (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE ms_priv.hidden (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO ms_priv.seen VALUES (1), (2)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO ms_priv.hidden VALUES (1), (2), (3)").ok());
  for (const char* host : {"%", "localhost"}) {
    const std::string user = absl::StrCat("'ms_priv'@'", host, "'");
    ASSERT_TRUE(db_->Exec("DROP USER IF EXISTS " + user).ok());
    ASSERT_TRUE(db_->Exec("CREATE USER " + user + " IDENTIFIED BY 'pw'").ok());
    ASSERT_TRUE(db_->Exec("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO " + user).ok());
    ASSERT_TRUE(db_->Exec("GRANT SELECT ON ms_priv.seen TO " + user).ok());
  }
  auto as_limited_user = [&](std::vector<std::string> tables) {
    config_.user = "ms_priv";
    config_.password = "pw";
    config_.snapshot = config::SnapshotMode::kInitial;
    config_.tables = std::move(tables);
  };

  // The table it may read, named: a table-level grant is enough.
  as_limited_user({"ms_priv.seen"});
  Launch();
  ASSERT_EQ(WaitForStreaming(), "");
  source_.reset();
  EXPECT_EQ(Count(ReadAll(), "seen", v1::OP_READ), 2u);

  // The whole database: refused before anything is read or stored.
  UseServer(db_);
  as_limited_user({"ms_priv.*"});
  Launch();
  const std::string error = WaitForError();
  EXPECT_THAT(error, HasSubstr("tables=ms_priv.*")) << error;
  EXPECT_THAT(error, HasSubstr("GRANT SELECT ON `ms_priv`.* TO 'ms_priv'@'")) << error;
  EXPECT_THAT(error, HasSubstr("sluicectl resume my")) << error;
  ExpectNotRetried();
  source_.reset();
  EXPECT_TRUE(ReadAll().empty());

  // Granted: the next start (as after sluicectl pause/resume) snapshots both tables.
  for (const char* host : {"%", "localhost"}) {
    ASSERT_TRUE(
        db_->Exec(absl::StrCat("GRANT SELECT ON ms_priv.* TO 'ms_priv'@'", host, "'")).ok());
  }
  Launch();
  ASSERT_EQ(WaitForStreaming(), "");
  source_.reset();
  const std::vector<v1::ChangeEvent> events = ReadAll();
  EXPECT_EQ(Count(events, "seen", v1::OP_READ), 2u);
  EXPECT_EQ(Count(events, "hidden", v1::OP_READ), 3u);
}

// A table dropped after the snapshot listed it, before its first chunk: skipped with a warning
// (the snapshot transaction never read it, so nothing held its metadata lock), the other
// tables read whole, and its DROP arrives through the stream: the source streams, no error.
TEST_F(MysqlSourceErrorsTest, TableDroppedDuringTheSnapshotIsSkippedAndItsDropStreamed) {
  ASSERT_TRUE(db_->Exec("DROP DATABASE IF EXISTS ms_gone").ok());
  ASSERT_TRUE(db_->Exec("CREATE DATABASE ms_gone").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE ms_gone.a (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE ms_gone.b (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO ms_gone.a SELECT seq FROM seq_1_to_2000").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO ms_gone.b SELECT seq FROM seq_1_to_10").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE IF NOT EXISTS test.ms_marker (id INT PRIMARY KEY)").ok());
  config_.snapshot = config::SnapshotMode::kInitial;
  config_.tables = {"ms_gone.*", "test.ms_marker"};
  config_.snapshot_chunk_size = 50;  // 40 chunks of a, 100 ms apart: b is dropped meanwhile
  config_.snapshot_pause_ms = 100;
  Launch();
  bool reading_a = false;
  for (int i = 0; i < 3000 && !reading_a; ++i) {
    const SourceRuntime now = registry_.Snapshot()[0];
    for (const auto& t : now.snapshot_tables) {
      reading_a = reading_a || (t.table() == "ms_gone.a" && t.rows_done() > 0 && !t.done());
    }
    if (!reading_a) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(reading_a) << registry_.Snapshot()[0].last_error;
  // From the database, so the DROP passes the filter (a DDL's database is the session's).
  ASSERT_TRUE(db_->Exec("USE ms_gone").ok());
  absl::Status dropped = db_->Exec("DROP TABLE b");
  ASSERT_TRUE(db_->Exec(absl::StrCat("USE ", db_->database())).ok());
  ASSERT_TRUE(dropped.ok()) << dropped;
  ASSERT_EQ(WaitForStreaming(), "");
  const std::vector<v1::ChangeEvent> events = Sync();
  EXPECT_EQ(Count(events, "a", v1::OP_READ), 2000u);
  EXPECT_EQ(Count(events, "b", v1::OP_READ), 0u);
  size_t drops = 0;
  for (const auto& e : events) {
    drops += e.op() == v1::OP_DDL && absl::StrContains(e.ddl().statement(), "DROP TABLE");
  }
  EXPECT_EQ(drops, 1u);
  EXPECT_TRUE(registry_.Snapshot()[0].last_error.empty()) << registry_.Snapshot()[0].last_error;
}

// A continued snapshot whose key column was renamed while the source was stopped: every chunk
// query fails with 1054 (unknown column). Stopped once in ERROR with the fix, not retried.
TEST_F(MysqlSourceErrorsTest, PermanentServerErrorStopsOnceWithTheFix) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_renamed").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_renamed (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_renamed SELECT seq FROM seq_1_to_1000").ok());
  config_.snapshot = config::SnapshotMode::kInitial;
  config_.tables = {"test.ms_renamed"};
  config_.snapshot_chunk_size = 10;
  config_.snapshot_pause_ms = 200;  // 100 chunks: stopped long before the end
  Launch();
  bool started = false;
  for (int i = 0; i < 3000 && !started; ++i) {
    const SourceRuntime now = registry_.Snapshot()[0];
    for (const auto& t : now.snapshot_tables) started |= t.rows_done() > 0;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(started) << registry_.Snapshot()[0].last_error;
  source_.reset();
  ASSERT_TRUE(db_->Exec("ALTER TABLE test.ms_renamed CHANGE id k INT").ok());
  Launch();
  const std::string error = WaitForError();
  EXPECT_THAT(error, HasSubstr("MySQL error 1054")) << error;
  EXPECT_THAT(error, HasSubstr("not retried")) << error;
  EXPECT_THAT(error, HasSubstr("sluicectl pause my; sluicectl resume my")) << error;
  ExpectNotRetried();
}

// A source configured with a wrong password: the server refuses the login (1045). Stopped once
// in ERROR naming the user, host:port and the fix, and not retried: the server sees no further
// login attempt. With the right password the next start (as after fixing the config and a
// restart, or sluicectl pause/resume) streams. An account the server refuses without a password
// check (unix_socket over TCP) stops the same way.
TEST_F(MysqlSourceErrorsTest, WrongPasswordStopsOnceNamingTheUserAndTheFix) {
  for (const char* host : {"%", "localhost"}) {
    const std::string user = absl::StrCat("'ms_pw'@'", host, "'");
    ASSERT_TRUE(db_->Exec("DROP USER IF EXISTS " + user).ok());
    ASSERT_TRUE(db_->Exec("CREATE USER " + user + " IDENTIFIED BY 'right-pw'").ok());
    ASSERT_TRUE(
        db_->Exec("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO " + user).ok());
  }
  auto denied = [&]() -> int64_t {
    auto rows = db_->Query("SHOW GLOBAL STATUS LIKE 'Access_denied_errors'");
    if (!rows.ok() || rows->size() != 1 || (*rows)[0].size() != 2) {
      ADD_FAILURE() << "Access_denied_errors: " << rows.status();
      return -1;
    }
    return std::stoll((*rows)[0][1]);
  };
  config_.user = "ms_pw";
  config_.password = "not-the-pw-4711";
  const int64_t denied_before = denied();
  Launch();
  const std::string error = WaitForError();
  EXPECT_THAT(error, HasSubstr("MySQL error 1045")) << error;
  EXPECT_THAT(error, HasSubstr(absl::StrCat("the server at ", config_.host, ":", config_.port,
                                            " refused the login of user 'ms_pw'")))
      << error;
  EXPECT_THAT(error, HasSubstr("correct it in the source's URL")) << error;
  EXPECT_THAT(error, HasSubstr("CREATE USER 'ms_pw'@'%' IDENTIFIED BY")) << error;
  EXPECT_THAT(error, HasSubstr("Not retried")) << error;
  EXPECT_THAT(error, HasSubstr("sluicectl pause my; sluicectl resume my")) << error;
  EXPECT_THAT(error, ::testing::Not(HasSubstr("not-the-pw-4711"))) << error;
  const int64_t denied_at_error = denied();
  EXPECT_GE(denied_at_error, denied_before + 1);
  ExpectNotRetried();
  // No login attempt after the first refusal.
  EXPECT_EQ(denied(), denied_at_error);
  source_.reset();

  config_.password = "right-pw";
  Launch();
  EXPECT_EQ(WaitForStreaming(), "");
  source_.reset();

  // unix_socket: the server refuses any login over TCP, whatever the password.
  ASSERT_TRUE(db_->Exec("DROP USER IF EXISTS 'ms_sock'@'%'").ok());
  absl::Status created = db_->Exec("CREATE USER 'ms_sock'@'%' IDENTIFIED VIA unix_socket");
  if (!created.ok()) GTEST_SKIP() << "no unix_socket plugin: " << created;
  config_.user = "ms_sock";
  Launch();
  const std::string sock_error = WaitForError();
  EXPECT_THAT(sock_error, HasSubstr("refused the login of user 'ms_sock'")) << sock_error;
  EXPECT_THAT(sock_error, HasSubstr("Not retried")) << sock_error;
  ExpectNotRetried();
}

// The append that stores a re-snapshot request fails (the log's files may not grow, as on a
// full disk): RequestSnapshot says so with the cause, at once, and the source's error names the
// dropped re-snapshot. Before, the request was dropped silently and the caller heard, after its
// 20 s wait, that it runs.
TEST_F(MysqlSourceErrorsTest, ResnapshotRequestThatCannotBeStoredIsRefusedWithTheCause) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_rs_store, test.ms_rs_fill").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_rs_store (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_rs_store SELECT seq FROM seq_1_to_10").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_rs_fill (id INT PRIMARY KEY, v TEXT)").ok());
  config_.database = "test";
  config_.tables = {"test.ms_rs_store", "test.ms_rs_fill", "test.ms_marker"};
  MysqlSourceOptions options;
  options.idle_checkpoint_interval = std::chrono::hours(1);  // the request's append comes first
  Launch(options);
  ASSERT_EQ(WaitForStreaming(), "");
  // Streamed rows make the WAL file larger than RocksDB's info LOG (WalGrowthLimit).
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_rs_fill SELECT seq, REPEAT('x', 500) FROM "
                        "seq_1_to_4000")
                  .ok());
  WaitForMarker();

  std::optional<storage::testing::WalGrowthLimit> full(std::in_place, LogDir());
  ASSERT_TRUE(full->ok());
  const absl::Status st = source_->RequestSnapshot("test.ms_rs_store", "");
  std::string source_error;
  for (int i = 0; i < 500 && source_error.empty(); ++i) {
    const std::string e = registry_.Snapshot()[0].last_error;
    if (absl::StrContains(e, "re-snapshot")) source_error = e;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  full.reset();
  source_.reset();
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted) << st;
  EXPECT_THAT(st.message(), HasSubstr("storing its request in the change log failed")) << st;
  EXPECT_THAT(st.message(), ::testing::Not(HasSubstr("it runs"))) << st;
  EXPECT_THAT(source_error, HasSubstr("the re-snapshot of test.ms_rs_store was dropped"))
      << registry_.Snapshot()[0].last_error;
}

}  // namespace
}  // namespace sluice::pipeline
