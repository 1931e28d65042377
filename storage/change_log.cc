#include "storage/change_log_impl.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"

namespace sluice::storage {
namespace internal {

absl::Status ChangeLogImpl::CheckStorageFormat() {
  std::string stored;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kStorageFormatKey, &stored);
  int format = 1;  // no key: written before the marker existed, or a new data dir
  if (s.ok()) {
    if (!absl::SimpleAtoi(stored, &format) || format < 1) {
      return absl::DataLossError(absl::StrCat(
          "data dir '", db_->GetName(), "': its storage format marker (meta key ",
          std::string(kStorageFormatKey), ") is not a version: '", absl::CEscape(stored), "'"));
    }
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the data dir's storage format");
  }
  if (format > kStorageFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir '", db_->GetName(), "' was written by a newer sluiced (storage format ", format,
        "; this sluiced reads formats up to ", kStorageFormat,
        "): run the newer sluiced on it, or start this one on a fresh data dir (which takes a "
        "new snapshot)"));
  }
  if (format == kStorageFormat) return absl::OkStatus();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Put(wo, meta_, kStorageFormatKey, absl::StrCat(kStorageFormat)),
                   "writing the data dir's storage format");
}

absl::Status ChangeLogImpl::Load() {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, meta_));
  for (it->Seek(kSourceKeyPrefix);
       it->Valid() &&
       it->key().starts_with(rocksdb::Slice(kSourceKeyPrefix.data(), kSourceKeyPrefix.size()));
       it->Next()) {
    storagepb::SourceRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("source record at meta key '", it->key().ToString(), "' is not parseable"));
    }
    auto slot = std::make_unique<SourceSlot>();
    slot->id = SourceId(rec.source_id());
    slot->name = rec.name();
    slot->kind = rec.kind();
    std::string state_bytes;
    rocksdb::Status s = db_->Get(ro, meta_, StateKey(slot->id), &state_bytes);
    storagepb::LogState state;
    if (s.IsNotFound()) {
      state.set_first_offset(1);
    } else if (!s.ok()) {
      return FromRocks(s, absl::StrCat("reading the state of source '", slot->name, "'"));
    } else if (!state.ParseFromString(state_bytes)) {
      return absl::DataLossError(absl::StrCat("log state of source '", slot->name,
                                              "' (meta key state/", rec.source_id(),
                                              ") is not parseable"));
    }
    if (state.first_offset() == 0 || state.first_offset() > state.last_offset() + 1) {
      return absl::DataLossError(
          absl::StrCat("log state of source '", slot->name, "' is inconsistent: first offset ",
                       state.first_offset(), ", last offset ", state.last_offset()));
    }
    slot->state = state;
    slot->first.store(state.first_offset());
    slot->last.store(state.last_offset());
    SLUICE_RETURN_IF_ERROR(RemoveUncommittedTail(*slot));
    if (state.last_offset() >= state.first_offset()) {
      std::string probe;
      rocksdb::Status ps =
          db_->Get(ro, log_, LogKey(slot->id, LogOffset(state.last_offset())), &probe);
      if (!ps.ok()) {
        return absl::DataLossError(
            absl::StrCat("source '", slot->name, "': the stored state says the last offset is ",
                         state.last_offset(), " but ",
                         DescribeLogKey(LogKey(slot->id, LogOffset(state.last_offset()))),
                         " cannot be read: ", ps.ToString()));
      }
    }
    next_source_id_ = std::max(next_source_id_, rec.source_id() + 1);
    by_id_[rec.source_id()] = slot.get();
    by_name_.emplace(slot->name, std::move(slot));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "listing sources");
  std::string next;
  rocksdb::Status s = db_->Get(ro, meta_, kNextSourceIdKey, &next);
  if (s.ok()) {
    next_source_id_ = std::max(next_source_id_, DecodeSourceIdCounter(next));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading next_source_id");
  }
  return absl::OkStatus();
}

