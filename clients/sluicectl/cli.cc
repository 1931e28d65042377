#include "clients/sluicectl/cli.h"

#include <grpc/support/log.h>

#include <iostream>

#include "clients/cpp/connection.h"

namespace sluice::cli {
namespace {

// What SetConnectionSecurity chose; read by Connect. Set once by main before any channel.
client::ConnectionOptions& TheSecurity() {
  static client::ConnectionOptions security;
  return security;
}

bool ReadFile(const std::string& path, const std::string& flag, std::string& out) {
  absl::StatusOr<std::string> text = client::ReadFileText(path);
  if (!text.ok()) {
    Fail(kExitUsage, flag + " " + std::string(text.status().message()));
    return false;
  }
  out = *std::move(text);
  return true;
}

}  // namespace

int Fail(int code, const std::string& message) {
  std::cerr << "sluicectl: error: " << message << std::endl;
  return code;
}

std::string DescribeRpcError(const grpc::Status& status, const std::string& server) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (message.starts_with("sluiced is shutting down")) return message;
      return "cannot reach sluiced at " + server + " (" + message +
             "); is it running? Use --server HOST:PORT" +
             (TheSecurity().tls ? "; check --tls-ca/--tls-cert/--tls-key"
                                : "; if sluiced serves TLS, pass --tls-ca FILE");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "sluiced at " + server + " did not answer in time";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "not authenticated: " + message;
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission denied: " + message;
    default:
      return message;
  }
}

std::string ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> token = client::ReadTokenFile(path);
  if (!token.ok()) {
    Fail(kExitUsage, "--token-file " + std::string(token.status().message()));
    return "";
  }
  return *token;
}

bool SetConnectionSecurity(const GlobalOptions& global) {
  // gRPC's own log lines (e.g. a failed TLS handshake) would add a second, raw line to the
  // one-line errors; the failed call's status says the same.
  gpr_set_log_function([](gpr_log_func_args*) {});
  client::ConnectionOptions& s = TheSecurity();
  s.token = global.token;
  s.tls = !global.tls_ca.empty() || !global.tls_cert.empty() || !global.tls_key.empty();
  if (global.tls_cert.empty() != global.tls_key.empty()) {
    Fail(kExitUsage, "--tls-cert and --tls-key go together: give both for a client certificate");
    return false;
  }
  if (!global.tls_ca.empty() && !ReadFile(global.tls_ca, "--tls-ca", s.tls_ca_pem)) return false;
  if (!global.tls_cert.empty() && (!ReadFile(global.tls_cert, "--tls-cert", s.tls_cert_pem) ||
                                   !ReadFile(global.tls_key, "--tls-key", s.tls_key_pem))) {
    return false;
  }
  return true;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& server) {
  client::ConnectionOptions options = TheSecurity();
  options.target = server;
  // SetConnectionSecurity checked the certificate/key pair, the only error MakeChannel has.
  return *client::MakeChannel(options);
}

}  // namespace sluice::cli
