#pragma once
// Authorizer: bearer-token checks for the gRPC services. A call carries its token as the
// metadata "authorization: Bearer TOKEN"; the token's role (config/token_file.h) decides what it
// may call: `subscribe` the ChangeStream RPCs, `admin` every RPC.
//
// Every RPC handler starts with Authorize(authorizer, context, role, "Service.Method") and ends
// the call with the returned status when it is not OK:
//   - no token                 -> UNAUTHENTICATED, saying how to pass one
//   - a token not in the file  -> UNAUTHENTICATED
//   - a subscribe token on an admin RPC -> PERMISSION_DENIED naming the RPC and the role needed
// A null Authorizer means the server runs without authentication: every call is allowed.
//
// Tokens are compared in constant time and never appear in messages.
// Thread-safety: immutable after construction; Check may run on any thread.

#include <grpcpp/grpcpp.h>

#include <string_view>
#include <vector>

#include "server/config/token_file.h"

namespace sluice::service {

class Authorizer {
 public:
  explicit Authorizer(std::vector<config::TokenEntry> tokens) : tokens_(std::move(tokens)) {}

  grpc::Status Check(const grpc::ServerContextBase& context, config::Role needed,
                     std::string_view rpc) const;

 private:
  std::vector<config::TokenEntry> tokens_;
};

inline grpc::Status Authorize(const Authorizer* authorizer, const grpc::ServerContextBase& context,
                              config::Role needed, std::string_view rpc) {
  return authorizer == nullptr ? grpc::Status::OK : authorizer->Check(context, needed, rpc);
}

}  // namespace sluice::service
