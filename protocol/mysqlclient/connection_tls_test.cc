// MysqlConnection's TLS negotiation against a scripted fake server that speaks TLS with
// certificates made in the test: SSLRequest bytes and sequence ids, each TlsMode's checks and
// errors, caching_sha2_password full authentication over TLS, and timeouts over TLS.

#include <unistd.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "protocol/mysqlclient/connection.h"
#include "protocol/mysqlclient/fake_server.h"
#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/packet.h"
#include "protocol/mysqlclient/test_pki.h"

namespace sluice::mysqlclient {
namespace {

using fake::AuthResponseOf;
using fake::DefaultServerCaps;
using fake::FakeServer;
using fake::HandshakePayload;
using fake::kOk;
using fake::kSeedA;
using fake::S;

uint32_t CapsOf(const std::string& payload) {
  uint32_t caps = 0;
  for (int i = 0; i < 4 && i < static_cast<int>(payload.size()); ++i) {
    caps |= static_cast<uint32_t>(static_cast<uint8_t>(payload[i])) << (8 * i);
  }
  return caps;
}

// A CA, a server certificate it signed (for `san`), and the CA in a temporary file.
class Pki {
 public:
  explicit Pki(std::string_view san = "IP:127.0.0.1,DNS:localhost") {
    absl::StatusOr<testpki::CertAndKey> ca = testpki::MakeCa("fake CA");
    EXPECT_TRUE(ca.ok()) << ca.status();
    if (!ca.ok()) return;
    ca_ = *ca;
    absl::StatusOr<testpki::CertAndKey> server = testpki::MakeServerCert(ca_, san);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = *server;
    absl::StatusOr<std::string> path = testpki::WriteTempFile(ca_.cert_pem);
    EXPECT_TRUE(path.ok()) << path.status();
    if (path.ok()) ca_file_ = *path;
  }
  ~Pki() {
    if (!ca_file_.empty()) std::remove(ca_file_.c_str());
  }
  const testpki::CertAndKey& server() const { return server_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  testpki::CertAndKey ca_;
  testpki::CertAndKey server_;
  std::string ca_file_;
};

ConnectOptions Options(const FakeServer& s, TlsMode mode, std::string ca_file = "",
                       absl::Duration timeout = absl::Seconds(5)) {
  ConnectOptions o;
  o.host = "127.0.0.1";
  o.port = s.port();
  o.user = "repl";
  o.password = "secret";
  o.timeout = timeout;
  o.tls = mode;
  o.tls_ca_file = std::move(ca_file);
  return o;
}

// The server side of a TLS login with mysql_native_password: handshake offering CLIENT_SSL,
// SSLRequest, TLS, HandshakeResponse, OK. Records what it saw.
struct TlsLogin {
  std::string ssl_request;
  uint8_t ssl_request_seq = 0;
  bool tls_up = false;
  std::string response;
  uint8_t response_seq = 0;

  bool Run(FakeServer& s, const testpki::CertAndKey& cert) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA, DefaultServerCaps() | kClientSsl), 0);
    ssl_request = s.Read(&ssl_request_seq);
    tls_up = s.StartTls(cert);
    if (!tls_up) return false;
    response = s.Read(&response_seq);
    s.Send(kOk, 3);
    return true;
  }
};

TEST(MysqlConnectionTlsTest, RequiredSendsSslRequestThenLogsInOverTls) {
  Pki pki;
  TlsLogin login;
  std::string query;
  FakeServer server([&](FakeServer& s) {
    if (!login.Run(s, pki.server())) return;
    query = s.Read();
    s.Send(std::string("\x01"), 1);
    s.Send(S("\x03"
             "def\0\0\0\x01"
             "1\0\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00"),
           2);
    s.Send(S("\xfe\x00\x00\x02\x00"), 3);
    s.Send(S("\x01"
             "1"),
           4);
    s.Send(S("\xfe\x00\x00\x02\x00"), 5);
    s.WaitClose();
  });
  auto c = MysqlConnection::Connect(Options(server, TlsMode::kRequired));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)->tls_active());
  EXPECT_EQ((*c)->tls_description().rfind("TLSv1.", 0), 0u) << (*c)->tls_description();
  auto rs = (*c)->Query("SELECT 1");
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->rows.at(0).at(0), "1");
  c->reset();
  server.Join();

  // SSLRequest: exactly the 32-byte fixed part, CLIENT_SSL set, sequence id 1.
  ASSERT_EQ(login.ssl_request.size(), 32u);
  EXPECT_EQ(login.ssl_request_seq, 1);
  EXPECT_TRUE(CapsOf(login.ssl_request) & kClientSsl);
  // The HandshakeResponse follows over TLS with sequence id 2 and the same capabilities.
  EXPECT_EQ(login.response_seq, 2);
  EXPECT_EQ(login.response.substr(0, 32), login.ssl_request);
  EXPECT_EQ(AuthResponseOf(login.response), NativePasswordScramble("secret", kSeedA));
  EXPECT_EQ(query, "\x03SELECT 1");
}

