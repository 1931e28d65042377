#pragma once
// AdminService: the operator-facing RPCs. Status reads the change log's bounds and checkpoints
// and the runtime state the pipeline reports; ListSources, PauseSource, ResumeSource and
// Retention and SnapshotTable go to the SourceControl (the daemon); ReadLog reads stored
// events. Every RPC needs the admin role when an Authorizer is set.
// Lifecycle as ChangeStreamService.

#include <grpcpp/grpcpp.h>

#include "server/pipeline/source_registry.h"
#include "server/service/authorizer.h"
#include "server/service/source_control.h"
#include "sluice/v1/service.grpc.pb.h"
#include "storage/change_log.h"
#include "storage/subscriptions.h"

namespace sluice::service {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // `log` and `registry` must outlive the service; so must `control` and `authorizer` when not
  // null. Without a SourceControl the source-control RPCs answer UNIMPLEMENTED; without an
  // Authorizer every call is allowed.
  AdminService(storage::ChangeLog& log, pipeline::SourceRegistry& registry,
               SourceControl* control = nullptr, const Authorizer* authorizer = nullptr)
      : log_(log), registry_(registry), control_(control), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context,
                                   const v1::StatusRequest* request,
                                   v1::StatusResponse* response) override;
  grpc::ServerUnaryReactor* ListSources(grpc::CallbackServerContext* context,
                                        const v1::ListSourcesRequest* request,
                                        v1::ListSourcesResponse* response) override;
  grpc::ServerUnaryReactor* PauseSource(grpc::CallbackServerContext* context,
                                        const v1::PauseSourceRequest* request,
                                        v1::PauseSourceResponse* response) override;
  grpc::ServerUnaryReactor* ResumeSource(grpc::CallbackServerContext* context,
                                         const v1::ResumeSourceRequest* request,
                                         v1::ResumeSourceResponse* response) override;
  grpc::ServerUnaryReactor* Retention(grpc::CallbackServerContext* context,
                                      const v1::RetentionRequest* request,
                                      v1::RetentionResponse* response) override;
  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context,
                                    const v1::ReadLogRequest* request,
                                    v1::ReadLogResponse* response) override;
  grpc::ServerUnaryReactor* SnapshotTable(grpc::CallbackServerContext* context,
                                          const v1::SnapshotTableRequest* request,
                                          v1::SnapshotTableResponse* response) override;
  grpc::ServerUnaryReactor* ReadTable(grpc::CallbackServerContext* context,
                                      const v1::ReadTableRequest* request,
                                      v1::ReadTableResponse* response) override;

  // The Status answer, also used by tests without gRPC. `now_micros` is the clock lag is
  // measured against.
  v1::StatusResponse BuildStatus(int64_t now_micros) const;
  v1::StatusResponse BuildStatus() const;

  // Status then reports which durable subscription holds retention back
  // (SourceStatus.retention_hold). `subscriptions` must outlive the service.
  void set_subscriptions(const storage::SubscriptionStore* subscriptions) {
    subscriptions_ = subscriptions;
  }
  // The ReadLog answer. NotFound for an unknown source, OutOfRange for a trimmed offset.
  absl::StatusOr<v1::ReadLogResponse> BuildReadLog(const v1::ReadLogRequest& request) const;
  // The ReadTable answer (admin_table.cc). NotFound for an unknown source, FailedPrecondition
  // when it keeps no table state, InvalidArgument for a bad limit or cursor.
  absl::StatusOr<v1::ReadTableResponse> BuildReadTable(const v1::ReadTableRequest& request) const;

 private:
  // Finishes the call with `status` and returns the reactor.
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                                        const grpc::Status& status);
  // The status of one source as Status reports it (NotFound when neither stored nor running).
  absl::StatusOr<v1::SourceStatus> SourceStatusOf(const std::string& name) const;

  storage::ChangeLog& log_;
  pipeline::SourceRegistry& registry_;
  const storage::SubscriptionStore* subscriptions_ = nullptr;
  SourceControl* control_;
  const Authorizer* authorizer_;
};

}  // namespace sluice::service
