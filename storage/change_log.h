#pragma once
// ChangeLog: the durable, ordered change log of every source, on RocksDB.
//
// Each source has one log of events at offsets 1, 2, 3, ... Appends are whole committed source
// transactions; each is written in one RocksDB WriteBatch together with the source checkpoint
// that follows it, so after a crash at any instant the log holds all of a transaction or none of
// it, and the stored checkpoint always matches the last stored event.
//
// Durability and group commit: appends are queued to one writer thread, which takes everything
// queued (up to ChangeLogOptions::max_group_bytes), writes it as one WriteBatch and syncs the WAL
// once. An append is acknowledged (Append returns, AppendAsync's callback runs) only after that
// sync. The queue is bounded by max_pending_bytes; AppendAsync blocks while it is full, which
// pushes back on the source rather than growing memory.
//
// Readers see only committed offsets: [first, last] of Bounds(). Offsets below `first` were
// removed by retention and reading them is an OutOfRange error that names the earliest offset
// still stored. Stored bytes are checked on read: malformed records are DataLoss naming the key.
//
// Thread-safety: every method may be called from any thread. Lifecycle: Open, use, destroy; the
// destructor finishes queued appends, then closes the database. Destroy waiter handles and stop
// readers before the log.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "sluice/v1/event.pb.h"
#include "storage/append_observer.h"
#include "storage/encoded_chunk.h"
#include "storage/key_format.h"

