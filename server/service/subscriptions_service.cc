// SubscriptionsService: opening a Consume stream, the unary Ack, and the management RPCs. The
// Consume reactor is in consume_reactor.cc.
#include "server/service/subscriptions_service.h"

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "server/service/grpc_status.h"
#include "server/service/start_position.h"

namespace sluice::service {
namespace {

// Checks the caller's role, then runs `fn` (which may write to disk) on `pool` and finishes the
// call with its status.
template <typename Fn>
grpc::ServerUnaryReactor* RunOn(boost::asio::thread_pool& pool, const Authorizer* authorizer,
                                grpc::CallbackServerContext* context, config::Role role,
                                std::string_view rpc, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status st = Authorize(authorizer, *context, role, rpc); !st.ok()) {
    reactor->Finish(st);
    return reactor;
  }
  boost::asio::post(
      pool, [reactor, fn = std::move(fn)]() mutable { reactor->Finish(ToGrpcStatus(fn())); });
  return reactor;
}

template <typename Tables, typename Ops, typename Projections>
void SetFilters(const Tables& tables, const Ops& ops, const Projections& projections,
                storagepb::SubscriptionRecord& record) {
  for (const auto& t : tables) record.add_tables(t);
  for (int op : ops) record.add_ops(static_cast<v1::Op>(op));
  for (const auto& p : projections) {
    auto* out = record.add_projections();
    out->set_table(p.table());
    for (const auto& c : p.columns()) out->add_columns(c);
  }
}

absl::Status CheckProjections(const storagepb::SubscriptionRecord& record) {
  for (const auto& p : record.projections()) {
    if (p.table().empty() || p.columns().empty()) {
      return absl::InvalidArgumentError(
          "a column projection needs a table glob and at least one column (key columns are "
          "always kept)");
    }
  }
  return absl::OkStatus();
}

std::string DescribeFilters(const storagepb::SubscriptionRecord& r) {
  std::vector<std::string> ops;
  for (int op : r.ops()) ops.push_back(v1::Op_Name(static_cast<v1::Op>(op)));
  std::vector<std::string> projections;
  for (const auto& p : r.projections()) {
    projections.push_back(absl::StrCat(p.table(), ":", absl::StrJoin(p.columns(), ",")));
  }
  return absl::StrCat("tables [", absl::StrJoin(r.tables(), ", "), "], ops [",
                      absl::StrJoin(ops, ", "), "], projections [", absl::StrJoin(projections, " "),
                      "]");
}

}  // namespace

SubscriptionsService::SubscriptionsService(storage::ChangeLog& log,
                                           storage::SubscriptionStore& store,
                                           ConsumeOptions options)
    : log_(log),
      store_(store),
      options_(options),
      tail_(options.share_tail ? std::make_unique<SharedTail>(log) : nullptr),
      pool_(options.pump_threads),
      ack_pool_(options.ack_threads),
      commit_pool_(options.ack_commit_threads) {}

void SubscriptionsService::CloseAll() {
  consumers_.CloseAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                   "sluiced is shutting down; Consume again to resume after the "
                                   "subscription's committed offset"));
}

SubscriptionsService::~SubscriptionsService() {
  commit_pool_.join();
  ack_pool_.join();
  pool_.join();
}

absl::StatusOr<std::pair<LogOffset, bool>> SubscriptionsService::CreateStart(
    storage::SourceId source, const v1::StartPosition& start) {
  if (!start.has_snapshot_then_stream()) {
    SLUICE_ASSIGN_OR_RETURN(LogOffset offset, ResolveStart(log_, source, start));
    return std::make_pair(offset, false);
  }
  // The state must exist (FailedPrecondition for table_state: false). Each stream reads it anew
  // at its own N; this one's N places the committed offset: N - 1, so that the first stream's
  // ack of its N (>= this N) is above it and ends the bootstrap. With no event stored, N is the
  // last offset and the subscription starts right after it.
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<StateBootstrap> state,
                          StateBootstrap::Open(log_, source));
  SLUICE_ASSIGN_OR_RETURN(storage::LogBounds bounds, log_.Bounds(source));
  const LogOffset n = state->offset();
  return std::make_pair(n >= bounds.first ? n : bounds.first, true);
}

