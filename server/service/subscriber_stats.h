#pragma once
// SubscriberStats: the open subscriber streams and what each has been sent, for the metrics
// sluice_events_served_total, sluice_subscribers and sluice_subscriber_lag_events.
//
// A stream registers with Open and holds the returned handle; dropping the handle unregisters it.
// Sent() is two relaxed atomic adds through the handle: no lookup, no lock.
//
// Errors: none. Thread-safety: every method may be called from any thread; handles may outlive
// the SubscriberStats (they keep its state alive).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proto/base/positions.h"
#include "storage/key_format.h"

namespace sluice::service {

class SubscriberStats {
 public:
  struct Stream {
    uint64_t id = 0;
    std::string source;
    storage::SourceId source_id;
    std::atomic<uint64_t> sent_through{0};    // offset of the last event sent (or start - 1)
    std::atomic<uint64_t>* served = nullptr;  // the source's served-events total
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
  // Counts `events` sent to `stream`, which has now been sent everything before `next`.
  static void Sent(Stream& stream, uint64_t events, LogOffset next) {
    stream.served->fetch_add(events, std::memory_order_relaxed);
    stream.sent_through.store(next.value() - 1, std::memory_order_relaxed);
  }

  // The open streams, by id.
  std::vector<Live> Streams() const;
  // Events sent per source since the process started (sources with a stream ever opened).
  std::map<std::string, uint64_t> Served() const;

 private:
  struct State {
    std::mutex mu;
    uint64_t next_id = 1;                                                  // guarded by mu
    std::map<uint64_t, Stream*> open;                                      // guarded by mu
    std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> served;  // guarded by mu
  };
  std::shared_ptr<State> state_;
};

}  // namespace sluice::service