// Keys above the committed last offset can only be left over from an interrupted write of a
// transaction that was never committed; they are not part of the log.
absl::Status ChangeLogImpl::RemoveUncommittedTail(SourceSlot& slot) {
  std::string begin = LogKey(slot.id, LogOffset(slot.state.last_offset() + 1));
  std::string end = LogKeyEnd(slot.id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->Seek(begin);
  if (it->Valid() && it->key().compare(end) < 0) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->DeleteRange(wo, log_, begin, end),
                     absl::StrCat("removing the uncommitted tail of source '", slot.name, "'"));
  }
  return FromRocks(it->status(), "scanning the log tail");
}

absl::StatusOr<SourceId> ChangeLogImpl::RegisterSource(std::string_view name_view,
                                                       v1::SourceKind kind) {
  const std::string name(name_view);
  std::unique_lock<std::shared_mutex> lock(sources_mu_);
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    if (it->second->kind != kind) {
      return absl::FailedPreconditionError(
          absl::StrCat("source '", name, "' is stored in this data dir as a ",
                       v1::SourceKind_Name(it->second->kind), " source, not ",
                       v1::SourceKind_Name(kind), ": use another source name or another data dir"));
    }
    return it->second->id;
  }
  auto slot = std::make_unique<SourceSlot>();
  slot->id = SourceId(next_source_id_);
  slot->name = name;
  slot->kind = kind;
  slot->state.set_first_offset(1);
  storagepb::SourceRecord rec;
  rec.set_source_id(slot->id.value());
  rec.set_name(slot->name);
  rec.set_kind(kind);
  rec.set_created_ts_micros(options_.clock());
  rocksdb::WriteBatch batch;
  batch.Put(meta_, SourceKey(name), rec.SerializeAsString());
  batch.Put(meta_, StateKey(slot->id), slot->state.SerializeAsString());
  batch.Put(meta_, kNextSourceIdKey, EncodeSourceIdCounter(next_source_id_ + 1));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  SLUICE_RETURN_IF_ERROR(
      FromRocks(db_->Write(wo, &batch), absl::StrCat("registering source '", name, "'")));
  ++next_source_id_;
  SourceId id = slot->id;
  by_id_[id.value()] = slot.get();
  by_name_.emplace(slot->name, std::move(slot));
  return id;
}

absl::StatusOr<SourceId> ChangeLogImpl::FindSource(std::string_view name_view) const {
  const std::string name(name_view);
  std::shared_lock<std::shared_mutex> lock(sources_mu_);
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second->id;
  std::vector<std::string> names;
  for (const auto& [n, slot] : by_name_) names.push_back(n);
  return absl::NotFoundError(
      absl::StrCat("no source named '", name, "'",
                   names.empty() ? std::string("; this server has no sources")
                                 : absl::StrCat("; known sources: ", absl::StrJoin(names, ", "))));
}

std::vector<SourceSummary> ChangeLogImpl::Sources() const {
  std::shared_lock<std::shared_mutex> lock(sources_mu_);
  std::vector<SourceSummary> out;
  for (const auto& [id, slot] : by_id_) out.push_back({slot->id, slot->name, slot->kind});
  return out;
}

absl::StatusOr<SourceSlot*> ChangeLogImpl::Slot(SourceId source) const {
  std::shared_lock<std::shared_mutex> lock(sources_mu_);
  auto it = by_id_.find(source.value());
  if (it == by_id_.end()) {
    return absl::NotFoundError(absl::StrCat("no source with id ", source.value()));
  }
  return it->second;
}

void ChangeLogImpl::AppendAsync(SourceId source, std::vector<v1::ChangeEvent> events,
                                const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                                AppendCallback done) {
  Submit(source, std::nullopt, std::move(events), commit_info, std::move(checkpoint),
         std::move(done));
}

void ChangeLogImpl::AppendStagedAsync(SourceId source, uint64_t stage_id,
                                      std::vector<v1::ChangeEvent> events,
                                      const v1::SourceInfo& commit_info,
                                      v1::SourceCheckpoint checkpoint, AppendCallback done) {
  Submit(source, stage_id, std::move(events), commit_info, std::move(checkpoint), std::move(done));
}

