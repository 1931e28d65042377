#pragma once
// Transport: the byte stream under MysqlConnection: a TCP socket that can be switched to TLS
// (OpenSSL through boost::asio::ssl) once, in the middle of the MySQL handshake. Every call blocks
// the calling thread until it completes or its deadline passes; a private io_context runs the
// asynchronous operation, and on timeout the socket's pending operation is cancelled and drained,
// so the transport stays consistent.
//
// Errors (messages name the peer and the fix):
//   Unavailable       resolve/connect failed, the peer closed the connection, an I/O error, or a
//                     TLS protocol error (not a certificate problem).
//   DeadlineExceeded  the deadline passed. A timed-out ReadSome loses no bytes and may be called
//                     again (also over TLS: bytes already received stay in OpenSSL's buffers). A
//                     timed-out WriteAll or StartTls leaves the stream unusable.
//   FailedPrecondition  TLS certificate verification failed (the message gives OpenSSL's reason).
//   InvalidArgument   the CA file cannot be loaded.
//
// Thread-safety: none.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sluice::mysqlclient {

using Clock = std::chrono::steady_clock;

// now + d, with d clamped to [0, one year].
Clock::time_point DeadlineAfter(absl::Duration d);

// How StartTls checks the server's certificate.
struct TlsSettings {
  bool verify_chain = false;     // against ca_file, or the system store if ca_file is empty
  bool verify_identity = false;  // the certificate must name `host` (DNS name or IP address)
  std::string ca_file;           // PEM
  std::string host;              // as given to Connect; also sent as SNI when it is a DNS name
};

class Transport {
 public:
  Transport();
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Resolves host and connects to the first address that accepts, within `timeout`.
  absl::Status Connect(const std::string& host, uint16_t port, absl::Duration timeout);

  // Runs the TLS client handshake over the connected socket within `timeout`. Afterwards all
  // I/O is encrypted.
  absl::Status StartTls(const TlsSettings& settings, absl::Duration timeout);
  bool tls() const;
  // "TLSv1.3 TLS_AES_256_GCM_SHA384" once TLS is up, else "plain".
  std::string TlsDescription() const;

  // Writes all of `bytes`.
  absl::Status WriteAll(std::string_view bytes, Clock::time_point deadline);
  // Reads at least one byte into `buf` and returns how many. Unavailable when the peer closed.
  absl::StatusOr<size_t> ReadSome(std::span<char> buf, Clock::time_point deadline);

  // Closes the socket; later calls fail with Unavailable. Idempotent.
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::mysqlclient
