#include "protocol/mysqlclient/handshake.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <string>

#include "gtest/gtest.h"

namespace sluice::mysqlclient {
namespace {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

// Independent digests through OpenSSL's one-shot functions (the code under test uses EVP).
std::string Sha1(std::string_view s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}
std::string Sha256(std::string_view s) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}
std::string Hex(std::string_view s) {
  static const char* k = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

// A MariaDB 10.11 style handshake, built by hand.
std::string SampleHandshake(std::string_view plugin) {
  std::string p;
  p.push_back(10);
  p += std::string("5.5.5-10.11.6-MariaDB") + '\0';
  p += S("\x2a\x00\x00\x00");  // connection id 42
  p += "abcdefgh";                          // part 1
  p.push_back('\0');
  uint32_t caps = kClientLongPassword | kClientProtocol41 | kClientSecureConnection |
                  kClientPluginAuth | kClientPluginAuthLenencClientData | kClientSsl |
                  kClientConnectWithDb;
  p.push_back(static_cast<char>(caps & 0xFF));
  p.push_back(static_cast<char>((caps >> 8) & 0xFF));
  p.push_back(45);                       // charset
  p += S("\x02\x00");       // status
  p.push_back(static_cast<char>((caps >> 16) & 0xFF));
  p.push_back(static_cast<char>((caps >> 24) & 0xFF));
  p.push_back(21);                       // auth data length
  p += std::string(10, '\0');
  p += std::string("ijklmnopqrst") + '\0';  // part 2 (12 + NUL)
  p += std::string(plugin) + '\0';
  return p;
}

TEST(HandshakeTest, ParsesV10) {
  auto h = ParseHandshake(SampleHandshake("mysql_native_password"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->protocol_version, 10);
  EXPECT_EQ(h->server_version, "5.5.5-10.11.6-MariaDB");
  EXPECT_EQ(h->connection_id, 42u);
  EXPECT_EQ(h->auth_plugin_data, "abcdefghijklmnopqrst");
  EXPECT_EQ(h->charset, 45);
  EXPECT_EQ(h->status_flags, 2);
  EXPECT_TRUE(h->capabilities & kClientPluginAuth);
  EXPECT_TRUE(h->capabilities & kClientPluginAuthLenencClientData);
  EXPECT_EQ(h->auth_plugin_name, "mysql_native_password");
}

TEST(HandshakeTest, EveryTruncationIsACleanError) {
  std::string full = SampleHandshake("caching_sha2_password");
  for (size_t n = 0; n < 40; ++n) {  // through the end of part 2's fixed prefix
    auto h = ParseHandshake(std::string_view(full).substr(0, n));
    if (n == 0 || (n > 1 && n < 32)) {
      EXPECT_FALSE(h.ok()) << n;
    }
  }
  // Anything shorter than the whole message parses or fails without crashing.
  for (size_t n = 0; n <= full.size(); ++n) (void)ParseHandshake(full.substr(0, n));
}

TEST(HandshakeTest, RejectsOtherProtocolVersion) {
  std::string p = SampleHandshake("x");
  p[0] = 9;
  EXPECT_EQ(ParseHandshake(p).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HandshakeResponseTest, Encodes) {
  HandshakeResponse r;
  r.capabilities = kClientLongPassword | kClientTransactions;
  r.user = "sluice";
  r.auth_response = S("\x01\x02\x03");
  r.database = "db";
  r.auth_plugin_name = "mysql_native_password";
  std::string out = EncodeHandshakeResponse(r);
  uint32_t caps = kClientLongPassword | kClientTransactions | kClientProtocol41 |
                  kClientSecureConnection | kClientPluginAuth |
                  kClientPluginAuthLenencClientData | kClientConnectWithDb;
  std::string expect;
  for (int i = 0; i < 4; ++i) expect.push_back(static_cast<char>((caps >> (8 * i)) & 0xFF));
  expect += S("\x00\x00\x00\x01");  // max packet 16 MiB
  expect.push_back(45);
  expect += std::string(23, '\0');
  expect += S("sluice\0");
  expect += S("\x03\x01\x02\x03");
  expect += S("db\0");
  expect += S("mysql_native_password\0");
  EXPECT_EQ(Hex(out), Hex(expect));

  std::string ssl = EncodeSslRequest(r);
  ASSERT_EQ(ssl.size(), 32u);
  EXPECT_EQ(ssl.substr(4), expect.substr(4, 28));
  EXPECT_TRUE(static_cast<uint8_t>(ssl[1]) & (kClientSsl >> 8));
}

TEST(HandshakeResponseTest, NoDatabaseClearsConnectWithDb) {
  HandshakeResponse r;
  r.capabilities = kClientConnectWithDb;
  EXPECT_FALSE(EffectiveCapabilities(r) & kClientConnectWithDb);
}

TEST(AuthSwitchTest, Parses) {
  auto a = ParseAuthSwitchRequest(S("\xfemysql_native_password\0" "01234567890123456789\0"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->plugin_name, "mysql_native_password");
  EXPECT_EQ(a->plugin_data, "01234567890123456789");
  EXPECT_FALSE(ParseAuthSwitchRequest(S("\xfeno-nul")).ok());
  EXPECT_FALSE(ParseAuthSwitchRequest("").ok());
  EXPECT_FALSE(ParseAuthSwitchRequest("\x01x").ok());
}

TEST(ScrambleTest, NativePasswordKnownStage2) {
  // PASSWORD('password') in MySQL/MariaDB is "*" + HEX(SHA1(SHA1('password'))), a widely
  // published value.
  EXPECT_EQ(Hex(Sha1(Sha1("password"))), "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
}

TEST(ScrambleTest, NativePasswordVerifiesTheWayTheServerDoes) {
  std::string seed = "0123456789abcdefghij";
  std::string s = NativePasswordScramble("password", seed);
  ASSERT_EQ(s.size(), 20u);
  // Server side: stage2 is stored; SHA1(scramble XOR SHA1(seed + stage2)) must equal stage2.
  std::string stage2 = Sha1(Sha1("password"));
  std::string mask = Sha1(seed + stage2);
  std::string stage1;
  for (size_t i = 0; i < 20; ++i) stage1.push_back(static_cast<char>(s[i] ^ mask[i]));
  EXPECT_EQ(Hex(Sha1(stage1)), Hex(stage2));
  EXPECT_EQ(NativePasswordScramble("", seed), "");
  EXPECT_NE(NativePasswordScramble("passwore", seed), s);
}

TEST(ScrambleTest, CachingSha2StepByStep) {
  std::string seed = "ABCDEFGHIJKLMNOPQRST";
  std::string s = CachingSha2Scramble("secret", seed);
  ASSERT_EQ(s.size(), 32u);
  std::string p1 = Sha256("secret");
  std::string mask = Sha256(Sha256(p1) + seed);
  std::string expect;
  for (size_t i = 0; i < 32; ++i) expect.push_back(static_cast<char>(p1[i] ^ mask[i]));
  EXPECT_EQ(Hex(s), Hex(expect));
  // The server's check: SHA256(scramble XOR mask) equals the stored SHA256(SHA256(password)).
  std::string recovered;
  for (size_t i = 0; i < 32; ++i) recovered.push_back(static_cast<char>(s[i] ^ mask[i]));
  EXPECT_EQ(Hex(Sha256(recovered)), Hex(Sha256(Sha256("secret"))));
  EXPECT_EQ(CachingSha2Scramble("", seed), "");
}

TEST(ScrambleTest, Sha256KnownVector) {
  // FIPS 180-2 test vector, to pin the independent helper.
  EXPECT_EQ(Hex(Sha256("abc")),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
}

// Vectors computed outside sluice (Python hashlib) for fixed passwords and seeds.
TEST(ScrambleTest, HandComputedVectors) {
  EXPECT_EQ(Hex(CachingSha2Scramble("secret", "ABCDEFGHIJKLMNOPQRST")),
            "D721E183C1F036A196C1389201B8D53F38064A16F1D0923683AB886763152D75");
  std::string seed;
  for (char c = 1; c <= 20; ++c) seed.push_back(c);
  EXPECT_EQ(Hex(CachingSha2Scramble("sluice", seed)),
            "33186BB954A3041878F5D5FB4E5DAF6922ECC93D4CB7C22B29A0CDB558637C9A");
  EXPECT_EQ(Hex(NativePasswordScramble("sluice", seed)),
            "A32C00AC9E448CDC31378E740F873371A183B13C");
}

TEST(HandshakeResponseTest, SslRequestBytes) {
  HandshakeResponse r;
  r.capabilities = kClientLongPassword | kClientLongFlag | kClientTransactions | kClientSsl;
  r.user = "ignored";
  r.auth_response = "ignored";
  r.auth_plugin_name = "mysql_native_password";
  // caps 0x0028AA05: LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, SSL, TRANSACTIONS,
  // SECURE_CONNECTION, PLUGIN_AUTH, PLUGIN_AUTH_LENENC_CLIENT_DATA; max packet 16 MiB; utf8mb4.
  EXPECT_EQ(Hex(EncodeSslRequest(r)), Hex(S("\x05\xaa\x28\x00"
                                            "\x00\x00\x00\x01"
                                            "\x2d") +
                                          std::string(23, '\0')));
  // The HandshakeResponse41 that follows over TLS starts with the same 32 bytes.
  EXPECT_EQ(EncodeHandshakeResponse(r).substr(0, 32), EncodeSslRequest(r));
}

TEST(AuthMoreDataTest, Parses) {
  const std::string payload = S("\x01\x04");  // the result views into it
  auto d = ParseAuthMoreData(payload);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "\x04");
  EXPECT_EQ(ParseAuthMoreData("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseAuthMoreData("\x02").status().code(), absl::StatusCode::kDataLoss);
}

struct TestRsaKey {
  std::string public_pem;
  EVP_PKEY* key = nullptr;
  ~TestRsaKey() { EVP_PKEY_free(key); }
};

void MakeRsaKey(unsigned bits, TestRsaKey* out) {
  out->key = EVP_RSA_gen(bits);
  ASSERT_NE(out->key, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, out->key), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  out->public_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
}

std::string Decrypt(EVP_PKEY* key, std::string_view ciphertext) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  std::string out(static_cast<size_t>(EVP_PKEY_get_size(key)), '\0');
  size_t n = out.size();
  bool ok = EVP_PKEY_decrypt_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
            EVP_PKEY_decrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                             reinterpret_cast<const unsigned char*>(ciphertext.data()),
                             ciphertext.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return "<decryption failed>";
  out.resize(n);
  return out;
}

TEST(RsaPasswordTest, DecryptsToPasswordXorSeed) {
  TestRsaKey k;
  ASSERT_NO_FATAL_FAILURE(MakeRsaKey(2048, &k));
  std::string seed = "ABCDEFGHIJKLMNOPQRST";
  // Longer than the seed, so the seed repeats.
  std::string password = "a password longer than twenty bytes";
  absl::StatusOr<std::string> enc = RsaEncryptPassword(password, seed, k.public_pem);
  ASSERT_TRUE(enc.ok()) << enc.status();
  EXPECT_EQ(enc->size(), 256u);
  std::string plain = Decrypt(k.key, *enc);
  ASSERT_EQ(plain.size(), password.size() + 1);
  std::string unmasked;
  for (size_t i = 0; i < plain.size(); ++i) {
    unmasked.push_back(static_cast<char>(plain[i] ^ seed[i % seed.size()]));
  }
  EXPECT_EQ(unmasked, password + '\0');
  // OAEP is randomized: the same input encrypts differently each time.
  absl::StatusOr<std::string> again = RsaEncryptPassword(password, seed, k.public_pem);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *enc);
}

TEST(RsaPasswordTest, Errors) {
  TestRsaKey k;
  ASSERT_NO_FATAL_FAILURE(MakeRsaKey(1024, &k));
  std::string seed = "ABCDEFGHIJKLMNOPQRST";
  // 1024-bit OAEP-SHA1 carries 128 - 42 = 86 bytes: 85 + NUL fits, 86 + NUL does not.
  EXPECT_TRUE(RsaEncryptPassword(std::string(85, 'p'), seed, k.public_pem).ok());
  EXPECT_EQ(RsaEncryptPassword(std::string(86, 'p'), seed, k.public_pem).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RsaEncryptPassword("pw", seed, "not a key").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(RsaEncryptPassword("pw", seed, "").status().code(), absl::StatusCode::kDataLoss);
  // A PEM public key that is not RSA.
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, ec);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string ec_pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  auto st = RsaEncryptPassword("pw", seed, ec_pem).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  EXPECT_NE(st.message().find("not an RSA public key"), std::string::npos) << st;
}

}  // namespace
}  // namespace sluice::mysqlclient