TEST(MysqlConnectionTlsTest, CachingSha2FullAuthOverTlsSendsCleartextPassword) {
  Pki pki;
  std::string password;
  uint8_t password_seq = 0;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA, DefaultServerCaps() | kClientSsl), 0);
    s.Read();
    if (!s.StartTls(pki.server())) return;
    s.Read();
    s.Send("\x01\x04", 3);
    password = s.Read(&password_seq);
    s.Send(kOk, 5);
    s.WaitClose();
  });
  auto c = MysqlConnection::Connect(Options(server, TlsMode::kVerifyIdentity, pki.ca_file()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE((*c)->tls_active());
  c->reset();
  server.Join();
  EXPECT_EQ(password, S("secret\0"));
  EXPECT_EQ(password_seq, 4);
}

TEST(MysqlConnectionTlsTest, RequiredFailsWhenServerOffersNoTls) {
  for (TlsMode mode : {TlsMode::kRequired, TlsMode::kVerifyCa, TlsMode::kVerifyIdentity}) {
    FakeServer server([&](FakeServer& s) {
      s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
      s.WaitClose();
    });
    auto c = MysqlConnection::Connect(Options(server, mode));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
    EXPECT_NE(c.status().message().find("the server does not offer TLS"), std::string::npos)
        << c.status();
    EXPECT_NE(c.status().message().find("use tls=preferred/disabled"), std::string::npos)
        << c.status();
    EXPECT_NE(c.status().message().find(std::string(TlsModeName(mode))), std::string::npos);
  }
}

TEST(MysqlConnectionTlsTest, PreferredFallsBackToPlainAndDisabledIgnoresTheOffer) {
  {
    std::string response;
    FakeServer server([&](FakeServer& s) {
      s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
      response = s.Read();
      s.Send(kOk, 2);
      s.WaitClose();
    });
    auto c = MysqlConnection::Connect(Options(server, TlsMode::kPreferred));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_FALSE((*c)->tls_active());
    c->reset();
    server.Join();
    EXPECT_GT(response.size(), 32u);
    EXPECT_FALSE(CapsOf(response) & kClientSsl);
  }
  {
    std::string response;
    FakeServer server([&](FakeServer& s) {
      s.Send(HandshakePayload("mysql_native_password", kSeedA, DefaultServerCaps() | kClientSsl),
             0);
      response = s.Read();
      s.Send(kOk, 2);
      s.WaitClose();
    });
    auto c = MysqlConnection::Connect(Options(server, TlsMode::kDisabled));
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_FALSE((*c)->tls_active());
    c->reset();
    server.Join();
    EXPECT_GT(response.size(), 32u);
    EXPECT_FALSE(CapsOf(response) & kClientSsl);
  }
}

// One login against a scripted TLS server presenting `cert`: how Connect ended (the connection is
// closed again at once) and whether the server got as far as TLS.
struct TlsAttempt {
  absl::Status status;
  bool tls_up = false;
};
TlsAttempt TryTlsLogin(const testpki::CertAndKey& cert, TlsMode mode, const std::string& ca_file) {
  TlsLogin login;
  TlsAttempt out;
  {
    FakeServer server([&](FakeServer& s) {
      if (login.Run(s, cert)) s.WaitClose();
    });
    out.status = MysqlConnection::Connect(Options(server, mode, ca_file)).status();
  }
  out.tls_up = login.tls_up;
  return out;
}

TEST(MysqlConnectionTlsTest, VerifyCaAcceptsTheRightCaAndRejectsAnother) {
  Pki pki;
  Pki other;
  TlsAttempt right = TryTlsLogin(pki.server(), TlsMode::kVerifyCa, pki.ca_file());
  ASSERT_TRUE(right.status.ok()) << right.status;
  TlsAttempt wrong = TryTlsLogin(pki.server(), TlsMode::kVerifyCa, other.ca_file());
  ASSERT_FALSE(wrong.status.ok());
  EXPECT_EQ(wrong.status.code(), absl::StatusCode::kFailedPrecondition) << wrong.status;
  EXPECT_NE(wrong.status.message().find("failed verification"), std::string::npos) << wrong.status;
  EXPECT_NE(wrong.status.message().find(other.ca_file()), std::string::npos) << wrong.status;
  EXPECT_FALSE(wrong.tls_up);
}

TEST(MysqlConnectionTlsTest, VerifyIdentityChecksTheIpAddress) {
  Pki right("IP:127.0.0.1");
  Pki wrong("DNS:db.example.com,IP:10.1.2.3");
  TlsAttempt ok = TryTlsLogin(right.server(), TlsMode::kVerifyIdentity, right.ca_file());
  ASSERT_TRUE(ok.status.ok()) << ok.status;
  TlsAttempt mismatch = TryTlsLogin(wrong.server(), TlsMode::kVerifyIdentity, wrong.ca_file());
  ASSERT_FALSE(mismatch.status.ok());
  EXPECT_EQ(mismatch.status.code(), absl::StatusCode::kFailedPrecondition) << mismatch.status;
  EXPECT_NE(mismatch.status.message().find("IP address mismatch"), std::string::npos)
      << mismatch.status;
  EXPECT_NE(mismatch.status.message().find("tls=verify_ca"), std::string::npos) << mismatch.status;
  // verify_ca does not look at the name.
  TlsAttempt by_ca = TryTlsLogin(wrong.server(), TlsMode::kVerifyCa, wrong.ca_file());
  ASSERT_TRUE(by_ca.status.ok()) << by_ca.status;
}

TEST(MysqlConnectionTlsTest, UnreadableCaFileIsInvalidArgument) {
  Pki pki;
  TlsLogin login;
  FakeServer server([&](FakeServer& s) { login.Run(s, pki.server()); });
  auto c =
      MysqlConnection::Connect(Options(server, TlsMode::kVerifyCa, "/nonexistent/sluice-ca.pem"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_NE(c.status().message().find("/nonexistent/sluice-ca.pem"), std::string::npos)
      << c.status();
}

TEST(MysqlConnectionTlsTest, SilentTlsHandshakeTimesOut) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA, DefaultServerCaps() | kClientSsl), 0);
    s.Read();
    s.WaitClose();  // never answers the ClientHello
  });
  absl::Time start = absl::Now();
  auto c =
      MysqlConnection::Connect(Options(server, TlsMode::kRequired, "", absl::Milliseconds(300)));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded) << c.status();
  EXPECT_NE(c.status().message().find("TLS handshake"), std::string::npos) << c.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

