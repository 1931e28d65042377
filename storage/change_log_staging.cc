// ChangeLog staging area: large and streamed transactions, published in chunks.
#include "storage/change_log_impl.h"

namespace sluice::storage::internal {

absl::Status ChangeLogImpl::Stage(SourceId source, uint64_t stage_id,
                                  std::vector<v1::ChangeEvent> events) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> lock(slot->stage_mu);
  auto it = slot->stage_next_seq.find(stage_id);
  if (it == slot->stage_next_seq.end()) {
    // Continue after anything already staged under this id.
    uint64_t next = 0;
    std::unique_ptr<rocksdb::Iterator> iter(db_->NewIterator(rocksdb::ReadOptions(), stage_));
    iter->SeekForPrev(StageKey(slot->id, stage_id, UINT64_MAX));
    if (iter->Valid()) {
      auto key = DecodeStageKey(std::string_view(iter->key().data(), iter->key().size()));
      if (key && key->source == slot->id && key->stage_id == stage_id) next = key->seq + 1;
    }
    SLUICE_RETURN_IF_ERROR(FromRocks(iter->status(), "reading the staging area"));
    it = slot->stage_next_seq.emplace(stage_id, next).first;
  }
  rocksdb::WriteBatch batch;
  std::string record;
  for (auto& e : events) {
    SerializedEvent se = Serialize(e);
    record.clear();
    AppendRecord(0, se.op, se.table, se.body, record);
    batch.Put(stage_, StageKey(slot->id, stage_id, it->second++), record);
  }
  // Not synced: staged data is the source's to resend if it is lost.
  return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                   absl::StrCat("staging a transaction of source '", slot->name, "'"));
}

absl::Status ChangeLogImpl::TruncateStage(SourceId source, uint64_t stage_id, uint64_t keep) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> lock(slot->stage_mu);
  // Sequence numbers of a stage start at 0 and are dense, so the first `keep` are 0..keep-1.
  slot->stage_next_seq[stage_id] = keep;
  return FromRocks(
      db_->DeleteRange(rocksdb::WriteOptions(), stage_, StageKey(slot->id, stage_id, keep),
                       StageKeyEnd(slot->id, stage_id)),
      absl::StrCat("truncating a staged transaction of source '", slot->name, "'"));
}

absl::Status ChangeLogImpl::DiscardStaged(SourceId source, uint64_t stage_id) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> lock(slot->stage_mu);
  slot->stage_next_seq.erase(stage_id);
  return FromRocks(
      db_->DeleteRange(rocksdb::WriteOptions(), stage_, StageKey(slot->id, stage_id, 0),
                       StageKeyEnd(slot->id, stage_id)),
      absl::StrCat("discarding a staged transaction of source '", slot->name, "'"));
}

absl::Status ChangeLogImpl::DiscardAllStaged(SourceId source) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  {
    // A new session starts from the stored checkpoint: appends may succeed again.
    std::lock_guard<std::mutex> lock(slot->state_mu);
    slot->failed = absl::OkStatus();
    ++slot->session;
  }
  std::lock_guard<std::mutex> lock(slot->stage_mu);
  slot->stage_next_seq.clear();
  return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), stage_, StageKey(slot->id, 0, 0),
                                    LogKeyEnd(slot->id)),
                   absl::StrCat("discarding the staged transactions of source '", slot->name, "'"));
}

namespace {

// Re-applies a batch of table-CF operations to another batch.
class CopyOps final : public rocksdb::WriteBatch::Handler {
 public:
  CopyOps(rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch& out) : cf_(cf), out_(out) {}
  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return out_.Put(cf_, key, value);
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice& key) override {
    return out_.Delete(cf_, key);
  }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    return out_.DeleteRange(cf_, begin, end);
  }

 private:
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::WriteBatch& out_;
};

}  // namespace

absl::Status ChangeLogImpl::CopyTableStateOps(const rocksdb::WriteBatch& from,
                                              rocksdb::WriteBatch& to) {
  CopyOps copy(table_, to);
  return FromRocks(from.Iterate(&copy), "copying table state updates");
}

