// ChangeLog table state: writing the updates into a group's WriteBatch, turning the state off,
// and consistent reads at one offset.
#include "storage/change_log_impl.h"
#include "storage/state_reference.h"

namespace sluice::storage::internal {
namespace {

// Resolves the table-state references (storage/state_reference.h) of one read: one log iterator
// at the read's snapshot that moves forward (SeekForward: a table walked in key order mostly
// meets the ascending offsets its snapshot rows were given).
class ReferenceResolver {
 public:
  ReferenceResolver(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log,
                    const rocksdb::Snapshot* snapshot, SourceId source, LogOffset last)
      : db_(db), log_(log), snapshot_(snapshot), source_(source), last_(last) {}

  // The row `value` (a reference, stored at table-state `key`) stands for, in `out`.
  absl::Status Resolve(std::string_view key, std::string_view value, std::string& out) {
    auto offset = DecodeStateReference(value);
    if (!offset.ok() || *offset > last_) {
      return absl::DataLossError(
          absl::StrCat("table-state row ", DescribeRow(key), ": ",
                       offset.ok() ? absl::StrCat("refers to log offset ", offset->value(),
                                                  ", above the last offset ", last_.value())
                                   : std::string(offset.status().message())));
    }
    char want[kLogKeySize];
    EncodeLogKey(source_, *offset, want);
    const rocksdb::Slice want_key(want, kLogKeySize);
    if (it_ == nullptr) {
      upper_ = LogKeyEnd(source_);
      upper_slice_ = rocksdb::Slice(upper_);
      rocksdb::ReadOptions ro;
      ro.snapshot = snapshot_;
      ro.iterate_upper_bound = &upper_slice_;
      it_.reset(db_->NewIterator(ro, log_));
    }
    if (!SeekForward(*it_, want_key)) {
      SLUICE_RETURN_IF_ERROR(FromRocks(it_->status(), "reading the log for the table state"));
      return absl::DataLossError(absl::StrCat("table-state row ", DescribeRow(key),
                                              " refers to log offset ", offset->value(),
                                              ", which is not stored"));
    }
    auto record = DecodeRecord(std::string_view(it_->value().data(), it_->value().size()));
    absl::Status resolved = record.status();
    // A reference is to the r record of the row's own table (an ingested snapshot row).
    if (resolved.ok() && record->op != static_cast<uint8_t>(v1::OP_READ)) {
      resolved = absl::DataLossError(
          absl::StrCat("the record is not a snapshot (r) event but op ", record->op));
    }
    if (resolved.ok() && !key.starts_with(prefix_.Of(source_, record->table))) {
      resolved = absl::DataLossError(absl::StrCat("the record is of another table ('",
                                                  std::string(record->table), "')"));
    }
    if (resolved.ok()) resolved = ResolveStateReference(*offset, record->event, out);
    if (!resolved.ok()) {
      return absl::DataLossError(absl::StrCat("table-state row ", DescribeRow(key), ", ",
                                              DescribeLogKey(std::string_view(want, kLogKeySize)),
                                              ": ", resolved.message()));
    }
    return absl::OkStatus();
  }

 private:
  static std::string DescribeRow(std::string_view key) {
    auto decoded = DecodeTableStateKey(key);
    return decoded.ok() ? absl::StrCat("of table '", decoded->table, "'")
                        : std::string("with a malformed key");
  }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_;
  const rocksdb::Snapshot* snapshot_;
  SourceId source_;
  LogOffset last_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  TablePrefixCache prefix_;  // of the last record's table
};

class TableStateViewImpl final : public TableStateView {
 public:
  TableStateViewImpl(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                     rocksdb::ColumnFamilyHandle* log, const rocksdb::Snapshot* snapshot,
                     SourceId source, LogOffset offset)
      : db_(db), cf_(cf), log_(log), snapshot_(snapshot), source_(source), offset_(offset) {}
  ~TableStateViewImpl() override { db_->ReleaseSnapshot(snapshot_); }

  LogOffset offset() const override { return offset_; }

  absl::StatusOr<std::string> Read(std::string_view table, std::string_view cursor,
                                   const ReadLimits& limits,
                                   absl::FunctionRef<void(const TableRow&)> fn) const override {
    const std::string begin =
        table.empty() ? SourceStateBegin(source_) : TableStatePrefix(source_, table);
    const std::string end =
        table.empty() ? SourceStateEnd(source_) : TableStatePrefixEnd(source_, table);
    if (!cursor.empty() && (cursor < begin || cursor >= end)) {
      return absl::InvalidArgumentError("the table state cursor does not belong to this read");
    }
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_));
    if (cursor.empty()) {
      it->Seek(begin);
    } else {
      it->Seek(rocksdb::Slice(cursor.data(), cursor.size()));
      if (it->Valid() && it->key() == rocksdb::Slice(cursor.data(), cursor.size())) it->Next();
    }
    size_t events = 0;
    size_t bytes = 0;
    std::string last_key;
    ReferenceResolver resolver(db_, log_, snapshot_, source_, offset_);
    std::string resolved;
    for (; it->Valid(); it->Next()) {
      if (events >= limits.max_events || bytes >= limits.max_bytes) return last_key;
      std::string_view key(it->key().data(), it->key().size());
      SLUICE_ASSIGN_OR_RETURN(DecodedTableStateKey decoded, DecodeTableStateKey(key));
      std::string_view value(it->value().data(), it->value().size());
      if (IsStateReference(value)) {
        SLUICE_RETURN_IF_ERROR(resolver.Resolve(key, value, resolved));
        value = resolved;
      }
      fn(TableRow{decoded.table, decoded.row_key, value});
      ++events;
      bytes += value.size();
      last_key.assign(key);
    }
    SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "reading the table state"));
    return std::string();
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::ColumnFamilyHandle* log_;
  const rocksdb::Snapshot* snapshot_;
  SourceId source_;
  LogOffset offset_;
};

}  // namespace

