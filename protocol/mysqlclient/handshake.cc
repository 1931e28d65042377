#include "protocol/mysqlclient/handshake.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysqlclient {
namespace {

void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutLenenc(std::string& out, uint64_t v) {
  if (v < 0xFB) {
    PutU8(out, static_cast<uint8_t>(v));
    return;
  }
  int n;
  if (v <= 0xFFFF) {
    PutU8(out, 0xFC);
    n = 2;
  } else if (v <= 0xFFFFFF) {
    PutU8(out, 0xFD);
    n = 3;
  } else {
    PutU8(out, 0xFE);
    n = 8;
  }
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string Digest(const EVP_MD* md, std::string_view a, std::string_view b = {}) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, md, nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, buf, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return std::string();
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a);
  for (size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

}  // namespace

absl::StatusOr<Handshake> ParseHandshake(std::string_view payload) {
  wire::ByteReader r(payload);
  Handshake h;
  h.protocol_version = r.ReadU8();
  if (!r.ok()) return r.status("Handshake");
  if (h.protocol_version != 10) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Handshake: protocol version ", h.protocol_version, " is not supported (expected 10)"));
  }
  h.server_version = std::string(r.ReadNulString());
  h.connection_id = r.ReadU32Le();
  std::string_view part1 = r.ReadString(8);
  r.Skip(1);
  uint32_t caps = r.ReadU16Le();
  if (!r.ok()) return r.status("Handshake");
  h.auth_plugin_data = std::string(part1);
  if (r.remaining() > 0) {
    h.charset = r.ReadU8();
    h.status_flags = r.ReadU16Le();
    caps |= static_cast<uint32_t>(r.ReadU16Le()) << 16;
    uint8_t auth_len = r.ReadU8();
    r.Skip(10);
    if (!r.ok()) return r.status("Handshake");
    if (caps & kClientSecureConnection) {
      size_t n2 = std::max<int>(13, static_cast<int>(auth_len) - 8);
      std::string_view part2 = r.ReadString(n2);
      if (!r.ok()) return r.status("Handshake auth-plugin-data part 2");
      if (!part2.empty() && part2.back() == '\0') part2.remove_suffix(1);
      h.auth_plugin_data.append(part2);
    }
    if (caps & kClientPluginAuth) {
      std::string_view rest = r.ReadRestString();
      size_t nul = rest.find('\0');
      if (nul != std::string_view::npos) rest = rest.substr(0, nul);
      h.auth_plugin_name = std::string(rest);
    }
  }
  h.capabilities = caps;
  if (!(caps & kClientProtocol41)) {
    return absl::FailedPreconditionError(absl::StrCat("Handshake: server ", h.server_version,
                                                      " does not support CLIENT_PROTOCOL_41"));
  }
  return h;
}

uint32_t EffectiveCapabilities(const HandshakeResponse& r) {
  uint32_t caps = r.capabilities | kClientProtocol41 | kClientSecureConnection | kClientPluginAuth |
                  kClientPluginAuthLenencClientData;
  if (!r.database.empty()) {
    caps |= kClientConnectWithDb;
  } else {
    caps &= ~kClientConnectWithDb;
  }
  return caps;
}

namespace {
std::string EncodeFixedPart(const HandshakeResponse& r, uint32_t caps) {
  std::string out;
  PutU32(out, caps);
  PutU32(out, r.max_packet_size);
  PutU8(out, r.charset);
  out.append(23, '\0');
  return out;
}
}  // namespace

std::string EncodeHandshakeResponse(const HandshakeResponse& r) {
  uint32_t caps = EffectiveCapabilities(r);
  std::string out = EncodeFixedPart(r, caps);
  out.append(r.user);
  PutU8(out, 0);
  PutLenenc(out, r.auth_response.size());
  out.append(r.auth_response);
  if (caps & kClientConnectWithDb) {
    out.append(r.database);
    PutU8(out, 0);
  }
  out.append(r.auth_plugin_name);
  PutU8(out, 0);
  return out;
}

std::string EncodeSslRequest(const HandshakeResponse& r) {
  return EncodeFixedPart(r, EffectiveCapabilities(r) | kClientSsl);
}

absl::StatusOr<AuthSwitchRequest> ParseAuthSwitchRequest(std::string_view payload) {
  wire::ByteReader r(payload);
  uint8_t tag = r.ReadU8();
  if (!r.ok()) return r.status("AuthSwitchRequest");
  if (tag != 0xFE) {
    return absl::DataLossError(
        absl::StrCat("AuthSwitchRequest: first byte is ", tag, ", expected 0xFE"));
  }
  AuthSwitchRequest a;
  a.plugin_name = std::string(r.ReadNulString());
  std::string_view data = r.ReadRestString();
  if (!r.ok()) return r.status("AuthSwitchRequest");
  a.raw_plugin_data = std::string(data);
  if (!data.empty() && data.back() == '\0') data.remove_suffix(1);
  a.plugin_data = std::string(data);
  return a;
}

std::string NativePasswordScramble(std::string_view password, std::string_view seed) {
  if (password.empty()) return std::string();
  std::string stage1 = Digest(EVP_sha1(), password);
  std::string stage2 = Digest(EVP_sha1(), stage1);
  return Xor(stage1, Digest(EVP_sha1(), seed, stage2));
}

std::string CachingSha2Scramble(std::string_view password, std::string_view seed) {
  if (password.empty()) return std::string();
  std::string p1 = Digest(EVP_sha256(), password);
  std::string p2 = Digest(EVP_sha256(), p1);
  return Xor(p1, Digest(EVP_sha256(), p2, seed));
}

absl::StatusOr<std::string_view> ParseAuthMoreData(std::string_view payload) {
  if (payload.empty() || payload[0] != '\x01') {
    return absl::DataLossError("AuthMoreData: expected a packet starting with 0x01");
  }
  return payload.substr(1);
}

namespace {

// The newest OpenSSL error as text, clearing the queue.
std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

absl::StatusOr<std::string> RsaEncryptPassword(std::string_view password, std::string_view seed,
                                               std::string_view pem_public_key) {
  if (seed.empty()) return absl::InvalidArgumentError("RSA password encryption: empty seed");
  BIO* bio = BIO_new_mem_buf(pem_public_key.data(), static_cast<int>(pem_public_key.size()));
  if (bio == nullptr) return absl::InternalError(OpenSslError());
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    ERR_clear_error();
    return absl::DataLossError(
        "the server's public key is not an RSA public key in PEM (-----BEGIN PUBLIC KEY-----)");
  }
  std::string plain(password);
  plain.push_back('\0');
  for (size_t i = 0; i < plain.size(); ++i) {
    plain[i] = static_cast<char>(plain[i] ^ seed[i % seed.size()]);
  }
  // OAEP with SHA-1 carries at most key size - 42 bytes.
  size_t key_bytes = static_cast<size_t>(EVP_PKEY_get_size(key));
  if (plain.size() + 42 > key_bytes) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError(absl::StrCat(
        "the password (", password.size(), " bytes) is too long for the server's ", key_bytes * 8,
        "-bit RSA key; use TLS so that it can be sent over the encrypted channel"));
  }
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  std::string out(key_bytes, '\0');
  size_t out_len = out.size();
  bool ok =
      ctx != nullptr && EVP_PKEY_encrypt_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
      EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len,
                       reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) == 1;
  std::string err = ok ? std::string() : OpenSslError();
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return absl::InternalError(absl::StrCat("RSA password encryption failed: ", err));
  out.resize(out_len);
  return out;
}

}  // namespace sluice::mysqlclient
