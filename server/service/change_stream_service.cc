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

// State shared by a reactor and the pump jobs and waiter callbacks that refer to it. Jobs hold a
// shared_ptr; the reactor pointer is used only under `mu` while !finished, and the reactor lives
// until OnDone, which gRPC calls only after Finish.
struct Stream {
  storage::ChangeLog* log = nullptr;
  std::shared_ptr<SubscriberStats::Stream> stats;  // what it was sent, for metrics; may be null
  boost::asio::thread_pool* pool = nullptr;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* reactor = nullptr;
  storage::SourceId source;
  EventFilter filter;
  ColumnProjector projector;
  storage::ReadLimits limits;
  size_t max_scan_events = 0;
  SharedTail* tail = nullptr;  // null: every batch is read from the log
  std::string encoding_key;    // EncodingKey(filter, projector, limits)

  std::mutex mu;
  LogOffset next;                                 // guarded by mu
  bool write_in_flight = false;                   // guarded by mu
  bool cancelled = false;                         // guarded by mu
  bool finished = false;                          // guarded by mu
  std::unique_ptr<storage::AppendWaiter> waiter;  // guarded by mu
  BatchEncoder encoder;                           // guarded by mu
  grpc::ByteBuffer message;                       // guarded by mu; valid while a write is in flight
  // Set by CloseAll: finish instead of the next write. Guarded by mu.
  bool closing = false;
  // SNAPSHOT_THEN_STREAM: the table state still being sent (then null), consistent at offset
  // next - 1. Guarded by mu.
  std::unique_ptr<StateBootstrap> bootstrap;
};

void Pump(const std::shared_ptr<Stream>& s);

void PostPump(std::shared_ptr<Stream> s) {
  boost::asio::thread_pool& pool = *s->pool;  // before `s` is moved into the job
  boost::asio::post(pool, [s = std::move(s)] { Pump(s); });
}

void FinishLocked(Stream& s, const grpc::Status& status) {
  if (s.finished) return;
  s.finished = true;
  s.waiter.reset();
  s.reactor->Finish(status);
}

grpc::Status ShuttingDown(LogOffset next) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("sluiced is shutting down; resume from offset ", next.value()));
}

// Sends the encoder's events as one SubscribeResponse; `s.mu` held. A bootstrap message also
// carries snapshot_offset (and snapshot_done on its last message).
void SendLocked(Stream& s, LogOffset next, std::optional<LogOffset> snapshot_offset = {},
                bool snapshot_done = false) {
  auto bounds = s.log->Bounds(s.source);
  const uint64_t last = bounds.ok() ? bounds->last.value() : 0;
  if (s.stats) SubscriberStats::Sent(*s.stats, s.encoder.events(), next);
  s.encoder.Finish(next.value(), last);
  // The slice takes ownership of the buffer: no copy of the batch.
  auto* owned = new std::string(s.encoder.Release());
  if (snapshot_offset) AppendSnapshotFields(*snapshot_offset, snapshot_done, *owned);
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  s.message = grpc::ByteBuffer(&slice, 1);
  s.write_in_flight = true;
  s.reactor->StartWrite(&s.message);
}

// Sends `batch`, which starts at s.next; `s.mu` held.
void SendSharedLocked(Stream& s, const SharedBatch& batch) {
  if (s.stats) {
    for (const auto& run : batch.tables) SubscriberStats::Count(*s.stats, run.table, run.events);
    SubscriberStats::Sent(*s.stats, batch.event_count, batch.next);
  }
  s.next = batch.next;
  auto bounds = s.log->Bounds(s.source);
  s.message = SharedMessage(batch, bounds.ok() ? bounds->last.value() : 0, 0);
  s.write_in_flight = true;
  s.reactor->StartWrite(&s.message);
}

