#pragma once
// The delivery loop shared by Subscribe (ephemeral) and Consume (durable) streams: a Stream is
// one subscriber's state; Pump reads its next batch from the change log and starts the write.
// Internal to server/service.
//
// One message is in flight per stream. When a write completes the reactor posts Pump again; a
// caught-up stream registers a ChangeLog::NotifyAfter waiter and holds no thread. A durable
// stream also stops reading while max_unacked events (or bytes) are delivered and not acked;
// a committed ack posts Pump again, which also confirms the ack with a message carrying the new
// committed offset.
//
// Thread-safety: every field below `mu` is guarded by it. The reactor is used only under `mu`
// while !finished: gRPC destroys it (OnDone) only after Finish, which FinishLocked calls.
// Jobs hold a shared_ptr<Stream>, never the reactor.

#include <grpcpp/grpcpp.h>

#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/service/batch_encoder.h"
#include "server/service/projection.h"
#include "server/service/shared_tail.h"
#include "server/service/state_bootstrap.h"
#include "server/service/subscriber_stats.h"
#include "storage/change_log.h"
#include "storage/subscriptions.h"

namespace sluice::service {

// The gRPC side of a stream (its reactor).
class StreamReactor {
 public:
  virtual void Send(const grpc::ByteBuffer* message) = 0;
  virtual void End(const grpc::Status& status) = 0;
  // Durable streams: start reading the next ConsumeRequest.
  virtual void ReadNext() {}

 protected:
  ~StreamReactor() = default;
};

// Ack bookkeeping of a durable (Consume) stream.
struct DurableState {
  std::string name;
  uint64_t generation = 0;  // SubscriptionStore::Get's, when opened: acks cannot undo a reset
  storage::SubscriptionStore* store = nullptr;
  // Commits acks (synced writes) off the pump: the service's commit pool, or its ack pool for
  // a stream with a bootstrap (consume_bootstrap.h).
  boost::asio::thread_pool* ack_pool = nullptr;
  size_t max_unacked_events = 0;
  uint64_t max_unacked_bytes = 0;  // 0: no byte limit
  // Delivered and not acked: (offset, bytes), oldest first. At most max_unacked_events long.
  std::deque<std::pair<uint64_t, uint64_t>> unacked;
  uint64_t unacked_bytes = 0;
  LogOffset committed;    // the durable committed offset as this stream knows it
  LogOffset reported;     // the committed offset in the last message sent
  LogOffset pending_ack;  // the highest ack received and not committed yet
  bool ack_writing = false;
};

struct Stream {
  storage::ChangeLog* log = nullptr;
  std::shared_ptr<SubscriberStats::Stream> stats;  // what it was sent, for metrics; may be null
  boost::asio::thread_pool* pool = nullptr;
  StreamReactor* reactor = nullptr;
  storage::SourceId source;
  EventFilter filter;
  ColumnProjector projector;
  storage::ReadLimits limits;
  size_t max_scan_events = 0;
  // Batches shared with the other streams caught up at the same offset (shared_tail.h), or
  // null: every batch is read from the log. Outlives the stream's jobs (the service owns it).
  SharedTail* tail = nullptr;
  std::string encoding_key;  // EncodingKey(filter, projector, limits), set with them

  std::mutex mu;
  LogOffset next;      // the offset to read next; next - 1 was sent
  bool opened = true;  // false until a Consume stream's open
  bool write_in_flight = false;
  bool cancelled = false;
  bool finished = false;
  std::unique_ptr<storage::AppendWaiter> waiter;
  BatchEncoder encoder;
  grpc::ByteBuffer message;             // valid while a write is in flight
  std::optional<DurableState> durable;  // set for Consume streams
  // Subscribe (ephemeral) streams only. Set by ChangeStreamService::CloseAll: the next Pump ends
  // the stream (UNAVAILABLE, naming the offset to resume from) instead of writing.
  bool closing = false;
  // Subscribe with snapshot_then_stream: the table state still being sent (then null),
  // consistent at offset next - 1. (Consume streams bootstrap through consume_bootstrap.h.)
  std::unique_ptr<StateBootstrap> bootstrap;
};

void PostPump(std::shared_ptr<Stream> s);
void Pump(const std::shared_ptr<Stream>& s);
// Ends the stream once; `s.mu` held.
void FinishLocked(Stream& s, const grpc::Status& status);
// Sends the encoder's events as one message with next_offset `next` and `committed` (0: left
// out); a bootstrap message also carries snapshot_offset (and snapshot_done on its last one).
// `s.mu` held.
void SendEncodedLocked(Stream& s, LogOffset next, uint64_t committed,
                       std::optional<LogOffset> snapshot_offset = {}, bool snapshot_done = false);
// The status a stream ends with when sluiced shuts down.
grpc::Status ShuttingDown(LogOffset next);
// The reactor's OnWriteDone / OnCancel.
void OnWriteDone(const std::shared_ptr<Stream>& s, bool ok);
void OnCancel(const std::shared_ptr<Stream>& s);

// Durable streams. A cumulative ack received on the stream: ignored at or below what is
// committed, ends the stream (INVALID_ARGUMENT) beyond what was sent, else committed on the ack
// pool (several acks arriving meanwhile become one write).
void ReceiveAck(const std::shared_ptr<Stream>& s, LogOffset offset);
// The subscription's committed offset is now `committed` (by this stream or a unary Ack).
void OnCommitted(const std::shared_ptr<Stream>& s, LogOffset committed);

struct ConsumerView {
  LogOffset sent;  // the last offset covered by a message sent
  uint64_t unacked_events = 0;
};
ConsumerView Describe(Stream& s);

}  // namespace sluice::service
