// AdminService::ReadLog: stored events from an offset, without following.
#include <algorithm>

#include "proto/base/status_macros.h"
#include "server/service/admin_service.h"
#include "server/service/grpc_status.h"

namespace sluice::service {
namespace {

constexpr uint32_t kDefaultLimit = 100;
constexpr uint32_t kMaxLimit = 10'000;
constexpr size_t kMaxResponseBytes = size_t{4} << 20;

}  // namespace

absl::StatusOr<v1::ReadLogResponse> AdminService::BuildReadLog(
    const v1::ReadLogRequest& request) const {
  if (request.source().empty()) return absl::InvalidArgumentError("the request names no source");
  if (request.limit() > kMaxLimit) {
    return absl::InvalidArgumentError("limit " + std::to_string(request.limit()) +
                                      " is too large: ask for at most 10000 events per call and "
                                      "continue from next_offset");
  }
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId id, log_.FindSource(request.source()));
  SLUICE_ASSIGN_OR_RETURN(storage::LogBounds bounds, log_.Bounds(id));
  v1::ReadLogResponse resp;
  resp.set_first_offset(bounds.first.value());
  resp.set_last_offset(bounds.last.value());
  const LogOffset from =
      request.from_offset() == 0 ? bounds.first : LogOffset(request.from_offset());
  storage::ReadLimits limits{.max_events = request.limit() == 0 ? kDefaultLimit : request.limit(),
                             .max_bytes = kMaxResponseBytes};
  absl::Status parse_error;
  SLUICE_ASSIGN_OR_RETURN(
      LogOffset next, log_.Read(id, from, limits, [&](const storage::StoredRecord& rec) {
        v1::ChangeEvent* e = resp.add_events();
        if (!e->ParseFromArray(rec.view.event.data(), static_cast<int>(rec.view.event.size())) &&
            parse_error.ok()) {
          parse_error =
              absl::DataLossError("stored event at offset " + std::to_string(rec.offset.value()) +
                                  " is not a valid ChangeEvent");
        }
      }));
  SLUICE_RETURN_IF_ERROR(parse_error);
  resp.set_next_offset(next.value());
  return resp;
}

grpc::ServerUnaryReactor* AdminService::ReadLog(grpc::CallbackServerContext* context,
                                                const v1::ReadLogRequest* request,
                                                v1::ReadLogResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.ReadLog");
  if (!st.ok()) return Done(context, st);
  auto resp = BuildReadLog(*request);
  if (!resp.ok()) return Done(context, ToGrpcStatus(resp.status()));
  *response = *std::move(resp);
  return Done(context, grpc::Status::OK);
}

}  // namespace sluice::service
