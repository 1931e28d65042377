#pragma once
// TestDatabase: a throwaway MariaDB 10.11 or PostgreSQL 15 server for one test or one test
// binary, started by tests/testdb/testdb.sh in a fresh temporary directory and stopped (process
// killed, directory removed) when the object is destroyed.
//
//   // One server per test binary (recommended: starting MariaDB takes a second or two):
//   TEST(BinlogTest, SeesInsert) {
//     absl::StatusOr<TestDatabase*> db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
//     ASSERT_TRUE(db.ok()) << db.status();
//     ASSERT_TRUE((*db)->Exec("CREATE TABLE t (id INT PRIMARY KEY)").ok());
//     ... connect sluice to (*db)->MysqlUrl() ...
//   }
//
//   // A private server, stopped at the end of the scope:
//   absl::StatusOr<std::unique_ptr<TestDatabase>> db = TestDatabase::Start(Kind::kPostgres);
//
// The server listens on 127.0.0.1 on a free port. MariaDB has ROW binlogs with FULL row image and
// FULL row metadata, GTID strict mode and CRC32 checksums; PostgreSQL has wal_level=logical. Both
// trade durability for speed (no fsync), which is fine for data that dies with the test.
//
// Accounts: user()/password() (`sluice`/`sluice`) are what sluice itself should connect with.
// On MariaDB that user has REPLICATION SLAVE, REPLICATION CLIENT, RELOAD and SELECT globally and
// ALL on `sluice_test`, `test` and `test\_%`; on PostgreSQL it is a LOGIN REPLICATION SUPERUSER.
// Exec()/Query() connect as an administrator (MariaDB root, PostgreSQL `sluice`) to database(),
// so tests can set up anything, including SET GLOBAL and FLUSH BINARY LOGS.
//
// Thread-safety: all const accessors are safe from any thread. Exec()/Query() share one session
// and are serialized by a mutex; session state (BEGIN ... COMMIT, SET @x) carries over between
// calls from the same test. Use Connect() for a second concurrent session.
//
// Note for code inside `namespace sluice`: this namespace is `sluice::testing`, so gtest must be
// spelled `::testing::Test` there.

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/sql_connection.h"

namespace sluice::testing {

class TestDatabase {
 public:
  enum class Kind { kMariaDb, kPostgres };

  // Starts a new server of `kind` and waits until it accepts connections.
  //
  // Finds the script at $SLUICE_TESTDB_SCRIPT, else $SLUICE_SOURCE_DIR/tests/testdb/testdb.sh
  // (ctest sets SLUICE_SOURCE_DIR), else under the source dir this library was built from.
  // Temporary directories go under $TMPDIR (default /tmp).
  //
  // Errors: NotFound if the script is missing; Unavailable if the server did not start (the
  // message holds the script's stderr, which ends with the tail of the server log);
  // DeadlineExceeded if the script itself hung. On error nothing is left running or on disk.
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Start(Kind kind);

  // The server of `kind` shared by the whole process: started by the first call, stopped when
  // the process exits normally (static destruction after main returns). If the first start
  // failed, every later call returns the same error at once instead of retrying.
  //
  // The pointer stays valid until exit; do not delete it. Tests that use a shared server should
  // pick unique table or database names, since earlier tests' objects are still there. If the
  // process dies without running static destructors (crash, SIGKILL from a ctest timeout), a
  // watchdog started by the script stops the server within about a second.
  static absl::StatusOr<TestDatabase*> Shared(Kind kind);

  // Stops the server and removes its directory. Errors are written to stderr. Does nothing in a
  // forked child (e.g. a gtest death test).
  ~TestDatabase();

  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Kind kind() const { return kind_; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // "sluice_test" for both kinds (on MariaDB, the default schema of Exec()/Query()).
  const std::string& database() const { return database_; }
  // The server's unix socket (MariaDB: the socket file; PostgreSQL: the .s.PGSQL.<port> file).
  const std::string& socket() const { return socket_; }
  const std::string& admin_user() const { return admin_user_; }
  const std::string& admin_password() const { return admin_password_; }
  // The temporary directory holding the server's data and logs.
  const std::string& dir() const { return dir_; }
  // The server's log file (MariaDB error log or PostgreSQL stderr).
  const std::string& log_path() const { return log_path_; }
  // PEM file of the throwaway CA that signed the MariaDB server's TLS certificate (valid for
  // 127.0.0.1 and localhost), for clients that verify the server. Empty for PostgreSQL, and for
  // MariaDB when testdb.sh found no openssl CLI and started the server without TLS.
  const std::string& tls_ca_file() const { return tls_ca_file_; }
  // The server's main process (mariadbd or the postmaster).
  pid_t pid() const { return pid_; }
  // Wall time that Start() took.
  absl::Duration start_duration() const { return start_duration_; }

  // mysql://sluice:sluice@127.0.0.1:PORT/
  std::string MysqlUrl() const;
  // postgres://sluice:sluice@127.0.0.1:PORT/sluice_test
  std::string PostgresUrl() const;
  // MysqlUrl() or PostgresUrl(), whichever matches kind().
  std::string Url() const;

  // Runs `sql` (one or more statements) as the administrator in database(). Reconnects first if
  // the previous session was lost. Errors are those of SqlConnection.
  absl::Status Exec(std::string_view sql);
  // Runs `sql` and returns the rows of its last result set as text; NULL becomes kNull.
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(std::string_view sql);
  // As Query(), with NULL as std::nullopt.
  absl::StatusOr<std::vector<NullableRow>> QueryNullable(std::string_view sql);

  enum class Role { kAdmin, kUser };
  // A new session of its own, as the administrator or as user(), to database().
  absl::StatusOr<std::unique_ptr<SqlConnection>> Connect(Role role = Role::kAdmin) const;

  // The last `lines` lines of log_path(), for failure messages.
  std::string LogTail(int lines = 40) const;

  // Stops the server and removes dir() now. Later calls, and the destructor, do nothing.
  absl::Status Stop();

 private:
  TestDatabase() = default;

  // Returns the admin session, connecting if needed. Requires mu_ held.
  absl::StatusOr<SqlConnection*> AdminSessionLocked();

  Kind kind_ = Kind::kMariaDb;
  std::string script_;
  std::string host_;
  int port_ = 0;
  std::string user_;
  std::string password_;
  std::string database_;
  std::string socket_;
  std::string admin_user_;
  std::string admin_password_;
  std::string dir_;
  std::string log_path_;
  std::string tls_ca_file_;
  pid_t pid_ = 0;
  pid_t owner_pid_ = 0;
  absl::Duration start_duration_;
  bool stopped_ = false;

  std::mutex mu_;
  std::unique_ptr<SqlConnection> admin_session_;  // guarded by mu_
};

// "mariadb" or "postgres", as testdb.sh spells it.
const char* KindName(TestDatabase::Kind kind);

}  // namespace sluice::testing
