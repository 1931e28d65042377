#pragma once
// The source-independent half of a snapshot: walks the tables of a storagepb::SnapshotState,
// asks a SnapshotReader (MySQL or Postgres) for one primary-key chunk at a time, and appends
// each chunk as one transaction of op "r" events (source.snapshot = true) together with a
// checkpoint whose position is the snapshot's cut and whose connector_state is the progress
// after that chunk. So the progress is durable exactly when the rows are, and a restart
// continues after the last durable chunk. The append that finishes the last table stores the
// checkpoint without snapshot state: from then on the source streams from the cut.
//
// Where the rows come from, and why the result is exact, is the reader's business and is
// described in docs/guarantees.md: on a first start the reader reads exactly at the cut; after
// a restart it reads at a later point, and the stream from the cut replays the window.
//
// Thread-safety: RunSnapshot runs on the source's session thread; the log's writer thread runs
// the append callbacks.

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config/source_config.h"
#include "server/pipeline/source_registry.h"
#include "server/pipeline/source_support.h"
#include "sluice/v1/event.pb.h"
#include "sluice/v1/storage.pb.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

// One chunk of rows as read: op "r" events with `after` and `key_columns`. Every source field
// (kind, database/schema, table, ...) comes from the chunk's commit info, which RunSnapshot
// builds, so that each row costs no copies of them.
struct SnapshotRows {
  std::vector<v1::ChangeEvent> events;
  // The last row's key as the source's text of each key column (keyless Postgres tables: the
  // last ctid; keyless MySQL tables: empty). Ignored when `events` is empty.
  std::vector<std::string> last_key;
};

// The same chunk in stored form (ReadEventEncoder): what the initial snapshot appends.
struct EncodedRows {
  storage::EncodedChunk rows;
  std::vector<std::string> last_key;  // as in SnapshotRows
};

class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // The next rows of `table` after table.last_key() (keyless tables: after table.rows_done()
  // rows, or after the ctid in last_key), at most `limit` of them, in key order, encoded as
  // they arrive from the server. Fewer than `limit` rows means the table is finished.
  virtual absl::StatusOr<EncodedRows> ReadEncodedChunk(const storagepb::SnapshotTable& table,
                                                       size_t limit) = 0;
  // The same rows as messages (the watermark re-snapshot looks at each row's key): each
  // event is its encoded body parsed. DataLoss if a body does not parse (a bug).
  absl::StatusOr<SnapshotRows> ReadChunk(const storagepb::SnapshotTable& table, size_t limit);
};

// The connector state stored in `checkpoint` (empty when it has none). DataLoss when the bytes
// do not parse.
absl::StatusOr<storagepb::ConnectorState> ParseConnectorState(
    const v1::SourceCheckpoint& checkpoint);

// Whether `checkpoint` records a snapshot that has not finished.
bool SnapshotInProgress(const v1::SourceCheckpoint& checkpoint);

// Prepares a stored state for a restart: keyless tables that were part-way start over (their
// chunks are positional, which a later read does not continue), `resumes` counts up and the
// method becomes "later".
void PrepareResume(storagepb::SnapshotState& state);

// The progress shown by `status`.
std::vector<v1::TableSnapshotProgress> SnapshotProgress(const storagepb::SnapshotState& state);

// A Fatal FailedPrecondition naming the tables without a primary key and the fixes, unless the
// source allows whole-table reads (snapshot_keyless=whole_table).
absl::Status CheckKeyless(const config::SourceConfig& config,
                          const std::vector<storagepb::SnapshotTable>& tables);

// Where each of `table`'s key columns is among the result's column `names` (from index `first`
// on). FailedPrecondition naming the missing column when the key changed during the snapshot.
absl::StatusOr<std::vector<size_t>> KeyColumnIndices(const storagepb::SnapshotTable& table,
                                                     const std::vector<std::string>& names,
                                                     size_t first = 0);

// "db.table" / "schema.table".
std::string QualifiedName(const storagepb::SnapshotTable& table);

// Moves `table` past a chunk of `rows` rows read with `limit`: rows done, the resume key
// (`last_key`; kept as it was after an empty chunk), and done once a chunk comes back short.
void AdvanceTable(storagepb::SnapshotTable& table, size_t rows, size_t limit,
                  std::vector<std::string> last_key);

// Runs the snapshot described by `state` to its end (or until `stopping`, which returns
// Cancelled). The reader reads chunk k+1 while the log stores chunk k; at most two chunks are
// waiting to be written into the log's bulk ingestion at any time, which bounds memory (the
// ingestion's own bound is ChangeLogOptions::ingest_bytes). `cut` is the checkpoint the snapshot
// started at; its position stays the stored position throughout. `info` holds the source fields of
// every event (name, kind, database, position of the cut); RunSnapshot sets snapshot = true and the
// read time as commit time. `chunk_size` rows per chunk. Every chunk's append is durable when this
// returns OK.
absl::Status RunSnapshot(SnapshotReader& reader, const config::SourceConfig& config,
                         storage::ChangeLog& log, storage::SourceId id, SourceRegistry& registry,
                         const std::atomic<bool>& stopping, const v1::SourceCheckpoint& cut,
                         storagepb::SnapshotState state, const v1::SourceInfo& info);

// The events that open a re-snapshot after the source's position was lost (snapshot=
// when_needed): one op "t" event per table, so a subscriber that replays by key discards rows
// whose deletion it can no longer be told about; the table's "r" events follow.
// `info` is the snapshot's source info (name, kind, position of the new cut).
std::vector<v1::ChangeEvent> ResnapshotMarkers(const storagepb::SnapshotState& state,
                                               const v1::SourceInfo& info,
                                               const std::string& reason);

// Sleeps config.snapshot_pause_ms (returns early when `stopping`): the pause after a chunk.
void PauseBetweenChunks(const config::SourceConfig& config, const std::atomic<bool>& stopping);

// `cut` with `state` as its connector state.
v1::SourceCheckpoint WithSnapshotState(const v1::SourceCheckpoint& cut,
                                       const storagepb::SnapshotState* state);

}  // namespace sluice::pipeline
