#pragma once
// Connection phase codecs: the server's Handshake v10, the client's HandshakeResponse41 and
// SSLRequest, AuthSwitchRequest, AuthMoreData, the auth scrambles of mysql_native_password and
// caching_sha2_password (fast path), and the RSA-encrypted password of caching_sha2_password /
// sha256_password full authentication over plain TCP.
//
// Grammar (all integers little-endian):
//   HandshakeV10 := protocol_version u8 (=10) · server_version NUL-string · connection_id u32
//                   · auth_data_1[8] · filler u8 · caps_low u16
//                   [ · charset u8 · status u16 · caps_high u16 · auth_data_len u8
//                     · reserved[10]
//                     · [SECURE_CONNECTION: auth_data_2[max(13, auth_data_len - 8)]]
//                     · [PLUGIN_AUTH: plugin_name NUL-string (or string<EOF>)] ]
//   HandshakeResponse41 := caps u32 · max_packet u32 · charset u8 · zero[23] · user NUL-string
//                   · auth_response (lenenc with PLUGIN_AUTH_LENENC_CLIENT_DATA, else u8 len)
//                   · [CONNECT_WITH_DB: database NUL-string] · [PLUGIN_AUTH: plugin NUL-string]
//   SSLRequest   := the first 32 bytes of HandshakeResponse41, with CLIENT_SSL set
//   AuthSwitchRequest := 0xFE · plugin_name NUL-string · plugin_data string<EOF>
//   AuthMoreData := 0x01 · data string<EOF>
//
// caching_sha2_password exchange after the scramble (each line one packet):
//   server AuthMoreData 0x03                → fast auth succeeded; OK follows
//   server AuthMoreData 0x04                → full authentication:
//     over TLS:   client password · 0x00    → OK | ERR
//     plain TCP:  client 0x02               (request the public key)
//                 server AuthMoreData PEM   ("-----BEGIN PUBLIC KEY-----...")
//                 client RSA-OAEP(password · 0x00 XOR seed)  → OK | ERR
// sha256_password sends the password (TLS) or 0x01 (plain: request the key) as its first
// response and then proceeds as the last two lines.
//
// Pure; peer bytes are read with wire::ByteReader and bad bytes are DataLoss/InvalidArgument.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::mysqlclient {

// Capability flags (the subset we use or inspect).
inline constexpr uint32_t kClientLongPassword = 0x00000001;
inline constexpr uint32_t kClientLongFlag = 0x00000004;
inline constexpr uint32_t kClientConnectWithDb = 0x00000008;
inline constexpr uint32_t kClientProtocol41 = 0x00000200;
inline constexpr uint32_t kClientSsl = 0x00000800;
inline constexpr uint32_t kClientTransactions = 0x00002000;
inline constexpr uint32_t kClientSecureConnection = 0x00008000;
inline constexpr uint32_t kClientMultiResults = 0x00020000;
inline constexpr uint32_t kClientPluginAuth = 0x00080000;
inline constexpr uint32_t kClientPluginAuthLenencClientData = 0x00200000;
inline constexpr uint32_t kClientDeprecateEof = 0x01000000;

inline constexpr uint8_t kCharsetUtf8mb4GeneralCi = 45;

inline constexpr std::string_view kNativePassword = "mysql_native_password";
inline constexpr std::string_view kCachingSha2Password = "caching_sha2_password";
inline constexpr std::string_view kSha256Password = "sha256_password";
inline constexpr std::string_view kClientEd25519 = "client_ed25519";

// AuthMoreData bytes of caching_sha2_password and sha256_password.
inline constexpr char kCachingSha2FastAuthOk = 0x03;
inline constexpr char kCachingSha2FullAuth = 0x04;
inline constexpr char kCachingSha2RequestPublicKey = 0x02;
inline constexpr char kSha256RequestPublicKey = 0x01;

struct Handshake {
  uint8_t protocol_version = 0;
  std::string server_version;
  uint32_t connection_id = 0;
  std::string auth_plugin_data;  // parts 1 + 2, without the trailing NUL (20 bytes usually)
  uint32_t capabilities = 0;
  uint8_t charset = 0;
  uint16_t status_flags = 0;
  std::string auth_plugin_name;  // empty if the server did not send one
};

// Parses a Handshake v10 payload. Errors: InvalidArgument for another protocol version,
// DataLoss for truncated or malformed bytes, FailedPrecondition if the server lacks
// CLIENT_PROTOCOL_41.
absl::StatusOr<Handshake> ParseHandshake(std::string_view payload);

struct HandshakeResponse {
  uint32_t capabilities = 0;  // as sent; PROTOCOL_41 etc. are added by the encoder
  uint32_t max_packet_size = 1u << 24;
  uint8_t charset = kCharsetUtf8mb4GeneralCi;
  std::string user;
  std::string auth_response;
  std::string database;  // sent, with CLIENT_CONNECT_WITH_DB, when non-empty
  std::string auth_plugin_name;
};

// Encodes a HandshakeResponse41. Always sets PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH and
// PLUGIN_AUTH_LENENC_CLIENT_DATA; sets CONNECT_WITH_DB iff database is non-empty.
std::string EncodeHandshakeResponse(const HandshakeResponse& r);

// The capability flags EncodeHandshakeResponse actually sends for `r`.
uint32_t EffectiveCapabilities(const HandshakeResponse& r);

// Encodes an SSLRequest: the first 32 bytes of the response for `r`, with CLIENT_SSL set.
std::string EncodeSslRequest(const HandshakeResponse& r);

struct AuthSwitchRequest {
  std::string plugin_name;
  std::string plugin_data;      // without a trailing NUL (the scramble plugins append one)
  std::string raw_plugin_data;  // exactly as sent (client_ed25519's 32-byte nonce may end in 0)
};
// Parses an AuthSwitchRequest (payload starting with 0xFE).
absl::StatusOr<AuthSwitchRequest> ParseAuthSwitchRequest(std::string_view payload);

// SHA1(password) XOR SHA1(seed + SHA1(SHA1(password))); empty for an empty password.
// `seed` is the 20-byte scramble from the handshake or auth switch.
std::string NativePasswordScramble(std::string_view password, std::string_view seed);

// XOR(SHA256(password), SHA256(SHA256(SHA256(password)) + seed)); empty for an empty password.
std::string CachingSha2Scramble(std::string_view password, std::string_view seed);

// The data of an AuthMoreData packet (payload starting with 0x01). DataLoss otherwise.
absl::StatusOr<std::string_view> ParseAuthMoreData(std::string_view payload);

// Full authentication over plain TCP: (password · 0x00) XOR seed (the seed repeated as needed),
// encrypted with the server's RSA public key using RSA_PKCS1_OAEP_PADDING (OAEP with SHA-1, what
// MySQL 8.0.5+ expects). `pem_public_key` is the key as the server sends it (a PEM
// SubjectPublicKeyInfo). Errors: DataLoss if it is not an RSA public key in PEM, InvalidArgument
// if the password is too long for the key, Internal if OpenSSL fails otherwise.
absl::StatusOr<std::string> RsaEncryptPassword(std::string_view password, std::string_view seed,
                                               std::string_view pem_public_key);

}  // namespace sluice::mysqlclient