namespace sluice::storage {

struct ChangeLogOptions {
  // Sync the WAL before acknowledging an append. Only tests and benchmarks turn this off.
  bool sync = true;
  // Bytes of appends queued ahead of the writer thread before AppendAsync blocks.
  size_t max_pending_bytes = size_t{32} << 20;
  // Bytes written by one group commit at most (one WriteBatch, one sync).
  size_t max_group_bytes = size_t{16} << 20;
  // The wall clock, UTC microseconds. Injectable for retention tests.
  std::function<int64_t()> clock;
  // Told about every durable append (metrics), on the writer thread. May be null; must outlive
  // the log.
  AppendObserver* observer = nullptr;
  // Tests only: called on the writer thread after each chunk of a big staged transaction's table
  // state is written ahead of its commit (a test stops the process there).
  std::function<void()> after_state_chunk_for_testing;
  // Snapshot chunks (AppendSnapshotChunkAsync) of one source are gathered into one bulk
  // ingestion until it holds at least this many rows or record bytes, or its first chunk has
  // waited ingest_max_delay_ms. The rows go to SST files in <dir>/ingest as they arrive; the
  // table-state rows of an ingestion (which may not arrive in key order) are held in memory and
  // sorted when it is ingested, so memory grows with ingest_bytes.
  size_t ingest_rows = 100'000;
  size_t ingest_bytes = size_t{64} << 20;
  int64_t ingest_max_delay_ms = 1000;
  // Tests only: called on the ingesting thread with false once an ingestion's files are written
  // and synced, just before IngestExternalFiles, and with true right after it succeeded, before
  // readers can see it (a test kills the process there).
  std::function<void(bool ingested)> around_ingest_for_testing;
  // Retention trims in pieces of whole transactions, each its own synced batch; a piece ends at
  // the first transaction start after it has scanned this many bytes of records. The table-state
  // rows that still refer to a trimmed record (storage/state_reference.h) are given their full
  // value in batches of at most about this many bytes, written before the piece's removal when a
  // transaction holds more.
  size_t retention_batch_bytes = size_t{4} << 20;
  // Tests only: called after each retention batch is written, without the log's write lock.
  std::function<void()> after_retention_batch_for_testing;
};

struct SourceSummary {
  SourceId id;
  std::string name;
  v1::SourceKind kind = v1::SOURCE_KIND_UNSPECIFIED;
};

struct LogBounds {
  LogOffset first;  // earliest stored offset; last + 1 when the log is empty
  LogOffset last;   // last committed offset; 0 before the first append
  uint64_t stored_bytes = 0;
  uint64_t event_count() const { return last.value() + 1 - first.value(); }
};

struct RetentionPolicy {
  int64_t max_age_micros = 0;  // 0: no age limit. Age is measured by source commit time.
  uint64_t max_bytes = 0;      // 0: no size limit
  // 0: none. Otherwise this offset and every later one stay stored whatever the limits say
  // (durable subscriptions that have not acked them; see storage/subscriptions.h).
  uint64_t keep_from = 0;
};

struct TrimResult {
  LogOffset first_before;
  LogOffset first_after;
  uint64_t events_removed = 0;
  uint64_t bytes_removed = 0;
  // Events the limits would have removed but RetentionPolicy::keep_from kept.
  uint64_t events_held = 0;
  // Table-state rows that referred to a removed record and now hold their full value.
  uint64_t state_rows_materialized = 0;
  // The atomic batches the trim was written in (0 when nothing was removed).
  uint64_t batches = 0;
};

// An event already in its stored form, for a source that encodes events itself (the snapshot
// readers encode rows straight off the wire). `body` is the protobuf wire format of a
// v1::ChangeEvent without the fields the log assigns (offset, transaction_index,
// last_in_transaction, ingest_ts_micros); the log prepends those and appends the commit info.
// `table` ("db.table" / "schema.table", or empty) and `op` go into the record header, which
// subscribers filter on.
struct EncodedEvent {
  std::string body;
  std::string table;
  v1::Op op = v1::OP_UNSPECIFIED;
  // For op r (a snapshot row, whose body is already a table-state row): its table-state key,
  // EncodeRowKey(key_columns, after) of storage/table_state.h, or "" when it has none (keyless
  // table), so the log need not parse the body. nullopt: the log derives the update from
  // `body` (ComputeTableStateUpdate).
  std::optional<std::string> row_key;
};

struct ReadLimits {
  size_t max_events = 1024;
  size_t max_bytes = size_t{1} << 20;  // stops after the record that crosses it
};

// A stored event as read. `view` borrows from the read buffer: valid only inside the callback.
struct StoredRecord {
  LogOffset offset;
  RecordView view;
  size_t stored_size = 0;
};

// One row of a source's table state (storage/table_state.h), borrowed from the read buffer:
// valid only inside the callback.
struct TableRow {
  std::string_view table;    // "database.table" / "schema.table"
  std::string_view row_key;  // the encoded primary key
  // A serialized ChangeEvent: offset (of the event that last wrote the row), op r, source,
  // key_columns, after. StateRowEvent (table_state.h) turns it into the row's `r` event.
  std::string_view value;
};

// A consistent, read-only view of a source's table state at one log offset: a RocksDB snapshot.
// It pins the data it sees (older SST files stay until it is destroyed), so hold it only while
// reading. Destroy it before the log. Thread-compatible: one reader at a time.
class TableStateView {
 public:
  virtual ~TableStateView() = default;
  // The state reflects every event at or below this offset and none above it.
  virtual LogOffset offset() const = 0;
  // Calls `fn` for the rows after `cursor` (empty: from the first row) in key order, of `table`
  // only when it is not empty, until `limits` is reached. Returns the cursor to continue from,
  // or an empty string when every row was read. DataLoss for a malformed stored key.
  virtual absl::StatusOr<std::string> Read(std::string_view table, std::string_view cursor,
                                           const ReadLimits& limits,
                                           absl::FunctionRef<void(const TableRow&)> fn) const = 0;
};

// Called once, on the writer thread, with the last offset of the appended transaction (or the
// current last offset for a checkpoint-only append), or with the error that failed the write.
// It must not block: hand work to another thread.
using AppendCallback = absl::AnyInvocable<void(absl::StatusOr<LogOffset>) &&>;

// Handle of a pending NotifyAfter. Destroying it cancels the notification; once the destructor
// returns the callback is neither running nor going to run. Do not destroy it from inside the
// callback itself.
class AppendWaiter {
 public:
  virtual ~AppendWaiter() = default;
};

class ChangeLog {
 public:
  // Opens or creates the log in `dir`. FailedPrecondition with a hint when the directory cannot
  // be created or written, or another process holds it; DataLoss when stored state is corrupt.
  static absl::StatusOr<std::unique_ptr<ChangeLog>> Open(const std::string& dir,
                                                         ChangeLogOptions options = {});
  virtual ~ChangeLog() = default;

  // Registers a source by name, or returns the existing one. FailedPrecondition when a source of
  // that name exists with another kind.
  virtual absl::StatusOr<SourceId> RegisterSource(std::string_view name, v1::SourceKind kind) = 0;
  // NotFound naming the known sources when there is no source `name`.
  virtual absl::StatusOr<SourceId> FindSource(std::string_view name) const = 0;
  virtual std::vector<SourceSummary> Sources() const = 0;