absl::Status SubscriptionsService::Open(const v1::ConsumeRequest::Open& open, Stream& stream,
                                        std::unique_ptr<StateBootstrap>& bootstrap) {
  SLUICE_RETURN_IF_ERROR(storage::SubscriptionStore::ValidateName(open.subscription()));
  storagepb::SubscriptionRecord wanted;
  wanted.set_name(open.subscription());
  wanted.set_source(open.source());
  SetFilters(open.tables(), open.ops(), open.projections(), wanted);
  SLUICE_RETURN_IF_ERROR(CheckProjections(wanted));
  uint64_t generation = 0;
  auto record = store_.Get(open.subscription(), &generation);
  if (!record.ok() && record.status().code() == absl::StatusCode::kNotFound &&
      open.create_if_missing()) {
    if (open.source().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "subscription '", open.subscription(),
          "' does not exist; to create it, name its source in ConsumeRequest.Open.source"));
    }
    SLUICE_ASSIGN_OR_RETURN(storage::SourceId id, log_.FindSource(open.source()));
    SLUICE_ASSIGN_OR_RETURN(auto start, CreateStart(id, open.start()));
    wanted.set_snapshot_then_stream(start.second);
    record = store_.Create(wanted, start.first);
    // Created meanwhile by another consumer, or just now: read it back with its generation.
    if (record.ok() || record.status().code() == absl::StatusCode::kAlreadyExists) {
      record = store_.Get(open.subscription(), &generation);
    }
  }
  SLUICE_RETURN_IF_ERROR(record.status());
  if (!open.source().empty() && open.source() != record->source()) {
    return absl::FailedPreconditionError(
        absl::StrCat("subscription '", record->name(), "' reads source '", record->source(),
                     "', not '", open.source(), "'; use another subscription name"));
  }
  const bool filters_given =
      open.tables_size() > 0 || open.ops_size() > 0 || open.projections_size() > 0;
  if (filters_given && DescribeFilters(wanted) != DescribeFilters(*record)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "subscription '", record->name(), "' was created with ", DescribeFilters(*record),
        "; open it without filters to use those, or delete it and create it with the new ones"));
  }
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId source, log_.FindSource(record->source()));
  SLUICE_ASSIGN_OR_RETURN(storage::LogBounds bounds, log_.Bounds(source));
  const LogOffset next(record->committed_offset() + 1);
  // Not acked since it was created with snapshot_then_stream: the table state comes first, and
  // the log follows from its offset N + 1 (>= next), so retention before N does not matter.
  if (record->snapshot_then_stream() && record->acked_ts_micros() == 0) {
    SLUICE_ASSIGN_OR_RETURN(bootstrap, StateBootstrap::Open(log_, source));
  } else if (next < bounds.first) {
    return absl::FailedPreconditionError(absl::StrCat(
        "subscription '", record->name(), "' resumes at offset ", next.value(),
        " but forced retention removed it (the earliest stored offset is ", bounds.first.value(),
        "); events were lost for it: reset it with `sluicectl subscriptions reset ", record->name(),
        " --to earliest` once you have dealt with the gap"));
  }
  if (open.max_unacked_events() > options_.max_unacked_events) {
    return absl::InvalidArgumentError(absl::StrCat("max_unacked_events ", open.max_unacked_events(),
                                                   " is above the server's limit of ",
                                                   options_.max_unacked_events));
  }

  std::vector<Projection> projections;
  for (const auto& p : record->projections()) {
    projections.push_back(Projection{p.table(), {p.columns().begin(), p.columns().end()}});
  }
  std::vector<v1::Op> ops;
  for (int op : record->ops()) ops.push_back(static_cast<v1::Op>(op));
  stream.source = source;
  stream.filter = EventFilter({record->tables().begin(), record->tables().end()}, std::move(ops));
  stream.projector = ColumnProjector(std::move(projections));
  stream.limits.max_events =
      open.max_batch_events() ? open.max_batch_events() : options_.default_batch_events;
  stream.limits.max_bytes = std::min<size_t>(
      open.max_batch_bytes() ? open.max_batch_bytes() : options_.default_batch_bytes,
      options_.max_batch_bytes);
  stream.max_scan_events = std::max(options_.max_scan_events, stream.limits.max_events);
  stream.next = next;
  if (options_.stats != nullptr) {
    stream.stats = options_.stats->Open(record->source(), source, next);
  }
  DurableState& d = stream.durable.emplace();
  d.name = record->name();
  d.generation = generation;
  d.store = &store_;
  // A bootstrap's completion (consume_bootstrap.h) runs on the ack pool and must not run
  // beside an ack commit of the same subscription: such a stream commits its acks there too.
  d.ack_pool = bootstrap != nullptr ? &ack_pool_ : &commit_pool_;
  d.max_unacked_events =
      open.max_unacked_events() ? open.max_unacked_events() : options_.default_max_unacked_events;
  d.max_unacked_bytes = open.max_unacked_bytes();
  d.committed = d.reported = d.pending_ack = LogOffset(record->committed_offset());
  return absl::OkStatus();
}

