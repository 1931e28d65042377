#include "server/service/consume_bootstrap.h"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "server/service/grpc_status.h"

namespace sluice::service {

void PostBootstrapPump(std::shared_ptr<Stream> s, std::shared_ptr<ConsumeBootstrap> b) {
  boost::asio::thread_pool& pool = *s->pool;  // before `s` is moved into the job
  boost::asio::post(pool, [s = std::move(s), b = std::move(b)] { BootstrapPump(s, b); });
}

void BootstrapPump(const std::shared_ptr<Stream>& s, const std::shared_ptr<ConsumeBootstrap>& b) {
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->finished || s->write_in_flight) return;
  if (s->cancelled) {
    FinishLocked(*s, grpc::Status(grpc::StatusCode::CANCELLED, "subscriber went away"));
    return;
  }
  if (!b->state) return;  // handed over to stream_pump's Pump
  DurableState& d = *s->durable;
  storage::ReadLimits limits = s->limits;
  limits.max_events = std::max<size_t>(1, std::min(limits.max_events, d.max_unacked_events));
  if (d.max_unacked_bytes != 0) {
    limits.max_bytes = std::max<uint64_t>(1, std::min<uint64_t>(limits.max_bytes,
                                                                d.max_unacked_bytes));
  }
  const LogOffset n = b->state->offset();
  auto done = b->state->NextBatch(s->filter, s->projector, limits, s->max_scan_events,
                                  s->encoder, s->stats.get());
  if (!done.ok()) {
    FinishLocked(*s, ToGrpcStatus(done.status()));
    return;
  }
  if (*done) {
    b->state.reset();  // releases the RocksDB snapshot
    s->next = n.next();
    s->opened = true;  // the next write completion goes to Pump: the log from N + 1
    if (n <= d.committed) b->finish_at = n;
  }
  d.reported = d.committed;
  SendEncodedLocked(*s, s->next, d.committed.value(), n, *done);
}

void FinishBootstrapOnAck(const std::shared_ptr<Stream>& s,
                          const std::shared_ptr<ConsumeBootstrap>& b, LogOffset ack) {
  std::string name;
  storage::SubscriptionStore* store = nullptr;
  LogOffset n;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->finished || !b->finish_at || ack < *b->finish_at) return;
    n = *b->finish_at;
    b->finish_at.reset();
    name = s->durable->name;
    store = s->durable->store;
  }
  boost::asio::post(*s->durable->ack_pool, [s, store, name, n] {
    absl::Status st;
    std::optional<uint64_t> generation;
    auto record = store->Get(name);
    // Unless an ack (of a later event) or a reset got there first.
    if (record.ok() && record->acked_ts_micros() == 0 && record->committed_offset() <= n.value()) {
      st = store->Reset(name, n.next()).status();
      uint64_t g = 0;
      if (st.ok()) st = store->Get(name, &g).status();
      if (st.ok()) generation = g;
    } else if (!record.ok()) {
      st = record.status();
    }
    std::lock_guard<std::mutex> lock(s->mu);
    if (!st.ok()) {
      FinishLocked(*s, ToGrpcStatus(st));
      return;
    }
    if (generation) s->durable->generation = *generation;
  });
}

}  // namespace sluice::service
