// MysqlConnection against a scripted fake server on a loopback socket: the auth paths a real
// MariaDB in the integration test does not take (auth switch, caching_sha2_password), and
// timeouts.

#include "protocol/mysqlclient/connection.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocol/mysqlclient/ed25519.h"
#include "protocol/mysqlclient/fake_server.h"
#include "protocol/mysqlclient/packet.h"
#include "protocol/mysqlclient/test_pki.h"

namespace sluice::mysqlclient {
namespace {

using fake::AuthResponseOf;
using fake::FakeServer;
using fake::HandshakePayload;
using fake::kOk;
using fake::kSeedA;
using fake::kSeedB;
using fake::S;

absl::StatusOr<std::unique_ptr<MysqlConnection>> ConnectTo(const FakeServer& s,
                                                           absl::Duration t = absl::Seconds(5)) {
  return MysqlConnection::Connect("127.0.0.1", s.port(), "repl", "secret", t);
}

TEST(MysqlConnectionFakeTest, AuthSwitchToNativeThenQuery) {
  std::string first_auth, first_plugin, second_auth;
  uint8_t seq1 = 0, seq3 = 0;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    first_auth = AuthResponseOf(s.Read(&seq1), &first_plugin);
    s.Send(S("\xfemysql_native_password\0") + kSeedB + '\0', 2);
    second_auth = s.Read(&seq3);
    s.Send(kOk, 4);
    uint8_t q = 9;
    std::string query = s.Read(&q);
    if (query != "\x03SELECT 1" || q != 0) return;
    s.Send("\x01", 1);
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
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  auto rs = (*c)->Query("SELECT 1");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0][0], "1");
  c->reset();
  server.Join();
  EXPECT_EQ(seq1, 1);
  EXPECT_EQ(seq3, 3);
  EXPECT_EQ(first_plugin, "caching_sha2_password");
  EXPECT_EQ(first_auth, CachingSha2Scramble("secret", kSeedA));
  EXPECT_EQ(second_auth, NativePasswordScramble("secret", kSeedB));
}

TEST(MysqlConnectionFakeTest, CachingSha2FastPath) {
  std::string auth;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    auth = AuthResponseOf(s.Read());
    s.Send("\x01\x03", 2);
    s.Send(kOk, 3);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  c->reset();
  server.Join();
  EXPECT_EQ(auth, CachingSha2Scramble("secret", kSeedA));
}

// Full authentication over plain TCP: the client asks for the server's RSA key and sends the
// password encrypted with it; the fake server decrypts it with the private key.
TEST(MysqlConnectionFakeTest, CachingSha2FullAuthOverPlainTcpUsesRsa) {
  absl::StatusOr<testpki::RsaKeyPair> rsa = testpki::MakeRsaKey(2048);
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  std::string request, decrypted;
  uint8_t request_seq = 0, encrypted_seq = 0;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    s.Read();
    s.Send("\x01\x04", 2);
    request = s.Read(&request_seq);
    s.Send(absl::StrCat("\x01", rsa->public_pem), 4);
    std::string encrypted = s.Read(&encrypted_seq);
    absl::StatusOr<std::string> plain = testpki::RsaOaepDecrypt(rsa->private_pem, encrypted);
    if (plain.ok()) {
      for (size_t i = 0; i < plain->size(); ++i) (*plain)[i] ^= kSeedA[i % kSeedA.size()];
      decrypted = *plain;
    }
    s.Send(kOk, 6);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE((*c)->tls_active());
  EXPECT_EQ((*c)->auth_plugin(), "caching_sha2_password");
  c->reset();
  server.Join();
  EXPECT_EQ(request, "\x02");
  EXPECT_EQ(request_seq, 3);
  EXPECT_EQ(encrypted_seq, 5);
  EXPECT_EQ(decrypted, S("secret\0"));
}

TEST(MysqlConnectionFakeTest, Sha256PasswordSwitchOverPlainTcpUsesRsa) {
  absl::StatusOr<testpki::RsaKeyPair> rsa = testpki::MakeRsaKey(2048);
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  std::string request, decrypted;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(S("\xfesha256_password\0") + kSeedB + '\0', 2);
    request = s.Read();
    s.Send(absl::StrCat("\x01", rsa->public_pem), 4);
    absl::StatusOr<std::string> plain = testpki::RsaOaepDecrypt(rsa->private_pem, s.Read());
    if (plain.ok()) {
      for (size_t i = 0; i < plain->size(); ++i) (*plain)[i] ^= kSeedB[i % kSeedB.size()];
      decrypted = *plain;
    }
    s.Send(kOk, 6);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->auth_plugin(), "sha256_password");
  c->reset();
  server.Join();
  EXPECT_EQ(request, "\x01");
  EXPECT_EQ(decrypted, S("secret\0"));
}

TEST(MysqlConnectionFakeTest, GarbagePublicKeyIsDataLoss) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    s.Read();
    s.Send("\x01\x04", 2);
    s.Read();
    s.Send("\x01-----BEGIN PUBLIC KEY-----\nnonsense\n", 4);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_NE(c.status().message().find("not an RSA public key"), std::string::npos) << c.status();
}

TEST(MysqlConnectionFakeTest, UnsupportedPluginIsNamed) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(S("\xfe"
             "auth_gssapi_client\0"
             "xyz"),
           2);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(c.status().message().find("'auth_gssapi_client'"), std::string::npos) << c.status();
  EXPECT_TRUE(IsLoginRefused(c.status())) << c.status();
}

