#include "server/service/stream_pump.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/service/grpc_status.h"

namespace sluice::service {
namespace {

void ApplyCommittedLocked(DurableState& d, LogOffset committed) {
  if (committed <= d.committed) return;
  d.committed = committed;
  while (!d.unacked.empty() && d.unacked.front().first <= committed.value()) {
    d.unacked_bytes -= d.unacked.front().second;
    d.unacked.pop_front();
  }
}

// Commits the acks gathered in `pending_ack` until none is left; runs on the ack pool.
void CommitAcks(const std::shared_ptr<Stream>& s) {
  while (true) {
    std::string name;
    uint64_t generation = 0;
    storage::SubscriptionStore* store = nullptr;
    LogOffset target;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      DurableState& d = *s->durable;
      if (s->finished || d.pending_ack <= d.committed) {
        d.ack_writing = false;
        break;
      }
      name = d.name;
      generation = d.generation;
      store = d.store;
      target = d.pending_ack;
    }
    // The offset was checked against what the stream sent when it arrived.
    auto committed = store->Ack(name, target, target, generation);
    std::lock_guard<std::mutex> lock(s->mu);
    if (!committed.ok()) {
      s->durable->ack_writing = false;
      FinishLocked(*s, ToGrpcStatus(committed.status()));
      return;
    }
    ApplyCommittedLocked(*s->durable, *committed);
  }
  Pump(s);  // confirms the ack, and resumes delivery held back by max_unacked
}

// Sends `batch` (which starts at s.next); `s.mu` held.
void SendSharedLocked(Stream& s, const SharedBatch& batch) {
  uint64_t committed = 0;
  if (s.durable) {
    DurableState& d = *s.durable;
    for (const auto& e : batch.delivered) {
      d.unacked.push_back(e);
      d.unacked_bytes += e.second;
    }
    d.reported = d.committed;
    committed = d.committed.value();
  }
  if (s.stats) {
    for (const auto& run : batch.tables) SubscriberStats::Count(*s.stats, run.table, run.events);
    SubscriberStats::Sent(*s.stats, batch.event_count, batch.next);
  }
  s.next = batch.next;
  auto bounds = s.log->Bounds(s.source);
  s.message = SharedMessage(batch, bounds.ok() ? bounds->last.value() : 0, committed);
  s.write_in_flight = true;
  s.reactor->Send(&s.message);
}

}  // namespace

void PostPump(std::shared_ptr<Stream> s) {
  boost::asio::thread_pool& pool = *s->pool;  // before `s` is moved into the job
  boost::asio::post(pool, [s = std::move(s)] { Pump(s); });
}

void FinishLocked(Stream& s, const grpc::Status& status) {
  if (s.finished) return;
  s.finished = true;
  s.waiter.reset();
  s.reactor->End(status);
}

grpc::Status ShuttingDown(LogOffset next) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("sluiced is shutting down; resume from offset ", next.value()));
}

void SendEncodedLocked(Stream& s, LogOffset next, uint64_t committed,
                       std::optional<LogOffset> snapshot_offset, bool snapshot_done) {
  auto bounds = s.log->Bounds(s.source);
  const uint64_t last = bounds.ok() ? bounds->last.value() : 0;
  if (s.stats) SubscriberStats::Sent(*s.stats, s.encoder.events(), next);
  s.encoder.Finish(next.value(), last, committed);
  // The slice takes ownership of the buffer: no copy of the batch.
  auto* owned = new std::string(s.encoder.Release());
  if (snapshot_offset) AppendSnapshotFields(*snapshot_offset, snapshot_done, *owned);
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  s.message = grpc::ByteBuffer(&slice, 1);
  s.write_in_flight = true;
  s.reactor->Send(&s.message);
}

namespace {

// One message of a Subscribe stream's snapshot_then_stream bootstrap (state_bootstrap.h).
// Reads at most max_scan_events rows per message, so memory is one batch and a slow client only
// holds back its own stream. `s.mu` held.
void PumpBootstrapLocked(Stream& s) {
  const LogOffset n = s.bootstrap->offset();
  auto done = s.bootstrap->NextBatch(s.filter, s.projector, s.limits, s.max_scan_events,
                                     s.encoder, s.stats.get());
  if (!done.ok()) {
    FinishLocked(s, ToGrpcStatus(done.status()));
    return;
  }
  if (*done) s.bootstrap.reset();  // releases the RocksDB snapshot; the log follows from n + 1
  SendEncodedLocked(s, n.next(), 0, n, *done);
}

}  // namespace

