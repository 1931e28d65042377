#pragma once
// SubscriberStats: the open subscriber streams and what each has been sent, for the metrics
// sluice_events_served_total, sluice_subscribers and sluice_subscriber_lag_events.
//
// A stream registers with Open and holds the returned handle; dropping the handle unregisters it.
// The stream's sender calls Count() for each event it puts in a batch (by table), then Sent() when
// the batch goes out. Both are relaxed atomic adds through the handle, plus one lookup in the
// stream's own table map per event; the lock is taken only the first time a stream sends a table.
//
// Cardinality: there is one served-by-table series per (source, table) that some stream has
// actually been sent, so never more than the tables stored (sluice_events_ingested_total).
//
// Errors: none. Thread-safety: every method may be called from any thread; handles may outlive
// the SubscriberStats (they keep its state alive).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/base/positions.h"
#include "storage/key_format.h"

namespace sluice::service {

class SubscriberStats {
 private:
  struct State;

 public:
  struct Stream {
    uint64_t id = 0;
    std::string source;
    storage::SourceId source_id;
    std::atomic<uint64_t> sent_through{0};    // offset of the last event sent (or start - 1)
    std::atomic<uint64_t>* served = nullptr;  // the source's served-events total
    // Used only by the stream's sender (one thread at a time): per table, the shared counter and
    // the events of the batch being built; `dirty` lists the tables with pending events.
    struct TableCount {
      std::atomic<uint64_t>* served = nullptr;
      uint64_t pending = 0;
    };
    std::map<std::string, TableCount, std::less<>> tables;
    std::vector<TableCount*> dirty;
    std::shared_ptr<State> state;
  };
  struct Live {
    uint64_t id = 0;
    std::string source;
    storage::SourceId source_id;
    uint64_t sent_through = 0;
  };

  SubscriberStats();

  // Registers a stream of `source` that sends from offset `start` on.
  std::shared_ptr<Stream> Open(const std::string& source, storage::SourceId source_id,
                               LogOffset start);
  // Notes `events` events of `table` ("db.table" / "schema.table") in the batch being built for
  // `stream`; they are counted as served by the next Sent().
  static void Count(Stream& stream, std::string_view table, uint64_t events = 1);
  // Counts `events` sent to `stream`, which has now been sent everything before `next`, and the
  // events noted by Count() since the last Sent() by table.
  static void Sent(Stream& stream, uint64_t events, LogOffset next);

  // The open streams, by id.
  std::vector<Live> Streams() const;
  // Events sent per source since the process started (sources with a stream ever opened).
  std::map<std::string, uint64_t> Served() const;
  // Events sent per (source, table) since the process started, for the tables ever sent.
  std::map<std::pair<std::string, std::string>, uint64_t> ServedByTable() const;

 private:
  using Counter = std::unique_ptr<std::atomic<uint64_t>>;
  struct State {
    std::mutex mu;
    uint64_t next_id = 1;                                                 // guarded by mu
    std::map<uint64_t, Stream*> open;                                     // guarded by mu
    std::map<std::string, Counter> served;                                // guarded by mu
    std::map<std::pair<std::string, std::string>, Counter> served_table;  // guarded by mu
  };
  std::shared_ptr<State> state_;
};

}  // namespace sluice::service
