#pragma once
// The bootstrap phase of a durable (Consume) stream whose subscription was created with start
// snapshot_then_stream and has not been acked yet (docs/subscriptions.md, "Bootstrap"): the
// table state rows, consistent at offset N (state_bootstrap.h), then the log from N + 1 through
// stream_pump's Pump. Internal to server/service.
//
// While the bootstrap runs, the Stream is not `opened`, so stream_pump's Pump does nothing; the
// reactor hands its write completions and cancellation to BootstrapPump instead. The stream's
// `next` stays at committed + 1: bootstrap messages carry next_offset = committed + 1 (nothing
// new to ack; a larger ack ends the stream as beyond what was sent) and snapshot_offset N. The
// last message carries snapshot_done and next_offset N + 1; it sets `next` to N + 1 and `opened`,
// and from then on the stream is an ordinary durable stream. Acking N (or more) commits the
// bootstrap: later streams resume after the committed offset. Each bootstrap message holds at
// most max_unacked_events rows (and max_unacked_bytes, when set) besides the batch limits; the
// rows are acked as a whole, by acking N.
//
// Thread-safety: `state` is guarded by the stream's mu, like the Stream's fields.

#include <memory>
#include <mutex>
#include <optional>

#include "server/service/state_bootstrap.h"
#include "server/service/stream_pump.h"

namespace sluice::service {

struct ConsumeBootstrap {
  std::unique_ptr<StateBootstrap> state;  // null when not bootstrapping (any more)
  // Set by the last message when N was not above the committed offset (retention removed the
  // whole log, or nothing was appended since the subscription was created): an ack of N would
  // be no ack at all, so the first ack >= N ends the bootstrap with FinishAtOffsetLocked.
  std::optional<LogOffset> finish_at;
};

// Builds and sends the next bootstrap message (or ends the stream: cancelled, an error).
void BootstrapPump(const std::shared_ptr<Stream>& s, const std::shared_ptr<ConsumeBootstrap>& b);
void PostBootstrapPump(std::shared_ptr<Stream> s, std::shared_ptr<ConsumeBootstrap> b);

// The consumer acked `ack`: when that ends a bootstrap whose N is the committed offset
// (ConsumeBootstrap::finish_at), marks the subscription as acked at N in `store` (a reset to
// N + 1, which the stream's generation then follows). Runs on the ack pool: it writes.
void FinishBootstrapOnAck(const std::shared_ptr<Stream>& s,
                          const std::shared_ptr<ConsumeBootstrap>& b, LogOffset ack);

// True while `b` still has messages to send; `s.mu` held.
inline bool BootstrappingLocked(const ConsumeBootstrap& b) { return b.state != nullptr; }

// The same, taking `s.mu`.
inline bool Bootstrapping(Stream& s, const ConsumeBootstrap& b) {
  std::lock_guard<std::mutex> lock(s.mu);
  return BootstrappingLocked(b);
}

}  // namespace sluice::service
