// ChangeLog reads: range reads, time lookups and retention.
#include "storage/change_log_impl.h"

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
  std::lock_guard<std::mutex> write_lock(write_mu_);
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
  uint64_t removed_bytes = st.stored_bytes();
  // The last transaction start at or below keep_from, where the cut stops at the latest.
  uint64_t floor_cut = st.first_offset();
  uint64_t floor_bytes = 0;
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
        floor_bytes = sum_before;
      }
      if ((view->flags & kFlagFirstInTxn) && o >= age_cut &&
          (policy.max_bytes == 0 || st.stored_bytes() - sum_before <= policy.max_bytes)) {
        cut = o;
        removed_bytes = sum_before;
        break;
      }
      sum_before += it->value().size();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning for retention");
  }
  if (policy.keep_from != 0 && cut > policy.keep_from) {
    result.events_held = cut - floor_cut;
    cut = floor_cut;
    removed_bytes = floor_bytes;
  }
  if (cut == st.first_offset()) return result;

  rocksdb::WriteBatch batch;
  batch.DeleteRange(log_, LogKey(slot->id, LogOffset(st.first_offset())),
                    LogKey(slot->id, LogOffset(cut)));
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), time_));
    const std::string begin = TimeKey(slot->id, INT64_MIN, LogOffset(0));
    std::string end_key;
    for (it->Seek(begin); it->Valid(); it->Next()) {
      auto key = DecodeTimeKey(std::string_view(it->key().data(), it->key().size()));
      if (!key || key->source != slot->id || key->offset.value() >= cut) break;
      end_key = it->key().ToString();
    }
    if (!it->status().ok()) return FromRocks(it->status(), "scanning the time index");
    // Keep the newest entry below the cut: the transactions between it and the next entry are
    // still stored, and a lookup that lands on it is clamped to the new first offset.
    if (!end_key.empty()) batch.DeleteRange(time_, begin, end_key);
  }
  storagepb::LogState next = st;
  next.set_first_offset(cut);
  next.set_stored_bytes(st.stored_bytes() - removed_bytes);
  batch.Put(meta_, StateKey(slot->id), next.SerializeAsString());
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  SLUICE_RETURN_IF_ERROR(
      FromRocks(db_->Write(wo, &batch), absl::StrCat("trimming source '", slot->name, "'")));
  Publish(*slot, next);
  result.first_after = LogOffset(cut);
  result.events_removed = cut - st.first_offset();
  result.bytes_removed = removed_bytes;
  return result;
}

}  // namespace sluice::storage::internal
