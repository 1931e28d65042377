#include "server/pipeline/snapshot.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"

namespace sluice::pipeline {

absl::StatusOr<storagepb::ConnectorState> ParseConnectorState(
    const v1::SourceCheckpoint& checkpoint) {
  storagepb::ConnectorState state;
  if (!checkpoint.connector_state().empty() &&
      !state.ParseFromString(checkpoint.connector_state())) {
    return absl::DataLossError(absl::StrCat("the stored connector state at ",
                                            checkpoint.position_text(),
                                            " does not parse; the data dir is damaged"));
  }
  return state;
}

bool SnapshotInProgress(const v1::SourceCheckpoint& checkpoint) {
  absl::StatusOr<storagepb::ConnectorState> state = ParseConnectorState(checkpoint);
  return state.ok() && state->has_snapshot();
}

void PrepareResume(storagepb::SnapshotState& state) {
  for (storagepb::SnapshotTable& t : *state.mutable_tables()) {
    if (!t.done() && t.key_columns().empty()) {
      t.clear_last_key();
      t.set_rows_done(0);
    }
  }
  state.set_resumes(state.resumes() + 1);
  state.set_method("later");
}

absl::Status CheckKeyless(const config::SourceConfig& config,
                          const std::vector<storagepb::SnapshotTable>& tables) {
  if (config.snapshot_keyless_whole_table) return absl::OkStatus();
  std::vector<std::string> keyless;
  for (const auto& t : tables) {
    if (t.key_columns().empty()) keyless.push_back(QualifiedName(t));
  }
  if (keyless.empty()) return absl::OkStatus();
  return Fatal(absl::FailedPreconditionError(absl::StrCat(
      "source '", config.name, "': cannot snapshot ", absl::StrJoin(keyless, ", "),
      ": no primary key, so the rows can be neither read in resumable key chunks nor replayed "
      "by key. Add a primary key, leave the table out (tables=), or add "
      "snapshot_keyless=whole_table to read it in one pass (restarted from its start after a "
      "crash)")));
}

absl::StatusOr<std::vector<size_t>> KeyColumnIndices(const storagepb::SnapshotTable& table,
                                                     const std::vector<std::string>& names,
                                                     size_t first) {
  std::vector<size_t> out;
  for (const std::string& k : table.key_columns()) {
    size_t found = names.size();
    for (size_t c = first; c < names.size(); ++c) {
      if (names[c] == k) found = c;
    }
    if (found == names.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat("snapshot: table ", QualifiedName(table), " has no column ", k,
                       " any more (its primary key changed during the snapshot); restart sluice "
                       "to list the tables again, or take the table out of tables="));
    }
    out.push_back(found);
  }
  return out;
}

absl::StatusOr<SnapshotRows> SnapshotReader::ReadChunk(const storagepb::SnapshotTable& table,
                                                       size_t limit) {
  SLUICE_ASSIGN_OR_RETURN(EncodedRows encoded, ReadEncodedChunk(table, limit));
  SnapshotRows out;
  out.events.resize(encoded.rows.size());
  for (size_t i = 0; i < encoded.rows.size(); ++i) {
    const std::string_view body = encoded.rows.body(i);
    if (!out.events[i].ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::DataLossError(absl::StrCat("snapshot: row ", i + 1, " of a chunk of ",
                                              QualifiedName(table), " does not parse"));
    }
  }
  out.last_key = std::move(encoded.last_key);
  return out;
}

std::string QualifiedName(const storagepb::SnapshotTable& table) {
  return absl::StrCat(table.database(), ".", table.table());
}

void AdvanceTable(storagepb::SnapshotTable& table, size_t rows, size_t limit,
                  std::vector<std::string> last_key) {
  table.set_rows_done(table.rows_done() + rows);
  if (rows > 0) {
    table.clear_last_key();
    for (std::string& k : last_key) table.add_last_key(std::move(k));
  }
  if (rows < limit) table.set_done(true);
}

std::vector<v1::TableSnapshotProgress> SnapshotProgress(const storagepb::SnapshotState& state) {
  std::vector<v1::TableSnapshotProgress> out;
  for (const storagepb::SnapshotTable& t : state.tables()) {
    v1::TableSnapshotProgress& p = out.emplace_back();
    p.set_table(QualifiedName(t));
    p.set_rows_done(t.rows_done());
    p.set_rows_estimated(std::max(t.rows_estimated(), t.done() ? t.rows_done() : 0));
    p.set_done(t.done());
  }
  return out;
}

