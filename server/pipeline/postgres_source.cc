#include "server/pipeline/postgres_source.h"

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "protocol/pgclient/replication_connection.h"
#include "protocol/pgclient/sql_error.h"
#include "protocol/postgres/copy_data.h"
#include "protocol/postgres/pgoutput.h"
#include "protocol/postgres/relation_cache.h"
#include "protocol/postgres/row_mapping.h"
#include "server/pipeline/postgres_snapshot.h"
#include "server/pipeline/resnapshot_state.h"
#include "server/pipeline/snapshot.h"
#include "server/pipeline/source_support.h"

namespace sluice::pipeline {
namespace {

using postgres::PgoutputMessage;

// One replication session: from connect to the first error or Stop().
class Session : private SessionBase<PostgresSourceOptions> {
 public:
  Session(const config::SourceConfig& config, storage::ChangeLog& log, storage::SourceId id,
          SourceRegistry& registry, const PostgresSourceOptions& options,
          const std::atomic<bool>& stopping, ResnapshotQueue& requests)
      : SessionBase(config, log, id, registry, options, stopping),
        requests_(requests),
        resnapshots_(requests, windows_, registry, config.name) {}

  // Appends still queued call back into this session; wait for them.
  ~Session() {
    resnapshots_.Stop();
    appends_.Drain();
  }

  absl::Status Run();

 private:
  absl::Status Prepare();
  pgclient::ConnectParams Params(bool replication) const;
  // `resnapshot_reason`: why the stored position is lost (empty for an initial snapshot).
  absl::Status Snapshot(const v1::SourceCheckpoint& stored, bool fresh, const std::string& exported,
                        Lsn cut_lsn, const std::string& resnapshot_reason = "");
  absl::Status EnsurePublication();
  // The catalog types (enums, domains, arrays of them) as rows; UseCatalogTypes keeps them.
  using CatalogRows = std::vector<std::vector<std::string>>;
  static absl::StatusOr<CatalogRows> QueryCatalogTypes(pgclient::ReplicationConnection& conn);
  void UseCatalogTypes(const CatalogRows& rows);

  // The snapshot session, opened while the replication connection is prepared when a snapshot
  // is wanted (its TCP connect and authentication, and the catalog types read on it, overlap
  // the slot's creation). Snapshot takes its connection; otherwise it connects itself.
  struct EarlySession {
    std::unique_ptr<pgclient::ReplicationConnection> conn;
    CatalogRows types;
  };
  std::future<absl::StatusOr<EarlySession>> early_;
  // Waits for the early session, if one was started and not taken yet: keeps its catalog types
  // and returns its connection (nullptr when there is none); its error if it failed.
  absl::StatusOr<std::unique_ptr<pgclient::ReplicationConnection>> TakeEarlySession();
  absl::Status Handle(std::string_view xlog_payload);
  absl::Status SendStatus(bool reply_requested);
  absl::Status MaybeConfirmIdle(Lsn wal_end);

  void AddEvent(v1::ChangeEvent event, std::optional<uint32_t> message_xid);
  absl::Status FlushStreamBuffer();
  absl::Status Commit(uint32_t xid, Lsn end_lsn, int64_t commit_ts_pg, bool streamed);
  absl::Status CommitTransaction(uint32_t xid, Lsn end_lsn, int64_t commit_ts_pg, bool streamed);
  // The checkpoint at `lsn`, with a running re-snapshot's progress (resnapshot_state.h).
  v1::SourceCheckpoint CheckpointAt(Lsn lsn);
  // `events`: how many change events the append stores (for the lag in events).
  void Submit(std::function<void(storage::AppendCallback)> start, Lsn lsn, uint64_t events = 0);

  std::unique_ptr<pgclient::ReplicationConnection> conn_;
  pgclient::SystemIdentity identity_;
  postgres::RelationCache relations_;
  // Enums, domains and arrays of them, read from the catalog before streaming starts.
  std::unordered_map<uint32_t, postgres::TypeResolution> catalog_types_;
  postgres::TypeResolver resolver_;
  Lsn received_;  // highest WAL end seen

  // The open (non-streamed) transaction.
  struct OpenTxn {
    uint32_t xid = 0;
    int64_t commit_ts_pg = 0;
    std::vector<v1::ChangeEvent> events;
    bool staged = false;
    uint64_t staged_events = 0;  // events already in the stage
  };
  std::optional<OpenTxn> txn_;

  // Streamed in-progress transactions, by top-level xid.
  struct StreamedTxn {
    uint64_t staged = 0;                      // events already in the stage
    std::vector<v1::ChangeEvent> buffer;      // events of the current chunk
    std::map<uint32_t, uint64_t> subxact_at;  // subxid -> index of its first event
  };
  std::map<uint32_t, StreamedTxn> streams_;
  std::optional<uint32_t> in_stream_;  // the xid of the stream chunk being received

  // Durability bookkeeping, shared with the log's writer thread.
  std::mutex mu_;
  Lsn durable_;  // guarded by mu_: flush LSN we may report
  std::chrono::steady_clock::time_point last_status_{};
  std::chrono::steady_clock::time_point last_idle_checkpoint_{};