namespace {

// The parts of a queued append that AppendAsync and AppendEncodedAsync fill alike: the commit
// info as the overlay merged into every event, its commit time, the queue's base byte cost and
// whether the source keeps table state. Events, checkpoint and callback come after.
PendingAppend NewPendingAppend(SourceSlot* slot, const v1::SourceInfo& commit_info,
                               const v1::SourceCheckpoint& checkpoint) {
  PendingAppend p;
  p.slot = slot;
  std::string info;
  if (IsUtf8Safe(commit_info)) {
    info = commit_info.SerializeAsString();
  } else {
    v1::SourceInfo mended = commit_info;  // the names must parse (utf8_safe.h)
    MakeUtf8Safe(mended);
    info = mended.SerializeAsString();
  }
  if (!info.empty()) {
    p.overlay.push_back(static_cast<char>(0x1A));  // 3: source, length-delimited
    AppendVarint(info.size(), p.overlay);
    p.overlay.append(info);
  }
  p.commit_ts_micros = commit_info.commit_ts_micros();
  p.approx_bytes = 256 + p.overlay.size() + checkpoint.ByteSizeLong();
  p.table_state = slot->table_state.load(std::memory_order_relaxed);
  return p;
}

// The events of an AppendEncodedAsync into `p`.
void AddEncodedEvents(std::vector<EncodedEvent>& events, PendingAppend& p) {
  p.events.reserve(events.size());
  for (EncodedEvent& e : events) {
    SerializedEvent& se = p.events.emplace_back();
    if (p.table_state && e.op == v1::OP_READ && e.row_key.has_value()) {
      if (!e.row_key->empty()) {
        se.state.kind = TableStateUpdate::Kind::kPut;
        se.state.key = std::move(*e.row_key);
        se.state_row_is_body = true;
      }
    } else if (p.table_state) {
      se.state = ComputeTableStateUpdate(e.body);
    }
    se.body = std::move(e.body);
    se.table = std::move(e.table);
    se.op = static_cast<uint8_t>(e.op);
    p.approx_bytes += MemoryCost(se);
  }
  events.clear();
  events.shrink_to_fit();
}

}  // namespace

void ChangeLogImpl::AppendEncodedAsync(SourceId source, std::vector<EncodedEvent> events,
                                       const v1::SourceInfo& commit_info,
                                       v1::SourceCheckpoint checkpoint, AppendCallback done) {
  auto slot = Slot(source);
  if (!slot.ok()) {
    std::move(done)(slot.status());
    return;
  }
  PendingAppend p = NewPendingAppend(*slot, commit_info, checkpoint);
  AddEncodedEvents(events, p);
  p.checkpoint = std::move(checkpoint);
  p.done = std::move(done);
  p.queued = std::chrono::steady_clock::now();
  Enqueue(std::move(p));
}

void ChangeLogImpl::AppendSnapshotChunkAsync(SourceId source, EncodedChunk rows,
                                             const v1::SourceInfo& commit_info,
                                             v1::SourceCheckpoint checkpoint, bool ingest_now,
                                             absl::AnyInvocable<void()> written,
                                             AppendCallback done) {
  auto slot = Slot(source);
  if (!slot.ok()) {
    if (written) written();
    std::move(done)(slot.status());
    return;
  }
  std::string table = TableKey(commit_info);
  const bool names_table = !commit_info.table().empty() &&
                           !(commit_info.schema().empty() && commit_info.database().empty());
  if (!names_table && !rows.empty()) {
    if (written) written();
    std::move(done)(absl::InvalidArgumentError(
        "a snapshot chunk's commit info must name its table (schema or database, and table)"));
    return;
  }
  PendingAppend p = NewPendingAppend(*slot, commit_info, checkpoint);
  // The rows stay as the reader packed them: the writer thread reads them in place.
  p.bulk = true;
  p.chunk_table = std::move(table);
  p.approx_bytes += rows.MemoryCost() + p.chunk_table.size();
  p.chunk = std::move(rows);
  p.checkpoint = std::move(checkpoint);
  p.ingest_now = ingest_now;
  p.written = std::move(written);
  p.done = std::move(done);
  p.queued = std::chrono::steady_clock::now();
  Enqueue(std::move(p));
}