// Read timeouts over TLS keep the stream usable: an event split across a pause arrives whole.
TEST(MysqlConnectionTlsTest, ReadTimeoutOverTlsKeepsPartialBytes) {
  Pki pki;
  FakeServer server([&](FakeServer& s) {
    TlsLogin login;
    if (!login.Run(s, pki.server())) return;
    if (s.Read().empty()) return;  // COM_BINLOG_DUMP
    std::string event = S("\x00") + std::string(100000, 'e');
    std::string wire = EncodePackets(event, 2);
    s.Send(S("\x00"
             "first"),
           1);
    // Half a packet, a pause longer than the client's timeout, then the rest.
    std::string half = wire.substr(0, wire.size() / 2);
    std::string rest = wire.substr(wire.size() / 2);
    s.SendRaw(half);
    ::usleep(400 * 1000);
    s.SendRaw(rest);
    s.WaitClose();
  });
  auto c = MysqlConnection::Connect(Options(server, TlsMode::kRequired));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->StartBinlogDump("binlog.000001", 4, 7).ok());
  auto first = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "first");
  auto timed_out = (*c)->ReadBinlogEvent(absl::Milliseconds(100));
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded) << timed_out.status();
  auto whole = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(*whole, std::string(100000, 'e'));
}

}  // namespace
}  // namespace sluice::mysqlclient