absl::StatusOr<LogOffset> SubscriptionsService::CommitAck(const v1::AckRequest& request) {
  SLUICE_ASSIGN_OR_RETURN(storagepb::SubscriptionRecord record, store_.Get(request.subscription()));
  std::shared_ptr<Stream> stream = consumers_.Find(request.subscription());
  LogOffset limit;
  if (stream != nullptr) {
    limit = service::Describe(*stream).sent;
  } else {
    SLUICE_ASSIGN_OR_RETURN(storage::SourceId source, log_.FindSource(record.source()));
    SLUICE_ASSIGN_OR_RETURN(storage::LogBounds bounds, log_.Bounds(source));
    limit = bounds.last;
  }
  SLUICE_ASSIGN_OR_RETURN(LogOffset committed,
                          store_.Ack(request.subscription(), LogOffset(request.offset()), limit));
  if (stream != nullptr) OnCommitted(stream, committed);
  return committed;
}

v1::SubscriptionInfo SubscriptionsService::Describe(const storagepb::SubscriptionRecord& record) {
  v1::SubscriptionInfo info;
  info.set_name(record.name());
  info.set_source(record.source());
  info.set_committed_offset(record.committed_offset());
  for (const auto& t : record.tables()) info.add_tables(t);
  for (int op : record.ops()) info.add_ops(static_cast<v1::Op>(op));
  for (const auto& p : record.projections()) {
    auto* out = info.add_projections();
    out->set_table(p.table());
    for (const auto& c : p.columns()) out->add_columns(c);
  }
  info.set_created_ts_micros(record.created_ts_micros());
  info.set_acked_ts_micros(record.acked_ts_micros());
  if (auto source = log_.FindSource(record.source()); source.ok()) {
    if (auto bounds = log_.Bounds(*source); bounds.ok()) {
      info.set_last_offset(bounds->last.value());
      if (bounds->last.value() > record.committed_offset()) {
        info.set_lag_events(bounds->last.value() - record.committed_offset());
      }
    }
  }
  if (std::shared_ptr<Stream> stream = consumers_.Find(record.name())) {
    info.set_connected(true);
    info.set_unacked_events(service::Describe(*stream).unacked_events);
  }
  return info;
}

absl::StatusOr<v1::ListSubscriptionsResponse> SubscriptionsService::List(
    const v1::ListSubscriptionsRequest& request) {
  if (!request.source().empty()) {
    SLUICE_RETURN_IF_ERROR(log_.FindSource(request.source()).status());
  }
  v1::ListSubscriptionsResponse response;
  for (const auto& record : store_.List(request.source())) {
    *response.add_subscriptions() = Describe(record);
  }
  return response;
}

absl::StatusOr<v1::SubscriptionInfo> SubscriptionsService::Create(
    const v1::CreateSubscriptionRequest& request) {
  storagepb::SubscriptionRecord record;
  record.set_name(request.name());
  record.set_source(request.source());
  SetFilters(request.tables(), request.ops(), request.projections(), record);
  SLUICE_RETURN_IF_ERROR(storage::SubscriptionStore::ValidateName(request.name()));
  SLUICE_RETURN_IF_ERROR(CheckProjections(record));
  if (request.source().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("subscription '", request.name(), "' needs a source to read"));
  }
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId source, log_.FindSource(request.source()));
  SLUICE_ASSIGN_OR_RETURN(auto start, CreateStart(source, request.start()));
  record.set_snapshot_then_stream(start.second);
  SLUICE_ASSIGN_OR_RETURN(record, store_.Create(std::move(record), start.first));
  return Describe(record);
}