void ChangeLogImpl::Submit(SourceId source, std::optional<uint64_t> stage_id,
                           std::vector<v1::ChangeEvent> events, const v1::SourceInfo& commit_info,
                           v1::SourceCheckpoint checkpoint, AppendCallback done) {
  auto slot = Slot(source);
  if (!slot.ok()) {
    std::move(done)(slot.status());
    return;
  }
  PendingAppend p = NewPendingAppend(*slot, commit_info, checkpoint);
  p.staged = stage_id.has_value();
  p.stage_id = stage_id.value_or(0);
  if (p.commit_ts_micros == 0 && !events.empty()) {
    p.commit_ts_micros = events[0].source().commit_ts_micros();
  }
  p.events.reserve(events.size());
  // A snapshot chunk names its table in the commit info: the record header (filters) and the
  // table state need the merged name.
  const bool names_table = !commit_info.table().empty() || !commit_info.schema().empty() ||
                           !commit_info.database().empty();
  for (auto& e : events) {
    p.events.push_back(Serialize(e));
    if (names_table) p.events.back().table = TableKeyWith(e.source(), commit_info);
    if (p.table_state) p.events.back().state = ComputeTableStateUpdate(e, commit_info);
    p.approx_bytes += MemoryCost(p.events.back());
  }
  events.clear();
  events.shrink_to_fit();
  p.checkpoint = std::move(checkpoint);
  p.done = std::move(done);
  p.queued = std::chrono::steady_clock::now();
  Enqueue(std::move(p));
}

void ChangeLogImpl::Enqueue(PendingAppend p) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  // A single append larger than the whole budget is admitted alone once the queue is empty.
  space_cv_.wait(lock, [&] {
    return stopping_ || pending_bytes_ == 0 ||
           pending_bytes_ + p.approx_bytes <= options_.max_pending_bytes;
  });
  if (stopping_) {
    lock.unlock();
    if (p.written) p.written();
    std::move(p.done)(absl::UnavailableError("the change log is closing; append not stored"));
    return;
  }
  pending_bytes_ += p.approx_bytes;
  queue_.push_back(std::move(p));
  lock.unlock();
  queue_cv_.notify_one();
}

void ChangeLogImpl::WriterLoop() {
  std::vector<PendingAppend> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      auto work = [&] { return stopping_ || !queue_.empty(); };
      if (std::optional<std::chrono::steady_clock::time_point> due = IngestionDue()) {
        if (!queue_cv_.wait_until(lock, *due, work)) {
          lock.unlock();
          CommitExpiredIngestions(false);
          continue;
        }
      } else {
        queue_cv_.wait(lock, work);
      }
      if (queue_.empty()) {  // stopping, and everything queued was written
        lock.unlock();
        CommitExpiredIngestions(true);
        WaitIngested();
        return;
      }
      size_t bytes = 0;
      while (!queue_.empty() && (group.empty() || bytes < options_.max_group_bytes)) {
        if (!group.empty() &&
            (PublishesInChunks(group.back()) || PublishesInChunks(queue_.front()) ||
             queue_.front().bulk)) {
          break;  // it commits alone
        }
        bytes += queue_.front().approx_bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (group.back().bulk) break;  // a snapshot chunk goes to its ingestion alone
      }
      pending_bytes_ -= bytes;
    }
    space_cv_.notify_all();
    if (group.size() == 1 && group[0].bulk) {
      AddToIngestion(std::move(group[0]));
    } else {
      // A source's appends are stored in call order: its open ingestion goes first, and the
      // ingestion handed over last is stored (its callbacks run) before the group commits.
      for (const PendingAppend& p : group) {
        if (ingestions_.contains(p.slot)) CommitIngestion(p.slot);
      }
      WaitIngested();
      handed_end_.reset();
      CommitGroup(group);
    }
    group.clear();
    CommitExpiredIngestions(false);
  }
}

