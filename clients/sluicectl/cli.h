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
};

// Exit codes: 0 ok, 1 the operation failed (server said no, unreachable), 2 bad usage.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Prints "sluicectl: error: <message>" on one line to stderr and returns `code`.
int Fail(int code, const std::string& message);
// A one-line explanation of a failed RPC against `server`.
std::string DescribeRpcError(const grpc::Status& status, const std::string& server);

std::shared_ptr<grpc::Channel> Connect(const std::string& server);

int RunStatus(const GlobalOptions& global, const std::vector<std::string>& args);
int RunTail(const GlobalOptions& global, const std::vector<std::string>& args);
// `subscriptions list|create|reset|delete`: durable subscriptions.
int RunSubscriptions(const GlobalOptions& global, const std::vector<std::string>& args);
// `binlog decode FILE...`: offline, no server involved.
int RunBinlog(const GlobalOptions& global, const std::vector<std::string>& args);

}  // namespace sluice::cli
