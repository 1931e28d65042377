#include "storage/change_log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "sluice/v1/storage.pb.h"
#include "storage/rocksdb_status.h"

namespace sluice::storage {
namespace {

constexpr char kLogCf[] = "log";
constexpr char kTimeCf[] = "time";
constexpr char kStageCf[] = "stage";
// Staged transactions are copied into the log in writes of about this size.
constexpr size_t kStageChunkBytes = size_t{4} << 20;

int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string TableKey(const v1::SourceInfo& s) {
  if (s.table().empty()) return {};
  return absl::StrCat(s.schema().empty() ? s.database() : s.schema(), ".", s.table());
}

uint32_t ReadU32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4 && i < static_cast<int>(s.size()); ++i) {
    v = (v << 8) | static_cast<uint8_t>(s[i]);
  }
  return v;
}

std::string U32Be(uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// One registered source. `state` is the committed LogState; `first`/`last` mirror it for
// lock-free reads.
struct SourceSlot {
  SourceId id;
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;

  mutable std::mutex state_mu;
  storagepb::LogState state;  // guarded by state_mu; written only under ChangeLogImpl::write_mu_
  std::atomic<uint64_t> first{1};
  std::atomic<uint64_t> last{0};

  struct Waiter {
    std::mutex mu;
    bool cancelled = false;  // guarded by mu
    absl::AnyInvocable<void()> callback;
  };
  std::mutex waiters_mu;
  std::vector<std::shared_ptr<Waiter>> waiters;  // guarded by waiters_mu

  std::mutex stage_mu;
  std::map<uint64_t, uint64_t> stage_next_seq;  // guarded by stage_mu
};

class WaiterHandle final : public AppendWaiter {
 public:
  explicit WaiterHandle(std::shared_ptr<SourceSlot::Waiter> w) : waiter_(std::move(w)) {}
  ~WaiterHandle() override {
    std::lock_guard<std::mutex> lock(waiter_->mu);
    waiter_->cancelled = true;
    waiter_->callback = nullptr;
  }

 private:
  std::shared_ptr<SourceSlot::Waiter> waiter_;
};

// An event serialized by the appending thread, without the fields the writer assigns.
struct SerializedEvent {
  std::string body;
  std::string table;
  uint8_t op = 0;
};

// Queued appends hold serialized bytes, so the queue's byte budget is its real memory use.
struct PendingAppend {
  SourceSlot* slot = nullptr;
  bool staged = false;  // publish the stage `stage_id` before `events`
  uint64_t stage_id = 0;
  std::string overlay;  // field 3 (source) bytes merged into every event, or empty
  std::vector<SerializedEvent> events;
  int64_t commit_ts_micros = 0;
  v1::SourceCheckpoint checkpoint;
  size_t approx_bytes = 0;
  AppendCallback done;
};

void PutVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The ChangeEvent fields the log assigns, in protobuf wire format. Parsers accept fields in
// any order, so these bytes followed by a body serialized without them parse as the whole event.
void AppendAssignedFields(uint64_t offset, uint32_t index, bool last, int64_t ingest_ts,
                          std::string& out) {
  out.push_back(static_cast<char>(0x08));  // 1: offset, varint
  PutVarint(offset, out);
  if (index != 0) {
    out.push_back(static_cast<char>(0x40));  // 8: transaction_index, varint
    PutVarint(index, out);
  }
  if (last) {
    out.push_back(static_cast<char>(0x48));  // 9: last_in_transaction, varint
    out.push_back(1);
  }
  out.push_back(static_cast<char>(0x50));  // 10: ingest_ts_micros, varint (int64)
  PutVarint(static_cast<uint64_t>(ingest_ts), out);
}

SerializedEvent Serialize(v1::ChangeEvent& e) {
  e.clear_offset();
  e.clear_transaction_index();
  e.clear_last_in_transaction();
  e.clear_ingest_ts_micros();
  SerializedEvent se;
  se.op = static_cast<uint8_t>(e.op());
  se.table = TableKey(e.source());
  e.SerializeToString(&se.body);
  return se;
}

size_t MemoryCost(const SerializedEvent& se) {
  return se.body.size() + se.table.size() + 2 * sizeof(std::string) + 48;
}

class ChangeLogImpl final : public ChangeLog {
 public:
  ChangeLogImpl(ChangeLogOptions options, std::unique_ptr<rocksdb::DB> db,
                std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : options_(std::move(options)),
        db_(std::move(db)),
        handles_(std::move(handles)),
        meta_(handles_[0]),
        log_(handles_[1]),
        time_(handles_[2]),
        stage_(handles_[3]) {
    if (!options_.clock) options_.clock = SystemClockMicros;
  }

  ~ChangeLogImpl() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    space_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  absl::Status Load();
  void StartWriter() {
    writer_ = std::thread([this] { WriterLoop(); });
  }

  absl::StatusOr<SourceId> RegisterSource(std::string_view name, v1::SourceKind kind) override;
  absl::StatusOr<SourceId> FindSource(std::string_view name) const override;
  std::vector<SourceSummary> Sources() const override;
  void AppendAsync(SourceId source, std::vector<v1::ChangeEvent> events,
                   v1::SourceCheckpoint checkpoint, AppendCallback done) override;
  absl::Status Stage(SourceId source, uint64_t stage_id,
                     std::vector<v1::ChangeEvent> events) override;
  void AppendStagedAsync(SourceId source, uint64_t stage_id, std::vector<v1::ChangeEvent> events,
                         const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                         AppendCallback done) override;
  absl::Status TruncateStage(SourceId source, uint64_t stage_id, uint64_t keep) override;
  absl::Status DiscardStaged(SourceId source, uint64_t stage_id) override;
  absl::Status DiscardAllStaged(SourceId source) override;
  absl::StatusOr<LogBounds> Bounds(SourceId source) const override;
  absl::StatusOr<v1::SourceCheckpoint> Checkpoint(SourceId source) const override;
  absl::StatusOr<LogOffset> Read(SourceId source, LogOffset from, const ReadLimits& limits,
                                 absl::FunctionRef<void(const StoredRecord&)> fn) const override;
  absl::StatusOr<LogOffset> OffsetForTime(SourceId source, int64_t ts_micros) const override;
  absl::StatusOr<TrimResult> ApplyRetention(SourceId source,
                                            const RetentionPolicy& policy) override;
  std::unique_ptr<AppendWaiter> NotifyAfter(SourceId source, LogOffset after,
                                            absl::AnyInvocable<void()> on_append) override;

 private:
  absl::StatusOr<SourceSlot*> Slot(SourceId source) const;
  // Serializes `events` on the calling thread and queues them for the writer.
  void Submit(SourceId source, std::optional<uint64_t> stage_id,
              std::vector<v1::ChangeEvent> events, const v1::SourceInfo& commit_info,
              v1::SourceCheckpoint checkpoint, AppendCallback done);
  void Enqueue(PendingAppend p);
  void WriterLoop();
  void CommitGroup(std::vector<PendingAppend>& group);
  // Copies the stage of `p` into the log from offset `first`; returns the number of events.
  absl::StatusOr<uint64_t> CopyStage(const PendingAppend& p, uint64_t first, bool last_is_final,
                                     int64_t now, uint64_t& stored_bytes);
  void Publish(SourceSlot& slot, const storagepb::LogState& state);
  absl::Status RemoveUncommittedTail(SourceSlot& slot);

  ChangeLogOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* time_;
  rocksdb::ColumnFamilyHandle* stage_;

  mutable std::shared_mutex sources_mu_;
  std::map<std::string, std::unique_ptr<SourceSlot>, std::less<>> by_name_;  // guarded
  std::map<uint32_t, SourceSlot*> by_id_;                                    // guarded
  uint32_t next_source_id_ = 1;                                              // guarded

  // Serializes every change of LogState: group commits and retention.
  std::mutex write_mu_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // writer waits for work
  std::condition_variable space_cv_;  // producers wait for queue space
  std::deque<PendingAppend> queue_;   // guarded by queue_mu_
  size_t pending_bytes_ = 0;          // guarded by queue_mu_
  bool stopping_ = false;             // guarded by queue_mu_
  std::thread writer_;
};

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
    next_source_id_ = std::max(next_source_id_, ReadU32(next));
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
  batch.Put(meta_, kNextSourceIdKey, U32Be(next_source_id_ + 1));
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
                                v1::SourceCheckpoint checkpoint, AppendCallback done) {
  Submit(source, std::nullopt, std::move(events), v1::SourceInfo(), std::move(checkpoint),
         std::move(done));
}

void ChangeLogImpl::AppendStagedAsync(SourceId source, uint64_t stage_id,
                                      std::vector<v1::ChangeEvent> events,
                                      const v1::SourceInfo& commit_info,
                                      v1::SourceCheckpoint checkpoint, AppendCallback done) {
  Submit(source, stage_id, std::move(events), commit_info, std::move(checkpoint), std::move(done));
}

void ChangeLogImpl::Submit(SourceId source, std::optional<uint64_t> stage_id,
                           std::vector<v1::ChangeEvent> events, const v1::SourceInfo& commit_info,
                           v1::SourceCheckpoint checkpoint, AppendCallback done) {
  auto slot = Slot(source);
  if (!slot.ok()) {
    std::move(done)(slot.status());
    return;
  }
  PendingAppend p;
  p.slot = *slot;
  p.staged = stage_id.has_value();
  p.stage_id = stage_id.value_or(0);
  std::string info = commit_info.SerializeAsString();
  if (!info.empty()) {
    p.overlay.push_back(static_cast<char>(0x1A));  // 3: source, length-delimited
    PutVarint(info.size(), p.overlay);
    p.overlay.append(info);
  }
  p.commit_ts_micros = commit_info.commit_ts_micros();
  if (p.commit_ts_micros == 0 && !events.empty()) {
    p.commit_ts_micros = events[0].source().commit_ts_micros();
  }
  p.approx_bytes = 256 + p.overlay.size() + checkpoint.ByteSizeLong();
  p.events.reserve(events.size());
  for (auto& e : events) {
    p.events.push_back(Serialize(e));
    p.approx_bytes += MemoryCost(p.events.back());
  }
  events.clear();
  events.shrink_to_fit();
  p.checkpoint = std::move(checkpoint);
  p.done = std::move(done);
  Enqueue(std::move(p));
}

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
    if (iter->Valid() && iter->key().starts_with(StageKey(slot->id, stage_id, 0).substr(0, 12))) {
      std::string_view k(iter->key().data(), iter->key().size());
      uint64_t seq = 0;
      for (size_t i = 12; i < kStageKeySize && i < k.size(); ++i) {
        seq = (seq << 8) | static_cast<uint8_t>(k[i]);
      }
      next = seq + 1;
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
  return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), stage_,
                                    StageKey(slot->id, stage_id, keep),
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
  std::lock_guard<std::mutex> lock(slot->stage_mu);
  slot->stage_next_seq.clear();
  return FromRocks(db_->DeleteRange(rocksdb::WriteOptions(), stage_, StageKey(slot->id, 0, 0),
                                    LogKeyEnd(slot->id)),
                   absl::StrCat("discarding the staged transactions of source '", slot->name, "'"));
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
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was written
      size_t bytes = 0;
      while (!queue_.empty() && (group.empty() || bytes < options_.max_group_bytes)) {
        bytes += queue_.front().approx_bytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_bytes_ -= bytes;
    }
    space_cv_.notify_all();
    CommitGroup(group);
    group.clear();
  }
}