void ChangeLogImpl::CommitGroup(std::vector<PendingAppend>& group) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  const int64_t now = options_.clock();
  std::map<SourceSlot*, storagepb::LogState> working;
  std::vector<LogOffset> results(group.size());
  std::vector<absl::Status> refused(group.size());  // appends of a source that already failed
  AppendObserver* const observer = options_.observer;
  std::vector<DurableAppend> observed(observer != nullptr ? group.size() : 0);
  std::vector<std::vector<TableEvents>> tables(observed.size());
  rocksdb::WriteBatch batch;
  std::string record;
  std::string state_value;
  absl::Status status;
  for (size_t i = 0; i < group.size() && status.ok(); ++i) {
    PendingAppend& p = group[i];
    {
      std::lock_guard<std::mutex> lock(p.slot->state_mu);
      refused[i] = p.slot->failed;
    }
    if (!refused[i].ok()) continue;
    auto [it, inserted] = working.try_emplace(p.slot);
    if (inserted) {
      std::lock_guard<std::mutex> lock(p.slot->state_mu);
      it->second = p.slot->state;
    }
    storagepb::LogState& st = it->second;
    const uint64_t txn_first = st.last_offset() + 1;
    const uint64_t bytes_before = st.stored_bytes();
    std::vector<TableEvents>* table_runs = observer != nullptr ? &tables[i] : nullptr;
    uint64_t staged = 0;
    if (p.staged) {
      uint64_t stored = st.stored_bytes();
      auto copied = CopyStage(p, txn_first, p.events.empty(), now, stored, table_runs,
                              p.table_state ? &batch : nullptr);
      if (!copied.ok()) {
        status = copied.status();
        break;
      }
      staged = *copied;
      st.set_stored_bytes(stored);
      batch.DeleteRange(stage_, StageKey(p.slot->id, p.stage_id, 0),
                        StageKeyEnd(p.slot->id, p.stage_id));
      // Also the marker of an earlier attempt that Open() is finishing.
      if (PublishesInChunks(p)) batch.Delete(meta_, TableStateDirtyKey(p.slot->id));
    }
    const size_t n = p.events.size();
    for (size_t k = 0; k < n; ++k) {
      const SerializedEvent& e = p.events[k];
      const uint64_t index = staged + k;
      const uint64_t offset = txn_first + index;
      uint8_t flags = (index == 0 ? kFlagFirstInTxn : 0) | (k + 1 == n ? kFlagLastInTxn : 0);
      // The record is header + assigned fields + body + overlay, handed to the batch in parts
      // (copied once, into the batch).
      record.clear();
      AppendRecordHeader(flags, e.op, e.table, record);
      AppendAssignedFields(offset, static_cast<uint32_t>(index), k + 1 == n, now, record);
      const std::string key = LogKey(p.slot->id, LogOffset(offset));
      const rocksdb::Slice key_part(key);
      const rocksdb::Slice record_parts[3] = {rocksdb::Slice(record), rocksdb::Slice(e.body),
                                              rocksdb::Slice(p.overlay)};
      batch.Put(log_, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(record_parts, 3));
      st.set_stored_bytes(st.stored_bytes() + record.size() + e.body.size() + p.overlay.size());
      if (table_runs != nullptr) CountTableEvent(e.table, *table_runs);
      if (p.table_state) {
        WriteTableState(batch, p.slot->id, e.table, e.state, e.state_row(), offset, p.overlay,
                        state_value);
      }
    }
    const uint64_t total = staged + n;
    if (!p.table_state && total > 0) st.set_table_state_incomplete(true);
    if (total > 0) {
      int64_t ts = p.commit_ts_micros;
      if (ts == 0) ts = now;
      if (ts > st.max_commit_ts_micros() || st.last_offset() == 0) {
        batch.Put(time_, TimeKey(p.slot->id, ts, LogOffset(txn_first)), rocksdb::Slice());
        st.set_max_commit_ts_micros(std::max(ts, st.max_commit_ts_micros()));
      }
      st.set_last_offset(txn_first + total - 1);
    }
    *st.mutable_checkpoint() = std::move(p.checkpoint);
    results[i] = LogOffset(st.last_offset());
    if (observer != nullptr) {
      observed[i] = {p.slot->id, p.slot->name, total, st.stored_bytes() - bytes_before,
                     p.commit_ts_micros, 0, tables[i]};
    }
  }
  if (status.ok()) {
    for (const auto& [slot, st] : working) {
      batch.Put(meta_, StateKey(slot->id), st.SerializeAsString());
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    status = FromRocks(db_->Write(wo, &batch), "appending to the change log");
  }
  if (status.ok()) {
    for (const auto& [slot, st] : working) Publish(*slot, st);
    if (observer != nullptr) Observe(group, refused, observed);
    for (const auto& p : group) {
      if (!p.staged) continue;
      std::lock_guard<std::mutex> lock(p.slot->stage_mu);
      p.slot->stage_next_seq.erase(p.stage_id);
    }
  }
  if (!status.ok()) {
    for (auto& p : group) {
      std::lock_guard<std::mutex> lock(p.slot->state_mu);
      if (p.slot->failed.ok()) p.slot->failed = status;
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (!refused[i].ok()) {
      std::move(group[i].done)(refused[i]);
    } else if (status.ok()) {
      std::move(group[i].done)(results[i]);
    } else {
      std::move(group[i].done)(status);
    }
  }
}

void ChangeLogImpl::Observe(const std::vector<PendingAppend>& group,
                            const std::vector<absl::Status>& refused,
                            std::vector<DurableAppend>& observed) {
  const auto durable = std::chrono::steady_clock::now();
  size_t n = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (!refused[i].ok()) continue;
    observed[i].latency_micros =
        std::chrono::duration_cast<std::chrono::microseconds>(durable - group[i].queued).count();
    observed[n++] = observed[i];
  }
  options_.observer->OnDurable(std::span<const DurableAppend>(observed.data(), n));
}

