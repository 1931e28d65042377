// ChangeLog reads: range reads, time lookups and retention (which materializes the table-state
// references to the records it removes).
#include "storage/change_log_impl.h"
#include "storage/state_reference.h"
#include "storage/table_state.h"

namespace sluice::storage::internal {

absl::StatusOr<LogOffset> ChangeLogImpl::Read(
    SourceId source, LogOffset from, const ReadLimits& limits,
    absl::FunctionRef<void(const StoredRecord&)> fn) const {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  auto trimmed = [&](uint64_t offset, uint64_t first) {
    return absl::OutOfRangeError(absl::StrCat(
        "offset ", offset, " of source '", slot->name,
        "' is no longer stored (retention removed it); the earliest available offset is ", first));
  };
  uint64_t first = slot->first.load(std::memory_order_acquire);
  const uint64_t last = slot->last.load(std::memory_order_acquire);
  uint64_t next = std::max<uint64_t>(from.value(), 1);
  if (next < first) return trimmed(next, first);
  if (next > last) return LogOffset(next);
  const std::string upper = LogKey(slot->id, LogOffset(last + 1));
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
  size_t events = 0;
  size_t bytes = 0;
  for (it->Seek(LogKey(slot->id, LogOffset(next)));
       it->Valid() && events < limits.max_events && bytes < limits.max_bytes; it->Next()) {
    auto key = DecodeLogKey(std::string_view(it->key().data(), it->key().size()));
    if (!key || key->source != slot->id || key->offset.value() != next) {
      first = slot->first.load(std::memory_order_acquire);
      if (next < first) return trimmed(next, first);
      return absl::DataLossError(absl::StrCat(
          "source '", slot->name, "': offset ", next, " is missing from the log; found ",
          DescribeLogKey(std::string_view(it->key().data(), it->key().size())), " instead"));
    }
    std::string_view value(it->value().data(), it->value().size());
    auto view = DecodeRecord(value);
    if (!view.ok()) {
      return absl::DataLossError(absl::StrCat("source '", slot->name, "' ",
                                              DescribeLogKey(LogKey(slot->id, LogOffset(next))),
                                              " (offset ", next, "): ", view.status().message()));
    }
    fn(StoredRecord{LogOffset(next), *view, value.size()});
    ++events;
    bytes += value.size();
    ++next;
  }
  if (!it->status().ok()) {
    return FromRocks(it->status(),
                     absl::StrCat("reading source '", slot->name, "' at offset ", next));
  }
  if (events < limits.max_events && bytes < limits.max_bytes && next <= last) {
    // The iterator ended before the committed end: the offsets were removed under us.
    first = slot->first.load(std::memory_order_acquire);
    if (next < first) return trimmed(next, first);
    return absl::DataLossError(absl::StrCat("source '", slot->name, "': offsets ", next, "..", last,
                                            " are missing from the log"));
  }
  return LogOffset(next);
}

absl::StatusOr<LogOffset> ChangeLogImpl::OffsetForTime(SourceId source, int64_t ts_micros) const {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  const uint64_t first = slot->first.load(std::memory_order_acquire);
  const uint64_t last = slot->last.load(std::memory_order_acquire);
  const std::string end = TimeKey(SourceId(slot->id.value() + 1), INT64_MIN, LogOffset(0));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), time_));
  it->Seek(TimeKey(slot->id, ts_micros, LogOffset(0)));
  if (!it->status().ok()) return FromRocks(it->status(), "reading the time index");
  if (!it->Valid() || it->key().compare(end) >= 0) return LogOffset(last + 1);
  auto key = DecodeTimeKey(std::string_view(it->key().data(), it->key().size()));
  if (!key) {
    return absl::DataLossError(absl::StrCat("time index of source '", slot->name,
                                            "' has a malformed key of ", it->key().size(),
                                            " bytes"));
  }
  return LogOffset(std::clamp<uint64_t>(key->offset.value(), first, last + 1));
}

uint64_t ChangeLogImpl::LiveSstBytes() const {
  uint64_t bytes = 0;
  if (!db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &bytes)) return 0;
  return bytes;
}

