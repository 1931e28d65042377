#include "server/service/admin_service.h"

#include <map>

namespace sluice::service {

v1::StatusResponse AdminService::BuildStatus() const {
  v1::StatusResponse resp;
  resp.set_version(SLUICE_VERSION);
  std::map<std::string, v1::SourceStatus> by_name;
  // Sources stored in the data dir; those not configured now are STOPPED but still readable.
  for (const auto& s : log_.Sources()) {
    v1::SourceStatus& st = by_name[s.name];
    st.set_name(s.name);
    st.set_kind(s.kind);
    st.set_state(v1::SOURCE_STATE_STOPPED);
    if (auto b = log_.Bounds(s.id); b.ok()) {
      st.set_first_offset(b->first.value());
      st.set_last_offset(b->last.value());
      st.set_stored_bytes(b->stored_bytes);
    }
    if (auto c = log_.Checkpoint(s.id); c.ok()) st.set_checkpoint(c->position_text());
  }
  for (const auto& r : registry_.Snapshot()) {
    v1::SourceStatus& st = by_name[r.name];
    st.set_name(r.name);
    st.set_kind(r.kind);
    st.set_state(r.state);
    st.set_url(r.url_redacted);
    st.set_last_error(r.last_error);
    st.set_last_error_ts_micros(r.last_error_ts_micros);
    for (const auto& t : r.snapshot_tables) *st.add_snapshot_tables() = t;
  }
  for (auto& [name, st] : by_name) *resp.add_sources() = std::move(st);
  return resp;
}

grpc::ServerUnaryReactor* AdminService::Status(grpc::CallbackServerContext* context,
                                               const v1::StatusRequest* /*request*/,
                                               v1::StatusResponse* response) {
  *response = BuildStatus();
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace sluice::service