void ChangeLogImpl::Publish(SourceSlot& slot, const storagepb::LogState& state) {
  {
    std::lock_guard<std::mutex> lock(slot.state_mu);
    slot.state = state;
  }
  slot.first.store(state.first_offset(), std::memory_order_release);
  const uint64_t old_last = slot.last.exchange(state.last_offset(), std::memory_order_acq_rel);
  if (old_last == state.last_offset()) return;
  std::vector<std::shared_ptr<SourceSlot::Waiter>> waiters;
  {
    std::lock_guard<std::mutex> lock(slot.waiters_mu);
    waiters.swap(slot.waiters);
  }
  for (auto& w : waiters) {
    std::lock_guard<std::mutex> lock(w->mu);
    if (!w->cancelled && w->callback) {
      auto cb = std::move(w->callback);
      w->callback = nullptr;
      cb();
    }
  }
}

std::unique_ptr<AppendWaiter> ChangeLogImpl::NotifyAfter(SourceId source, LogOffset after,
                                                         absl::AnyInvocable<void()> on_append) {
  auto slot = Slot(source);
  if (!slot.ok()) return nullptr;
  std::lock_guard<std::mutex> lock((*slot)->waiters_mu);
  if ((*slot)->last.load(std::memory_order_acquire) > after.value()) return nullptr;
  auto w = std::make_shared<SourceSlot::Waiter>();
  w->callback = std::move(on_append);
  auto& list = (*slot)->waiters;
  // Drop cancelled waiters so an idle source does not accumulate them.
  std::erase_if(list, [](const std::shared_ptr<SourceSlot::Waiter>& x) {
    std::lock_guard<std::mutex> l(x->mu);
    return x->cancelled;
  });
  list.push_back(w);
  return std::make_unique<WaiterHandle>(std::move(w));
}

absl::StatusOr<LogBounds> ChangeLogImpl::Bounds(SourceId source) const {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> lock(slot->state_mu);
  return LogBounds{LogOffset(slot->state.first_offset()), LogOffset(slot->state.last_offset()),
                   slot->state.stored_bytes()};
}

