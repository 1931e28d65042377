// MariaDB's ed25519 signatures against OpenSSL's independent Ed25519: identical to RFC 8032 for
// 32-byte passwords, and verifiable by OpenSSL with the derived public key for any password.
#include "protocol/mysqlclient/ed25519.h"

#include <openssl/evp.h>

#include <string>

#include "gtest/gtest.h"

namespace sluice::mysqlclient {
namespace {

std::string Hex(std::string_view s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const unsigned char* U(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// OpenSSL's RFC 8032 signature with `seed` (32 bytes) as the private key.
std::string OpenSslSign(std::string_view seed, std::string_view message, std::string* pub) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, U(seed), seed.size());
  EXPECT_NE(key, nullptr);
  if (key == nullptr) return "";
  unsigned char raw_pub[32];
  size_t pub_len = sizeof raw_pub;
  EVP_PKEY_get_raw_public_key(key, raw_pub, &pub_len);
  pub->assign(reinterpret_cast<char*>(raw_pub), pub_len);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  size_t sig_len = sig.size();
  bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len, U(message),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  EXPECT_TRUE(ok);
  return sig;
}

bool OpenSslVerify(std::string_view pub, std::string_view message, std::string_view sig) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, U(pub), pub.size());
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, U(sig), sig.size(), U(message), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

TEST(Ed25519Test, Rfc8032TestVector1) {
  std::string seed = Unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  EXPECT_EQ(Hex(MariaDbEd25519PublicKey(seed)),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(Hex(MariaDbEd25519Sign(seed, "")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(Ed25519Test, MatchesOpenSslForThirtyTwoBytePasswords) {
  std::string nonce = "0123456789abcdefghijklmnopqrstuv";
  for (std::string pw : {std::string(32, 'p'), std::string("correct horse battery staple!!!!"),
                         std::string(32, '\0')}) {
    std::string pub;
    std::string want = OpenSslSign(pw, nonce, &pub);
    EXPECT_EQ(Hex(MariaDbEd25519PublicKey(pw)), Hex(pub));
    EXPECT_EQ(Hex(MariaDbEd25519Sign(pw, nonce)), Hex(want));
  }
}

TEST(Ed25519Test, OpenSslVerifiesAnyPasswordLength) {
  std::string nonce(32, '\x5a');
  for (std::string pw :
       {std::string(), std::string("secret"), std::string(100, 'x'), std::string("sluice")}) {
    std::string pub = MariaDbEd25519PublicKey(pw);
    std::string sig = MariaDbEd25519Sign(pw, nonce);
    ASSERT_EQ(pub.size(), 32u);
    ASSERT_EQ(sig.size(), kEd25519SignatureLength);
    EXPECT_TRUE(OpenSslVerify(pub, nonce, sig)) << "password '" << pw << "'";
    std::string other = nonce;
    other[0] ^= 1;
    EXPECT_FALSE(OpenSslVerify(pub, other, sig));
    EXPECT_FALSE(OpenSslVerify(MariaDbEd25519PublicKey(pw + "!"), nonce, sig));
  }
}

}  // namespace
}  // namespace sluice::mysqlclient