void ChangeLogImpl::CommitGroup(std::vector<PendingAppend>& group) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  const int64_t now = options_.clock();
  std::map<SourceSlot*, storagepb::LogState> working;
  std::vector<LogOffset> results(group.size());
  rocksdb::WriteBatch batch;
  std::string event_bytes;
  std::string record;
  absl::Status status;
  for (size_t i = 0; i < group.size() && status.ok(); ++i) {
    PendingAppend& p = group[i];
    auto [it, inserted] = working.try_emplace(p.slot);
    if (inserted) {
      std::lock_guard<std::mutex> lock(p.slot->state_mu);
      it->second = p.slot->state;
    }
    storagepb::LogState& st = it->second;
    const uint64_t txn_first = st.last_offset() + 1;
    uint64_t staged = 0;
    if (p.staged) {
      uint64_t stored = st.stored_bytes();
      auto copied = CopyStage(p, txn_first, p.events.empty(), now, stored);
      if (!copied.ok()) {
        status = copied.status();
        break;
      }
      staged = *copied;
      st.set_stored_bytes(stored);
      batch.DeleteRange(stage_, StageKey(p.slot->id, p.stage_id, 0),
                        StageKeyEnd(p.slot->id, p.stage_id));
    }
    const size_t n = p.events.size();
    for (size_t k = 0; k < n; ++k) {
      const SerializedEvent& e = p.events[k];
      const uint64_t index = staged + k;
      const uint64_t offset = txn_first + index;
      event_bytes.clear();
      AppendAssignedFields(offset, static_cast<uint32_t>(index), k + 1 == n, now, event_bytes);
      event_bytes.append(e.body);
      event_bytes.append(p.overlay);
      uint8_t flags = (index == 0 ? kFlagFirstInTxn : 0) | (k + 1 == n ? kFlagLastInTxn : 0);
      record.clear();
      AppendRecord(flags, e.op, e.table, event_bytes, record);
      batch.Put(log_, LogKey(p.slot->id, LogOffset(offset)), record);
      st.set_stored_bytes(st.stored_bytes() + record.size());
    }
    const uint64_t total = staged + n;
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
    for (const auto& p : group) {
      if (!p.staged) continue;
      std::lock_guard<std::mutex> lock(p.slot->stage_mu);
      p.slot->stage_next_seq.erase(p.stage_id);
    }
  }
  for (size_t i = 0; i < group.size(); ++i) {
    if (status.ok()) {
      std::move(group[i].done)(results[i]);
    } else {
      std::move(group[i].done)(status);
    }
  }
}

// Writes the staged events into the log above the committed end, where readers cannot see them,
// in chunks of kStageChunkBytes. They become visible with the group's state update; after a crash
// before it, Load() removes them as an uncommitted tail.
absl::StatusOr<uint64_t> ChangeLogImpl::CopyStage(const PendingAppend& p, uint64_t first,
                                                  bool last_is_final, int64_t now,
                                                  uint64_t& stored_bytes) {
  const std::string end = StageKeyEnd(p.slot->id, p.stage_id);
  rocksdb::Slice upper(end);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  ro.readahead_size = 1 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, stage_));
  rocksdb::WriteBatch chunk;
  std::string event_bytes;
  std::string record;
  uint64_t count = 0;
  struct Held {
    uint8_t op = 0;
    std::string table;
    std::string body;
  };
  std::optional<Held> held;
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
  return count;
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

}  // namespace

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
  };
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
  SLUICE_RETURN_IF_ERROR(log->Load());
  log->StartWriter();
  return std::unique_ptr<ChangeLog>(std::move(log));
}

}  // namespace sluice::storage