void ChangeLogImpl::WriteTableState(rocksdb::WriteBatch& batch, SourceId source,
                                    std::string_view table, const TableStateUpdate& update,
                                    std::string_view row, uint64_t offset,
                                    std::string_view overlay, std::string& scratch) {
  switch (update.kind) {
    case TableStateUpdate::Kind::kNone:
      return;
    case TableStateUpdate::Kind::kClear:
      if (update.clear_tables.empty()) {
        batch.DeleteRange(table_, TableStatePrefix(source, table),
                          TableStatePrefixEnd(source, table));
      }
      for (const std::string& t : update.clear_tables) {
        batch.DeleteRange(table_, TableStatePrefix(source, t), TableStatePrefixEnd(source, t));
      }
      return;
    case TableStateUpdate::Kind::kDelete:
      batch.Delete(table_, TableStateKey(source, table, update.key));
      return;
    case TableStateUpdate::Kind::kPut: {
      if (!update.old_key.empty()) batch.Delete(table_, TableStateKey(source, table, update.old_key));
      scratch.clear();
      scratch.push_back(static_cast<char>(0x08));  // 1: offset, varint
      AppendVarint(offset, scratch);
      // The value is offset + row + overlay, handed to the batch in parts (copied once).
      const std::string key = TableStateKey(source, table, update.key);
      const rocksdb::Slice key_part(key);
      const rocksdb::Slice value_parts[3] = {rocksdb::Slice(scratch),
                                             rocksdb::Slice(row.data(), row.size()),
                                             rocksdb::Slice(overlay.data(), overlay.size())};
      batch.Put(table_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value_parts, 3));
      return;
    }
  }
}

absl::Status ChangeLogImpl::SetTableState(SourceId source, bool enabled) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> write_lock(write_mu_);
  const bool was = slot->table_state.exchange(enabled);
  if (enabled || !was) return absl::OkStatus();
  storagepb::LogState state;
  {
    std::lock_guard<std::mutex> lock(slot->state_mu);
    state = slot->state;
  }
  rocksdb::WriteBatch batch;
  batch.DeleteRange(table_, SourceStateBegin(slot->id), SourceStateEnd(slot->id));
  if (state.last_offset() > 0) {
    state.set_table_state_incomplete(true);
    batch.Put(meta_, StateKey(slot->id), state.SerializeAsString());
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  SLUICE_RETURN_IF_ERROR(
      FromRocks(db_->Write(wo, &batch),
                absl::StrCat("removing the table state of source '", slot->name, "'")));
  std::lock_guard<std::mutex> lock(slot->state_mu);
  slot->state.set_table_state_incomplete(state.table_state_incomplete());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TableStateView>> ChangeLogImpl::OpenTableState(
    SourceId source) const {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  if (!slot->table_state.load()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source '", slot->name,
        "' does not keep table state (table_state: false in its configuration); start from an "
        "offset instead, or turn table_state on for a new source"));
  }
  const rocksdb::Snapshot* snapshot = nullptr;
  {
    // Not inside a group commit: a staged transaction may write its state ahead of its commit.
    std::lock_guard<std::mutex> write_lock(write_mu_);
    snapshot = db_->GetSnapshot();
  }
  // The source's LogState is written in the same WriteBatch as its table state, so the one read
  // at the snapshot names exactly the offset the state reflects.
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string bytes;
  rocksdb::Status s = db_->Get(ro, meta_, StateKey(slot->id), &bytes);
  storagepb::LogState state;
  if (!s.ok() && !s.IsNotFound()) {
    db_->ReleaseSnapshot(snapshot);
    return FromRocks(s, absl::StrCat("reading the state of source '", slot->name, "'"));
  }
  if (s.ok() && !state.ParseFromString(bytes)) {
    db_->ReleaseSnapshot(snapshot);
    return absl::DataLossError(
        absl::StrCat("log state of source '", slot->name, "' is not parseable"));
  }
  std::string marker;
  rocksdb::Status dirty = db_->Get(ro, meta_, TableStateDirtyKey(slot->id), &marker);
  if (dirty.ok()) state.set_table_state_incomplete(true);  // a failed publish wrote part of it
  if (state.table_state_incomplete()) {
    db_->ReleaseSnapshot(snapshot);
    return absl::FailedPreconditionError(absl::StrCat(
        "the table state of source '", slot->name,
        "' is incomplete: events were appended while it was off (table_state: false, or a data "
        "dir from before table state existed), so it does not match the log; start from an "
        "offset instead"));
  }
  return std::unique_ptr<TableStateView>(std::make_unique<TableStateViewImpl>(
      db_.get(), table_, log_, snapshot, slot->id, LogOffset(state.last_offset())));
}

}  // namespace sluice::storage::internal

namespace sluice::storage::internal {

absl::Status ChangeLogImpl::MarkTableStateIncomplete() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::shared_lock<std::shared_mutex> lock(sources_mu_);
  for (auto& [id, slot] : by_id_) {
    std::lock_guard<std::mutex> state_lock(slot->state_mu);
    if (slot->state.last_offset() == 0 || slot->state.table_state_incomplete()) continue;
    storagepb::LogState state = slot->state;
    state.set_table_state_incomplete(true);
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    SLUICE_RETURN_IF_ERROR(FromRocks(db_->Put(wo, meta_, StateKey(slot->id), state.SerializeAsString()),
                                     "marking the table state incomplete"));
    slot->state = state;
  }
  return absl::OkStatus();
}

}  // namespace sluice::storage::internal