  // On-demand re-snapshot (watermark_snapshot.h).
  void MaybeStartResnapshot();
  absl::Status Resnapshot(const ResnapshotRequest& request, const postgres::TypeResolver& resolver,
                          const std::atomic<bool>& stopping);
  void EmitReadyChunk(Lsn end_lsn);
  ResnapshotQueue& requests_;
  ResnapshotCheckpoint resnapshot_state_;
  WatermarkWindows windows_;
  ResnapshotWorker resnapshots_;
};

v1::SourceCheckpoint Session::CheckpointAt(Lsn lsn) {
  v1::SourceCheckpoint cp;
  auto* pg = cp.mutable_position()->mutable_pg();
  pg->set_lsn(lsn.value());
  pg->set_system_id(identity_.system_id);
  pg->set_timeline(identity_.timeline);
  cp.set_position_text(FormatLsn(lsn));
  return resnapshot_state_.Stamp(std::move(cp));
}

absl::Status Session::EnsurePublication() {
  const std::string pub = config_.publication;
  SLUICE_ASSIGN_OR_RETURN(auto rows,
                          conn_->Query(absl::StrCat("SELECT 1 FROM pg_publication WHERE pubname = ",
                                                    conn_->QuoteLiteral(pub))));
  if (!rows.empty()) return absl::OkStatus();
  std::vector<std::string> tables;
  std::vector<std::string> schemas;
  for (const auto& pattern : config_.tables) {
    const size_t dot = pattern.find('.');
    const std::string schema = pattern.substr(0, dot);
    const std::string table = dot == std::string::npos ? "*" : pattern.substr(dot + 1);
    if (schema.find_first_of("*?") != std::string::npos ||
        (table != "*" && table.find_first_of("*?") != std::string::npos)) {
      return Fatal(absl::InvalidArgumentError(
          absl::StrCat("source '", config_.name, "': cannot create publication \"", pub,
                       "\" for pattern \"", pattern,
                       "\": only schema.table and schema.* are supported; create the publication "
                       "yourself and name it with publication=")));
    }
    if (table == "*") {
      schemas.push_back(conn_->QuoteIdentifier(schema));
    } else {
      tables.push_back(conn_->QuoteIdentifier(schema) + "." + conn_->QuoteIdentifier(table));
    }
  }
  std::string sql = absl::StrCat("CREATE PUBLICATION ", conn_->QuoteIdentifier(pub));
  if (tables.empty() && schemas.empty()) {
    sql += " FOR ALL TABLES";
  } else {
    std::vector<std::string> parts;
    if (!tables.empty()) parts.push_back("TABLE " + absl::StrJoin(tables, ", "));
    if (!schemas.empty()) parts.push_back("TABLES IN SCHEMA " + absl::StrJoin(schemas, ", "));
    sql += " FOR " + absl::StrJoin(parts, ", ");
  }
  return conn_->Query(sql).status();
}

// pgoutput says which type a column has but not whether it is an enum or a domain: that comes
// from the catalog. Types created while streaming are delivered as raw text until a reconnect.
absl::StatusOr<Session::CatalogRows> Session::QueryCatalogTypes(
    pgclient::ReplicationConnection& conn) {
  return conn.Query(
      "SELECT t.oid, t.typtype, t.typbasetype, t.typelem, "
      "n.nspname || '.' || t.typname FROM pg_type t "
      "JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE t.typtype IN ('e', 'd') OR (t.typcategory = 'A' AND t.typelem IN "
      "(SELECT oid FROM pg_type WHERE typtype IN ('e', 'd')))");
}

void Session::UseCatalogTypes(const CatalogRows& rows) {
  for (const auto& row : rows) {
    if (row.size() < 5) continue;
    postgres::TypeResolution r;
    const uint32_t oid = static_cast<uint32_t>(std::stoul(row[0]));
    if (row[1] == "e") {
      r.kind = postgres::TypeResolution::Kind::kEnum;
    } else if (row[1] == "d") {
      r.kind = postgres::TypeResolution::Kind::kBase;
      r.oid = static_cast<uint32_t>(std::stoul(row[2]));
    } else {
      r.kind = postgres::TypeResolution::Kind::kArray;
      r.oid = static_cast<uint32_t>(std::stoul(row[3]));
    }
    r.type_name = row[4];
    catalog_types_[oid] = std::move(r);
  }
  resolver_ = relations_.Resolver([this](uint32_t oid) {
    auto it = catalog_types_.find(oid);
    return it == catalog_types_.end() ? postgres::TypeResolution{} : it->second;
  });
}

absl::StatusOr<std::unique_ptr<pgclient::ReplicationConnection>> Session::TakeEarlySession() {
  if (!early_.valid()) return nullptr;
  SLUICE_ASSIGN_OR_RETURN(EarlySession early, early_.get());
  UseCatalogTypes(early.types);
  return std::move(early.conn);
}

pgclient::ConnectParams Session::Params(bool replication) const {
  return PostgresConnectParams(config_, replication);
}

// Takes (fresh) or continues the snapshot on a second, ordinary session while the replication
// connection stays idle (an exported snapshot lives only as long as that).
absl::Status Session::Snapshot(const v1::SourceCheckpoint& stored, bool fresh,
                               const std::string& exported, Lsn cut_lsn,
                               const std::string& resnapshot_reason) {
  std::unique_ptr<pgclient::ReplicationConnection> sql;
  SLUICE_ASSIGN_OR_RETURN(sql, TakeEarlySession());
  if (sql == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(sql, pgclient::ReplicationConnection::Connect(Params(false)));
  }
  SLUICE_RETURN_IF_ERROR(OpenPostgresSnapshot(*sql, exported));
  storagepb::SnapshotState state;
  v1::SourceCheckpoint cut = stored;
  if (fresh) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<storagepb::SnapshotTable> tables,
                            ListPostgresTables(*sql, config_.publication));
    SLUICE_RETURN_IF_ERROR(CheckKeyless(config_, tables));
    for (auto& t : tables) *state.add_tables() = std::move(t);
    state.set_started_ts_micros(NowMicros());
    state.set_method(exported.empty() ? "later" : "consistent");
    cut = CheckpointAt(cut_lsn);
  } else {
    SLUICE_ASSIGN_OR_RETURN(storagepb::ConnectorState cs, ParseConnectorState(stored));
    state = cs.snapshot();
    PrepareResume(state);
  }
  v1::SourceInfo info;
  info.set_name(config_.name);
  info.set_kind(v1::SOURCE_KIND_POSTGRES);
  info.set_database(config_.database);
  info.set_position(cut.position_text());
  *info.mutable_typed_position()->mutable_pg() = cut.position().pg();
  if (fresh) {
    std::vector<v1::ChangeEvent> markers;
    if (!resnapshot_reason.empty()) markers = ResnapshotMarkers(state, info, resnapshot_reason);
    SLUICE_RETURN_IF_ERROR(
        log_.Append(id_, std::move(markers), WithSnapshotState(cut, &state)).status());
  }
  PostgresSnapshotReader reader(*sql, resolver_);
  // One transaction for the whole snapshot: each table is read as one COPY stream.
  reader.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
  SLUICE_RETURN_IF_ERROR(
      RunSnapshot(reader, config_, log_, id_, registry_, stopping_, cut, std::move(state), info));
  return sql->Query("COMMIT").status();
}