absl::StatusOr<v1::SubscriptionInfo> SubscriptionsService::Reset(
    const v1::ResetSubscriptionRequest& request) {
  if (request.start().kind_case() == v1::StartPosition::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        "ResetSubscriptionRequest.start is not set: say earliest, latest, an offset or a time");
  }
  SLUICE_ASSIGN_OR_RETURN(storagepb::SubscriptionRecord record, store_.Get(request.name()));
  SLUICE_ASSIGN_OR_RETURN(storage::SourceId source, log_.FindSource(record.source()));
  SLUICE_ASSIGN_OR_RETURN(LogOffset start, ResolveStart(log_, source, request.start()));
  SLUICE_ASSIGN_OR_RETURN(record, store_.Reset(request.name(), start));
  consumers_.End(request.name(), grpc::Status(grpc::StatusCode::ABORTED,
                                              absl::StrCat("subscription '", request.name(),
                                                           "' was reset to offset ", start.value(),
                                                           "; reconnect to continue from there")));
  return Describe(record);
}

absl::Status SubscriptionsService::Delete(const v1::DeleteSubscriptionRequest& request) {
  SLUICE_RETURN_IF_ERROR(store_.Delete(request.name()));
  consumers_.End(request.name(),
                 grpc::Status(grpc::StatusCode::ABORTED,
                              absl::StrCat("subscription '", request.name(), "' was deleted")));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* SubscriptionsService::Ack(grpc::CallbackServerContext* context,
                                                    const v1::AckRequest* request,
                                                    v1::AckResponse* response) {
  return RunOn(ack_pool_, options_.authorizer, context, config::Role::kSubscribe,
               "Subscriptions.Ack", [this, request, response]() -> absl::Status {
                 SLUICE_ASSIGN_OR_RETURN(LogOffset committed, CommitAck(*request));
                 response->set_committed_offset(committed.value());
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* SubscriptionsService::ListSubscriptions(
    grpc::CallbackServerContext* context, const v1::ListSubscriptionsRequest* request,
    v1::ListSubscriptionsResponse* response) {
  return RunOn(ack_pool_, options_.authorizer, context, config::Role::kAdmin,
               "Subscriptions.ListSubscriptions", [this, request, response]() -> absl::Status {
                 SLUICE_ASSIGN_OR_RETURN(*response, List(*request));
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* SubscriptionsService::CreateSubscription(
    grpc::CallbackServerContext* context, const v1::CreateSubscriptionRequest* request,
    v1::SubscriptionInfo* response) {
  return RunOn(ack_pool_, options_.authorizer, context, config::Role::kAdmin,
               "Subscriptions.CreateSubscription", [this, request, response]() -> absl::Status {
                 SLUICE_ASSIGN_OR_RETURN(*response, Create(*request));
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* SubscriptionsService::ResetSubscription(
    grpc::CallbackServerContext* context, const v1::ResetSubscriptionRequest* request,
    v1::SubscriptionInfo* response) {
  return RunOn(ack_pool_, options_.authorizer, context, config::Role::kAdmin,
               "Subscriptions.ResetSubscription", [this, request, response]() -> absl::Status {
                 SLUICE_ASSIGN_OR_RETURN(*response, Reset(*request));
                 return absl::OkStatus();
               });
}

grpc::ServerUnaryReactor* SubscriptionsService::DeleteSubscription(
    grpc::CallbackServerContext* context, const v1::DeleteSubscriptionRequest* request,
    v1::DeleteSubscriptionResponse* /*response*/) {
  return RunOn(ack_pool_, options_.authorizer, context, config::Role::kAdmin,
               "Subscriptions.DeleteSubscription", [this, request] { return Delete(*request); });
}

}  // namespace sluice::service
