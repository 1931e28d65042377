// MysqlConnection against a real MariaDB 10.11 from tests/testdb: login, queries, posing as a
// replica and decoding the streamed events with protocol/mysql's BinlogDecoder; TLS in every
// mode against the server's throwaway CA (testdb.sh), and a binlog dump over TLS.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/connection.h"
#include "protocol/mysqlclient/test_pki.h"
#include "tests/testing/test_database.h"

namespace sluice::mysqlclient {
namespace {

using ::sluice::testing::TestDatabase;

TestDatabase* Db() {
  absl::StatusOr<TestDatabase*> db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *db : nullptr;
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> ConnectUser(TestDatabase* db) {
  return MysqlConnection::Connect(db->host(), static_cast<uint16_t>(db->port()), db->user(),
                                  db->password(), absl::Seconds(10));
}

TEST(MysqlConnectionTest, QueriesVersionAndFormat) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  auto c = ConnectUser(db);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE((*c)->handshake().server_version.find("MariaDB"), std::string::npos);
  auto rs = (*c)->Query("SELECT @@version, @@binlog_format, NULL");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), 1u);
  ASSERT_EQ(rs->rows[0].size(), 3u);
  EXPECT_NE(rs->rows[0][0]->find("10.11"), std::string::npos) << *rs->rows[0][0];
  EXPECT_EQ(rs->rows[0][1], "ROW");
  EXPECT_EQ(rs->rows[0][2], std::nullopt);
  // A server error leaves the session usable.
  EXPECT_EQ((*c)->Query("SELEC nonsense").status().code(), absl::StatusCode::kInvalidArgument);
  auto again = (*c)->Query("SELECT 1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->rows[0][0], "1");
}

TEST(MysqlConnectionTest, WrongPasswordIsPermissionDenied) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  auto c = MysqlConnection::Connect(db->host(), static_cast<uint16_t>(db->port()), db->user(),
                                    "not-the-password", absl::Seconds(10));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied) << c.status();
  EXPECT_NE(c.status().message().find("Access denied for user"), std::string::npos) << c.status();
  EXPECT_EQ(MysqlErrorCode(c.status()), 1045) << c.status();
  EXPECT_TRUE(IsLoginRefused(c.status())) << c.status();
  std::cout << "wrong password: " << c.status() << "\n";
}

TEST(MysqlConnectionTest, ClosedPortIsUnavailable) {
  // Bind a port, then close it, so nothing listens there.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t port = ntohs(addr.sin_port);
  ::close(fd);
  auto c = MysqlConnection::Connect("127.0.0.1", port, "u", "p", absl::Seconds(5));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
}