absl::Status Session::Prepare() {
  SLUICE_ASSIGN_OR_RETURN(v1::SourceCheckpoint stored, log_.Checkpoint(id_));
  const bool has_position = stored.position().has_pg() && stored.position().pg().lsn() != 0;
  const bool in_progress = SnapshotInProgress(stored);
  const bool want_snapshot =
      in_progress || (!has_position && config_.snapshot != config::SnapshotMode::kNever);
  if (want_snapshot) {
    // The snapshot session connects (TCP, authentication) and reads the catalog types on its
    // own thread while this one prepares the slot; Snapshot (or the catalog types below) waits
    // for it. It captures nothing of this session but a copy of its parameters.
    early_ = std::async(std::launch::async,
                        [params = Params(false)]() -> absl::StatusOr<EarlySession> {
                          EarlySession early;
                          SLUICE_ASSIGN_OR_RETURN(early.conn,
                                                  pgclient::ReplicationConnection::Connect(params));
                          SLUICE_ASSIGN_OR_RETURN(early.types, QueryCatalogTypes(*early.conn));
                          return early;
                        });
  }
  SLUICE_ASSIGN_OR_RETURN(conn_, pgclient::ReplicationConnection::Connect(Params(true)));
  SLUICE_ASSIGN_OR_RETURN(identity_, conn_->IdentifySystem());

  if (has_position) {
    const auto& pg = stored.position().pg();
    if (pg.system_id() != identity_.system_id || pg.timeline() != identity_.timeline) {
      return Fatal(absl::FailedPreconditionError(absl::StrCat(
          "source '", config_.name, "': the server is system ", identity_.system_id, " timeline ",
          identity_.timeline, " but the stored position ", FormatLsn(Lsn(pg.lsn())),
          " belongs to system ", pg.system_id(), " timeline ", pg.timeline(),
          " (a restore, failover or different server): its WAL positions are not comparable; "
          "use a new data dir or re-snapshot")));
    }
  }
  SLUICE_RETURN_IF_ERROR(EnsurePublication());
  if (!early_.valid()) {  // else they are read on the snapshot session (TakeEarlySession)
    SLUICE_ASSIGN_OR_RETURN(CatalogRows types, QueryCatalogTypes(*conn_));
    UseCatalogTypes(types);
  }

  SLUICE_RETURN_IF_ERROR(log_.DiscardAllStaged(id_));
  SLUICE_ASSIGN_OR_RETURN(pgclient::SlotState slot, conn_->GetSlot(config_.slot));
  const bool when_needed = config_.snapshot == config::SnapshotMode::kWhenNeeded;
  std::string lost;  // why the stored position can no longer be streamed from
  if (slot.exists && slot.wal_status == "lost" && when_needed) {
    SLUICE_RETURN_IF_ERROR(
        conn_->Query(absl::StrCat("DROP_REPLICATION_SLOT ", conn_->QuoteIdentifier(config_.slot)))
            .status());
    slot.exists = false;
    lost = absl::StrCat("replication slot \"", config_.slot,
                        "\" lost its WAL (max_slot_wal_keep_size exceeded)");
  } else if (!slot.exists && has_position && when_needed) {
    lost = absl::StrCat("replication slot \"", config_.slot, "\" is gone (stored position ",
                        stored.position_text(), ")");
  } else if (slot.exists && has_position && when_needed && !in_progress &&
             slot.confirmed_flush_lsn > Lsn(stored.position().pg().lsn())) {
    // The slot is past the stored position, so the changes in between were never stored here:
    // a recovery that created its new slot and stopped (kill -9) before it stored the new cut,
    // or another consumer of the slot. Recover the same way instead of failing.
    SLUICE_RETURN_IF_ERROR(
        conn_->Query(absl::StrCat("DROP_REPLICATION_SLOT ", conn_->QuoteIdentifier(config_.slot)))
            .status());
    slot.exists = false;
    lost = absl::StrCat("replication slot \"", config_.slot, "\" has confirmed ",
                        FormatLsn(slot.confirmed_flush_lsn), ", past the stored position ",
                        stored.position_text());
  }
  Lsn start;
  if (!slot.exists && !lost.empty()) {
    // snapshot=when_needed: a new slot, a new consistent snapshot, "t" markers first.
    SLUICE_ASSIGN_OR_RETURN(pgclient::CreatedSlot created,
                            conn_->CreateSlot(config_.slot, /*export_snapshot=*/true));
    start = created.consistent_point;
    SLUICE_RETURN_IF_ERROR(Snapshot(stored, /*fresh=*/true, created.snapshot_name, start, lost));
  } else if (!slot.exists) {
    if (has_position) {
      return Fatal(absl::NotFoundError(absl::StrCat(
          "source '", config_.name, "': replication slot \"", config_.slot,
          "\" is gone (dropped, or lost in a failover) while sluice had stored position ",
          stored.position_text(),
          "; changes since then cannot be recovered from the slot. "
          "sluice does not recreate it silently: re-snapshot the source (snapshot=when_needed) "
          "or create the slot and resnapshot by hand")));
    }
    SLUICE_ASSIGN_OR_RETURN(pgclient::CreatedSlot created,
                            conn_->CreateSlot(config_.slot, /*export_snapshot=*/want_snapshot));
    start = created.consistent_point;
    if (want_snapshot) {
      SLUICE_RETURN_IF_ERROR(Snapshot(stored, /*fresh=*/true, created.snapshot_name, start));
    }
  } else {
    if (slot.plugin != "pgoutput") {
      return Fatal(absl::FailedPreconditionError(
          absl::StrCat("source '", config_.name, "': slot \"", config_.slot, "\" uses plugin \"",
                       slot.plugin, "\", not pgoutput; name another slot with slot=")));
    }
    if (slot.wal_status == "lost") {
      return Fatal(absl::FailedPreconditionError(
          absl::StrCat("source '", config_.name, "': replication slot \"", config_.slot,
                       "\" is lost (wal_status=lost, max_slot_wal_keep_size exceeded); drop it and "
                       "re-snapshot the source")));
    }
    start = has_position ? Lsn(stored.position().pg().lsn()) : slot.confirmed_flush_lsn;
    if (has_position && slot.confirmed_flush_lsn > start) {
      return Fatal(absl::FailedPreconditionError(absl::StrCat(
          "source '", config_.name, "': slot \"", config_.slot, "\" has confirmed ",
          FormatLsn(slot.confirmed_flush_lsn), ", past the stored position ", FormatLsn(start),
          ": another consumer used the slot and the changes between were never stored here; "
          "re-snapshot the source")));
    }
    // A snapshot to continue, or a slot left by a first start that stored nothing: the rows are
    // read now, after the slot's position, and the stream from it replays the window.
    if (want_snapshot) SLUICE_RETURN_IF_ERROR(Snapshot(stored, !in_progress, "", start));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    durable_ = start;
  }
  const bool proto2 = conn_->server_major_version() >= 14;
  std::vector<std::pair<std::string, std::string>> options = {
      {"proto_version", proto2 ? "2" : "1"},
      {"publication_names", config_.publication},
      {"messages", "true"}};
  if (proto2) options.emplace_back("streaming", "on");
  SLUICE_RETURN_IF_ERROR(TakeEarlySession().status());  // its catalog types, if not taken yet
  SLUICE_RETURN_IF_ERROR(
      ResumeStoredResnapshot(log_, id_, resnapshot_state_, requests_, registry_, config_.name));
  return conn_->StartReplication(config_.slot, start, options);
}