  // Appends one committed transaction plus the checkpoint after it; blocks until durable.
  // Sets offset, transaction_index, last_in_transaction and ingest_ts_micros on each event.
  // An empty `events` stores only the checkpoint (heartbeats, rotations).
  // Returns the offset of the transaction's last event (the current last offset if empty).
  absl::StatusOr<LogOffset> Append(SourceId source, std::vector<v1::ChangeEvent> events,
                                   v1::SourceCheckpoint checkpoint);
  // The same, without waiting: `done` runs after the group containing it is durable. Appends
  // of one source are stored in call order. Blocks while the pending queue is full.
  //
  // Once an append of a source fails, every later append of that source (already queued or
  // not) fails with the same error until DiscardAllStaged, which a source calls when it starts
  // a new session: a later checkpoint can never step over a transaction that was not stored.
  void AppendAsync(SourceId source, std::vector<v1::ChangeEvent> events,
                   v1::SourceCheckpoint checkpoint, AppendCallback done) {
    AppendAsync(source, std::move(events), v1::SourceInfo(), std::move(checkpoint),
                std::move(done));
  }
  // The same, with source fields shared by every event of the transaction (name, commit time,
  // position, txid): each non-default field of `commit_info` overrides the event's own, at the
  // cost of one byte copy per event instead of a protobuf merge.
  virtual void AppendAsync(SourceId source, std::vector<v1::ChangeEvent> events,
                           const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                           AppendCallback done) = 0;

  // AppendAsync for events that are already encoded (see EncodedEvent): the same queue, group
  // commit, ordering and failure rules, without a protobuf message per event.
  virtual void AppendEncodedAsync(SourceId source, std::vector<EncodedEvent> events,
                                  const v1::SourceInfo& commit_info,
                                  v1::SourceCheckpoint checkpoint, AppendCallback done) = 0;

  // A snapshot chunk (op "r" events of one table, in key order, packed: see EncodedChunk; the table
  // is the one `commit_info` names), stored by bulk ingestion instead of the WAL: the writer thread
  // writes its records, table-state rows, time key and checkpoint into the source's open ingestion
  // (SST files, one per column family) and, once the ingestion is large enough
  // (ChangeLogOptions::ingest_rows, ingest_bytes), `ingest_now` is set, its delay ran out, or any
  // other append of the source comes, ingests them all at once with IngestExternalFiles, which is
  // atomic across column families: after a crash the log holds every chunk of the ingestion, with
  // the last chunk's checkpoint, or none of them. Offsets, ordering and failure rules are
  // AppendEncodedAsync's.
  //
  // `written` (may be null) runs on the writer thread once the chunk's bytes are in the
  // ingestion's files (the queued memory is free), always before `done`; `done` runs once the
  // ingestion is durable and visible to readers, or with its error, on the log's ingesting
  // thread (a full ingestion's files are finished and ingested there while the writer thread
  // writes the next one's; callbacks still run in append order). A caller that bounds the
  // chunks in flight releases on `written`: `done` may wait for later chunks. The exception: a
  // chunk refused before it is queued (an unknown source; a commit info that does not name the
  // table with its schema or database: INVALID_ARGUMENT) calls back at once on the caller's
  // thread, possibly before the callbacks of the source's earlier chunks.
  virtual void AppendSnapshotChunkAsync(SourceId source, EncodedChunk rows,
                                        const v1::SourceInfo& commit_info,
                                        v1::SourceCheckpoint checkpoint, bool ingest_now,
                                        absl::AnyInvocable<void()> written,
                                        AppendCallback done) = 0;