TEST(MysqlConnectionTest, StreamsBinlogEvents) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("DROP TABLE IF EXISTS myc_rows;"
                       " CREATE TABLE myc_rows (id INT PRIMARY KEY, name VARCHAR(32))")
                  .ok());
  auto c = ConnectUser(db);
  ASSERT_TRUE(c.ok()) << c.status();
  MysqlConnection& conn = **c;
  for (const char* sql : {"SET @master_binlog_checksum = @@global.binlog_checksum",
                          "SET @mariadb_slave_capability = 4"}) {
    auto r = conn.Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
  ASSERT_TRUE(conn.RegisterReplica(4242).ok());
  auto status = conn.Query("SHOW MASTER STATUS");
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->rows.size(), 1u);
  std::string file = *status->rows[0][0];
  uint32_t pos = static_cast<uint32_t>(std::stoul(*status->rows[0][1]));

  ASSERT_TRUE(db->Exec("INSERT INTO myc_rows VALUES (7, 'seven'), (8, NULL)").ok());
  ASSERT_TRUE(conn.StartBinlogDump(file, pos, 4242).ok());

  mysql::BinlogDecoder decoder;
  decoder.set_file_name(file);
  // We negotiated CRC32 (@master_binlog_checksum): the fake ROTATE, which comes before any
  // FORMAT_DESCRIPTION, already carries it.
  decoder.set_initial_checksum(mysql::ChecksumAlg::kCrc32);
  std::vector<uint8_t> types;
  bool saw_table_map = false, saw_rows = false, saw_xid = false;
  for (int i = 0; i < 100 && !saw_xid; ++i) {
    absl::StatusOr<std::string> ev = conn.ReadBinlogEvent(absl::Seconds(10));
    ASSERT_TRUE(ev.ok()) << ev.status();
    mysql::Bytes bytes(reinterpret_cast<const std::byte*>(ev->data()), ev->size());
    absl::StatusOr<mysql::EventHeader> h = mysql::DecodeEventHeader(bytes);
    ASSERT_TRUE(h.ok()) << h.status();
    uint64_t at = h->log_pos >= h->event_size ? h->log_pos - h->event_size : 0;
    absl::StatusOr<mysql::Event> e = decoder.Decode(bytes, at);
    ASSERT_TRUE(e.ok()) << "event #" << i << " type " << int(h->type) << ": " << e.status();
    types.push_back(h->type);
    if (types.size() == 1) {
      // The fake ROTATE names the file we asked for and the position we asked for.
      auto* rot = std::get_if<mysql::Rotate>(&e->body);
      ASSERT_NE(rot, nullptr);
      // The checksum was verified and stripped, so the file name is exact.
      EXPECT_EQ(rot->next_file, file);
      EXPECT_EQ(rot->position, pos);
      EXPECT_TRUE(h->flags & mysql::kFlagArtificial);
    }
    if (auto* tm = std::get_if<std::shared_ptr<const mysql::TableMap>>(&e->body)) {
      if ((*tm)->table == "myc_rows") saw_table_map = true;
    } else if (auto* rows = std::get_if<mysql::RowsEvent>(&e->body)) {
      if (rows->table && rows->table->table == "myc_rows") {
        ASSERT_EQ(rows->kind, mysql::RowsKind::kWrite);
        ASSERT_EQ(rows->rows.size(), 2u);
        const v1::Row& r0 = *rows->rows[0].after;
        const v1::Row& r1 = *rows->rows[1].after;
        ASSERT_EQ(r0.fields_size(), 2);
        EXPECT_EQ(r0.fields(0).name(), "id");
        EXPECT_EQ(r0.fields(0).value().int64(), 7);
        EXPECT_EQ(r0.fields(1).name(), "name");
        EXPECT_EQ(r0.fields(1).value().string(), "seven");
        EXPECT_EQ(r1.fields(0).value().int64(), 8);
        EXPECT_TRUE(r1.fields(1).value().has_null());
        saw_rows = true;
      }
    } else if (std::holds_alternative<mysql::Xid>(e->body)) {
      saw_xid = saw_rows;
    }
  }
  ASSERT_GE(types.size(), 2u);
  EXPECT_EQ(types[0], static_cast<uint8_t>(mysql::EventType::kRotate));
  EXPECT_EQ(types[1], static_cast<uint8_t>(mysql::EventType::kFormatDescription));
  EXPECT_TRUE(saw_table_map);
  EXPECT_TRUE(saw_rows);
  EXPECT_TRUE(saw_xid);

  // Nothing more is written: the read times out and the stream stays usable.
  absl::StatusOr<std::string> idle = conn.ReadBinlogEvent(absl::Milliseconds(300));
  // MariaDB may still send a heartbeat-free idle stream: expect a timeout.
  EXPECT_EQ(idle.status().code(), absl::StatusCode::kDeadlineExceeded) << idle.status();
  ASSERT_TRUE(db->Exec("INSERT INTO myc_rows VALUES (9, 'nine')").ok());
  absl::StatusOr<std::string> next = conn.ReadBinlogEvent(absl::Seconds(10));
  EXPECT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(conn.Query("SELECT 1").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MysqlConnectionTest, DumpFromMissingFileIsAnError) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  auto c = ConnectUser(db);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Query("SET @master_binlog_checksum = @@global.binlog_checksum").ok());
  ASSERT_TRUE((*c)->RegisterReplica(4243).ok());
  ASSERT_TRUE((*c)->StartBinlogDump("no-such-binlog.000999", 4, 4243).ok());
  absl::StatusOr<std::string> ev = (*c)->ReadBinlogEvent(absl::Seconds(10));
  ASSERT_FALSE(ev.ok());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kFailedPrecondition) << ev.status();
}

// ---------------------------------------------------------------------------------------------
// TLS

ConnectOptions TlsOptions(TestDatabase* db, TlsMode mode, std::string ca_file = "") {
  ConnectOptions o;
  o.host = db->host();
  o.port = static_cast<uint16_t>(db->port());
  o.user = db->user();
  o.password = db->password();
  o.timeout = absl::Seconds(10);
  o.tls = mode;
  o.tls_ca_file = std::move(ca_file);
  return o;
}