void Pump(const std::shared_ptr<Stream>& s) {
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->finished || s->write_in_flight || !s->opened) return;
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
    PumpBootstrapLocked(*s);
    return;
  }
  s->encoder.Clear();
  storage::ReadLimits limits = s->limits;
  bool paused = false;
  if (s->durable) {
    const DurableState& d = *s->durable;
    const size_t room = d.max_unacked_events - std::min(d.max_unacked_events, d.unacked.size());
    limits.max_events = std::min(limits.max_events, room);
    if (d.max_unacked_bytes != 0) {
      const uint64_t room_bytes =
          d.max_unacked_bytes - std::min(d.max_unacked_bytes, d.unacked_bytes);
      limits.max_bytes = std::min<uint64_t>(limits.max_bytes, room_bytes);
    }
    paused = limits.max_events == 0 || limits.max_bytes == 0;
  }
  // Caught up (or nearly): take the batch the other streams at this offset share. Not while
  // max_unacked narrows the limits: the shared batch might not fit in what is left.
  if (s->tail != nullptr && !paused && limits.max_events == s->limits.max_events &&
      limits.max_bytes == s->limits.max_bytes) {
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
  std::vector<std::pair<uint64_t, uint64_t>> delivered;
  size_t scanned = 0;
  LogOffset next = s->next;
  // Read until the batch has events, the scan budget is spent, or the log end is reached.
  while (!paused && s->encoder.events() == 0 && scanned < s->max_scan_events) {
    size_t before = scanned;
    absl::Status bad;
    auto r = s->log->Read(s->source, next, limits, [&](const storage::StoredRecord& rec) {
      ++scanned;
      if (!bad.ok() || !s->filter.Matches(rec.view.table, rec.view.op)) return;
      if (s->stats) SubscriberStats::Count(*s->stats, rec.view.table);
      size_t bytes = rec.view.event.size();
      if (const Projection* p = s->projector.Match(rec.view.table)) {
        auto projected = ColumnProjector::Apply(*p, rec.view.event);
        if (!projected.ok()) {
          bad = projected.status();
          return;
        }
        bytes = projected->size();
        s->encoder.AddEvent(*projected);
      } else {
        s->encoder.AddEvent(rec.view.event);
      }
      if (s->durable) delivered.emplace_back(rec.offset.value(), bytes);
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
  const bool confirm = s->durable && s->durable->committed != s->durable->reported;
  if (s->encoder.events() > 0 || progressed || confirm) {
    // Events, or a heartbeat telling a filtered subscriber how far the server has read, or the
    // confirmation of a committed ack.
    uint64_t committed = 0;
    if (s->durable) {
      DurableState& d = *s->durable;
      for (const auto& e : delivered) {
        d.unacked.push_back(e);
        d.unacked_bytes += e.second;
      }
      d.reported = d.committed;
      committed = d.committed.value();
    }
    SendEncodedLocked(*s, next, committed);
    return;
  }
  if (paused) return;  // a committed ack pumps again
  // Caught up: sleep until the next append.
  std::weak_ptr<Stream> weak = s;
  s->waiter = s->log->NotifyAfter(s->source, LogOffset(next.value() - 1), [weak] {
    if (auto strong = weak.lock()) PostPump(std::move(strong));
  });
  if (s->waiter == nullptr) PostPump(s);  // data arrived between the read and the wait
}

void OnWriteDone(const std::shared_ptr<Stream>& s, bool ok) {
  boost::asio::post(*s->pool, [s, ok] {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->write_in_flight = false;
      if (!ok) s->cancelled = true;
    }
    Pump(s);
  });
}

void OnCancel(const std::shared_ptr<Stream>& s) {
  boost::asio::post(*s->pool, [s] {
    {
      std::lock_guard<std::mutex> lock(s->mu);
      s->cancelled = true;
    }
    Pump(s);
  });
}

void ReceiveAck(const std::shared_ptr<Stream>& s, LogOffset offset) {
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->finished) return;
  DurableState& d = *s->durable;
  const LogOffset sent(s->next.value() - 1);
  if (offset > sent) {
    FinishLocked(
        *s, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         absl::StrCat("ack of offset ", offset.value(), " for subscription '",
                                      d.name, "' is beyond the last event sent (", sent.value(),
                                      "); ack only offsets you received (or a "
                                      "message's next_offset - 1)")));
    return;
  }
  if (offset <= d.committed || offset <= d.pending_ack) return;  // repeated or backwards
  d.pending_ack = offset;
  if (d.ack_writing) return;  // the running commit picks it up
  d.ack_writing = true;
  boost::asio::post(*d.ack_pool, [s] { CommitAcks(s); });
}

void OnCommitted(const std::shared_ptr<Stream>& s, LogOffset committed) {
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->finished || !s->durable) return;
    ApplyCommittedLocked(*s->durable, committed);
  }
  PostPump(s);
}

ConsumerView Describe(Stream& s) {
  std::lock_guard<std::mutex> lock(s.mu);
  ConsumerView v;
  v.sent = LogOffset(s.next.value() - 1);
  if (s.durable) v.unacked_events = s.durable->unacked.size();
  return v;
}

}  // namespace sluice::service
