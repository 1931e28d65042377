#pragma once
// Shared pieces of the sluicectl verbs: global options, the gRPC channel, error reporting.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::cli {

struct GlobalOptions {
  std::string server = "127.0.0.1:7070";
  std::string format = "text";  // text | json
  // TLS: on when any of these is set. tls_ca verifies the server (default: the system roots);
  // tls_cert/tls_key present a client certificate (mTLS).
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string token;  // bearer token (--token-file or $SLUICE_TOKEN); empty: none
};

// Makes Connect use `global`'s TLS settings and token (read from the files now). main calls it
// once after parsing the global flags. Returns false after printing the problem.
bool SetConnectionSecurity(const GlobalOptions& global);
// The token in a --token-file: the first word of the first line that is not blank or a comment
// (so a server token file with one line works too). Empty after printing the problem.
std::string ReadTokenFile(const std::string& path);

// Exit codes: 0 ok, 1 the operation failed (server said no, unreachable), 2 bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "sluicectl: error: <message>" on one line to stderr and returns `code`.
int Fail(int code, const std::string& message);
// A one-line explanation of a failed RPC against `server`.
std::string DescribeRpcError(const grpc::Status& status, const std::string& server);

// A channel to `server` with the security SetConnectionSecurity set (plaintext and no token by
// default). Every call on it carries the token.
std::shared_ptr<grpc::Channel> Connect(const std::string& server);

// `sources`, `pause`, `resume`, `retention`, `snapshot`, `log`: the admin verbs.
int RunSources(const GlobalOptions& global, const std::vector<std::string>& args);
int RunPause(const GlobalOptions& global, const std::vector<std::string>& args);
int RunResume(const GlobalOptions& global, const std::vector<std::string>& args);
int RunRetention(const GlobalOptions& global, const std::vector<std::string>& args);
int RunSnapshot(const GlobalOptions& global, const std::vector<std::string>& args);
int RunLog(const GlobalOptions& global, const std::vector<std::string>& args);

int RunStatus(const GlobalOptions& global, const std::vector<std::string>& args);
int RunTail(const GlobalOptions& global, const std::vector<std::string>& args);
// `subscriptions list|create|reset|delete`: durable subscriptions.
int RunSubscriptions(const GlobalOptions& global, const std::vector<std::string>& args);
// `table SOURCE TABLE`: the current rows of a table from the server's table state.
int RunTable(const GlobalOptions& global, const std::vector<std::string>& args);
// `binlog decode FILE...`: offline, no server involved.
int RunBinlog(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace sluice::cli