// One message of a SNAPSHOT_THEN_STREAM bootstrap (state_bootstrap.h). Reads at most
// max_scan_events rows per message, so memory is one batch and a slow client only holds back
// its own stream. `s.mu` held.
void PumpBootstrap(Stream& s) {
  const LogOffset n = s.bootstrap->offset();
  auto done = s.bootstrap->NextBatch(s.filter, s.projector, s.limits, s.max_scan_events,
                                     s.encoder, s.stats.get());
  if (!done.ok()) {
    FinishLocked(s, ToGrpcStatus(done.status()));
    return;
  }
  if (*done) s.bootstrap.reset();  // releases the RocksDB snapshot; the log follows from n + 1
  SendLocked(s, n.next(), n, *done);
}

void Pump(const std::shared_ptr<Stream>& s) {
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->finished || s->write_in_flight) return;
  if (s->cancelled) {
    FinishLocked(*s, grpc::Status(grpc::StatusCode::CANCELLED, "subscriber went away"));
    return;
  }
  if (s->closing) {
    FinishLocked(*s, ShuttingDown(s->next));
    return;
  }
  s->waiter.reset();
  if (s->bootstrap) {
    PumpBootstrap(*s);
    return;
  }
  if (s->tail != nullptr) {
    auto shared = s->tail->Get(s->source, s->next,
                               Encoding{&s->filter, &s->projector, s->limits, s->encoding_key});
    if (!shared.ok()) {
      FinishLocked(*s, ToGrpcStatus(shared.status()));
      return;
    }
    if (*shared != nullptr) {
      SendSharedLocked(*s, **shared);
      return;
    }
  }
  s->encoder.Clear();
  size_t scanned = 0;
  LogOffset next = s->next;
  // Read until the batch has events, the scan budget is spent, or the log end is reached.
  while (s->encoder.events() == 0 && scanned < s->max_scan_events) {
    size_t before = scanned;
    absl::Status bad;
    auto r = s->log->Read(s->source, next, s->limits, [&](const storage::StoredRecord& rec) {
      ++scanned;
      if (!bad.ok() || !s->filter.Matches(rec.view.table, rec.view.op)) return;
      if (s->stats) SubscriberStats::Count(*s->stats, rec.view.table);
      const Projection* p = s->projector.Match(rec.view.table);
      if (p == nullptr) {
        s->encoder.AddEvent(rec.view.event);
        return;
      }
      auto projected = ColumnProjector::Apply(*p, rec.view.event);
      if (projected.ok()) {
        s->encoder.AddEvent(*projected);
      } else {
        bad = projected.status();
      }
    });
    if (r.ok() && !bad.ok()) r = bad;
    if (!r.ok()) {
      FinishLocked(*s, ToGrpcStatus(r.status()));
      return;
    }
    next = *r;
    if (scanned == before) break;  // at the end of the log
  }
  const bool progressed = next != s->next;
  s->next = next;
  if (s->encoder.events() > 0 || progressed) {
    // Events, or a heartbeat telling a filtered subscriber how far the server has read.
    SendLocked(*s, next);
    return;
  }
  // Caught up: sleep until the next append.
  std::weak_ptr<Stream> weak = s;
  s->waiter = s->log->NotifyAfter(s->source, LogOffset(next.value() - 1), [weak] {
    if (auto strong = weak.lock()) PostPump(std::move(strong));
  });
  if (s->waiter == nullptr) PostPump(s);  // data arrived between the read and the wait
}

class SubscribeReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SubscribeReactor(std::shared_ptr<Stream> stream, std::shared_ptr<std::atomic<int>> active)
      : stream_(std::move(stream)), active_(std::move(active)) {
    stream_->reactor = this;
    ++*active_;
    PostPump(stream_);
  }

  void OnWriteDone(bool ok) override {
    std::shared_ptr<Stream> s = stream_;
    boost::asio::post(*s->pool, [s, ok] {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->write_in_flight = false;
        if (!ok) s->cancelled = true;
      }
      Pump(s);
    });
  }

  void OnCancel() override {
    std::shared_ptr<Stream> s = stream_;
    boost::asio::post(*s->pool, [s] {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->cancelled = true;
      }
      Pump(s);
    });
  }

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
