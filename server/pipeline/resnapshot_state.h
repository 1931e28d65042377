#pragma once
// The durable half of an on-demand re-snapshot (watermark_snapshot.h): what a source's session
// stores in the connector_state of every checkpoint while a re-snapshot runs, so that a restart
// (kill -9 included) continues it after its last durable chunk.
//
// The session thread is the only writer of the log, and it submits appends in order, so the
// state it stamps on each checkpoint is exactly the progress of the chunks appended before it:
// a chunk's append carries the table's progress *after* that chunk (Advance is called when the
// chunk is handed to the log), every later append carries it too, and the append that holds the
// last chunk carries no re-snapshot any more. The request itself becomes durable with a
// checkpoint-only append at the moment the session takes it from the queue (Begin + Stamp(last)).
//
// Thread-safety: none; session thread only.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "sluice/v1/event.pb.h"
#include "sluice/v1/storage.pb.h"

namespace sluice::pipeline {

class ResnapshotCheckpoint {
 public:
  // The re-snapshot recorded in `checkpoint`'s connector state, if any, with `resumes` counted
  // up. DataLoss when the connector state does not parse.
  static absl::StatusOr<std::optional<storagepb::ResnapshotState>> Stored(
      const v1::SourceCheckpoint& checkpoint);

  // A re-snapshot starts (fresh, or continued from Stored()).
  void Begin(storagepb::ResnapshotState state);
  // The table named by `table` (database and table) as it is after a chunk that is being
  // appended now. Once every table is done the re-snapshot ends.
  void Advance(const storagepb::SnapshotTable& table);
  // The re-snapshot ended (failed, or finished with an empty last chunk): not continued.
  void End();
  bool running() const { return state_.has_value(); }
  const std::optional<storagepb::ResnapshotState>& state() const { return state_; }

  // `checkpoint` with the running re-snapshot as its connector state (none when none runs).
  // With `remember`, it becomes last(): the newest checkpoint handed to the log.
  v1::SourceCheckpoint Stamp(v1::SourceCheckpoint checkpoint, bool remember = true);
  // The newest checkpoint handed to the log (without connector state): a transaction boundary
  // at which a checkpoint-only append may be stored at any time.
  const v1::SourceCheckpoint& last() const { return last_; }
  void SetLast(v1::SourceCheckpoint checkpoint);

 private:
  std::optional<storagepb::ResnapshotState> state_;
  std::string encoded_;  // ConnectorState{resnapshot = *state_}, serialized
  v1::SourceCheckpoint last_;
};

// "db.table" of a re-snapshot state's first table ("" when it has none).
std::string ResnapshotTableName(const storagepb::ResnapshotState& state);

}  // namespace sluice::pipeline
