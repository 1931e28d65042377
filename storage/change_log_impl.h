#pragma once
// Internals of ChangeLog, shared by its implementation files (change_log.cc: open, append and
// tail notification; change_log_read.cc: reads, time lookups and retention;
// change_log_staging.cc: the staging area; change_log_subscriptions.cc: subscription records).
// Not part of the storage API: include only from storage/*.cc.

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
#include "proto/base/utf8_safe.h"
#include "proto/base/value_wire.h"
#include "proto/base/varint.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/write_batch.h"
#include "sluice/v1/storage.pb.h"
#include "storage/change_log.h"
#include "storage/rocksdb_status.h"
#include "storage/table_state.h"

namespace sluice::storage::internal {

inline constexpr char kLogCf[] = "log";
inline constexpr char kTimeCf[] = "time";
inline constexpr char kStageCf[] = "stage";
inline constexpr char kTableCf[] = "table";  // table state (storage/table_state.h)
// Staged transactions are copied into the log in writes of about this size.
inline constexpr size_t kStageChunkBytes = size_t{4} << 20;
// Meta key "tstate_dirty/" source_id:u32be: present while (or because) a staged transaction's
// table state updates were written in chunks ahead of its commit; the value is a
// storagepb::PendingPublish. The commit's batch deletes it; found on open (a crash in between),
// the publish is finished (change_log_publish.cc).
inline std::string TableStateDirtyKey(SourceId source) {
  std::string key = "tstate_dirty/";
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((source.value() >> shift) & 0xff));
  }
  return key;
}

inline int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::string TableKey(const v1::SourceInfo& s) {
  if (s.table().empty()) return {};
  return absl::StrCat(s.schema().empty() ? s.database() : s.schema(), ".", s.table());
}

// TableKey of the event's source once `commit` (the commit info overlay, whose non-default
// fields override the event's) is merged into it.
inline std::string TableKeyWith(const v1::SourceInfo& s, const v1::SourceInfo& commit) {
  const std::string& table = commit.table().empty() ? s.table() : commit.table();
  if (table.empty()) return {};
  const std::string& schema = commit.schema().empty() ? s.schema() : commit.schema();
  const std::string& database = commit.database().empty() ? s.database() : commit.database();
  return absl::StrCat(schema.empty() ? database : schema, ".", table);
}

// One registered source. `state` is the committed LogState; `first`/`last` mirror it for
// lock-free reads.
struct SourceSlot {
  SourceId id;
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;

  mutable std::mutex state_mu;
  storagepb::LogState state;  // guarded by state_mu; written only under ChangeLogImpl::write_mu_
  // The first failed append since the last DiscardAllStaged; later appends fail with it.
  absl::Status failed;  // guarded by state_mu
  // The source's session: DiscardAllStaged starts a new one. An ingestion remembers the session
  // its chunks came from, so that a new session's chunk never joins or follows an older one's.
  uint64_t session = 0;  // guarded by state_mu
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

  // Keep the table state of this source (ChangeLog::SetTableState).
  std::atomic<bool> table_state{true};
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
// `state` is ComputeTableStateUpdate(event) (storage/table_state.h) when the source keeps table
// state, also computed on the appending thread: every path that builds a SerializedEvent for a
// table-state source must fill it with that function.
struct SerializedEvent {
  std::string body;
  std::string table;
  uint8_t op = 0;
  TableStateUpdate state;
  // kPut whose state row is `body` itself (a snapshot row from AppendEncodedAsync: the encoded
  // event already is the state row), so its bytes are queued once; state.row is then empty.
  bool state_row_is_body = false;
  std::string_view state_row() const { return state_row_is_body ? body : state.row; }
};

// Queued appends hold serialized bytes, so the queue's byte budget is its real memory use.
struct PendingAppend {
  SourceSlot* slot = nullptr;
  bool staged = false;       // publish the stage `stage_id` before `events`
  bool table_state = false;  // the source kept table state when this was submitted
  uint64_t stage_id = 0;
  std::string overlay;  // field 3 (source) bytes merged into every event, or empty
  std::vector<SerializedEvent> events;
  int64_t commit_ts_micros = 0;
  v1::SourceCheckpoint checkpoint;
  size_t approx_bytes = 0;
  AppendCallback done;
  std::chrono::steady_clock::time_point queued;  // when AppendAsync was called
  // A snapshot chunk for the source's bulk ingestion (AppendSnapshotChunkAsync): queued alone,
  // never part of a group commit; its rows are `chunk` (`events` is empty), of `chunk_table`.
  bool bulk = false;
  EncodedChunk chunk;
  std::string chunk_table;
  bool ingest_now = false;             // ingest right after this chunk
  absl::AnyInvocable<void()> written;  // bulk only: the chunk is in the ingestion's files
};

// The table-state key prefix (TableStatePrefix) of one source's tables, computed again only when
// the table changes: rows of one table come in runs (a snapshot chunk, a trimmed range, a table
// read in key order).
class TablePrefixCache {
 public:
  const std::string& Of(SourceId source, std::string_view table) {
    if (!table_ || *table_ != table) {
      table_ = std::string(table);
      prefix_ = TableStatePrefix(source, table);
    }
    return prefix_;
  }

