// AdminService::ReadTable: one table's current state (storage/table_state.h), a page at a time.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"
#include "proto/base/value_json.h"
#include "server/service/admin_service.h"
#include "server/service/grpc_status.h"
#include "storage/table_state.h"

namespace sluice::service {
namespace {

constexpr uint32_t kDefaultLimit = 1000;
constexpr uint32_t kMaxLimit = 10'000;
constexpr size_t kMaxResponseBytes = size_t{4} << 20;
// Rows examined per call when `where` skips rows; the page then ends early with a cursor.
constexpr size_t kMaxScanRows = 100'000;

// The column's value as `where` compares it: canonical JSON, a string without its quotes.
std::string WhereText(const v1::Value& value) {
  if (value.kind_case() == v1::Value::kString) return value.string();
  return ValueToJson(value);
}

bool MatchesWhere(const v1::ChangeEvent& row,
                  const google::protobuf::RepeatedPtrField<v1::ColumnValue>& where) {
  for (const auto& w : where) {
    bool found = false;
    for (const auto& f : row.after().fields()) {
      if (f.name() != w.column()) continue;
      found = true;
      if (WhereText(f.value()) != w.value()) return false;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<v1::ReadTableResponse> AdminService::BuildReadTable(
    const v1::ReadTableRequest& request) const {
  if (request.source().empty()) return absl::InvalidArgumentError("the request names no source");
  if (request.table().empty()) {
    return absl::InvalidArgumentError("the request names no table (\"db.table\" / \"schema.table\")");
  }
  if (request.limit() > kMaxLimit) {
    return absl::InvalidArgumentError(absl::StrCat("limit ", request.limit(),
                                                   " is too large: ask for at most ", kMaxLimit,
                                                   " rows per call and continue from next_cursor"));
  }
  for (const auto& w : request.where()) {
    if (w.column().empty()) return absl::InvalidArgumentError("a where condition names no column");
  }
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId id, log_.FindSource(request.source()));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<storage::TableStateView> view, log_.OpenTableState(id));
  v1::ReadTableResponse resp;
  resp.set_offset(view->offset().value());
  const size_t limit = request.limit() == 0 ? kDefaultLimit : request.limit();
  std::string cursor = request.cursor();
  size_t scanned = 0;
  size_t bytes = 0;
  absl::Status bad;
  while (static_cast<size_t>(resp.rows_size()) < limit && bytes < kMaxResponseBytes &&
         scanned < kMaxScanRows) {
    storage::ReadLimits limits{.max_events = limit - resp.rows_size(),
                               .max_bytes = kMaxResponseBytes - bytes};
    SLUICE_ASSIGN_OR_RETURN(
        cursor, view->Read(request.table(), cursor, limits, [&](const storage::TableRow& row) {
          ++scanned;
          if (!bad.ok()) return;
          auto event = storage::StateRowEvent(row.value, nullptr);
          if (!event.ok()) {
            bad = event.status();
            return;
          }
          if (!MatchesWhere(*event, request.where())) return;
          bytes += row.value.size();
          *resp.add_rows() = *std::move(event);
        }));
    SLUICE_RETURN_IF_ERROR(bad);
    if (cursor.empty()) break;
  }
  resp.set_next_cursor(cursor);
  return resp;
}

grpc::ServerUnaryReactor* AdminService::ReadTable(grpc::CallbackServerContext* context,
                                                  const v1::ReadTableRequest* request,
                                                  v1::ReadTableResponse* response) {
  grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.ReadTable");
  if (!st.ok()) return Done(context, st);
  auto resp = BuildReadTable(*request);
  if (!resp.ok()) return Done(context, ToGrpcStatus(resp.status()));
  *response = *std::move(resp);
  return Done(context, grpc::Status::OK);
}

}  // namespace sluice::service