void Session::Submit(std::function<void(storage::AppendCallback)> start, Lsn lsn, uint64_t events) {
  start(appends_.Track(
      [this, lsn] {
        std::lock_guard<std::mutex> lock(mu_);
        durable_ = std::max(durable_, lsn);
      },
      events));
}

void Session::AddEvent(v1::ChangeEvent event, std::optional<uint32_t> message_xid) {
  // Outside a stream, pgoutput sends a transaction's changes after its commit, in commit order.
  if (!in_stream_) windows_.OnChange(event);
  // name, database, txid, commit time and position are added at commit (commit_info).
  auto* s = event.mutable_source();
  s->set_kind(v1::SOURCE_KIND_POSTGRES);
  if (in_stream_) {
    StreamedTxn& st = streams_[*in_stream_];
    const uint32_t xid = message_xid.value_or(*in_stream_);
    if (xid != *in_stream_ && !st.subxact_at.contains(xid)) {
      st.subxact_at[xid] = st.staged + st.buffer.size();
    }
    st.buffer.push_back(std::move(event));
    return;
  }
  if (!txn_) {
    txn_ = OpenTxn{};  // a change outside Begin/Commit: keep it, committed with the next Commit
  }
  txn_->events.push_back(std::move(event));
  if (txn_->events.size() >= options_.stage_threshold_events) {
    txn_->staged_events += txn_->events.size();
    absl::Status st = log_.Stage(id_, txn_->xid, std::move(txn_->events));
    txn_->events.clear();
    txn_->staged = true;
    if (!st.ok()) appends_.Fail(st);
  }
}

