#pragma once
// The table-state bootstrap of a SNAPSHOT_THEN_STREAM subscriber, shared by ChangeStream.Subscribe
// (ephemeral) and Subscriptions.Consume (durable): the latest row per primary key of each table,
// consistent at one log offset N, as op "r" events with offset 0, in messages that carry
// snapshot_offset = N (and snapshot_done = true on the last). The log follows from N + 1.
// See docs/subscriptions.md ("Bootstrap").
//
// A StateBootstrap holds a RocksDB snapshot (the TableStateView) until it is destroyed: drop it
// as soon as the last message is built. Thread-compatible (callers hold their stream's lock).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "server/service/batch_encoder.h"
#include "server/service/projection.h"
#include "server/service/subscriber_stats.h"
#include "storage/change_log.h"

namespace sluice::service {

class StateBootstrap {
 public:
  // Opens the table state of `source`. FailedPrecondition when the source keeps no table state
  // (table_state: false), and the log's errors.
  static absl::StatusOr<std::unique_ptr<StateBootstrap>> Open(storage::ChangeLog& log,
                                                              storage::SourceId source);

  // N: the rows reflect every event at or below it and none above.
  LogOffset offset() const { return view_->offset(); }

  // Adds to `encoder` (cleared first) the next rows that pass `filter` (op READ), projected by
  // `projector`, within `limits`, reading at most `max_scan` rows unless none has passed yet
  // (then it stops after max_scan). Returns true when every row has been read: the message
  // being built is the bootstrap's last. `stats`, when not null, counts each row by table.
  // Errors: DataLoss for a malformed stored row, InvalidArgument from a projection.
  absl::StatusOr<bool> NextBatch(const EventFilter& filter, const ColumnProjector& projector,
                                 const storage::ReadLimits& limits, size_t max_scan,
                                 BatchEncoder& encoder, SubscriberStats::Stream* stats);

 private:
  explicit StateBootstrap(std::unique_ptr<storage::TableStateView> view)
      : view_(std::move(view)) {}

  std::unique_ptr<storage::TableStateView> view_;
  std::string cursor_;  // where the next read starts; empty before the first
};

// Appends SubscribeResponse fields 5 (snapshot_offset) and 6 (snapshot_done, when `done`) to a
// message finished by BatchEncoder.
void AppendSnapshotFields(LogOffset snapshot_offset, bool done, std::string& message);

}  // namespace sluice::service
