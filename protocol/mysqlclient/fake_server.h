#pragma once
// Test-only: a scripted fake MySQL server on a loopback socket, for MysqlConnection tests. It
// accepts one client and runs a script on its own thread with plain blocking POSIX calls (and
// OpenSSL's blocking SSL_accept/SSL_read/SSL_write once the script calls StartTls).

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "protocol/mysqlclient/test_pki.h"

namespace sluice::mysqlclient::fake {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

inline const std::string kSeedA = "AAAAAAAABBBBBBBBBBBB";
inline const std::string kSeedB = "0123456789abcdefghij";
inline const std::string kOk("\x00\x00\x00\x02\x00\x00\x00", 7);

// The capabilities HandshakePayload advertises by default (no CLIENT_SSL).
uint32_t DefaultServerCaps();

// A Handshake v10 payload offering `plugin` with the 20-byte `seed`.
std::string HandshakePayload(std::string_view plugin, std::string_view seed,
                             uint32_t caps = DefaultServerCaps());

// The auth response (and plugin) of a HandshakeResponse41 (lenenc, < 251 bytes here).
std::string AuthResponseOf(const std::string& resp, std::string* plugin = nullptr);

class FakeServer {
 public:
  using Script = std::function<void(FakeServer&)>;

  explicit FakeServer(Script script);
  ~FakeServer();
  uint16_t port() const { return port_; }
  // Waits for the script to finish; after this its results may be read.
  void Join();

  void Send(std::string_view payload, uint8_t seq);
  // Sends bytes as they are (already framed).
  void SendRaw(std::string_view bytes) { WriteAll(bytes); }
  // The next packet's payload; `seq` receives its sequence id. Empty on EOF.
  std::string Read(uint8_t* seq = nullptr);
  // Blocks until the client closes the connection.
  void WaitClose();
  // Runs the server side of the TLS handshake with `cert`; false if it failed (the client
  // rejected the certificate, for instance). Later Send/Read go through TLS.
  bool StartTls(const testpki::CertAndKey& cert);

 private:
  std::string ReadN(size_t n);
  bool WriteAll(std::string_view bytes);

  int listen_fd_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
  SSL_CTX* ssl_ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::thread thread_;
};

}  // namespace sluice::mysqlclient::fake
