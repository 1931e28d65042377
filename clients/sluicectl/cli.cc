#include "clients/sluicectl/cli.h"

#include <grpc/support/log.h>
#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace sluice::cli {
namespace {

// What SetConnectionSecurity chose; read by Connect. Set once by main before any channel.
struct Security {
  bool tls = false;
  grpc::SslCredentialsOptions ssl;
  std::string token;
};
Security& TheSecurity() {
  static Security security;
  return security;
}

// Adds "authorization: Bearer TOKEN" to every call of a channel.
class TokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string& token) : header_("Bearer " + token) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", header_});
    }
    methods->Proceed();
  }

 private:
  std::string header_;
};

class TokenInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(std::string token) : token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* /*info*/) override {
    return new TokenInterceptor(token_);
  }

 private:
  std::string token_;
};

bool ReadFile(const std::string& path, const std::string& flag, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    Fail(kExitUsage, flag + " " + path + ": cannot read the file");
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
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
  std::string text;
  if (!ReadFile(path, "--token-file", text)) return "";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string token;
    if (!(words >> token) || token.starts_with("#")) continue;
    return token;
  }
  Fail(kExitUsage, "--token-file " + path + ": holds no token");
  return "";
}

bool SetConnectionSecurity(const GlobalOptions& global) {
  // gRPC's own log lines (e.g. a failed TLS handshake) would add a second, raw line to the
  // one-line errors; the failed call's status says the same.
  gpr_set_log_function([](gpr_log_func_args*) {});
  Security& s = TheSecurity();
  s.token = global.token;
  s.tls = !global.tls_ca.empty() || !global.tls_cert.empty() || !global.tls_key.empty();
  if (global.tls_cert.empty() != global.tls_key.empty()) {
    Fail(kExitUsage, "--tls-cert and --tls-key go together: give both for a client certificate");
    return false;
  }
  if (!global.tls_ca.empty() && !ReadFile(global.tls_ca, "--tls-ca", s.ssl.pem_root_certs)) {
    return false;
  }
  if (!global.tls_cert.empty() && (!ReadFile(global.tls_cert, "--tls-cert", s.ssl.pem_cert_chain) ||
                                   !ReadFile(global.tls_key, "--tls-key", s.ssl.pem_private_key))) {
    return false;
  }
  return true;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& server) {
  const Security& s = TheSecurity();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      s.tls ? grpc::SslCredentials(s.ssl) : grpc::InsecureChannelCredentials();
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  if (!s.token.empty()) {
    interceptors.push_back(std::make_unique<TokenInterceptorFactory>(s.token));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(server, credentials, args,
                                                                 std::move(interceptors));
}

}  // namespace sluice::cli