absl::StatusOr<TrimResult> ChangeLogImpl::ApplyRetention(SourceId source,
                                                         const RetentionPolicy& policy) {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  // Only retention moves the front (serialized by retention_mu_) and the records below the end
  // never change, so the scans run without write_mu_; each batch takes it only to check the
  // table-state rows it replaces and to write (TrimPiece, FlushMaterialized).
  std::lock_guard<std::mutex> retention_lock(retention_mu_);
  storagepb::LogState st;
  {
    std::lock_guard<std::mutex> lock(slot->state_mu);
    st = slot->state;
  }
  TrimResult result;
  result.first_before = result.first_after = LogOffset(st.first_offset());
  if (st.last_offset() < st.first_offset()) return result;

  // The oldest transaction start that is young enough.
  uint64_t age_cut = st.first_offset();
  if (policy.max_age_micros > 0) {
    SLUICE_ASSIGN_OR_RETURN(LogOffset x,
                            OffsetForTime(source, options_.clock() - policy.max_age_micros));
    age_cut = std::max(age_cut, x.value());
  }
  // Walk from the front to the first transaction start that satisfies both limits.
  uint64_t cut = st.last_offset() + 1;
  // The last transaction start at or below keep_from, where the cut stops at the latest.
  uint64_t floor_cut = st.first_offset();
  {
    const std::string upper = LogKeyEnd(slot->id);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
    uint64_t sum_before = 0;
    for (it->Seek(LogKey(slot->id, LogOffset(st.first_offset()))); it->Valid(); it->Next()) {
      auto key = DecodeLogKey(std::string_view(it->key().data(), it->key().size()));
      if (!key || key->offset.value() > st.last_offset()) break;
      auto view = DecodeRecord(std::string_view(it->value().data(), it->value().size()));
      if (!view.ok()) {
        return absl::DataLossError(absl::StrCat(
            "retention of source '", slot->name,
            "': ", DescribeLogKey(std::string_view(it->key().data(), it->key().size())), ": ",
            view.status().message()));
      }
      const uint64_t o = key->offset.value();
      if ((view->flags & kFlagFirstInTxn) && o <= policy.keep_from) {
        floor_cut = o;
      }
      if ((view->flags & kFlagFirstInTxn) && o >= age_cut &&
          (policy.max_bytes == 0 || st.stored_bytes() - sum_before <= policy.max_bytes)) {
        cut = o;
        break;
      }
      sum_before += it->value().size();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning for retention");
  }
  if (policy.keep_from != 0 && cut > policy.keep_from) {
    result.events_held = cut - floor_cut;
    cut = floor_cut;
  }
  if (cut == st.first_offset()) return result;

  // In pieces, each one atomic batch: the trimmed records' table-state references become full
  // values before or in the batch that removes the records. The cut stays valid (only
  // retention moves the front), and each piece reads the state rows again.
  for (;;) {
    SLUICE_RETURN_IF_ERROR(TrimPiece(*slot, cut, result));
    std::lock_guard<std::mutex> lock(slot->state_mu);
    st = slot->state;
    if (st.first_offset() >= cut) break;
  }
  result.first_after = LogOffset(cut);
  result.events_removed = cut - result.first_before.value();
  return result;
}

absl::Status ChangeLogImpl::FlushMaterialized(SourceSlot& slot,
                                               std::vector<MaterializedRow>& rows,
                                               rocksdb::WriteBatch& batch, TrimResult& result) {
  // Under write_mu_: a row still holding the reference to its record is replaced; one written
  // or deleted since the scan holds something else, or nothing, and stays. No row can come to
  // hold a reference to a record below the end (ingestions refer only to their own records).
  if (!rows.empty()) {
    const std::string state_upper = SourceStateEnd(slot.id);
    const rocksdb::Slice state_upper_slice(state_upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &state_upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, table_));
    char reference[kMaxStateReferenceSize];
    for (const MaterializedRow& row : rows) {
      if (!SeekForward(*it, row.key)) {
        SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "reading the table state for retention"));
        continue;
      }
      if (it->value() != rocksdb::Slice(reference, EncodeStateReference(row.offset, reference))) {
        continue;
      }
      batch.Put(table_, row.key, row.value);
      ++result.state_rows_materialized;
    }
  }
  rows.clear();
  return absl::OkStatus();
}

