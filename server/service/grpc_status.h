#pragma once
// absl::Status -> grpc::Status. gRPC and Abseil share the canonical code numbering.
#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace sluice::service {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace sluice::service
