#pragma once
// SharedTail: one log read and one encoded message for every stream that is caught up at the
// same offset with the same encoding (filter, projections, batch limits). Internal to
// server/service; used by the Subscribe and Consume delivery loops.
//
// Without it, each of N caught-up streams woken by a group commit iterates RocksDB for the same
// records and encodes the same message. With it, the first stream to ask for offset `from`
// (within `near_tail_events` of the log end) reads the records from `from` to the end once
// into a segment; each distinct encoding asked for at a given offset is built once from the
// segment and handed to every stream that asks for it, as a refcounted grpc::Slice that their
// writes share. Streams further behind, or whose offset fell out of the cache, get nullptr and
// read the log themselves, exactly as before. One difference: a segment still in the cache is
// served after retention trimmed its offsets (with --force, or for an ephemeral stream that
// was behind), where a read of the log would end that stream with OUT_OF_RANGE; the stream
// then gets those events, contiguous, and meets the trim once its offset leaves the cache.
//
// Order and exactly-once: a Batch starting at `from` holds exactly the events that reading the
// log from `from` with the same filter, projections and limits would give, and its `next` is
// where that read would continue. Stored records never change, so a stream at `from` may take
// it instead of reading; it then continues at `next`. Only a stream whose next offset is
// `from` may use it (the caller passes its own next offset).
//
// Memory is bounded: segments (their records and every batch encoded from them) are kept in
// a ring of at most `max_cached_bytes` and `max_segments`; the oldest segments are dropped first.
// The newest segment's records stay (it is the one being used), but when the budget is still
// exceeded its cached batches are dropped, oldest first: many distinct encodings walking one
// segment (each stream with its own filter or limits) cannot grow it past the budget; a batch
// that is dropped from the cache lives on only as long as a stream still holds it.
// A batch still being written stays alive through its slice's reference until the write ends
// (for an unfiltered stream, the slice holds its segment's buffer: at most max_segment_bytes
// per stream).
//
// Thread-safety: every method may be called from any thread (one mutex; a segment is read
// from the log under it, so concurrent askers for the same offset wait for that one read).
// The ChangeLog must outlive the SharedTail.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/service/batch_encoder.h"
#include "server/service/projection.h"
#include "storage/append_observer.h"
#include "storage/change_log.h"

namespace sluice::service {

// How a stream turns records into a message. `key` identifies the encoding: streams with
// equal keys must have equal filters, projections and limits (EncodingKey builds it).
struct Encoding {
  const EventFilter* filter = nullptr;
  const ColumnProjector* projector = nullptr;
  storage::ReadLimits limits;
  std::string_view key;
};

// A canonical description of (filter, projections, limits), equal for equal encodings.
std::string EncodingKey(const EventFilter& filter, const ColumnProjector& projector,
                        const storage::ReadLimits& limits);

// The events of one message, from `from` to just before `next`.
struct SharedBatch {
  LogOffset from;
  LogOffset next;
  // The message's `events` fields (BatchEncoder::AddEvent of each event), without the trailing
  // offsets; empty when every record in the range was filtered out.
  grpc::Slice events;
  size_t event_count = 0;
  // (offset, event bytes) of each event, for a durable stream's unacked bookkeeping.
  std::vector<std::pair<uint64_t, uint64_t>> delivered;
  // The events by table, in runs, for SubscriberStats.
  std::vector<storage::TableEvents> tables;
};

// The SubscribeResponse bytes of `batch`: its events, then next_offset, `last_offset` and
// `committed_offset` (left out when 0), as BatchEncoder::Finish writes them. The events slice
// is shared, not copied.
grpc::ByteBuffer SharedMessage(const SharedBatch& batch, uint64_t last_offset,
                               uint64_t committed_offset);

struct SharedTailOptions {
  // A stream this close to the log end (in events) reads through the cache: caught-up streams
  // share their batches, and streams that fell behind together (a stall of a few seconds) share
  // the log reads and rejoin the shared batches when they catch up.
  uint64_t near_tail_events = 65536;
  // One read at most (it stops after the record that crosses it). A message in flight that is
  // a slice of a segment keeps that segment's buffer alive after the ring dropped it, so this
  // is also what one stream can pin: as much as its own batch did before.
  size_t max_segment_bytes = size_t{1} << 20;
  size_t max_cached_bytes = size_t{32} << 20;  // records and batches of every segment
  size_t max_segments = 64;
};

class SharedTail {
 public:
  explicit SharedTail(const storage::ChangeLog& log, SharedTailOptions options = {});

  // The batch for a stream of `source` whose next offset is `from`, or nullptr when `from` is
  // neither cached nor near the log end (then the stream reads the log itself) or when there is
  // nothing at `from` yet. Errors: those of ChangeLog::Read; DataLoss from a projection of a
  // stored event that does not parse.
  absl::StatusOr<std::shared_ptr<const SharedBatch>> Get(storage::SourceId source, LogOffset from,
                                                         const Encoding& encoding);

  struct Counters {
    uint64_t segments_read = 0;   // log reads done for the cache
    uint64_t batches_built = 0;   // encodings built
    uint64_t batches_shared = 0;  // Get calls answered with a batch
  };
  Counters counters() const;
  size_t segments() const;
  size_t cached_bytes() const;  // records and batches held, as counted against the limit

 private:
  struct Record {
    uint64_t offset = 0;
    uint8_t op = 0;
    uint32_t table = 0;  // index into Segment::tables
    size_t field = 0;    // where its `events` field (tag, length, event) starts in Segment::bytes
    size_t begin = 0;    // the event's bytes in Segment::bytes
    size_t size = 0;
    size_t stored_size = 0;  // as ChangeLog::Read counts it against max_bytes
  };
  struct Segment {
    storage::SourceId source;
    uint64_t from = 0;
    uint64_t next = 0;  // one past the last record
    // The records' events as `events` fields (BatchEncoder::AddEvent), one after the other: a
    // stream without filters or projections is sent a slice of it, not a copy. Shared with the
    // slices in flight.
    std::shared_ptr<std::string> bytes = std::make_shared<std::string>();
    std::vector<std::string> tables;
    std::vector<Record> records;
    // Batches built from this segment, oldest first, by (start offset, encoding key), with
    // what each counts against max_cached_bytes.
    struct CachedBatch {
      uint64_t from = 0;
      std::string key;
      std::shared_ptr<const SharedBatch> batch;
      size_t cost = 0;
    };
    std::deque<CachedBatch> batches;
    size_t cost = 0;
  };

  Segment* FindLocked(storage::SourceId source, uint64_t from);
  absl::StatusOr<Segment*> ReadSegmentLocked(storage::SourceId source, uint64_t from);
  static absl::StatusOr<std::shared_ptr<const SharedBatch>> Build(const Segment& seg, uint64_t from,
                                                                  const Encoding& encoding);
  void EvictLocked();

  const storage::ChangeLog& log_;
  SharedTailOptions options_;
  mutable std::mutex mu_;
  std::deque<std::unique_ptr<Segment>> ring_;  // oldest first; guarded by mu_
  size_t cached_bytes_ = 0;                    // guarded by mu_
  Counters counters_;                          // guarded by mu_
};

}  // namespace sluice::service