absl::Status ChangeLogImpl::TrimPiece(SourceSlot& slot, uint64_t cut, TrimResult& result) {
  uint64_t from = 0;
  {
    std::lock_guard<std::mutex> lock(slot.state_mu);
    from = slot.state.first_offset();
  }
  const size_t limit = std::max<size_t>(options_.retention_batch_bytes, 1);
  uint64_t end = cut;
  uint64_t piece_bytes = 0;
  // The rows to materialize, found without write_mu_, checked and written under it: in batches
  // of their own when one transaction holds more than `limit` bytes of them (a materialized
  // row reads the same as its reference), the rest with the removal.
  std::vector<MaterializedRow> rows;
  size_t rows_bytes = 0;
  auto write = [&](rocksdb::WriteBatch& batch) {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    return FromRocks(db_->Write(wo, &batch), absl::StrCat("trimming source '", slot.name, "'"));
  };
  // A table-state row refers only to an r record (a snapshot row stored by ingestion), at the
  // key the record's own key columns give; it still refers to it when it holds that very
  // reference (a row written or deleted since holds something else, or nothing).
  const bool table_state = slot.table_state.load();
  {
    const std::string upper = LogKey(slot.id, LogOffset(cut));
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    ro.readahead_size = 1 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
    TablePrefixCache prefix;
    std::string key;
    v1::Row after;  // reused: its fields' memory serves every record
    // The state rows, read with one iterator that steps forward (SeekForward): the trimmed
    // records' offsets ascend, and so, mostly, do the keys of the rows a snapshot gave them.
    // Its implicit snapshot may be older than the rows: a row found not to hold the reference
    // never will; one that does is checked again under write_mu_.
    const std::string state_upper = SourceStateEnd(slot.id);
    const rocksdb::Slice state_upper_slice(state_upper);
    rocksdb::ReadOptions state_ro;
    std::unique_ptr<rocksdb::Iterator> state_it;
    char reference[kMaxStateReferenceSize];
    for (it->Seek(LogKey(slot.id, LogOffset(from))); it->Valid(); it->Next()) {
      const std::string_view log_key(it->key().data(), it->key().size());
      auto decoded = DecodeLogKey(log_key);
      auto view = DecodeRecord(std::string_view(it->value().data(), it->value().size()));
      if (!decoded || !view.ok()) {
        return absl::DataLossError(absl::StrCat(
            "retention of source '", slot.name, "': ", DescribeLogKey(log_key), ": ",
            view.ok() ? std::string("malformed key") : std::string(view.status().message())));
      }
      const uint64_t o = decoded->offset.value();
      // A piece ends at a transaction start once it has scanned `limit` bytes of records.
      if (o > from && (view->flags & kFlagFirstInTxn) && piece_bytes >= limit) {
        end = o;
        break;
      }
      piece_bytes += it->value().size();
      if (!table_state || view->op != static_cast<uint8_t>(v1::OP_READ)) continue;
      // A record whose key columns do not parse may be the one a state row refers to: the
      // trim stops (DataLoss naming it) rather than leave that row dangling.
      auto row_key = RowKeyOfEncodedEvent(view->event, after);
      if (!row_key.ok()) {
        return absl::DataLossError(absl::StrCat("retention of source '", slot.name,
                                                "': ", DescribeLogKey(log_key), ": ",
                                                row_key.status().message()));
      }
      if (!*row_key || (*row_key)->empty()) continue;
      key.assign(prefix.Of(slot.id, view->table));
      key.append(**row_key);
      if (state_it == nullptr) {
        state_ro.iterate_upper_bound = &state_upper_slice;
        state_it.reset(db_->NewIterator(state_ro, table_));
      }
      if (!SeekForward(*state_it, key)) {
        SLUICE_RETURN_IF_ERROR(
            FromRocks(state_it->status(), "reading the table state for retention"));
        continue;
      }
      if (state_it->value() !=
          rocksdb::Slice(reference, EncodeStateReference(LogOffset(o), reference))) {
        continue;
      }
      MaterializedRow& row = rows.emplace_back();
      row.offset = LogOffset(o);
      row.key = key;
      if (absl::Status s = ResolveStateReference(LogOffset(o), view->event, row.value); !s.ok()) {
        return absl::DataLossError(absl::StrCat("retention of source '", slot.name,
                                                "': ", DescribeLogKey(log_key), ": ", s.message()));
      }
      rows_bytes += row.key.size() + row.value.size();
      if (rows_bytes >= limit) {
        rocksdb::WriteBatch batch;
        {
          std::lock_guard<std::mutex> write_lock(write_mu_);
          SLUICE_RETURN_IF_ERROR(FlushMaterialized(slot, rows, batch, result));
          SLUICE_RETURN_IF_ERROR(write(batch));
        }
        rows_bytes = 0;
        ++result.batches;
        if (options_.after_retention_batch_for_testing) {
          options_.after_retention_batch_for_testing();
        }
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning for retention");
  }
  rocksdb::WriteBatch batch;
  batch.DeleteRange(log_, LogKey(slot.id, LogOffset(from)), LogKey(slot.id, LogOffset(end)));
  {
    // Time-index entries below the end never change either.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), time_));
    const std::string begin = TimeKey(slot.id, INT64_MIN, LogOffset(0));
    std::string end_key;
    for (it->Seek(begin); it->Valid(); it->Next()) {
      auto key = DecodeTimeKey(std::string_view(it->key().data(), it->key().size()));
      if (!key || key->source != slot.id || key->offset.value() >= end) break;
      end_key = it->key().ToString();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning the time index");
    // Keep the newest entry below the cut: the transactions between it and the next entry are
    // still stored, and a lookup that lands on it is clamped to the new first offset.
    if (!end_key.empty()) batch.DeleteRange(time_, begin, end_key);
  }
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    SLUICE_RETURN_IF_ERROR(FlushMaterialized(slot, rows, batch, result));
    storagepb::LogState next;
    {
      std::lock_guard<std::mutex> lock(slot.state_mu);
      next = slot.state;  // appends may have moved the end since the scan
    }
    next.set_first_offset(end);
    next.set_stored_bytes(next.stored_bytes() - std::min(piece_bytes, next.stored_bytes()));
    batch.Put(meta_, StateKey(slot.id), next.SerializeAsString());
    SLUICE_RETURN_IF_ERROR(write(batch));
    Publish(slot, next);
  }
  result.bytes_removed += piece_bytes;
  ++result.batches;
  if (options_.after_retention_batch_for_testing) options_.after_retention_batch_for_testing();
  return absl::OkStatus();
}

}  // namespace sluice::storage::internal
