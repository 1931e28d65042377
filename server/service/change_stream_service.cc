#include "server/service/change_stream_service.h"

#include <boost/asio/post.hpp>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/batch_encoder.h"
#include "server/service/grpc_status.h"
#include "server/service/projection.h"
#include "server/service/start_position.h"
#include "server/service/state_bootstrap.h"
#include "server/service/stream_pump.h"
#include "server/service/subscriber_stats.h"

namespace sluice::service {
namespace {

class ErrorReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit ErrorReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

absl::StatusOr<v1::SubscribeRequest> ParseRequest(const grpc::ByteBuffer* request) {
  std::vector<grpc::Slice> slices;
  v1::SubscribeRequest req;
  if (request == nullptr || !request->Dump(&slices).ok()) {
    return absl::InvalidArgumentError("cannot read the SubscribeRequest");
  }
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (!req.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("SubscribeRequest is not a valid sluice.v1 message");
  }
  return req;
}

// The gRPC side of a Subscribe stream; the delivery loop is stream_pump's.
class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                               public StreamReactor {
 public:
  SubscribeReactor(std::shared_ptr<Stream> stream, std::shared_ptr<std::atomic<int>> active)
      : stream_(std::move(stream)), active_(std::move(active)) {
    stream_->reactor = this;
    ++*active_;
    PostPump(stream_);
  }

  void Send(const grpc::ByteBuffer* message) override { StartWrite(message); }
  void End(const grpc::Status& status) override { Finish(status); }
  void OnWriteDone(bool ok) override { service::OnWriteDone(stream_, ok); }
  void OnCancel() override { service::OnCancel(stream_); }
  void OnDone() override {
    --*active_;
    delete this;
  }

 private:
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<std::atomic<int>> active_;
};

}  // namespace

// The streams CloseAll must reach. Entries of finished streams expire and are pruned on insert.
struct LiveStreams {
  std::mutex mu;
  bool closed = false;                         // guarded by mu
  std::vector<std::weak_ptr<Stream>> streams;  // guarded by mu
};

ChangeStreamService::ChangeStreamService(storage::ChangeLog& log, SubscribeOptions options)
    : log_(log),
      options_(options),
      live_(std::make_shared<LiveStreams>()),
      tail_(options.share_tail ? std::make_unique<SharedTail>(log) : nullptr),
      pool_(options.pump_threads) {}

void ChangeStreamService::CloseAll() {
  std::vector<std::weak_ptr<Stream>> streams;
  {
    std::lock_guard<std::mutex> lock(live_->mu);
    live_->closed = true;
    streams.swap(live_->streams);
  }
  for (auto& weak : streams) {
    if (auto s = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->closing = true;
      }
      PostPump(std::move(s));
    }
  }
}

ChangeStreamService::~ChangeStreamService() { pool_.join(); }

grpc::ServerWriteReactor<grpc::ByteBuffer>* ChangeStreamService::Subscribe(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  if (grpc::Status st = Authorize(options_.authorizer, *context, config::Role::kSubscribe,
                                  "ChangeStream.Subscribe");
      !st.ok()) {
    return new ErrorReactor(st);
  }
  auto req = ParseRequest(request);
  if (!req.ok()) return new ErrorReactor(ToGrpcStatus(req.status()));
  if (req->source().empty()) {
    return new ErrorReactor(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         "SubscribeRequest.source is empty: name a source"));
  }
  auto source = log_.FindSource(req->source());
  if (!source.ok()) return new ErrorReactor(ToGrpcStatus(source.status()));
  std::unique_ptr<StateBootstrap> bootstrap;
  absl::StatusOr<LogOffset> start;
  if (req->start().has_snapshot_then_stream()) {
    auto opened = StateBootstrap::Open(log_, *source);
    if (!opened.ok()) return new ErrorReactor(ToGrpcStatus(opened.status()));
    bootstrap = *std::move(opened);
    start = bootstrap->offset().next();
  } else {
    start = ResolveStart(log_, *source, req->start());
  }
  if (!start.ok()) return new ErrorReactor(ToGrpcStatus(start.status()));
  {
    // Refused before any event is sent (a stream that races with CloseAll below ends after
    // what it already sent, naming where to resume).
    std::lock_guard<std::mutex> lock(live_->mu);
    if (live_->closed) return new ErrorReactor(ShuttingDown(*start));
  }

  std::vector<Projection> projections;
  for (const auto& p : req->projections()) {
    if (p.table().empty() || p.columns().empty()) {
      return new ErrorReactor(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "a column projection needs a table glob and at least "
                                           "one column (key columns are always kept)"));
    }
    projections.push_back(Projection{p.table(), {p.columns().begin(), p.columns().end()}});
  }

  auto stream = std::make_shared<Stream>();
  stream->log = &log_;
  stream->pool = &pool_;
  stream->source = *source;
  if (options_.stats != nullptr) {
    stream->stats = options_.stats->Open(req->source(), *source, *start);
  }
  std::vector<v1::Op> ops;
  for (int op : req->ops()) ops.push_back(static_cast<v1::Op>(op));
  stream->filter = EventFilter({req->tables().begin(), req->tables().end()}, std::move(ops));
  stream->projector = ColumnProjector(std::move(projections));
  stream->limits.max_events =
      req->max_batch_events() ? req->max_batch_events() : options_.default_batch_events;
  stream->limits.max_bytes = std::min<size_t>(
      req->max_batch_bytes() ? req->max_batch_bytes() : options_.default_batch_bytes,
      options_.max_batch_bytes);
  stream->max_scan_events = std::max(options_.max_scan_events, stream->limits.max_events);
  stream->tail = tail_.get();
  stream->encoding_key = EncodingKey(stream->filter, stream->projector, stream->limits);
  stream->next = *start;
  stream->bootstrap = std::move(bootstrap);
  auto* reactor = new SubscribeReactor(stream, active_);  // sets stream->reactor
  std::lock_guard<std::mutex> lock(live_->mu);
  if (live_->closed) {
    {
      std::lock_guard<std::mutex> stream_lock(stream->mu);
      stream->closing = true;
    }
    PostPump(std::move(stream));
  } else {
    std::erase_if(live_->streams, [](const std::weak_ptr<Stream>& w) { return w.expired(); });
    live_->streams.push_back(std::move(stream));
  }
  return reactor;
}

}  // namespace sluice::service