  // Staging, for transactions too large to hold in memory and for Postgres in-progress
  // (streamed) transactions. Events staged under (source, stage_id) are stored but invisible to
  // readers and not synced; AppendStaged publishes them atomically as one transaction. A source
  // that restarts calls DiscardAllStaged first: the database resends what was not committed.
  //
  // Appends `events` to the stage, in call order.
  virtual absl::Status Stage(SourceId source, uint64_t stage_id,
                             std::vector<v1::ChangeEvent> events) = 0;
  // Publishes the staged events followed by `events` as one transaction with `checkpoint`, with
  // Append's guarantees. `commit_info` holds the source fields known only at commit (commit
  // time, position, txid); every non-default field of it overrides the staged events' own.
  // Memory use is bounded by a chunk size, not by the transaction's size.
  virtual void AppendStagedAsync(SourceId source, uint64_t stage_id,
                                 std::vector<v1::ChangeEvent> events,
                                 const v1::SourceInfo& commit_info, v1::SourceCheckpoint checkpoint,
                                 AppendCallback done) = 0;
  absl::StatusOr<LogOffset> AppendStaged(SourceId source, uint64_t stage_id,
                                         std::vector<v1::ChangeEvent> events,
                                         const v1::SourceInfo& commit_info,
                                         v1::SourceCheckpoint checkpoint);
  // Keeps the first `keep` events of a stage and drops the rest (a Postgres subtransaction
  // abort inside a streamed transaction). Stage() then continues after them.
  virtual absl::Status TruncateStage(SourceId source, uint64_t stage_id, uint64_t keep) = 0;
  // Drops one stage (Postgres Stream Abort) or all stages of a source.
  virtual absl::Status DiscardStaged(SourceId source, uint64_t stage_id) = 0;
  // DiscardAllStaged also starts the source's new session: a failure of the old one no longer
  // refuses appends, and the new session's snapshot chunks never join or follow an ingestion of
  // the old one. Precondition: every append of the source made before it has called back (the
  // sources drain theirs when a session ends: RunSnapshot's AppendTracker, the session's
  // appends). An append of the old session still queued would otherwise be stored after the new
  // session read its checkpoint, or, a snapshot chunk, be taken for the new session's.
  virtual absl::Status DiscardAllStaged(SourceId source) = 0;

  virtual absl::StatusOr<LogBounds> Bounds(SourceId source) const = 0;
  // Bytes of RocksDB's live SST files over every column family: the data dir's size on disk
  // without the WAL (0 until the first memtable flush). For metrics.
  virtual uint64_t LiveSstBytes() const = 0;
  // The checkpoint stored with the last append (empty before the first).
  virtual absl::StatusOr<v1::SourceCheckpoint> Checkpoint(SourceId source) const = 0;

  // Calls `fn` for stored events from `from` on, in offset order, until a limit is reached or
  // the committed end. Returns the offset to read next. OutOfRange when `from` was trimmed.
  virtual absl::StatusOr<LogOffset> Read(SourceId source, LogOffset from, const ReadLimits& limits,
                                         absl::FunctionRef<void(const StoredRecord&)> fn) const = 0;

  // The first offset of the first transaction whose commit time is at or after `ts_micros`
  // (commit times are taken as their running maximum, so a clock step back never hides later
  // events). Bounds().last + 1 when there is none.
  virtual absl::StatusOr<LogOffset> OffsetForTime(SourceId source, int64_t ts_micros) const = 0;

  // Removes whole transactions from the front of the log until it satisfies `policy`, but never
  // the transaction holding `policy.keep_from` or any later one. Table-state rows that refer to
  // a removed record are given their full value in the same batch (a trim is written in pieces
  // of ChangeLogOptions::retention_batch_bytes, each atomic; after a failure or a crash the
  // front is where the last written piece left it).
  virtual absl::StatusOr<TrimResult> ApplyRetention(SourceId source,
                                                    const RetentionPolicy& policy) = 0;

  // Arranges for `on_append` to run once, on the writer thread, when the last offset of `source`
  // exceeds `after`. Returns nullptr without calling it when that is already so: read now.
  // `on_append` must not block and must not destroy the returned handle.
  virtual std::unique_ptr<AppendWaiter> NotifyAfter(SourceId source, LogOffset after,
                                                    absl::AnyInvocable<void()> on_append) = 0;

  // Records of durable subscriptions (storage/subscriptions.h owns their meaning), in the same
  // database under meta key "sub/<name>"; opaque bytes here. Writes are synced like appends.
  virtual absl::Status PutSubscriptionRecord(std::string_view name, std::string_view value) = 0;
  virtual absl::Status DeleteSubscriptionRecord(std::string_view name) = 0;
  // Every stored record as (name, value), in name order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SubscriptionRecords()
      const = 0;

  // Table state: the latest row per primary key of each table, written in the same WriteBatch
  // as the log append (staged transactions: as they are published), so it matches the log at
  // every durable offset. Retention changes only how a row is stored (a reference to a removed
  // record becomes the full value), never what it reads as. Keyless tables are not kept.
  //
  // On by default for every source. Turning it off removes the source's state; once events are
  // appended while it is off the state is incomplete for good, and OpenTableState refuses it.
  // Call before the source appends (at startup).
  virtual absl::Status SetTableState(SourceId source, bool enabled) = 0;
  // A consistent view of the state at the current last offset. FailedPrecondition when the
  // source does not keep table state or its state is incomplete.
  virtual absl::StatusOr<std::unique_ptr<TableStateView>> OpenTableState(
      SourceId source) const = 0;
};

}  // namespace sluice::storage