absl::Status Session::FlushStreamBuffer() {
  if (!in_stream_) return absl::OkStatus();
  StreamedTxn& st = streams_[*in_stream_];
  if (st.buffer.empty()) return absl::OkStatus();
  const size_t n = st.buffer.size();
  SLUICE_RETURN_IF_ERROR(log_.Stage(id_, *in_stream_, std::move(st.buffer)));
  st.buffer.clear();
  st.staged += n;
  return absl::OkStatus();
}

absl::Status Session::Commit(uint32_t xid, Lsn end_lsn, int64_t commit_ts_pg, bool streamed) {
  // A streamed transaction's changes arrived before its commit: their keys are not known to
  // the open windows, whose chunks are therefore read again.
  if (streamed) windows_.SpoilOpen();
  absl::Status st = CommitTransaction(xid, end_lsn, commit_ts_pg, streamed);
  if (st.ok()) EmitReadyChunk(end_lsn);
  return st;
}

absl::Status Session::CommitTransaction(uint32_t xid, Lsn end_lsn, int64_t commit_ts_pg,
                                        bool streamed) {
  v1::SourceInfo commit;
  commit.set_name(config_.name);
  commit.set_kind(v1::SOURCE_KIND_POSTGRES);
  commit.set_database(config_.database);
  commit.set_txid(std::to_string(xid));
  commit.set_commit_ts_micros(postgres::UnixMicrosFromPostgres(commit_ts_pg));
  commit.set_position(FormatLsn(end_lsn));
  auto* pg = commit.mutable_typed_position()->mutable_pg();
  pg->set_lsn(end_lsn.value());
  pg->set_system_id(identity_.system_id);
  pg->set_timeline(identity_.timeline);
  v1::SourceCheckpoint checkpoint = CheckpointAt(end_lsn);

  bool staged = false;
  uint64_t staged_events = 0;
  std::vector<v1::ChangeEvent> events;
  if (streamed) {
    auto it = streams_.find(xid);
    if (it != streams_.end()) {
      events = std::move(it->second.buffer);
      staged = it->second.staged > 0;
      staged_events = it->second.staged;
      streams_.erase(it);
    }
  } else if (txn_) {
    events = std::move(txn_->events);
    staged = txn_->staged;
    staged_events = txn_->staged_events;
    txn_.reset();
  }
  const uint64_t count = staged_events + events.size();
  if (staged) {
    Submit(
        [&](storage::AppendCallback done) {
          log_.AppendStagedAsync(id_, xid, std::move(events), commit, std::move(checkpoint),
                                 std::move(done));
        },
        end_lsn, count);
    return absl::OkStatus();
  }
  Submit(
      [&](storage::AppendCallback done) {
        log_.AppendAsync(id_, std::move(events), commit, std::move(checkpoint), std::move(done));
      },
      end_lsn, count);
  return absl::OkStatus();
}

