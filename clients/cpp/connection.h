#pragma once
// How a client reaches sluiced: the address, TLS and the bearer token, and the gRPC channel made
// from them. sluicectl's global flags (--server, --tls-ca, --tls-cert, --tls-key, --token-file)
// fill exactly these options.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::client {

struct ConnectionOptions {
  std::string target = "127.0.0.1:7070";  // HOST:PORT (any gRPC target)
  // TLS is used when `tls` is true or any PEM below is set. tls_ca_pem verifies the server
  // (empty: the system roots); tls_cert_pem and tls_key_pem present a client certificate (mTLS)
  // and go together.
  bool tls = false;
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;
  // Sent as "authorization: Bearer TOKEN" on every call; empty: no token.
  std::string token;

  bool uses_tls() const {
    return tls || !tls_ca_pem.empty() || !tls_cert_pem.empty() || !tls_key_pem.empty();
  }
};

// The whole content of `path`. NotFound naming the path when it cannot be read.
absl::StatusOr<std::string> ReadFileText(const std::string& path);

// The token in a token file: the first word of the first line that is not blank or a `#`
// comment, so sluiced's own token file (`TOKEN ROLE` lines) works as it is. NotFound when the
// file cannot be read, InvalidArgument when it holds no token.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// A channel to options.target with its TLS settings and token. The channel connects lazily:
// an unreachable server shows as UNAVAILABLE on the first call, not here. InvalidArgument when
// only one of tls_cert_pem / tls_key_pem is given.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ConnectionOptions& options);

// MakeChannel for `target` without TLS or token (it cannot fail).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target);

// A grpc::Status as an absl::Status with the same code and message (the numeric codes agree).
absl::Status FromGrpc(const grpc::Status& status);
// The reverse, for code that reports through gRPC's types.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace sluice::client