// The session's TLS version as the server sees it ("" for a plain session).
std::string ServerSideTlsVersion(MysqlConnection& c) {
  auto rs = c.Query("SHOW SESSION STATUS LIKE 'Ssl_version'");
  EXPECT_TRUE(rs.ok()) << rs.status();
  if (!rs.ok() || rs->rows.size() != 1) return "?";
  return rs->rows[0][1].value_or("?");
}

#define SKIP_WITHOUT_TLS(db)                                                               \
  if ((db)->tls_ca_file().empty()) {                                                       \
    GTEST_SKIP() << "testdb.sh started MariaDB without TLS (no openssl CLI on this host)"; \
  }

TEST(MysqlConnectionTlsTest, EveryModeAgainstMariaDb) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  SKIP_WITHOUT_TLS(db);
  struct Case {
    TlsMode mode;
    std::string host;
    bool tls;
  };
  for (const Case& k : std::vector<Case>{{TlsMode::kDisabled, "127.0.0.1", false},
                                         {TlsMode::kPreferred, "127.0.0.1", true},
                                         {TlsMode::kRequired, "127.0.0.1", true},
                                         {TlsMode::kVerifyCa, "127.0.0.1", true},
                                         {TlsMode::kVerifyIdentity, "127.0.0.1", true},
                                         {TlsMode::kVerifyIdentity, "localhost", true}}) {
    SCOPED_TRACE(absl::StrCat("tls=", std::string(TlsModeName(k.mode)), " host=", k.host));
    ConnectOptions o = TlsOptions(db, k.mode, db->tls_ca_file());
    o.host = k.host;
    auto c = MysqlConnection::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ((*c)->tls_active(), k.tls);
    EXPECT_EQ((*c)->auth_plugin(), "mysql_native_password");
    std::string version = ServerSideTlsVersion(**c);
    if (k.tls) {
      EXPECT_EQ(version.rfind("TLSv1.", 0), 0u) << version;
      std::cout << "tls=" << TlsModeName(k.mode) << ": " << (*c)->tls_description() << "\n";
    } else {
      EXPECT_EQ(version, "");
    }
  }
}

TEST(MysqlConnectionTlsTest, VerifyCaWithAnotherCaFailsClearly) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  SKIP_WITHOUT_TLS(db);
  absl::StatusOr<testpki::CertAndKey> other = testpki::MakeCa("some other CA");
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<std::string> path = testpki::WriteTempFile(other->cert_pem);
  ASSERT_TRUE(path.ok()) << path.status();
  auto c = MysqlConnection::Connect(TlsOptions(db, TlsMode::kVerifyCa, *path));
  std::remove(path->c_str());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_NE(c.status().message().find("failed verification"), std::string::npos) << c.status();
  // MariaDB sends its CA along with its certificate, so OpenSSL's reason is "self-signed
  // certificate in certificate chain".
  EXPECT_NE(c.status().message().find("self-signed certificate"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find(*path), std::string::npos) << c.status();
  std::cout << "wrong CA: " << c.status() << "\n";
}

TEST(MysqlConnectionTlsTest, WrongPasswordOverTlsIsPermissionDenied) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  SKIP_WITHOUT_TLS(db);
  ConnectOptions o = TlsOptions(db, TlsMode::kVerifyIdentity, db->tls_ca_file());
  o.password = "not-the-password";
  auto c = MysqlConnection::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied) << c.status();
  EXPECT_NE(c.status().message().find("Access denied for user"), std::string::npos) << c.status();
  EXPECT_TRUE(IsLoginRefused(c.status())) << c.status();  // over TLS too
}