// Writes the staged events into the log above the committed end, where readers cannot see them,
// in chunks of kStageChunkBytes. They become visible with the group's state update; after a crash
// before it, Load() removes them as an uncommitted tail.
absl::StatusOr<uint64_t> ChangeLogImpl::CopyStage(const PendingAppend& p, uint64_t first,
                                                  bool last_is_final, int64_t now,
                                                  uint64_t& stored_bytes,
                                                  std::vector<TableEvents>* tables,
                                                  rocksdb::WriteBatch* state_batch) {
  const std::string end = StageKeyEnd(p.slot->id, p.stage_id);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, stage_));
  rocksdb::WriteBatch chunk;
  std::string event_bytes;
  std::string record;
  std::string state_value;
  uint64_t count = 0;
  struct Held {
    uint8_t op = 0;
    std::string table;
    std::string body;
  };
  std::optional<Held> held;
  // Table state updates gather in `state_chunk`. A transaction whose updates fit in one chunk
  // adds them to the group's batch (atomic with the commit). A larger one writes them in chunks
  // ahead of the commit, with the dirty marker in the first, so memory stays bounded; the group's
  // batch deletes the marker. Readers never see the partial state: OpenTableState waits for the
  // group commit, and refuses the state while the marker is stored.
  rocksdb::WriteBatch state_chunk;
  bool state_spilled = false;
  // The commit info (its non-default fields override the events'), for the table state.
  v1::ChangeEvent commit_holder;
  if (state_batch != nullptr && !p.overlay.empty() &&
      !commit_holder.ParseFromString(p.overlay)) {
    return absl::InternalError("the commit info of a staged transaction does not parse");
  }
  auto emit = [&](bool last) -> absl::Status {
    const uint64_t offset = first + count;
    event_bytes.clear();
    AppendAssignedFields(offset, static_cast<uint32_t>(count), last, now, event_bytes);
    event_bytes.append(held->body);
    event_bytes.append(p.overlay);
    uint8_t flags = (count == 0 ? kFlagFirstInTxn : 0) | (last ? kFlagLastInTxn : 0);
    record.clear();
    AppendRecord(flags, held->op, held->table, event_bytes, record);
    chunk.Put(log_, LogKey(p.slot->id, LogOffset(offset)), record);
    stored_bytes += record.size();
    if (tables != nullptr) CountTableEvent(held->table, *tables);
    if (state_batch != nullptr) {
      // Staged events carry no precomputed update: parse them here, on the writer thread (only
      // for transactions large enough to be staged). The updates join the group's WriteBatch, so
      // the state changes atomically with the log's state, after these chunks.
      v1::ChangeEvent event;
      if (!event.ParseFromString(held->body)) {
        return absl::DataLossError(absl::StrCat("source '", p.slot->name, "': staged event ",
                                                count, " of stage ", p.stage_id,
                                                " is not a valid ChangeEvent"));
      }
      const TableStateUpdate update = ComputeTableStateUpdate(event, commit_holder.source());
      WriteTableState(state_chunk, p.slot->id, held->table, update, update.row, offset,
                      p.overlay, state_value);
      if (state_chunk.GetDataSize() >= kStageChunkBytes) {
        if (!state_spilled) {
          state_chunk.Put(meta_, TableStateDirtyKey(p.slot->id), PendingPublishMarker(p, first));
        }
        state_spilled = true;
        absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &state_chunk),
                                   "writing the table state of a staged transaction");
        state_chunk.Clear();
        SLUICE_RETURN_IF_ERROR(s);
        if (options_.after_state_chunk_for_testing) options_.after_state_chunk_for_testing();
      }
    }
    ++count;
    if (chunk.GetDataSize() < kStageChunkBytes) return absl::OkStatus();
    absl::Status s =
        FromRocks(db_->Write(rocksdb::WriteOptions(), &chunk), "publishing a staged transaction");
    chunk.Clear();
    return s;
  };
  for (it->Seek(StageKey(p.slot->id, p.stage_id, 0)); it->Valid(); it->Next()) {
    auto view = DecodeRecord(std::string_view(it->value().data(), it->value().size()));
    if (!view.ok()) {
      return absl::DataLossError(absl::StrCat("source '", p.slot->name, "': staged event ", count,
                                              " of stage ", p.stage_id, ": ",
                                              view.status().message()));
    }
    if (held) SLUICE_RETURN_IF_ERROR(emit(false));
    held = Held{view->op, std::string(view->table), std::string(view->event)};
  }
  SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "reading a staged transaction"));
  if (held) SLUICE_RETURN_IF_ERROR(emit(last_is_final));
  if (chunk.Count() > 0) {
    SLUICE_RETURN_IF_ERROR(
        FromRocks(db_->Write(rocksdb::WriteOptions(), &chunk), "publishing a staged transaction"));
  }
  if (state_batch != nullptr && state_spilled) {
    if (state_chunk.Count() > 0) {
      SLUICE_RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &state_chunk),
                                       "writing the table state of a staged transaction"));
    }
    state_batch->Delete(meta_, TableStateDirtyKey(p.slot->id));
  } else if (state_batch != nullptr && state_chunk.Count() > 0) {
    SLUICE_RETURN_IF_ERROR(CopyTableStateOps(state_chunk, *state_batch));
  }
  return count;
}

}  // namespace sluice::storage::internal