// The server's ERR to the login (wrong password): the status keeps the server's error code
// through Connect's context and is marked as a refused login, which retrying cannot heal.
TEST(MysqlConnectionFakeTest, AccessDeniedKeepsItsCodeAndIsALoginRefusal) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(S("\xff\x15\x04#28000Access denied for user 'repl'@'localhost' (using password: YES)"),
           2);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kPermissionDenied) << c.status();
  EXPECT_EQ(MysqlErrorCode(c.status()), 1045) << c.status();
  EXPECT_TRUE(IsPermanentMysqlError(c.status())) << c.status();
  EXPECT_TRUE(IsLoginRefused(c.status())) << c.status();
  EXPECT_NE(c.status().message().find("as 'repl': MySQL error 1045 (28000): Access denied"),
            std::string::npos)
      << c.status();
}

// MariaDB's ed25519: the switch carries a bare 32-byte nonce (here ending in a 0 byte, which
// must not be taken for a terminator); the answer is a signature OpenSSL verifies.
TEST(MysqlConnectionFakeTest, Ed25519SwitchSignsTheWholeNonce) {
  std::string nonce = std::string("0123456789abcdef0123456789abcde") + '\0';
  std::string signature;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(S("\xfe"
             "client_ed25519\0") +
               nonce,
           2);
    signature = s.Read();
    s.Send(kOk, 4);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->auth_plugin(), "client_ed25519");
  c->reset();
  server.Join();
  ASSERT_EQ(signature.size(), 64u);
  std::string pub = MariaDbEd25519PublicKey("secret");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()), pub.size());
  ASSERT_NE(key, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EXPECT_EQ(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(nonce.data()),
                             nonce.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
}

TEST(MysqlConnectionFakeTest, ErrorBeforeHandshake) {
  FakeServer server([&](FakeServer& s) {
    s.Send(S("\xff\x10\x04"
             "Too many connections"),
           0);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Too many connections"), std::string::npos) << c.status();
  // 1040 heals by itself: retried, not a refused login.
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_FALSE(IsLoginRefused(c.status())) << c.status();
}

TEST(MysqlConnectionFakeTest, SilentServerTimesOut) {
  FakeServer server([&](FakeServer& s) { s.WaitClose(); });
  auto c = ConnectTo(server, absl::Milliseconds(200));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded) << c.status();
  EXPECT_FALSE(IsLoginRefused(c.status()));
}

TEST(MysqlConnectionFakeTest, GarbageHandshakeIsDataLoss) {
  FakeServer server([&](FakeServer& s) {
    s.Send(S("\x0a"
             "no-terminator"),
           0);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
}

TEST(MysqlConnectionFakeTest, BinlogStreamEventsEofAndTimeout) {
  std::atomic<bool> idle_done{false};
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(kOk, 2);
    uint8_t seq = 9;
    std::string dump = s.Read(&seq);
    if (dump.empty() || dump[0] != '\x12' || seq != 0) return;
    s.Send(S("\x00"
             "event-1"),
           1);
    // A large event split over two packets.
    std::string big(kMaxPacketPayload + 5, 'e');
    big[0] = '\0';
    s.Send(big, 2);
    // EOF only once the client's idle read has timed out (no sleep: the machine may be slow).
    for (int i = 0; i < 6000 && !idle_done.load(); ++i) ::usleep(10 * 1000);
    s.Send(S("\xfe\x00\x00\x00\x00"), 4);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->StartBinlogDump("binlog.000001", 4, 99).ok());
  auto e1 = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(e1.ok()) << e1.status();
  EXPECT_EQ(*e1, "event-1");
  auto e2 = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(e2->size(), kMaxPacketPayload + 4);
  auto idle = (*c)->ReadBinlogEvent(absl::Milliseconds(100));
  EXPECT_EQ(idle.status().code(), absl::StatusCode::kDeadlineExceeded) << idle.status();
  idle_done = true;
  auto eof = (*c)->ReadBinlogEvent(absl::Seconds(5));
  EXPECT_EQ(eof.status().code(), absl::StatusCode::kOutOfRange) << eof.status();
}

TEST(MysqlConnectionFakeTest, BinlogDumpGtidSendsTheEncodedSet) {
  absl::StatusOr<mysql::GtidSet> gtids =
      mysql::GtidSet::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag:1-3");
  ASSERT_TRUE(gtids.ok()) << gtids.status();
  std::string dump;
  uint8_t seq = 9;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(kOk, 2);
    dump = s.Read(&seq);
    s.Send(S("\xff\xd4\x04#HY000The replica is connecting using CHANGE REPLICATION SOURCE TO "
             "SOURCE_AUTO_POSITION = 1, but the source has purged binary logs"),
           1);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->StartBinlogDumpGtid(*gtids, 99).ok());
  auto ev = (*c)->ReadBinlogEvent(absl::Seconds(5));
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kFailedPrecondition) << ev.status();
  EXPECT_EQ((*c)->StartBinlogDumpGtid(*gtids, 99).code(), absl::StatusCode::kFailedPrecondition);
  c->reset();
  server.Join();
  EXPECT_EQ(seq, 0);
  EXPECT_EQ(dump, EncodeBinlogDumpGtid(gtids->Encode(), 99));
}

}  // namespace
}  // namespace sluice::mysqlclient
