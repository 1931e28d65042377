#include "server/service/admin_service.h"

#include <chrono>
#include <map>

#include "server/service/grpc_status.h"

namespace sluice::service {
namespace {

int64_t SystemNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The source commit time of the stored event at `offset` (0 when it has none or is unreadable).
int64_t CommitTimeAt(const storage::ChangeLog& log, storage::SourceId id, LogOffset offset) {
  int64_t ts = 0;
  storage::ReadLimits one{.max_events = 1, .max_bytes = 1};
  auto r = log.Read(id, offset, one, [&](const storage::StoredRecord& rec) {
    v1::ChangeEvent e;
    if (e.ParseFromArray(rec.view.event.data(), static_cast<int>(rec.view.event.size()))) {
      ts = e.source().commit_ts_micros();
    }
  });
  return r.ok() ? ts : 0;
}

}  // namespace

v1::StatusResponse AdminService::BuildStatus() const { return BuildStatus(SystemNowMicros()); }

v1::StatusResponse AdminService::BuildStatus(int64_t now_micros) const {
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
      if (b->last.value() >= b->first.value() && b->last.value() > 0) {
        const int64_t commit_ts = CommitTimeAt(log_, s.id, b->last);
        st.set_last_commit_ts_micros(commit_ts);
        if (commit_ts > 0) st.set_lag_micros(std::max<int64_t>(now_micros - commit_ts, 0));
      }
    }
    if (auto c = log_.Checkpoint(s.id); c.ok()) st.set_checkpoint(c->position_text());
    if (control_ != nullptr) {
      if (auto policy = control_->Retention(s.name); policy.ok()) {
        st.mutable_retention()->set_max_age_micros(policy->max_age_micros);
        st.mutable_retention()->set_max_bytes(policy->max_bytes);
      }
    }
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
    if (r.lag.probed_ts_micros != 0) {
      v1::SourceLag* lag = st.mutable_head_lag();
      lag->set_head(r.lag.head);
      if (r.lag.bytes) lag->set_bytes(*r.lag.bytes);
      if (r.lag.events) lag->set_events(*r.lag.events);
      lag->set_events_lower_bound(r.lag.events_lower_bound);
      lag->set_probed_ts_micros(r.lag.probed_ts_micros);
      lag->set_error(r.lag.error);
    }
  }
  if (subscriptions_ != nullptr) {
    for (auto& [name, st] : by_name) {
      if (auto hold = subscriptions_->RetentionHoldOf(name)) {
        v1::RetentionHold* h = st.mutable_retention_hold();
        h->set_subscription(hold->subscription);
        h->set_committed_offset(hold->committed.value());
        h->set_events_held(hold->events_held);
      }
    }
  }
  for (auto& [name, st] : by_name) *resp.add_sources() = std::move(st);
  return resp;
}

absl::StatusOr<v1::SourceStatus> AdminService::SourceStatusOf(const std::string& name) const {
  v1::StatusResponse all = BuildStatus();
  for (auto& s : *all.mutable_sources()) {
    if (s.name() == name) return std::move(s);
  }
  return absl::NotFoundError("source \"" + name + "\" is not known to this sluiced");
}

grpc::ServerUnaryReactor* AdminService::Done(grpc::CallbackServerContext* context,
                                             const grpc::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::Status(grpc::CallbackServerContext* context,
                                               const v1::StatusRequest* /*request*/,
                                               v1::StatusResponse* response) {
  if (grpc::Status st = Authorize(authorizer_, *context, config::Role::kAdmin, "Admin.Status");
      !st.ok()) {
    return Done(context, st);
  }
  *response = BuildStatus();
  return Done(context, grpc::Status::OK);
}

}  // namespace sluice::service
