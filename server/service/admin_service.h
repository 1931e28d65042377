#pragma once
// AdminService: the operator-facing RPCs (Status). Reads the change log's bounds and checkpoints
// and the runtime state the pipeline reports. Lifecycle as ChangeStreamService.

#include <grpcpp/grpcpp.h>

#include "server/pipeline/source_registry.h"
#include "sluice/v1/service.grpc.pb.h"
#include "storage/change_log.h"

namespace sluice::service {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // Both references must outlive the service.
  AdminService(storage::ChangeLog& log, pipeline::SourceRegistry& registry)
      : log_(log), registry_(registry) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const v1::StatusRequest* request,
                                   v1::StatusResponse* response) override;

  // The Status answer, also used by tests without gRPC.
  v1::StatusResponse BuildStatus() const;

 private:
  storage::ChangeLog& log_;
  pipeline::SourceRegistry& registry_;
};

}  // namespace sluice::service
