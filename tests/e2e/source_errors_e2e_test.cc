// sluiced with two Postgres sources, observed through sluicectl: a snapshot query the server
// refuses for good (the source's user lacks SELECT on a table of its publication, SQLSTATE
// 42501) puts that source in ERROR once, with the server's reason, the table and the GRANT to
// run, and it is not retried; a source whose statements fail for a while (cancelled by the
// role's statement_timeout, 57014) is retried until they succeed. sluiced keeps serving the
// other source meanwhile, and after the GRANT a pause/resume finishes the snapshot. A MariaDB
// source whose user cannot see a table its filter matches is refused the same way.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using storage::testing::TempDir;
using testing::TestDatabase;

std::string Url(const TestDatabase& db, const std::string& user, const std::string& name,
                const std::string& publication) {
  return "postgres://" + user + ":pw@127.0.0.1:" + std::to_string(db.port()) + "/" +
         db.database() + "?name=" + name + "&slot=" + name + "_slot&publication=" + publication +
         "&snapshot=initial&tls=disabled";
}

// The JSON object of `source` in `sluicectl status --format json`.
std::string SourceStatus(const SluicedProcess& d, const std::string& source) {
  const std::string out =
      RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"}).stdout_text;
  const size_t at = out.find("{\"name\":\"" + source + "\"");
  if (at == std::string::npos) return "";
  const size_t end = out.find("{\"name\":", at + 1);
  return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// How many times the log shows `source` entering ERROR with `needle` in the error.
int ErrorsLogged(const SluicedProcess& d, const std::string& source, const std::string& needle) {
  int n = 0;
  std::istringstream in(d.Log());
  for (std::string line; std::getline(in, line);) {
    if (line.find("[" + source + "] state ") != std::string::npos &&
        line.find("-> error") != std::string::npos && line.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

TEST(SourceErrorsE2E, PermanentSnapshotErrorStopsOnceRetryableOneIsRetried) {
  auto dbs = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(dbs.ok()) << dbs.status();
  TestDatabase& db = **dbs;
  ASSERT_TRUE(db.Exec("DROP PUBLICATION IF EXISTS err_pub_denied; "
                      "DROP PUBLICATION IF EXISTS err_pub_wait; "
                      "DROP TABLE IF EXISTS err_open, err_secret, err_wait; "
                      "DROP ROLE IF EXISTS err_denied_user; DROP ROLE IF EXISTS err_wait_user; "
                      "CREATE ROLE err_denied_user LOGIN REPLICATION PASSWORD 'pw'; "
                      "CREATE ROLE err_wait_user LOGIN REPLICATION PASSWORD 'pw'; "
                      "ALTER ROLE err_wait_user SET statement_timeout = '1ms'; "
                      "CREATE TABLE err_open (id int PRIMARY KEY); "
                      "CREATE TABLE err_secret (id int PRIMARY KEY, v text); "
                      "CREATE TABLE err_wait (id int PRIMARY KEY); "
                      "INSERT INTO err_open VALUES (1), (2); "
                      "INSERT INTO err_secret VALUES (1, 'a'), (2, 'b'), (3, 'c'); "
                      "INSERT INTO err_wait SELECT generate_series(1, 20000); "
                      "GRANT SELECT ON err_open TO err_denied_user; "
                      "GRANT SELECT ON err_wait TO err_wait_user; "
                      "CREATE PUBLICATION err_pub_denied FOR TABLE err_open, err_secret; "
                      "CREATE PUBLICATION err_pub_wait FOR TABLE err_wait")
                  .ok());
  TempDir data;
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--source",
                    Url(db, "err_denied_user", "denied", "err_pub_denied"), "--source",
                    Url(db, "err_wait_user", "waiting", "err_pub_wait")});

  // The permanent error: ERROR with the SQLSTATE, the table and the GRANT, in bounded time.
  std::string status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = SourceStatus(d, "denied");
        return status.find("\"state\":\"error\"") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << status << "\n"
      << d.Log();
  EXPECT_NE(status.find("permission denied for table err_secret"), std::string::npos) << status;
  EXPECT_NE(status.find("SQLSTATE 42501"), std::string::npos) << status;
  EXPECT_NE(status.find("GRANT SELECT ON err_secret TO err_denied_user"), std::string::npos)
      << status;

  // The retryable one: the waiting source's statements are cancelled again and again
  // meanwhile, and once the timeout is lifted its snapshot and stream go through.
  ASSERT_TRUE(WaitFor([&] { return ErrorsLogged(d, "waiting", "57014") >= 3; },
                      std::chrono::seconds(60)))
      << SourceStatus(d, "waiting") << "\n"
      << d.Log();
  ASSERT_TRUE(db.Exec("ALTER ROLE err_wait_user RESET statement_timeout").ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        return SourceStatus(d, "waiting").find("\"state\":\"streaming\"") != std::string::npos;
      },
      std::chrono::seconds(120)))
      << SourceStatus(d, "waiting") << "\n"
      << d.Log();
  ASSERT_TRUE(db.Exec("INSERT INTO err_wait VALUES (30000)").ok());
  std::vector<std::string> rows = e2e::TailJson(d, "waiting", 20001, "earliest", 60);
  ASSERT_EQ(rows.size(), 20001u);
  EXPECT_NE(rows[0].find("\"key\":{\"id\":1}"), std::string::npos) << rows[0];
  EXPECT_NE(rows[20000].find("\"key\":{\"id\":30000}"), std::string::npos) << rows[20000];

  // By now the denied source would have been retried several times: it was not.
  EXPECT_EQ(ErrorsLogged(d, "denied", "42501"), 1) << d.Log();
  EXPECT_NE(SourceStatus(d, "denied").find("\"state\":\"error\""), std::string::npos);

  // Granted, then paused and resumed: the snapshot is read whole, each row once.
  ASSERT_TRUE(db.Exec("GRANT SELECT ON err_secret TO err_denied_user").ok());
  EXPECT_EQ(RunCommand({Sluicectl(), "--server", d.address(), "pause", "denied"}).exit_code, 0);
  EXPECT_EQ(RunCommand({Sluicectl(), "--server", d.address(), "resume", "denied"}).exit_code, 0);
  rows = e2e::TailJson(d, "denied", 5, "earliest", 60);
  ASSERT_EQ(rows.size(), 5u) << SourceStatus(d, "denied");
  int secret = 0;
  for (const std::string& r : rows) secret += r.find("\"table\":\"err_secret\"") != std::string::npos;
  EXPECT_EQ(secret, 3);
  auto more = RunCommand({Sluicectl(), "--server", d.address(), "tail", "denied", "--from",
                          "earliest", "--format", "json", "--limit", "6", "--idle-exit", "2"});
  EXPECT_EQ(e2e::Lines(more.stdout_text), 5u) << more.stdout_text;

  // Leave no slot behind on the shared server.
  EXPECT_EQ(d.Stop(), 0) << d.Log();
  for (const char* slot : {"denied_slot", "waiting_slot"}) {
    for (int i = 0; i < 50; ++i) {
      if (db.Exec(std::string("SELECT pg_drop_replication_slot('") + slot + "')").ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// MariaDB: a user with no privilege on a table does not see it, so a snapshot of tables=db.err_*
// would lack it while its changes stream. The source refuses before reading anything: ERROR
// once, naming the scope and the GRANT, not retried; after the GRANT a pause/resume snapshots
// every table, each row once.
TEST(SourceErrorsE2E, MariadbInvisibleTableStopsOnceUntilGranted) {
  auto dbs = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(dbs.ok()) << dbs.status();
  TestDatabase& db = **dbs;
  ASSERT_TRUE(db.Exec("DROP TABLE IF EXISTS err_open, err_secret; "
                      "DROP USER IF EXISTS 'err_lim'@'%'; DROP USER IF EXISTS 'err_lim'@'localhost'; "
                      "CREATE TABLE err_open (id INT PRIMARY KEY); "
                      "CREATE TABLE err_secret (id INT PRIMARY KEY, v TEXT); "
                      "INSERT INTO err_open VALUES (1), (2); "
                      "INSERT INTO err_secret VALUES (1, 'a'); "
                      "CREATE USER 'err_lim'@'%' IDENTIFIED BY 'pw'; "
                      "CREATE USER 'err_lim'@'localhost' IDENTIFIED BY 'pw'; "
                      "GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO 'err_lim'@'%', "
                      "'err_lim'@'localhost'; "
                      "GRANT SELECT ON err_open TO 'err_lim'@'%', 'err_lim'@'localhost'")
                  .ok());
  TempDir data;
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--source",
                    "mysql://err_lim:pw@127.0.0.1:" + std::to_string(db.port()) +
                        "/" + db.database() + "?name=my&server_id=9101&tables=" +
                        db.database() + ".err_*&snapshot=initial&tls=disabled"});
  std::string status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = SourceStatus(d, "my");
        return status.find("\"state\":\"error\"") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << status << "\n"
      << d.Log();
  EXPECT_NE(status.find("tables=" + db.database() + ".err_*"), std::string::npos) << status;
  EXPECT_NE(status.find("GRANT SELECT ON `" + db.database() + "`.* TO 'err_lim'@"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("sluicectl resume my"), std::string::npos) << status;
  // A retried source would be back in ERROR within 0.5 + 1 + 2 s.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(ErrorsLogged(d, "my", "cannot read every table"), 1) << d.Log();
  EXPECT_NE(SourceStatus(d, "my").find("\"state\":\"error\""), std::string::npos);

  // A re-snapshot asked of the stopped source is not taken: sluicectl says so, not that
  // sluiced cannot be reached (the answer's code is UNAVAILABLE).
  auto refused = RunCommand({Sluicectl(), "--server", d.address(), "snapshot", "my",
                             db.database() + ".err_open"});
  EXPECT_EQ(refused.exit_code, 1) << refused.stderr_text;
  EXPECT_NE(refused.stderr_text.find("snapshot of " + db.database() +
                                     ".err_open on my: the re-snapshot was not accepted"),
            std::string::npos)
      << refused.stderr_text;
  EXPECT_EQ(refused.stderr_text.find("cannot reach"), std::string::npos) << refused.stderr_text;

  // Granted, then paused and resumed: both tables are read, each row once.
  ASSERT_TRUE(db.Exec("GRANT SELECT ON " + db.database() +
                      ".* TO 'err_lim'@'%', 'err_lim'@'localhost'")
                  .ok());
  EXPECT_EQ(RunCommand({Sluicectl(), "--server", d.address(), "pause", "my"}).exit_code, 0);
  EXPECT_EQ(RunCommand({Sluicectl(), "--server", d.address(), "resume", "my"}).exit_code, 0);
  std::vector<std::string> rows = e2e::TailJson(d, "my", 3, "earliest", 60);
  ASSERT_EQ(rows.size(), 3u) << SourceStatus(d, "my");
  int secret = 0;
  for (const std::string& r : rows) {
    secret += r.find("\"table\":\"err_secret\"") != std::string::npos;
  }
  EXPECT_EQ(secret, 1);
  auto more = RunCommand({Sluicectl(), "--server", d.address(), "tail", "my", "--from",
                          "earliest", "--format", "json", "--limit", "4", "--idle-exit", "2"});
  EXPECT_EQ(e2e::Lines(more.stdout_text), 3u) << more.stdout_text;
}

}  // namespace
}  // namespace sluice