absl::StatusOr<v1::SourceCheckpoint> ChangeLogImpl::Checkpoint(SourceId source) const {
  SLUICE_ASSIGN_OR_RETURN(SourceSlot * slot, Slot(source));
  std::lock_guard<std::mutex> lock(slot->state_mu);
  return slot->state.checkpoint();
}

}  // namespace internal

using internal::ChangeLogImpl;
using internal::kLogCf;
using internal::kStageCf;
using internal::kTableCf;
using internal::kTimeCf;

namespace {

// Runs `start` with a callback and waits for it to be called.
absl::StatusOr<LogOffset> Await(absl::FunctionRef<void(AppendCallback)> start) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<absl::StatusOr<LogOffset>> result;
  start([&](absl::StatusOr<LogOffset> r) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(r);
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *std::move(result);
}

}  // namespace

absl::StatusOr<LogOffset> ChangeLog::Append(SourceId source, std::vector<v1::ChangeEvent> events,
                                            v1::SourceCheckpoint checkpoint) {
  return Await([&](AppendCallback done) {
    AppendAsync(source, std::move(events), std::move(checkpoint), std::move(done));
  });
}

absl::StatusOr<LogOffset> ChangeLog::AppendStaged(SourceId source, uint64_t stage_id,
                                                  std::vector<v1::ChangeEvent> events,
                                                  const v1::SourceInfo& commit_info,
                                                  v1::SourceCheckpoint checkpoint) {
  return Await([&](AppendCallback done) {
    AppendStagedAsync(source, stage_id, std::move(events), commit_info, std::move(checkpoint),
                      std::move(done));
  });
}

absl::StatusOr<std::unique_ptr<ChangeLog>> ChangeLog::Open(const std::string& dir,
                                                           ChangeLogOptions options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  // Memtables bound most of the log's memory: 2 x 32 MiB for events, 2 x 4 MiB for the rest.
  rocksdb::ColumnFamilyOptions log_options;
  log_options.write_buffer_size = 32 << 20;
  log_options.max_write_buffer_number = 2;
  rocksdb::ColumnFamilyOptions small_options;
  small_options.write_buffer_size = 4 << 20;
  small_options.max_write_buffer_number = 2;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, small_options},
      {kLogCf, log_options},
      {kTimeCf, small_options},
      {kStageCf, log_options},
      {kTableCf, small_options},
  };
  // A data dir from before table state existed gets an empty table CF: its sources' state
  // would not match their logs.
  std::vector<std::string> existing_cfs;
  const bool lacks_table_state =
      rocksdb::DB::ListColumnFamilies(db_options, dir, &existing_cfs).ok() &&
      std::find(existing_cfs.begin(), existing_cfs.end(), kTableCf) == existing_cfs.end();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, cfs, &handles, &raw);
  if (!s.ok()) {
    std::string hint =
        "check that the directory exists or can be created, and is writable by "
        "this user";
    if (s.ToString().find("lock") != std::string::npos) {
      hint = "another sluiced process is probably using this data dir";
    }
    if (s.IsCorruption()) {
      return absl::DataLossError(absl::StrCat("data dir '", dir, "' is corrupt: ", s.ToString()));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open data dir '", dir, "': ", s.ToString(), " (", hint, ")"));
  }
  auto log = std::make_unique<ChangeLogImpl>(std::move(options), std::unique_ptr<rocksdb::DB>(raw),
                                             std::move(handles));
  SLUICE_RETURN_IF_ERROR(log->CheckStorageFormat());
  SLUICE_RETURN_IF_ERROR(log->Load());
  SLUICE_RETURN_IF_ERROR(log->FinishPendingPublishes());
  SLUICE_RETURN_IF_ERROR(log->ResetIngestDir());
  if (lacks_table_state) SLUICE_RETURN_IF_ERROR(log->MarkTableStateIncomplete());
  log->StartWriter();
  return std::unique_ptr<ChangeLog>(std::move(log));
}

}  // namespace sluice::storage
