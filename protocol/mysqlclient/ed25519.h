#pragma once
// MariaDB's client_ed25519 authentication (the server plugin auth_ed25519): the server sends a
// 32-byte nonce, the client answers with an Ed25519 signature (R · S, 64 bytes) of it.
//
// It is RFC 8032 Ed25519 except for one step: the 64-byte expanded secret is SHA-512 of the
// password itself, of any length, where RFC 8032 hashes a 32-byte seed. OpenSSL's Ed25519 keys
// start from the seed and do not accept an expanded secret, so this file does the group
// arithmetic itself with OpenSSL's BIGNUM (extended twisted Edwards coordinates, a Montgomery
// ladder that performs the same point operations for every scalar bit). BIGNUM is not
// constant-time, so the signing time may depend on the password-derived scalar; the code runs
// once per login and never sees attacker-chosen scalars, but prefer TLS so that a peer on the
// path cannot pose as the server and time logins.
//
// Pure; no I/O. Thread-safety: the functions are reentrant.

#include <string>
#include <string_view>

namespace sluice::mysqlclient {

inline constexpr size_t kEd25519NonceLength = 32;
inline constexpr size_t kEd25519SignatureLength = 64;

// The 64-byte signature of `message` with the key derived from `password`, as client_ed25519
// sends it. For a 32-byte password this equals RFC 8032 Ed25519 with the password as the seed.
std::string MariaDbEd25519Sign(std::string_view password, std::string_view message);

// The 32-byte public key of `password` (MariaDB stores its base64 in mysql.global_priv).
std::string MariaDbEd25519PublicKey(std::string_view password);

}  // namespace sluice::mysqlclient