absl::Status Session::Handle(std::string_view payload) {
  SLUICE_ASSIGN_OR_RETURN(PgoutputMessage message,
                          postgres::DecodePgoutput(payload, in_stream_.has_value()));
  const postgres::TypeResolver& resolver = resolver_;
  if (auto* m = std::get_if<postgres::BeginMessage>(&message)) {
    txn_ = OpenTxn{m->xid, m->commit_ts_pg_micros, {}, false, 0};
  } else if (auto* m = std::get_if<postgres::CommitMessage>(&message)) {
    const uint32_t xid = txn_ ? txn_->xid : 0;
    const int64_t ts = m->commit_ts_pg_micros;
    return Commit(xid, m->end_lsn, ts, /*streamed=*/false);
  } else if (auto* m = std::get_if<postgres::RelationMessage>(&message)) {
    postgres::RelationChange change = relations_.Apply(*m);
    if (change.shape_changed) {
      v1::ChangeEvent ddl;
      ddl.set_op(v1::OP_DDL);
      ddl.mutable_source()->set_schema(m->schema.empty() ? "pg_catalog" : m->schema);
      ddl.mutable_source()->set_table(m->name);
      for (auto& c : change.columns) *ddl.mutable_ddl()->add_columns() = std::move(c);
      AddEvent(std::move(ddl), m->xid);
    }
  } else if (auto* m = std::get_if<postgres::TypeMessage>(&message)) {
    relations_.ApplyType(*m);
  } else if (auto* m = std::get_if<postgres::InsertMessage>(&message)) {
    SLUICE_ASSIGN_OR_RETURN(v1::ChangeEvent e, postgres::MapInsert(relations_, *m, resolver));
    AddEvent(std::move(e), m->xid);
  } else if (auto* m = std::get_if<postgres::UpdateMessage>(&message)) {
    SLUICE_ASSIGN_OR_RETURN(v1::ChangeEvent e, postgres::MapUpdate(relations_, *m, resolver));
    AddEvent(std::move(e), m->xid);
  } else if (auto* m = std::get_if<postgres::DeleteMessage>(&message)) {
    SLUICE_ASSIGN_OR_RETURN(v1::ChangeEvent e, postgres::MapDelete(relations_, *m, resolver));
    AddEvent(std::move(e), m->xid);
  } else if (auto* m = std::get_if<postgres::TruncateMessage>(&message)) {
    for (uint32_t relid : m->relids) {
      const postgres::CachedRelation* rel = relations_.Find(relid);
      if (rel == nullptr) {
        return absl::DataLossError(
            absl::StrCat("pgoutput Truncate names relation ", relid, " before its Relation"));
      }
      v1::ChangeEvent e;
      e.set_op(v1::OP_TRUNCATE);
      e.mutable_source()->set_schema(rel->schema);
      e.mutable_source()->set_table(rel->name);
      // The statement keeps TRUNCATE's options for consumers that mirror them.
      e.mutable_ddl()->set_statement(absl::StrCat("TRUNCATE ", rel->schema, ".", rel->name,
                                                  m->restart_identity() ? " RESTART IDENTITY" : "",
                                                  m->cascade() ? " CASCADE" : ""));
      AddEvent(std::move(e), m->xid);
    }
  } else if (auto* m = std::get_if<postgres::LogicalMessage>(&message);
             m != nullptr && m->prefix == kWatermarkPrefix) {
    windows_.OnWatermark(std::string(m->content.begin(), m->content.end()));  // never stored
  } else if (auto* m = std::get_if<postgres::LogicalMessage>(&message)) {
    v1::ChangeEvent e;
    e.set_op(v1::OP_MESSAGE);
    e.mutable_message()->set_prefix(m->prefix);
    e.mutable_message()->set_content(m->content);
    e.mutable_message()->set_transactional(m->transactional());
    if (m->transactional() || in_stream_) {
      AddEvent(std::move(e), m->xid);
    } else {
      // Not part of a transaction: stored on its own, without moving the checkpoint.
      e.mutable_source()->set_name(config_.name);
      e.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
      e.mutable_source()->set_database(config_.database);
      e.mutable_source()->set_position(FormatLsn(m->lsn));
      // The newest checkpoint handed to the log (the stored one could be older than appends
      // still in flight, and storing it again would move the position back).
      v1::SourceCheckpoint current = resnapshot_state_.Stamp(resnapshot_state_.last());
      std::vector<v1::ChangeEvent> one;
      one.push_back(std::move(e));
      Lsn keep;
      {
        std::lock_guard<std::mutex> lock(mu_);
        keep = durable_;
      }
      Submit(
          [&](storage::AppendCallback done) {
            log_.AppendAsync(id_, std::move(one), std::move(current), std::move(done));
          },
          keep, 1);
    }
  } else if (auto* m = std::get_if<postgres::StreamStartMessage>(&message)) {
    in_stream_ = m->xid;
    streams_.try_emplace(m->xid);
  } else if (std::holds_alternative<postgres::StreamStopMessage>(message)) {
    SLUICE_RETURN_IF_ERROR(FlushStreamBuffer());
    in_stream_.reset();
  } else if (auto* m = std::get_if<postgres::StreamCommitMessage>(&message)) {
    return Commit(m->xid, m->end_lsn, m->commit_ts_pg_micros, /*streamed=*/true);
  } else if (auto* m = std::get_if<postgres::StreamAbortMessage>(&message)) {
    auto it = streams_.find(m->xid);
    if (m->subxid == m->xid) {
      if (it != streams_.end()) streams_.erase(it);
      return log_.DiscardStaged(id_, m->xid);
    }
    if (it != streams_.end()) {
      auto sub = it->second.subxact_at.find(m->subxid);
      if (sub != it->second.subxact_at.end()) {
        // Drop the subtransaction's events and everything after them, as Postgres does.
        const uint64_t keep = sub->second;
        it->second.buffer.clear();
        it->second.staged = keep;
        std::erase_if(it->second.subxact_at, [&](const auto& kv) { return kv.second >= keep; });
        return log_.TruncateStage(id_, m->xid, keep);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Session::SendStatus(bool reply_requested) {
  postgres::StandbyStatusUpdate update;
  {
    std::lock_guard<std::mutex> lock(mu_);
    update.flush = durable_;
  }
  update.write = std::max(received_, update.flush);
  update.apply = update.flush;
  update.clock_pg_micros = postgres::PostgresMicrosFromUnix(NowMicros());
  update.reply_requested = reply_requested;
  last_status_ = std::chrono::steady_clock::now();
  return conn_->SendCopyData(postgres::EncodeStandbyStatusUpdate(update));
}

// With nothing in flight, everything before the server's WAL end is stored: store that position
// as the checkpoint, and once it is durable it becomes the flush LSN, so the slot moves on.
absl::Status Session::MaybeConfirmIdle(Lsn wal_end) {
  if (txn_ || in_stream_ || !streams_.empty()) return absl::OkStatus();
  {
    if (appends_.pending() != 0) return absl::OkStatus();
    std::lock_guard<std::mutex> lock(mu_);
    if (wal_end <= durable_) return absl::OkStatus();
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_idle_checkpoint_ < options_.status_interval) return absl::OkStatus();
  last_idle_checkpoint_ = now;
  v1::SourceCheckpoint checkpoint = CheckpointAt(wal_end);
  Submit(
      [&](storage::AppendCallback done) {
        log_.AppendAsync(id_, {}, std::move(checkpoint), std::move(done));
      },
      wal_end);
  return absl::OkStatus();
}

absl::Status Session::Run() {
  registry_.SetState(config_.name, v1::SOURCE_STATE_CONNECTING);
  SLUICE_RETURN_IF_ERROR(Prepare());
  registry_.SetState(config_.name, v1::SOURCE_STATE_STREAMING);
  while (!stopping_.load()) {
    SLUICE_RETURN_IF_ERROR(appends_.error());
    MaybeStartResnapshot();
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> data,
                            conn_->ReadCopyData(std::chrono::milliseconds(200)));
    bool reply = false;
    if (data) {
      SLUICE_ASSIGN_OR_RETURN(
          postgres::CopyDataMessage message,
          postgres::DecodeCopyData(std::as_bytes(std::span(data->data(), data->size()))));
      if (auto* x = std::get_if<postgres::XLogData>(&message)) {
        received_ = std::max(received_, x->wal_end);
        SLUICE_RETURN_IF_ERROR(Handle(
            std::string_view(reinterpret_cast<const char*>(x->payload.data()), x->payload.size())));
      } else if (auto* k = std::get_if<postgres::PrimaryKeepalive>(&message)) {
        received_ = std::max(received_, k->wal_end);
        reply = k->reply_requested;
        SLUICE_RETURN_IF_ERROR(MaybeConfirmIdle(k->wal_end));
      }
    }
    if (reply || std::chrono::steady_clock::now() - last_status_ >= options_.status_interval) {
      SLUICE_RETURN_IF_ERROR(SendStatus(reply));
    }
  }
  // Report what is durable before leaving, so a restart resumes without replaying.
  appends_.Drain();
  return SendStatus(false);
}

void Session::EmitReadyChunk(Lsn end_lsn) {
  std::string id;
  std::optional<WatermarkWindows::Ready> ready = windows_.TakeReady(id);
  if (!ready) return;  // nothing ready, or the chunk must be read again (the worker knows)
  // The chunk's append (also one without rows: every row changed in the window) stores the
  // table's progress after it; the append that holds the last chunk ends the stored state.
  resnapshot_state_.Advance(ready->after);
  {
    v1::SourceInfo info;
    info.set_name(config_.name);
    info.set_kind(v1::SOURCE_KIND_POSTGRES);
    info.set_database(config_.database);
    std::tie(*info.mutable_schema(), *info.mutable_table()) = windows_.table();
    info.set_snapshot(true);
    info.set_commit_ts_micros(NowMicros());
    info.set_position(FormatLsn(end_lsn));
    auto* pg = info.mutable_typed_position()->mutable_pg();
    pg->set_lsn(end_lsn.value());
    pg->set_system_id(identity_.system_id);
    pg->set_timeline(identity_.timeline);
    v1::SourceCheckpoint checkpoint = CheckpointAt(end_lsn);
    std::vector<v1::ChangeEvent> events = std::move(ready->rows.events);
    const uint64_t count = events.size();
    Submit(
        [&](storage::AppendCallback done) {
          log_.AppendAsync(id_, std::move(events), info, std::move(checkpoint),
                           windows_.EmitWhenDurable(id, std::move(done)));
        },
        end_lsn, count);
  }
}

void Session::MaybeStartResnapshot() {
  if (resnapshots_.Reap()) resnapshot_state_.End();  // finished or failed: nothing to continue
  std::optional<ResnapshotRequest> started =
      resnapshots_.MaybeStart([this]() -> ResnapshotWorker::Body {
        // The worker gets its own copy of the catalog types (this thread keeps using its own).
        postgres::TypeResolver resolver = [types = catalog_types_](uint32_t oid) {
          auto it = types.find(oid);
          return it == types.end() ? postgres::TypeResolution{} : it->second;
        };
        return [this, resolver](const ResnapshotRequest& r, const std::atomic<bool>& stop) {
          return Resnapshot(r, resolver, stop);
        };
      });
  if (!started) return;
  resnapshot_state_.Begin(InitialResnapshotState(*started));
  // Accepted once this checkpoint (the newest one handed to the log, with the request) is
  // durable: from then on a restart continues the re-snapshot.
  v1::SourceCheckpoint checkpoint = resnapshot_state_.Stamp(resnapshot_state_.last());
  const Lsn lsn(checkpoint.position().pg().lsn());
  // A failed append drops it: the caller and `status` are told (StoreCallback).
  Submit(
      [&](storage::AppendCallback done) {
        log_.AppendAsync(id_, {}, std::move(checkpoint),
                         requests_.StoreCallback(started->id, started->table, std::move(done)));
      },
      lsn);
}

// Postgres writes a commit record to the WAL before the transaction becomes visible to new
// snapshots, so a transaction that precedes the low watermark in the stream may still be
// invisible to the chunk's SELECT; its change would then sit before an older "r" row. Wait until
// every transaction in progress when the watermark committed has finished (long-open
// transactions delay the chunk; they commit after the watermark, which is harmless).
absl::Status AwaitInFlightCommits(pgclient::ReplicationConnection& sql,
                                  const std::atomic<bool>& stopping) {
  SLUICE_ASSIGN_OR_RETURN(auto snap, sql.Query("SELECT txid_current_snapshot()::text"));
  if (snap.empty() || snap[0].empty()) return absl::DataLossError("no txid_current_snapshot()");
  const std::string check = absl::StrCat(
      "SELECT count(*) FROM txid_snapshot_xip(", sql.QuoteLiteral(snap[0][0]),
      "::txid_snapshot) x WHERE NOT txid_visible_in_snapshot(x, txid_current_snapshot())");
  for (auto waited = std::chrono::milliseconds(0); !stopping.load();
       waited += std::chrono::milliseconds(2)) {
    SLUICE_ASSIGN_OR_RETURN(auto rows, sql.Query(check));
    if (!rows.empty() && !rows[0].empty() && rows[0][0] == "0") return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::CancelledError("stopping during a re-snapshot");
}

absl::Status Session::Resnapshot(const ResnapshotRequest& request,
                                 const postgres::TypeResolver& resolver,
                                 const std::atomic<bool>& stopping) {
  SLUICE_ASSIGN_OR_RETURN(auto names, SplitTableName(request.table));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<pgclient::ReplicationConnection> sql,
                          pgclient::ReplicationConnection::Connect(Params(false)));
  SLUICE_ASSIGN_OR_RETURN(std::vector<storagepb::SnapshotTable> tables,
                          ListPostgresTables(*sql, config_.publication));
  std::erase_if(tables, [&](const storagepb::SnapshotTable& t) {
    return t.database() != names.first || t.table() != names.second;
  });
  if (tables.empty()) {
    return absl::NotFoundError(
        absl::StrCat(request.table, " is not in publication \"", config_.publication, "\""));
  }
  if (tables[0].key_columns().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(request.table, " has no primary key: a re-snapshot reads primary-key chunks"));
  }
  if (request.resumed) ContinueFromStored(request, tables[0]);
  windows_.SetTable(names.first, names.second);
  PostgresSnapshotReader reader(*sql, resolver);
  reader.set_where(request.where);
  auto progress =
      ResnapshotProgress(registry_, config_.name, request.table, tables[0].rows_estimated());
  progress(tables[0].rows_done(), false);
  return RunWatermarkChunks(
      windows_, tables[0], reader, config_,
      [&](const std::string& mark) -> absl::Status {
        SLUICE_RETURN_IF_ERROR(sql->Query(absl::StrCat("SELECT pg_logical_emit_message(true, ",
                                                       sql->QuoteLiteral(kWatermarkPrefix), ", ",
                                                       sql->QuoteLiteral(mark), ")"))
                                   .status());
        if (!absl::EndsWith(mark, ":L")) return absl::OkStatus();
        return AwaitInFlightCommits(*sql, stopping);
      },
      progress, stopping);
}

}  // namespace

absl::Status PostgresSource::RunSession(const std::atomic<bool>& stopping) {
  Session session(config_, log_, id_, registry_, options_, stopping, requests_);
  absl::Status st = session.Run();
  // A statement the server refuses for good (permission denied, undefined table, ...:
  // pgclient/sql_error.h) fails the same way on every retry: the source stays in ERROR with the
  // server's reason until an operator has fixed it. What is stored stays; a new runner resumes.
  if (pgclient::IsPermanentSqlError(st) && !IsFatal(st)) {
    return Fatal(absl::Status(
        st.code(), absl::StrCat("source '", config_.name, "': ", std::string(st.message()),
                                ". Once fixed: sluicectl pause ", config_.name,
                                "; sluicectl resume ", config_.name, " (or restart sluiced)")));
  }
  return st;
}

absl::Status PostgresSource::RequestSnapshot(const std::string& table, const std::string& where) {
  SLUICE_RETURN_IF_ERROR(SplitTableName(table).status());
  SLUICE_ASSIGN_OR_RETURN(std::string id, requests_.Push(table, where));
  // Shown at once, so nobody mistakes an earlier snapshot's "done" for this one's.
  ResnapshotProgress(registry_, config_.name, table, 0)(0, false);
  absl::Status accepted = requests_.AwaitAccepted(id, kResnapshotPickup, kResnapshotStored);
  if (absl::IsUnavailable(accepted)) registry_.SetSnapshotProgress(config_.name, {});
  return accepted;
}

}  // namespace sluice::pipeline