std::vector<v1::ChangeEvent> ResnapshotMarkers(const storagepb::SnapshotState& state,
                                               const v1::SourceInfo& info,
                                               const std::string& reason) {
  const v1::SourceKind kind = info.kind();
  std::vector<v1::ChangeEvent> out;
  for (const storagepb::SnapshotTable& t : state.tables()) {
    v1::ChangeEvent& e = out.emplace_back();
    e.set_op(v1::OP_TRUNCATE);
    auto* source = e.mutable_source();
    *source = info;
    source->set_commit_ts_micros(NowMicros());
    if (kind == v1::SOURCE_KIND_POSTGRES) {
      source->set_schema(t.database());
    } else {
      source->set_database(t.database());
    }
    source->set_table(t.table());
    source->set_snapshot(true);
    for (const std::string& k : t.key_columns()) e.add_key_columns(k);
    e.mutable_ddl()->set_statement(
        absl::StrCat("-- sluice re-snapshot of ", QualifiedName(t), ": ", reason,
                     "; discard this table's rows, its \"r\" events follow"));
  }
  return out;
}

v1::SourceCheckpoint WithSnapshotState(const v1::SourceCheckpoint& cut,
                                       const storagepb::SnapshotState* state) {
  v1::SourceCheckpoint cp = cut;
  cp.clear_connector_state();
  if (state != nullptr) {
    storagepb::ConnectorState cs;
    *cs.mutable_snapshot() = *state;
    cp.set_connector_state(cs.SerializeAsString());
  }
  return cp;
}

void PauseBetweenChunks(const config::SourceConfig& config, const std::atomic<bool>& stopping) {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config.snapshot_pause_ms);
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
  }
}

namespace {

// Bounds the chunks handed to the log and not yet durable.
class ChunkWindow {
 public:
  explicit ChunkWindow(int size) : free_(size) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;  // guarded by mu_
};

}  // namespace

absl::Status RunSnapshot(SnapshotReader& reader, const config::SourceConfig& config,
                         storage::ChangeLog& log, storage::SourceId id, SourceRegistry& registry,
                         const std::atomic<bool>& stopping, const v1::SourceCheckpoint& cut,
                         storagepb::SnapshotState state, const v1::SourceInfo& info) {
  registry.SetState(config.name, v1::SOURCE_STATE_SNAPSHOTTING);
  registry.SetSnapshotProgress(config.name, SnapshotProgress(state));
  const size_t limit = std::max<uint32_t>(config.snapshot_chunk_size, 1);
  auto all_done = [&] {
    return std::all_of(state.tables().begin(), state.tables().end(),
                       [](const storagepb::SnapshotTable& t) { return t.done(); });
  };
  ChunkWindow window(2);  // before `appends`, whose destructor waits for the callbacks
  AppendTracker appends;
  if (all_done()) {
    // Nothing (left) to read: only the end of the snapshot needs storing.
    return log.Append(id, {}, WithSnapshotState(cut, nullptr)).status();
  }
  for (int i = 0; i < state.tables_size(); ++i) {
    while (!state.tables(i).done()) {
      if (stopping.load()) {
        appends.Drain();
        return absl::CancelledError("stopping during the snapshot");
      }
      SLUICE_RETURN_IF_ERROR(appends.error());
      SLUICE_ASSIGN_OR_RETURN(EncodedRows rows, reader.ReadEncodedChunk(state.tables(i), limit));
      storagepb::SnapshotTable* t = state.mutable_tables(i);
      AdvanceTable(*t, rows.rows.size(), limit, std::move(rows.last_key));
      v1::SourceInfo commit = info;
      if (info.kind() == v1::SOURCE_KIND_POSTGRES) {
        commit.set_schema(t->database());
      } else {
        commit.set_database(t->database());
      }
      commit.set_table(t->table());
      commit.set_snapshot(true);
      commit.set_commit_ts_micros(NowMicros());
      window.Acquire();
      // The chunk goes into the log's bulk ingestion (ChangeLog::AppendSnapshotChunkAsync): the
      // window is freed once its rows are in the ingestion's files, and it becomes durable and
      // visible with the ingestion (several chunks at once; the last one ingests at once).
      // The progress is shown once the chunk is durable (the callbacks run in append order), so
      // that `status` and `snapshot --wait` never report rows that a reader cannot see yet.
      const bool last = all_done();
      log.AppendSnapshotChunkAsync(id, std::move(rows.rows), commit,
                                   WithSnapshotState(cut, last ? nullptr : &state), last,
                                   [&window] { window.Release(); },
                                   [&registry, name = config.name,
                                    progress = SnapshotProgress(state),
                                    done = appends.Track()](auto result) mutable {
                                     if (result.ok()) registry.SetSnapshotProgress(name, progress);
                                     std::move(done)(std::move(result));
                                   });
      PauseBetweenChunks(config, stopping);
    }
  }
  appends.Drain();
  return appends.error();
}

}  // namespace sluice::pipeline
