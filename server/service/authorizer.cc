#include "server/service/authorizer.h"

#include <string>

namespace sluice::service {
namespace {

constexpr std::string_view kScheme = "Bearer ";

// Compares without an early exit, so the time taken does not reveal a matching prefix.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

grpc::Status Authorizer::Check(const grpc::ServerContextBase& context, config::Role needed,
                               std::string_view rpc) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this sluiced requires a bearer token and the request has none: give "
                        "sluicectl --token-file FILE or set SLUICE_TOKEN (clients send "
                        "\"authorization: Bearer TOKEN\")");
  }
  std::string_view value(it->second.data(), it->second.size());
  if (!value.starts_with(kScheme)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization header is not \"Bearer TOKEN\"");
  }
  value.remove_prefix(kScheme.size());
  const config::TokenEntry* match = nullptr;
  for (const auto& entry : tokens_) {
    if (ConstantTimeEquals(entry.token, value)) match = &entry;
  }
  if (match == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the bearer token is not valid for this sluiced: check the token against "
                        "the server's --token-file");
  }
  if (needed == config::Role::kAdmin && match->role != config::Role::kAdmin) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "the token has role " + std::string(config::RoleName(match->role)) + "; " +
                            std::string(rpc) + " needs role admin: use an admin token");
  }
  return grpc::Status::OK;
}

}  // namespace sluice::service
