// Finishing a big staged publish that a crash interrupted.
//
// A staged transaction can be far larger than memory. Its log records are written in chunks
// above the log's committed end and become visible only with the WriteBatch that moves the end
// (change_log_staging.cc). Its table state updates, once they outgrow one chunk, cannot wait for
// that batch either, so they are written ahead of it, in place. Two things keep the state
// consistent with the log:
//   - in the process, the whole publish runs under write_mu_, and OpenTableState takes its
//     snapshot under it, so no view sees part of a transaction;
//   - across a crash, the first chunk written ahead stores a PendingPublish marker (everything
//     needed to publish the stage again: where it starts, the commit info, the checkpoint and the
//     events published after the stage) and the commit's batch deletes it. Open() finds the marker
//     and publishes the stage again from its first event. Replaying the transaction's updates
//     over a state that already holds some of them gives the same state, because each update is
//     absolute (put a row, delete a key, clear a table): the last one per key wins either way.
//     The source then resumes from the transaction's checkpoint, as if nothing had happened.
// Such a publish commits in a group of its own (WriterLoop), so the marker's first offset is the
// log's committed end + 1 when nothing else went wrong. When the marker cannot be followed (the
// stage no longer holds what it recorded, or the log's end moved), the publish is abandoned and
// the source's table state marked incomplete: refused, never served half-applied.
#include "storage/change_log_impl.h"

namespace sluice::storage::internal {

std::string ChangeLogImpl::PendingPublishMarker(const PendingAppend& p, uint64_t first) {
  storagepb::PendingPublish marker;
  marker.set_stage_id(p.stage_id);
  marker.set_first_offset(first);
  marker.set_overlay(p.overlay);
  marker.set_commit_ts_micros(p.commit_ts_micros);
  *marker.mutable_checkpoint() = p.checkpoint;
  {
    std::lock_guard<std::mutex> lock(p.slot->stage_mu);
    auto it = p.slot->stage_next_seq.find(p.stage_id);
    // Sequence numbers are dense from 0, so the next one is the number of staged records.
    marker.set_stage_events(it == p.slot->stage_next_seq.end() ? 0 : it->second);
  }
  for (const SerializedEvent& e : p.events) {
    AppendRecord(0, e.op, e.table, e.body, *marker.add_tail());
  }
  return marker.SerializeAsString();
}

namespace {

// The number of records staged under `stage_id`.
absl::StatusOr<uint64_t> CountStage(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* stage,
                                    SourceId source, uint64_t stage_id) {
  const std::string end = StageKeyEnd(source, stage_id);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, stage));
  uint64_t n = 0;
  for (it->Seek(StageKey(source, stage_id, 0)); it->Valid(); it->Next()) ++n;
  SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "counting a staged transaction"));
  return n;
}

}  // namespace

absl::Status ChangeLogImpl::FinishPendingPublishes() {
  std::vector<SourceSlot*> slots;
  {
    std::shared_lock<std::shared_mutex> lock(sources_mu_);
    for (auto& [id, slot] : by_id_) slots.push_back(slot);
  }
  for (SourceSlot* slot : slots) {
    std::string bytes;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), meta_, TableStateDirtyKey(slot->id), &bytes);
    if (s.IsNotFound()) continue;
    SLUICE_RETURN_IF_ERROR(FromRocks(s, "reading the table state marker"));
    const std::string what = absl::StrCat(
        "source '", slot->name, "': finishing the publish of a big transaction that a crash "
        "interrupted");
    storagepb::PendingPublish marker;
    bool resumable = marker.ParseFromString(bytes) &&
                     slot->state.last_offset() + 1 == marker.first_offset();
    uint64_t staged = 0;
    if (resumable) {
      SLUICE_ASSIGN_OR_RETURN(staged, CountStage(*db_, stage_, slot->id, marker.stage_id()));
      resumable = staged == marker.stage_events();
    }
    if (!resumable) {
      // The state may hold part of a transaction the log does not have: refuse it from now on.
      storagepb::LogState state = slot->state;
      state.set_table_state_incomplete(true);
      rocksdb::WriteBatch batch;
      batch.Put(meta_, StateKey(slot->id), state.SerializeAsString());
      batch.Delete(meta_, TableStateDirtyKey(slot->id));
      rocksdb::WriteOptions wo;
      wo.sync = true;
      SLUICE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), what));
      slot->state = state;
      continue;
    }
    // The events published after the stage go to its end; then the whole stage is published.
    rocksdb::WriteBatch tail;
    uint64_t seq = staged;
    for (const std::string& record : marker.tail()) {
      tail.Put(stage_, StageKey(slot->id, marker.stage_id(), seq++), record);
    }
    SLUICE_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &tail), what));
    {
      std::lock_guard<std::mutex> lock(slot->stage_mu);
      slot->stage_next_seq[marker.stage_id()] = seq;
    }
    PendingAppend p;
    p.slot = slot;
    p.staged = true;
    p.table_state = true;
    p.stage_id = marker.stage_id();
    p.overlay = marker.overlay();
    p.commit_ts_micros = marker.commit_ts_micros();
    p.checkpoint = marker.checkpoint();
    p.queued = std::chrono::steady_clock::now();
    absl::Status result;
    p.done = [&result](absl::StatusOr<LogOffset> r) { result = r.status(); };
    std::vector<PendingAppend> group;
    group.push_back(std::move(p));
    CommitGroup(group);
    if (!result.ok()) {
      return absl::Status(result.code(), absl::StrCat(what, ": ", result.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::storage::internal
