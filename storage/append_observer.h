#pragma once
// AppendObserver: what the change log reports after each durable group commit, so that the
// daemon can count ingestion (events by source and table, transactions, bytes, append latency,
// source commit time) without a hook in every connector. Set ChangeLogOptions::observer.
//
// Thread-safety: OnDurable runs on the log's writer thread, once per group commit, after the
// group is durable and before the appends' callbacks (for a bulk ingestion of snapshot chunks,
// on the log's ingesting thread; never two calls at once); it must not block or call into the
// log.
// The spans and string_views it receives are valid only during the call.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/key_format.h"

namespace sluice::storage {

// A run of consecutive events of one table ("schema.table" or "database.table"; "" when the
// event names no table).
struct TableEvents {
  std::string table;
  uint64_t events = 0;
};

// One stored append: a source transaction (events > 0) or a checkpoint-only append.
struct DurableAppend {
  SourceId source;
  std::string_view source_name;
  uint64_t events = 0;
  uint64_t bytes = 0;            // record bytes added to the log
  int64_t commit_ts_micros = 0;  // the source's commit time of the transaction; 0 if unknown
  int64_t latency_micros = 0;    // from AppendAsync (queued) to durable
  std::span<const TableEvents> tables;
};

class AppendObserver {
 public:
  virtual ~AppendObserver() = default;
  virtual void OnDurable(std::span<const DurableAppend> appends) = 0;
};

// Adds `n` events of `table` to `runs`, extending the last run when it is the same table.
inline void CountTableEvent(std::string_view table, std::vector<TableEvents>& runs,
                            uint64_t n = 1) {
  if (!runs.empty() && runs.back().table == table) {
    runs.back().events += n;
  } else {
    runs.push_back({std::string(table), n});
  }
}

}  // namespace sluice::storage