 private:
  std::optional<std::string> table_;
  std::string prefix_;
};

// A source's bulk ingestion (change_log_ingest.cc): the chunks written into its SST files so
// far, not yet ingested, so not visible and not acknowledged. Owned by the writer thread while
// open, then handed to the ingesting thread, which finishes its files and ingests it.
struct Ingestion {
  struct Chunk {
    AppendCallback done;
    uint64_t last_offset = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    int64_t commit_ts_micros = 0;
    std::chrono::steady_clock::time_point queued;
    std::vector<TableEvents> tables;  // only with an observer
  };
  SourceSlot* slot = nullptr;
  uint64_t id = 0;           // unique in this process: names the files
  uint64_t session = 0;      // SourceSlot::session of its chunks
  uint64_t next_offset = 0;  // the offset the next row gets
  uint64_t rows = 0;
  uint64_t bytes = 0;  // record bytes added to the log
  int64_t max_commit_ts_micros = 0;
  bool has_events = false;  // the log (with this ingestion) is not empty
  bool table_state_incomplete = false;
  v1::SourceCheckpoint checkpoint;                   // the last chunk's
  std::unique_ptr<rocksdb::SstFileWriter> log_file;  // opened with the first row
  std::vector<std::string> paths;                    // every file created, ingested or not
  // The finished files to ingest besides the state file, by column family (FinishFiles).
  std::vector<std::pair<rocksdb::ColumnFamilyHandle*, std::string>> ingest;
  // Table-state rows go straight to `table_file` while their keys ascend (an integer key,
  // one table); the rows after the first key out of order are held in `table_rows` (key,
  // value), sorted at ingestion and merged with the file (change_log_ingest.cc).
  std::unique_ptr<rocksdb::SstFileWriter> table_file;
  std::string table_file_path;
  std::string last_table_key;  // the last key written to table_file
  std::vector<std::pair<std::string, std::string>> table_rows;
  // Per-row scratch, reused so that a row costs no allocation: the table-state key prefix, the
  // key being built, and the row's log record.
  TablePrefixCache table_prefix;
  std::string table_key;
  std::string record;
  std::vector<std::string> time_keys;  // ascending (commit times only grow)
  std::vector<Chunk> chunks;
  std::chrono::steady_clock::time_point opened;
  // Guarded by ChangeLogImpl::ingest_mu_: set once the ingestion has moved the source's end or
  // failed, before its callbacks run (a chunk appended from a callback must not continue it).
  bool settled = false;
};

// A staged transaction of a source that keeps table state may write its state ahead of its commit
// under a PendingPublish marker, which Open() follows to finish it after a crash; so it commits in
// a group of its own (the marker names the log's end as that group found it).
inline bool PublishesInChunks(const PendingAppend& p) { return p.staged && p.table_state; }

// Moves `it` to `key` for point reads of keys that mostly ascend (table-state rows in the order
// of their snapshot offsets, log records in the order of a table's keys): a few Next calls when
// `key` is just ahead, a Seek otherwise. A Next costs far less than a Get or a Seek. True when
// `it` is then at `key`; false when `key` is not there (check it.status() for an error).
inline bool SeekForward(rocksdb::Iterator& it, const rocksdb::Slice& key) {
  constexpr int kMaxSteps = 8;
  const bool behind = it.Valid() && it.key().compare(key) < 0;
  for (int steps = 0; steps < kMaxSteps && it.Valid() && it.key().compare(key) < 0; ++steps) {
    it.Next();
  }
  if (behind && it.status().ok() && (!it.Valid() || it.key().compare(key) > 0)) {
    return false;  // stepped past where `key` would be: not there
  }
  if (!it.Valid() || it.key().compare(key) != 0) {
    if (!it.status().ok()) return false;
    it.Seek(key);
  }
  return it.Valid() && it.key().compare(key) == 0;
}

// The ChangeEvent fields the log assigns, in protobuf wire format. Parsers accept fields in
// any order, so these bytes followed by a body serialized without them parse as the whole event.
// Written on the stack and appended at once (once per stored event).
inline void AppendAssignedFields(uint64_t offset, uint32_t index, bool last, int64_t ingest_ts,
                                 std::string& out) {
  char buf[1 + 10 + 1 + 5 + 2 + 1 + 10];
  char* p = buf;
  *p++ = static_cast<char>(0x08);  // 1: offset, varint
  p = value_wire::PutVarint(offset, p);
  if (index != 0) {
    *p++ = static_cast<char>(0x40);  // 8: transaction_index, varint
    p = value_wire::PutVarint(index, p);
  }
  if (last) {
    *p++ = static_cast<char>(0x48);  // 9: last_in_transaction, varint
    *p++ = 1;
  }
  *p++ = static_cast<char>(0x50);  // 10: ingest_ts_micros, varint (int64)
  p = value_wire::PutVarint(static_cast<uint64_t>(ingest_ts), p);
  out.append(buf, static_cast<size_t>(p - buf));
}

inline SerializedEvent Serialize(v1::ChangeEvent& e) {
  e.clear_offset();
  e.clear_transaction_index();
  e.clear_last_in_transaction();
  e.clear_ingest_ts_micros();
  // A string field that is not well-formed UTF-8 would make the stored event unparseable.
  MakeUtf8Safe(e);
  SerializedEvent se;
  se.op = static_cast<uint8_t>(e.op());
  se.table = TableKey(e.source());
  e.SerializeToString(&se.body);
  return se;
}

inline size_t MemoryCost(const SerializedEvent& se) {
  return se.body.size() + se.table.size() + se.state.memory_cost() + 5 * sizeof(std::string) + 48;
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
        stage_(handles_[3]),
        table_(handles_[4]) {
    if (!options_.clock) options_.clock = SystemClockMicros;
  }

  ~ChangeLogImpl() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    space_cv_.notify_all();
    if (writer_.joinable()) writer_.join();  // it waits for the ingestion it handed over
    {
      std::lock_guard<std::mutex> lock(ingest_mu_);
      ingest_stopping_ = true;
    }
    ingest_cv_.notify_all();
    if (ingester_.joinable()) ingester_.join();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  // Refuses a data dir of a later storage format than this build's (kStorageFormat, key_format.h)
  // and marks an earlier or unmarked one as this build's.
  absl::Status CheckStorageFormat();
  absl::Status Load();
  void StartWriter() {
    ingester_ = std::thread([this] { IngesterLoop(); });
    writer_ = std::thread([this] { WriterLoop(); });
  }

  absl::StatusOr<SourceId> RegisterSource(std::string_view name, v1::SourceKind kind) override;
  absl::StatusOr<SourceId> FindSource(std::string_view name) const override;
  std::vector<SourceSummary> Sources() const override;
  using ChangeLog::AppendAsync;
  void AppendAsync(SourceId source, std::vector<v1::ChangeEvent> events,
                   const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                   AppendCallback done) override;
  void AppendEncodedAsync(SourceId source, std::vector<EncodedEvent> events,
                          const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                          AppendCallback done) override;
  void AppendSnapshotChunkAsync(SourceId source, EncodedChunk rows,
                                const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                                bool ingest_now, absl::AnyInvocable<void()> written,
                                AppendCallback done) override;
  absl::Status Stage(SourceId source, uint64_t stage_id,
                     std::vector<v1::ChangeEvent> events) override;
  void AppendStagedAsync(SourceId source, uint64_t stage_id, std::vector<v1::ChangeEvent> events,
                         const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                         AppendCallback done) override;
  absl::Status TruncateStage(SourceId source, uint64_t stage_id, uint64_t keep) override;
  absl::Status DiscardStaged(SourceId source, uint64_t stage_id) override;
  absl::Status DiscardAllStaged(SourceId source) override;
  absl::StatusOr<LogBounds> Bounds(SourceId source) const override;
  uint64_t LiveSstBytes() const override;
  absl::StatusOr<v1::SourceCheckpoint> Checkpoint(SourceId source) const override;
  absl::StatusOr<LogOffset> Read(SourceId source, LogOffset from, const ReadLimits& limits,
                                 absl::FunctionRef<void(const StoredRecord&)> fn) const override;
  absl::StatusOr<LogOffset> OffsetForTime(SourceId source, int64_t ts_micros) const override;
  absl::StatusOr<TrimResult> ApplyRetention(SourceId source,
                                            const RetentionPolicy& policy) override;
  // One retention piece (change_log_read.cc): removes the transactions from the source's first
  // offset up to `cut` at most, ending early at a transaction start once it has scanned
  // options_.retention_batch_bytes of records; the table-state rows that still refer to a
  // removed record get their full value, in batches of that size written first, the rest with
  // the removal. Writes and publishes the new state and adds to `result`. Under retention_mu_;
  // the scan runs without write_mu_, each batch is checked and written under it.
  struct MaterializedRow {
    LogOffset offset;   // the record the row refers to
    std::string key;    // the table-state key
    std::string value;  // its full value (ResolveStateReference)
  };
  absl::Status TrimPiece(SourceSlot& slot, uint64_t cut, TrimResult& result);
  // Adds to `batch` the `rows` that still hold their reference (under write_mu_); clears `rows`.
  absl::Status FlushMaterialized(SourceSlot& slot, std::vector<MaterializedRow>& rows,
                                 rocksdb::WriteBatch& batch, TrimResult& result);
  std::unique_ptr<AppendWaiter> NotifyAfter(SourceId source, LogOffset after,
                                            absl::AnyInvocable<void()> on_append) override;
  absl::Status PutSubscriptionRecord(std::string_view name, std::string_view value) override;
  absl::Status DeleteSubscriptionRecord(std::string_view name) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SubscriptionRecords()
      const override;
  absl::Status SetTableState(SourceId source, bool enabled) override;
  absl::StatusOr<std::unique_ptr<TableStateView>> OpenTableState(SourceId source) const override;
  // Marks the table state of every source with events incomplete (a data dir from before it).
  absl::Status MarkTableStateIncomplete();
  // On open, after Load() and before the writer starts: finishes every staged publish a crash
  // interrupted (its marker is stored), or, when the marker cannot be followed, marks that
  // source's table state incomplete (change_log_publish.cc).
  absl::Status FinishPendingPublishes();
  // On open, with the database open (its lock held): removes <dir>/ingest, the files of
  // ingestions a crash interrupted before IngestExternalFiles (or after it, before their names
  // were unlinked), and creates it empty (change_log_ingest.cc).
  absl::Status ResetIngestDir();

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
  // Counts the events' tables into `tables` when it is not null.
  // Adds the events' table state updates to `state_batch` when it is not null.
  absl::StatusOr<uint64_t> CopyStage(const PendingAppend& p, uint64_t first, bool last_is_final,
                                     int64_t now, uint64_t& stored_bytes,
                                     std::vector<TableEvents>* tables,
                                     rocksdb::WriteBatch* state_batch);
  // The PendingPublish marker of `p`, whose stage is copied from offset `first`.
  std::string PendingPublishMarker(const PendingAppend& p, uint64_t first);
  // Re-applies `from`'s operations (all on the table CF) to `to`.
  absl::Status CopyTableStateOps(const rocksdb::WriteBatch& from, rocksdb::WriteBatch& to);
  // Adds `update` of an event at `offset` of `table` to `batch` (change_log_table_state.cc).
  // `row`: the kPut row bytes (update.row, or the event body it equals).
  void WriteTableState(rocksdb::WriteBatch& batch, SourceId source, std::string_view table,
                       const TableStateUpdate& update, std::string_view row, uint64_t offset,
                       std::string_view overlay, std::string& scratch);
  void Publish(SourceSlot& slot, const storagepb::LogState& state);
  // Bulk ingestion, on the writer thread (change_log_ingest.cc). AddToIngestion writes a bulk
  // append into its source's open ingestion (opening one) and ingests it when it is full or
  // asks to be; CommitIngestion hands a source's open ingestion to the ingesting thread (after
  // waiting for the one it holds, if any); CommitExpiredIngestions does that for those whose
  // first chunk waited ingest_max_delay_ms (all of them when `all`); WaitIngested waits until
  // the ingesting thread holds none (every handed ingestion is stored or failed, its callbacks
  // run).
  void AddToIngestion(PendingAppend p);
  void CommitIngestion(SourceSlot* slot);
  void WaitIngested();
  // The ingesting thread: finishes, ingests and publishes each handed ingestion, in order.
  void IngesterLoop();
  void FinishIngestion(Ingestion& ing);
  void CommitExpiredIngestions(bool all);
  // The time at which the oldest open ingestion is due; nullopt when none is open.
  std::optional<std::chrono::steady_clock::time_point> IngestionDue() const;
  absl::Status WriteChunk(Ingestion& ing, PendingAppend& p);
  // Finishes (and syncs) the ingestion's log and table-state files and writes its time file.
  absl::Status FinishFiles(Ingestion& ing);
  // Writes the state file holding `st` and ingests it with the finished files, atomically.
  absl::Status IngestFiles(Ingestion& ing, SourceSlot& slot, const storagepb::LogState& st);
  absl::Status MergeTableRows(Ingestion& ing);
  // Fails every chunk of `ing` with `status` (and the source's later appends), removes its files.
  void FailIngestion(Ingestion& ing, SourceSlot& slot, const absl::Status& status);
  void SettleIngestion(Ingestion& ing);
  std::string IngestPath(const Ingestion& ing, std::string_view cf) const;
  // Reports the group's stored appends (those not refused) to options_.observer.
  void Observe(const std::vector<PendingAppend>& group, const std::vector<absl::Status>& refused,
               std::vector<DurableAppend>& observed);
  absl::Status RemoveUncommittedTail(SourceSlot& slot);

  ChangeLogOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* meta_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* time_;
  rocksdb::ColumnFamilyHandle* stage_;
  rocksdb::ColumnFamilyHandle* table_;

  mutable std::shared_mutex sources_mu_;
  std::map<std::string, std::unique_ptr<SourceSlot>, std::less<>> by_name_;  // guarded
  std::map<uint32_t, SourceSlot*> by_id_;                                    // guarded
  uint32_t next_source_id_ = 1;                                              // guarded

  // Serializes every change of LogState: group commits and retention. Mutable: OpenTableState
  // takes it for a moment so its snapshot never falls inside a group commit.
  mutable std::mutex write_mu_;
  // Serializes ApplyRetention calls, which take write_mu_ once to find the cut and then once per
  // batch, so that appends are not held back for a whole long trim.
  std::mutex retention_mu_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // writer waits for work
  std::condition_variable space_cv_;  // producers wait for queue space
  std::deque<PendingAppend> queue_;   // guarded by queue_mu_
  size_t pending_bytes_ = 0;          // guarded by queue_mu_
  bool stopping_ = false;             // guarded by queue_mu_
  std::thread writer_;

  // Open bulk ingestions by source; the writer thread's alone.
  std::map<SourceSlot*, std::unique_ptr<Ingestion>> ingestions_;
  uint64_t next_ingestion_id_ = 1;  // writer thread only
  // Where the last ingestion handed over ends (writer thread only): an ingestion of the same
  // source opened before that one is stored continues from here, not from the source's state.
  // Cleared before every group commit (which first waits for the handed ingestion).
  struct IngestionEnd {
    SourceSlot* slot = nullptr;
    uint64_t ingestion_id = 0;  // Ingestion::id of the handed ingestion
    uint64_t session = 0;       // and its Ingestion::session
    uint64_t next_offset = 0;
    int64_t max_commit_ts_micros = 0;
    bool has_events = false;
  };
  std::optional<IngestionEnd> handed_end_;

  // The ingesting thread and the one ingestion it holds (at most one is in flight, so an
  // ingestion's memory is held at most twice: the open one and the handed one).
  std::mutex ingest_mu_;
  std::condition_variable ingest_cv_;
  std::unique_ptr<Ingestion> ingesting_;  // guarded by ingest_mu_; null once it is done
  bool ingest_stopping_ = false;          // guarded by ingest_mu_
  std::thread ingester_;
  std::string ingest_dir_;          // <dir>/ingest, set by ResetIngestDir
};

}  // namespace sluice::storage::internal
