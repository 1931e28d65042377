// Integration test against a real PostgreSQL 15 started by the test helper.
#include "protocol/pgclient/replication_connection.h"

#include <gtest/gtest.h>

#include <thread>

#include "protocol/pgclient/sql_error.h"
#include "tests/testing/test_database.h"

namespace sluice::pgclient {
namespace {

using sluice::testing::TestDatabase;

uint64_t BigEndian64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

void PutBigEndian64(uint64_t v, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

class ReplicationConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    params_.host = db_->host();
    params_.port = static_cast<uint16_t>(db_->port());
    params_.user = db_->user();
    params_.password = db_->password();
    params_.database = db_->database();
    params_.sslmode = "disable";
  }
  TestDatabase* db_ = nullptr;
  ConnectParams params_;
};

TEST_F(ReplicationConnectionTest, IdentifyCreateSlotStreamAndConfirm) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS rc_items; "
                        "CREATE TABLE rc_items (id int PRIMARY KEY, name text); "
                        "DROP PUBLICATION IF EXISTS rc_pub; "
                        "CREATE PUBLICATION rc_pub FOR TABLE rc_items")
                  .ok());
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->server_major_version(), 15);
  auto id = (*conn)->IdentifySystem();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_NE(id->system_id, 0u);
  EXPECT_EQ(id->timeline, 1u);
  EXPECT_EQ(id->database, db_->database());

  auto slot = (*conn)->CreateSlot("rc_slot", /*export_snapshot=*/false);
  ASSERT_TRUE(slot.ok()) << slot.status();
  EXPECT_EQ(slot->name, "rc_slot");
  EXPECT_TRUE(slot->snapshot_name.empty());
  auto again = (*conn)->CreateSlot("rc_slot", false);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
  auto state = (*conn)->GetSlot("rc_slot");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->exists);
  EXPECT_EQ(state->plugin, "pgoutput");

  ASSERT_TRUE(db_->Exec("INSERT INTO rc_items VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  ASSERT_TRUE((*conn)
                  ->StartReplication("rc_slot", slot->consistent_point,
                                     {{"proto_version", "1"}, {"publication_names", "rc_pub"}})
                  .ok());
  // XLogData: 'w' walStart walEnd sendTime payload; pgoutput payload starts with its type byte.
  int inserts = 0;
  uint64_t commit_end = 0;
  for (int i = 0; i < 200 && commit_end == 0; ++i) {
    auto msg = (*conn)->ReadCopyData(std::chrono::milliseconds(200));
    ASSERT_TRUE(msg.ok()) << msg.status();
    if (!msg->has_value()) continue;
    const std::string& m = **msg;
    ASSERT_FALSE(m.empty());
    if (m[0] != 'w') continue;  // keepalive
    ASSERT_GT(m.size(), 25u);
    const char type = m[25];
    if (type == 'I') ++inserts;
    if (type == 'C') commit_end = BigEndian64(m, 25 + 1 + 1 + 8);  // flags, commit lsn, end lsn
  }
  EXPECT_EQ(inserts, 3);
  ASSERT_NE(commit_end, 0u);

  // Standby status update confirming the commit: 'r' write flush apply clock reply.
  std::string status = "r";
  PutBigEndian64(commit_end, status);
  PutBigEndian64(commit_end, status);
  PutBigEndian64(commit_end, status);
  PutBigEndian64(0, status);
  status.push_back(0);
  ASSERT_TRUE((*conn)->SendCopyData(status).ok());
  bool confirmed = false;
  for (int i = 0; i < 100 && !confirmed; ++i) {
    auto rows = db_->Query(
        "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
        "WHERE slot_name = 'rc_slot'");
    ASSERT_TRUE(rows.ok()) << rows.status();
    confirmed = !rows->empty() && std::stoull((*rows)[0][0]) >= commit_end;
    if (!confirmed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(confirmed) << "confirmed_flush_lsn did not reach the acknowledged commit";
  conn->reset();
  for (int i = 0; i < 50; ++i) {  // the walsender releases the slot asynchronously
    if (db_->Exec("SELECT pg_drop_replication_slot('rc_slot')").ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

TEST_F(ReplicationConnectionTest, MissingSlotIsNotFoundWithAHint) {
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto s = (*conn)->StartReplication("no_such_slot", Lsn(0), {{"proto_version", "1"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(std::string(s.message()).find("no_such_slot"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("never recreates it silently"), std::string::npos) << s;
  // The source's next session looks at the slot again: not a permanent SQL error.
  EXPECT_FALSE(IsPermanentSqlError(s)) << s;
  EXPECT_EQ(SqlStateOf(s).value_or(""), "42704") << s;
  auto state = (*conn)->GetSlot("no_such_slot");
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->exists);
}

TEST_F(ReplicationConnectionTest, WrongPasswordIsPermissionDenied) {
  params_.password = "wrong";
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kPermissionDenied) << conn.status();
  EXPECT_NE(std::string(conn.status().message()).find("password"), std::string::npos);
  EXPECT_EQ(std::string(conn.status().message()).find('\n'), std::string::npos);
}

TEST_F(ReplicationConnectionTest, UnreachableServerIsUnavailable) {
  params_.port = 1;
  params_.connect_timeout = std::chrono::seconds(2);
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << conn.status();
  EXPECT_NE(std::string(conn.status().message()).find("postgres at 127.0.0.1:1"),
            std::string::npos);
}

TEST_F(ReplicationConnectionTest, SessionSettingsArePinned) {
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto rows = (*conn)->Query(
      "SELECT current_setting('DateStyle'), current_setting('IntervalStyle'), "
      "current_setting('extra_float_digits'), current_setting('TimeZone'), "
      "current_setting('client_encoding')");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0], (std::vector<std::string>{"ISO, MDY", "postgres", "3", "UTC", "UTF8"}));
}

TEST_F(ReplicationConnectionTest, CopyOutStreamsRowsAndSurvivesACallbackError) {
  params_.replication = false;
  auto conn = ReplicationConnection::Connect(params_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  std::vector<std::string> rows;
  auto n = (*conn)->CopyOut(
      "COPY (SELECT g, CASE WHEN g = 2 THEN NULL ELSE E'a\\tb\\\\' || g END "
      "FROM generate_series(1, 3) g ORDER BY g) TO STDOUT",
      [&](std::string_view row) {
        rows.emplace_back(row);
        return absl::OkStatus();
      });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(rows, (std::vector<std::string>{"1\ta\\tb\\\\1\n", "2\t\\N\n",
                                            "3\ta\\tb\\\\3\n"}));

  int seen = 0;
  auto failed = (*conn)->CopyOut("COPY (SELECT generate_series(1, 1000)) TO STDOUT",
                                 [&](std::string_view) {
                                   ++seen;
                                   return absl::AbortedError("stop");
                                 });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(seen, 1);
  auto bad = (*conn)->CopyOut("COPY (SELECT * FROM no_such_table) TO STDOUT",
                              [](std::string_view) { return absl::OkStatus(); });
  EXPECT_FALSE(bad.ok());
  auto after = (*conn)->Query("SELECT 42");  // the session is still usable
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)[0][0], "42");
}

// Errors the server reports are classified by their SQLSTATE, not their text: a permanent one
// (the same statement fails again) is marked so, names the SQLSTATE and a fix; one that may go
// away (a cancelled statement, a lock that was not granted in time) is Unavailable.
TEST_F(ReplicationConnectionTest, ServerErrorsAreClassifiedBySqlState) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS rc_secret; DROP ROLE IF EXISTS rc_limited; "
                        "CREATE TABLE rc_secret (id int PRIMARY KEY); "
                        "INSERT INTO rc_secret VALUES (1); "
                        "CREATE ROLE rc_limited LOGIN PASSWORD 'limited'")
                  .ok());
  ConnectParams limited = params_;
  limited.replication = false;
  limited.user = "rc_limited";
  limited.password = "limited";
  auto conn = ReplicationConnection::Connect(limited);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ReplicationConnection& c = **conn;

  auto denied = c.QueryText("SELECT id FROM rc_secret");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
  EXPECT_TRUE(IsPermanentSqlError(denied.status())) << denied.status();
  EXPECT_EQ(SqlStateOf(denied.status()).value_or(""), "42501");
  EXPECT_NE(std::string(denied.status().message()).find("SQLSTATE 42501"), std::string::npos)
      << denied.status();
  EXPECT_NE(std::string(denied.status().message()).find("GRANT SELECT ON rc_secret TO rc_limited"),
            std::string::npos)
      << denied.status();
  auto copy = c.CopyOut("COPY (SELECT id FROM rc_secret) TO STDOUT",
                        [](std::string_view) { return absl::OkStatus(); });
  EXPECT_TRUE(IsPermanentSqlError(copy.status())) << copy.status();
  EXPECT_EQ(copy.status().code(), absl::StatusCode::kPermissionDenied) << copy.status();

  struct Case {
    const char* sql;
    absl::StatusCode code;
    const char* sqlstate;
  };
  for (const Case& k : {Case{"SELECT * FROM rc_no_such_table", absl::StatusCode::kNotFound, "42P01"},
                        Case{"SELECT no_such_column FROM pg_class", absl::StatusCode::kNotFound,
                             "42703"},
                        Case{"SELECT 1 / 0", absl::StatusCode::kInvalidArgument, "22012"},
                        Case{"SELEC 1", absl::StatusCode::kFailedPrecondition, "42601"}}) {
    auto r = c.Query(k.sql);
    ASSERT_FALSE(r.ok()) << k.sql;
    EXPECT_EQ(r.status().code(), k.code) << r.status();
    EXPECT_TRUE(IsPermanentSqlError(r.status())) << r.status();
    EXPECT_EQ(SqlStateOf(r.status()).value_or(""), k.sqlstate) << r.status();
  }

  // Retryable: a statement cancelled by statement_timeout (57014), a lock not granted within
  // lock_timeout (55P03).
  auto cancelled = c.Query("SET statement_timeout = '20ms'; SELECT pg_sleep(5)");
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kUnavailable) << cancelled.status();
  EXPECT_FALSE(IsPermanentSqlError(cancelled.status())) << cancelled.status();
  EXPECT_EQ(SqlStateOf(cancelled.status()).value_or(""), "57014");
  ASSERT_TRUE(c.Query("SET statement_timeout = 0").ok());

  auto holder = db_->Connect();
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_TRUE((*holder)->Exec("BEGIN; LOCK TABLE rc_secret IN ACCESS EXCLUSIVE MODE").ok());
  ASSERT_TRUE(db_->Exec("GRANT SELECT ON rc_secret TO rc_limited").ok());
  auto locked = c.Query("SET lock_timeout = '50ms'; SELECT id FROM rc_secret");
  ASSERT_TRUE((*holder)->Exec("ROLLBACK").ok());
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().code(), absl::StatusCode::kUnavailable) << locked.status();
  EXPECT_FALSE(IsPermanentSqlError(locked.status())) << locked.status();
  EXPECT_EQ(SqlStateOf(locked.status()).value_or(""), "55P03");
  // Granted and unlocked: the same statement now succeeds.
  auto granted = c.Query("SELECT id FROM rc_secret");
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ((*granted)[0][0], "1");
}

}  // namespace
}  // namespace sluice::pgclient
