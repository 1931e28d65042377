#pragma once
// Test-only: throwaway X.509 material made with OpenSSL in memory (EC P-256 keys), and an RSA
// key pair for the caching_sha2_password RSA exchange. Never use outside tests.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::mysqlclient::testpki {

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA certificate (CN `name`, basicConstraints CA:TRUE).
absl::StatusOr<CertAndKey> MakeCa(std::string_view name);

// A server certificate signed by `ca`, with subjectAltName `san` (OpenSSL syntax, e.g.
// "IP:127.0.0.1,DNS:localhost").
absl::StatusOr<CertAndKey> MakeServerCert(const CertAndKey& ca, std::string_view san);

struct RsaKeyPair {
  std::string public_pem;   // SubjectPublicKeyInfo, as a MySQL server sends it
  std::string private_pem;  // PKCS#8
};
absl::StatusOr<RsaKeyPair> MakeRsaKey(int bits);

// RSA-OAEP (SHA-1) decryption with `private_pem`, for checking what the client sent.
absl::StatusOr<std::string> RsaOaepDecrypt(std::string_view private_pem,
                                           std::string_view ciphertext);

// Writes `contents` to a new file under $TMPDIR (or /tmp) and returns its path. The caller
// removes it.
absl::StatusOr<std::string> WriteTempFile(std::string_view contents);

}  // namespace sluice::mysqlclient::testpki
