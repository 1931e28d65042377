// AuthExchange without sockets: what each plugin answers to each server packet.
#include "protocol/mysqlclient/auth.h"

#include <string>

#include "gtest/gtest.h"
#include "protocol/mysqlclient/ed25519.h"
#include "protocol/mysqlclient/handshake.h"

namespace sluice::mysqlclient {
namespace {

template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

const std::string kSeed = "ABCDEFGHIJKLMNOPQRST";
const std::string kOk("\x00\x00\x00\x02\x00\x00\x00", 7);

TEST(AuthExchangeTest, InitialPlugin) {
  EXPECT_EQ(AuthExchange::InitialPlugin("caching_sha2_password"), "caching_sha2_password");
  EXPECT_EQ(AuthExchange::InitialPlugin("sha256_password"), "sha256_password");
  EXPECT_EQ(AuthExchange::InitialPlugin("mysql_native_password"), "mysql_native_password");
  EXPECT_EQ(AuthExchange::InitialPlugin(""), "mysql_native_password");
  EXPECT_EQ(AuthExchange::InitialPlugin("client_ed25519"), "mysql_native_password");
  EXPECT_EQ(AuthExchange::InitialPlugin("auth_gssapi_client"), "mysql_native_password");
}

TEST(AuthExchangeTest, NativeThenOk) {
  AuthExchange a("pw", /*tls=*/false);
  // A seed with the server's trailing NUL is cut to 20 bytes.
  auto first = a.Start("mysql_native_password", kSeed + '\0');
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, NativePasswordScramble("pw", kSeed));
  auto r = a.OnServerPacket(kOk);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->done);
  EXPECT_FALSE(r->send.has_value());
}

TEST(AuthExchangeTest, CachingSha2FastPathAndFullAuth) {
  {
    AuthExchange a("pw", false);
    ASSERT_EQ(*a.Start("caching_sha2_password", kSeed), CachingSha2Scramble("pw", kSeed));
    auto fast = a.OnServerPacket(S("\x01\x03"));
    ASSERT_TRUE(fast.ok());
    EXPECT_FALSE(fast->done);
    EXPECT_FALSE(fast->send.has_value());
  }
  {
    AuthExchange a("pw", /*tls=*/true);
    ASSERT_TRUE(a.Start("caching_sha2_password", kSeed).ok());
    auto full = a.OnServerPacket(S("\x01\x04"));
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full->send, S("pw\0"));
  }
  {
    AuthExchange a("pw", /*tls=*/false);
    ASSERT_TRUE(a.Start("caching_sha2_password", kSeed).ok());
    auto full = a.OnServerPacket(S("\x01\x04"));
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full->send, S("\x02"));
    // The key that follows must be RSA PEM.
    auto bad = a.OnServerPacket(S("\x01garbage"));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(AuthExchangeTest, Sha256PasswordFirstResponses) {
  EXPECT_EQ(*AuthExchange("pw", true).Start("sha256_password", kSeed), S("pw\0"));
  EXPECT_EQ(*AuthExchange("pw", false).Start("sha256_password", kSeed), S("\x01"));
  EXPECT_EQ(*AuthExchange("", false).Start("sha256_password", kSeed), S("\0"));
}

TEST(AuthExchangeTest, SwitchesAndErrors) {
  AuthExchange a("pw", false);
  ASSERT_TRUE(a.Start("caching_sha2_password", kSeed).ok());
  auto sw = a.OnServerPacket(S("\xfemysql_native_password\0") + "01234567890123456789" + '\0');
  ASSERT_TRUE(sw.ok());
  EXPECT_EQ(sw->send, NativePasswordScramble("pw", "01234567890123456789"));
  EXPECT_EQ(a.plugin(), "mysql_native_password");

  std::string nonce(32, '\0');
  auto ed = a.OnServerPacket(S("\xfe"
                               "client_ed25519\0") +
                             nonce);
  ASSERT_TRUE(ed.ok()) << ed.status();
  EXPECT_EQ(ed->send, MariaDbEd25519Sign("pw", nonce));
  EXPECT_EQ(a.OnServerPacket(S("\xfe"
                               "client_ed25519\0"
                               "short"))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);

  auto gss =
      a.OnServerPacket(S("\xfe"
                         "auth_gssapi_client\0"
                         "x"));
  EXPECT_EQ(gss.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(gss.status().message().find("'auth_gssapi_client'"), std::string::npos);
  auto old = a.OnServerPacket(S("\xfe"));
  EXPECT_EQ(old.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(old.status().message().find("mysql_old_password"), std::string::npos);

  auto denied = a.OnServerPacket(S("\xff\x15\x04#28000Access denied for user 'x'"));
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(a.OnServerPacket("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(a.OnServerPacket("\x07").status().code(), absl::StatusCode::kDataLoss);
}

TEST(AuthExchangeTest, UnexpectedMoreDataIsDataLoss) {
  AuthExchange a("pw", false);
  ASSERT_TRUE(a.Start("mysql_native_password", kSeed).ok());
  EXPECT_EQ(a.OnServerPacket(S("\x01\x04")).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sluice::mysqlclient
