// AdminService's source-control RPCs: ListSources, PauseSource, ResumeSource, Retention and
// SnapshotTable. They hand the work to the SourceControl.
#include <optional>

#include "server/service/admin_service.h"
#include "server/service/grpc_status.h"

namespace sluice::service {
namespace {

grpc::Status NoControl() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "this server does not run sources, so it cannot control them");
}

grpc::Status NeedSource(const std::string& source) {
  if (!source.empty()) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the request names no source");
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::ListSources(grpc::CallbackServerContext* context,
                                                    const v1::ListSourcesRequest* /*request*/,
                                                    v1::ListSourcesResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.ListSources");
  if (!st.ok()) return Done(context, st);
  if (control_ == nullptr) return Done(context, NoControl());
  for (auto& s : control_->ListSources()) *response->add_sources() = std::move(s);
  return Done(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::PauseSource(grpc::CallbackServerContext* context,
                                                    const v1::PauseSourceRequest* request,
                                                    v1::PauseSourceResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.PauseSource");
  if (st.ok()) st = NeedSource(request->source());
  if (!st.ok()) return Done(context, st);
  if (control_ == nullptr) return Done(context, NoControl());
  // Blocks this callback thread until the source has stopped (its appends finished): the
  // answer then shows the final stored position.
  if (absl::Status paused = control_->Pause(request->source()); !paused.ok()) {
    return Done(context, ToGrpcStatus(paused));
  }
  auto status = SourceStatusOf(request->source());
  if (!status.ok()) return Done(context, ToGrpcStatus(status.status()));
  *response->mutable_status() = *std::move(status);
  return Done(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::ResumeSource(grpc::CallbackServerContext* context,
                                                     const v1::ResumeSourceRequest* request,
                                                     v1::ResumeSourceResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.ResumeSource");
  if (st.ok()) st = NeedSource(request->source());
  if (!st.ok()) return Done(context, st);
  if (control_ == nullptr) return Done(context, NoControl());
  if (absl::Status resumed = control_->Resume(request->source()); !resumed.ok()) {
    return Done(context, ToGrpcStatus(resumed));
  }
  auto status = SourceStatusOf(request->source());
  if (!status.ok()) return Done(context, ToGrpcStatus(status.status()));
  *response->mutable_status() = *std::move(status);
  return Done(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::Retention(grpc::CallbackServerContext* context,
                                                  const v1::RetentionRequest* request,
                                                  v1::RetentionResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.Retention");
  if (st.ok()) st = NeedSource(request->source());
  if (!st.ok()) return Done(context, st);
  if (control_ == nullptr) return Done(context, NoControl());
  if (request->has_max_age_micros() && request->max_age_micros() < 0) {
    return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "max_age_micros is negative: give 0 (no limit) or more"));
  }
  absl::StatusOr<storage::RetentionPolicy> policy;
  if (request->has_max_age_micros() || request->has_max_bytes()) {
    policy = control_->SetRetention(
        request->source(),
        request->has_max_age_micros() ? std::optional<int64_t>(request->max_age_micros())
                                      : std::nullopt,
        request->has_max_bytes() ? std::optional<uint64_t>(request->max_bytes()) : std::nullopt);
  } else {
    policy = control_->Retention(request->source());
  }
  if (!policy.ok()) return Done(context, ToGrpcStatus(policy.status()));
  response->set_source(request->source());
  response->mutable_retention()->set_max_age_micros(policy->max_age_micros);
  response->mutable_retention()->set_max_bytes(policy->max_bytes);
  return Done(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* AdminService::SnapshotTable(grpc::CallbackServerContext* context,
                                                      const v1::SnapshotTableRequest* request,
                                                      v1::SnapshotTableResponse* /*response*/) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.SnapshotTable");
  if (st.ok()) st = NeedSource(request->source());
  if (!st.ok()) return Done(context, st);
  if (control_ == nullptr) return Done(context, NoControl());
  if (request->table().empty()) {
    return Done(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "the request names no table (database.table or "
                                      "schema.table)"));
  }
  return Done(context, ToGrpcStatus(control_->Snapshot(request->source(), request->table(),
                                                       request->where())));
}

}  // namespace sluice::service