TEST(MysqlConnectionTlsTest, StreamsBinlogEventsOverTls) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  SKIP_WITHOUT_TLS(db);
  ASSERT_TRUE(db->Exec("DROP TABLE IF EXISTS myc_tls_rows;"
                       " CREATE TABLE myc_tls_rows (id INT PRIMARY KEY, note TEXT)")
                  .ok());
  auto c = MysqlConnection::Connect(TlsOptions(db, TlsMode::kVerifyIdentity, db->tls_ca_file()));
  ASSERT_TRUE(c.ok()) << c.status();
  MysqlConnection& conn = **c;
  ASSERT_TRUE(conn.tls_active());
  for (const char* sql : {"SET @master_binlog_checksum = @@global.binlog_checksum",
                          "SET @mariadb_slave_capability = 4"}) {
    auto r = conn.Query(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
  ASSERT_TRUE(conn.RegisterReplica(4244).ok());
  auto status = conn.Query("SHOW MASTER STATUS");
  ASSERT_TRUE(status.ok()) << status.status();
  ASSERT_EQ(status->rows.size(), 1u);
  std::string file = *status->rows[0][0];
  uint32_t pos = static_cast<uint32_t>(std::stoul(*status->rows[0][1]));
  // A row larger than one TLS record (16 KiB), so events span several records.
  std::string big(50000, 'x');
  ASSERT_TRUE(db->Exec(absl::StrCat("INSERT INTO myc_tls_rows VALUES (1, '", big, "')")).ok());
  ASSERT_TRUE(conn.StartBinlogDump(file, pos, 4244).ok());

  mysql::BinlogDecoder decoder;
  decoder.set_file_name(file);
  decoder.set_initial_checksum(mysql::ChecksumAlg::kCrc32);
  auto read_until_xid = [&](int64_t want_id, const std::string& want_note) {
    bool saw_row = false;
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<std::string> ev = conn.ReadBinlogEvent(absl::Seconds(10));
      if (!ev.ok()) return ::testing::AssertionFailure() << ev.status();
      mysql::Bytes bytes(reinterpret_cast<const std::byte*>(ev->data()), ev->size());
      absl::StatusOr<mysql::EventHeader> h = mysql::DecodeEventHeader(bytes);
      if (!h.ok()) return ::testing::AssertionFailure() << h.status();
      uint64_t at = h->log_pos >= h->event_size ? h->log_pos - h->event_size : 0;
      absl::StatusOr<mysql::Event> e = decoder.Decode(bytes, at);
      if (!e.ok()) return ::testing::AssertionFailure() << e.status();
      if (auto* rows = std::get_if<mysql::RowsEvent>(&e->body)) {
        if (rows->table && rows->table->table == "myc_tls_rows" && rows->rows.size() == 1) {
          const v1::Row& r = *rows->rows[0].after;
          saw_row =
              r.fields(0).value().int64() == want_id && r.fields(1).value().string() == want_note;
        }
      } else if (std::holds_alternative<mysql::Xid>(e->body) && saw_row) {
        return ::testing::AssertionSuccess();
      }
    }
    return ::testing::AssertionFailure() << "no row " << want_id << " and XID in 100 events";
  };
  EXPECT_TRUE(read_until_xid(1, big));

  // An idle stream over TLS times out and stays usable.
  absl::StatusOr<std::string> idle = conn.ReadBinlogEvent(absl::Milliseconds(300));
  EXPECT_EQ(idle.status().code(), absl::StatusCode::kDeadlineExceeded) << idle.status();
  ASSERT_TRUE(db->Exec("INSERT INTO myc_tls_rows VALUES (2, 'two')").ok());
  EXPECT_TRUE(read_until_xid(2, "two"));
}

// MariaDB's ed25519 plugin (auth_ed25519.so ships with the server but is not loaded by
// default): the server switches our native_password answer to client_ed25519.
TEST(MysqlConnectionTest, Ed25519AccountLogsIn) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  auto loaded =
      db->Query("SELECT COUNT(*) FROM information_schema.plugins WHERE plugin_name = 'ed25519'");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  if (loaded->at(0).at(0) == "0") {
    absl::Status st = db->Exec("INSTALL SONAME 'auth_ed25519'");
    if (!st.ok()) GTEST_SKIP() << "cannot load MariaDB's auth_ed25519 plugin: " << st;
  }
  ASSERT_TRUE(db->Exec("CREATE OR REPLACE USER 'sluice_ed'@'%'"
                       " IDENTIFIED VIA ed25519 USING PASSWORD('ed-secret')")
                  .ok());
  for (TlsMode mode : {TlsMode::kDisabled, TlsMode::kPreferred}) {
    SCOPED_TRACE(std::string(TlsModeName(mode)));
    ConnectOptions o;
    o.host = db->host();
    o.port = static_cast<uint16_t>(db->port());
    o.user = "sluice_ed";
    o.password = "ed-secret";
    o.tls = mode;
    auto c = MysqlConnection::Connect(o);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ((*c)->auth_plugin(), "client_ed25519");
    auto rs = (*c)->Query("SELECT CURRENT_USER()");
    ASSERT_TRUE(rs.ok()) << rs.status();
    EXPECT_EQ(rs->rows.at(0).at(0), "sluice_ed@%");
    o.password = "wrong";
    auto bad = MysqlConnection::Connect(o);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kPermissionDenied) << bad.status();
  }
}

}  // namespace
}  // namespace sluice::mysqlclient
