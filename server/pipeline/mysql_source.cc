#include "server/pipeline/mysql_source.h"

#include <algorithm>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "proto/base/glob.h"
#include "proto/base/status_macros.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/gtid_set.h"
#include "protocol/mysql/transaction_assembler.h"
#include "protocol/mysqlclient/connection.h"
#include "protocol/mysqlclient/messages.h"
#include "server/logging/log.h"
#include "server/pipeline/mysql_privileges.h"
#include "server/pipeline/mysql_resume.h"
#include "server/pipeline/mysql_settings.h"
#include "server/pipeline/mysql_snapshot.h"
#include "server/pipeline/resnapshot_state.h"
#include "server/pipeline/snapshot.h"
#include "server/pipeline/source_support.h"

namespace sluice::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
using mysqlclient::MysqlConnection;

v1::SourceCheckpoint BinlogCheckpoint(const BinlogPosition& pos, const std::string& gtid,
                                      const std::string& gtid_set) {
  v1::SourceCheckpoint cp;
  auto* b = cp.mutable_position()->mutable_binlog();
  b->set_file(pos.file);
  b->set_position(pos.offset);
  b->set_gtid(gtid);
  b->set_gtid_set(gtid_set);
  cp.set_position_text(pos.ToString());
  return cp;
}

constexpr char kSignalTable[] = "sluice_signal";

// A GTID set shortened for a message.
std::string Shorten(std::string text) {
  constexpr size_t kMax = 300;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

// MysqlConnection::Connect's error for `config`'s source. A refused login (a wrong password, no
// such account, a plugin sluice cannot use: mysqlclient::IsLoginRefused) fails every retry the
// same way (and adds an "Access denied" line to the server's log): Fatal, naming the user,
// host:port and the fix. Unreachable servers, timeouts and 1040 keep being retried.
absl::Status ExplainConnectError(const config::SourceConfig& config, const absl::Status& st) {
  const std::string at = absl::StrCat(config.host, ":", config.port);
  if (mysqlclient::IsLoginRefused(st)) {
    const std::string account = absl::StrCat("'", config.user, "'@'%'");
    const std::string fix =
        absl::IsUnimplemented(st)
            ? absl::StrCat("give the account a plugin sluice supports, e.g. ALTER USER ", account,
                           " IDENTIFIED VIA mysql_native_password USING PASSWORD('...') on "
                           "MariaDB, or IDENTIFIED WITH caching_sha2_password BY '...' on MySQL")
            : absl::StrCat(
                  "if the password is wrong, correct it in the source's URL (mysql://",
                  config.user, ":PASSWORD@", at,
                  "/...) or config and restart sluice; if the account is missing or uses "
                  "another plugin, run CREATE USER ",
                  account, " IDENTIFIED BY '...' (or ALTER USER ", account,
                  " IDENTIFIED BY '...') on the server with the GRANTs docs/mysql-source.md "
                  "lists");
    return Fatal(absl::Status(
        st.code(), absl::StrCat("source '", config.name, "': the server at ", at,
                                " refused the login of user '", config.user, "' (",
                                std::string(st.message()), "). Not retried: ", fix,
                                "; then sluicectl pause ", config.name, "; sluicectl resume ",
                                config.name)));
  }
  if (absl::IsUnavailable(st) || absl::IsDeadlineExceeded(st)) {
    return absl::Status(
        st.code(), absl::StrCat("source '", config.name, "': cannot reach the server at ", at,
                                " (", std::string(st.message()),
                                "); check that it is running and that the URL's host and port "
                                "are right. sluice keeps retrying"));
  }
  return st;
}

// One replication session: from connect to the first error or Stop().
class Session : private SessionBase<MysqlSourceOptions> {
 public:
  Session(const config::SourceConfig& config, storage::ChangeLog& log, storage::SourceId id,
          SourceRegistry& registry, const MysqlSourceOptions& options,
          const std::atomic<bool>& stopping, ResnapshotQueue& requests)
      : SessionBase(config, log, id, registry, options, stopping),
        requests_(requests),
        resnapshots_(requests, windows_, registry, config.name) {}

  ~Session() {
    resnapshots_.Stop();
    appends_.Drain();
  }

  absl::Status Run();

 private:
  absl::StatusOr<mysqlclient::ConnectOptions> Options() const;
  absl::Status Connect();
  absl::Status Prepare();
  // On-demand re-snapshot: the worker body, and appending a chunk whose high watermark was
  // just committed.
  absl::Status Resnapshot(const ResnapshotRequest& request, const std::atomic<bool>& stopping);
  void EmitReadyChunk(const BinlogPosition& at);
  // Starts a queued re-snapshot and stores its request in the log (resnapshot_state.h); a
  // stored one is queued again by Prepare.
  void MaybeStartResnapshot();
  bool IsSignal(std::string_view db, std::string_view table) const {
    return !config_.database.empty() && db == config_.database && table == kSignalTable;
  }
  // `resnapshot_reason`: why the stored position is lost (empty for an initial snapshot).
  absl::Status Snapshot(const v1::SourceCheckpoint& stored, bool fresh,
                        const std::string& resnapshot_reason = "");
  absl::StatusOr<bool> BinlogOnServer(const std::string& file, std::string& oldest);
  absl::Status CheckSettings();
  absl::StatusOr<BinlogPosition> CurrentPosition();
  absl::Status CheckBinlogExists(const BinlogPosition& start);
  // Why the stored checkpoint can no longer be streamed from (binlog file or GTIDs purged), or
  // "" when it can.
  absl::StatusOr<std::string> LostReason(const v1::SourceCheckpoint& stored);
  // How to resume from `stored` (mysql_resume.h). FailedPrecondition (fatal) for
  // mysql_resume=gtid without gtid_mode=ON.
  absl::StatusOr<MysqlResumePlan> Plan(const v1::SourceCheckpoint& stored) const;
  absl::Status HandleEvent(std::string bytes);
  absl::Status MaybeStoreIdle(bool force);
  absl::Status Explain(absl::Status st) const;

  // Sink callbacks.
  absl::Status OnBegin(const mysql::TransactionBegin& begin);
  absl::Status OnChange(v1::ChangeEvent event);
  absl::Status OnCommit(const mysql::TransactionCommit& commit);
  absl::Status OnRollback();
  absl::Status OnIdle(const BinlogPosition& position);

  // The checkpoint at `pos` (a transaction boundary), with a running re-snapshot's progress.
  v1::SourceCheckpoint CheckpointAt(const BinlogPosition& pos, const std::string& gtid);
  bool Selected(std::string_view db, std::string_view table) const;

  std::unique_ptr<MysqlConnection> conn_;
  mysql::BinlogDecoder decoder_;
  std::optional<mysql::TransactionAssembler> assembler_;
  mysql::TransactionAssembler::Sink sink_;
  mysql::ChecksumAlg checksum_ = mysql::ChecksumAlg::kOff;
  bool mariadb_ = false;
  std::string gtid_mode_;  // MySQL @@GLOBAL.gtid_mode ("" on MariaDB)
  bool warned_gtids_ = false;
  std::string last_gtid_;  // the GTID of the last committed transaction (MySQL)

  struct OpenTxn {
    uint64_t stage_id = 0;
    std::string txid;
    std::vector<v1::ChangeEvent> events;
    uint64_t bytes = 0;
    uint64_t count = 0;  // every event of the transaction, staged or not
    bool staged = false;
  };
  std::optional<OpenTxn> txn_;
  uint64_t next_stage_id_ = 1;

  // An idle position not yet stored, and when one was last stored.
  std::optional<BinlogPosition> idle_;
  Clock::time_point last_idle_store_{};
  Clock::time_point last_event_{};

  ResnapshotQueue& requests_;
  ResnapshotCheckpoint resnapshot_state_;
  WatermarkWindows windows_;
  ResnapshotWorker resnapshots_;
};

bool Session::Selected(std::string_view db, std::string_view table) const {
  if (config_.tables.empty() || IsSignal(db, table)) return true;
  const std::string qualified = absl::StrCat(std::string(db), ".", std::string(table));
  for (const std::string& pattern : config_.tables) {
    if (table.empty()) {
      // DDL: kept when its database is one the patterns can match.
      const std::string db_part = pattern.substr(0, pattern.find('.'));
      if (GlobMatch(db_part, db)) return true;
    } else if (GlobMatch(pattern, qualified)) {
      return true;
    }
  }
  return false;
}

v1::SourceCheckpoint Session::CheckpointAt(const BinlogPosition& pos, const std::string& gtid) {
  // gtid_set: MariaDB's GTID state, or MySQL's executed GTID set at `pos` when it is known (the
  // assembler's set always belongs to its position, which `pos` is).
  std::string set;
  if (assembler_ && mariadb_) {
    set = assembler_->gtid_state();
  } else if (const mysql::GtidSet* executed = assembler_ ? assembler_->executed_gtids() : nullptr) {
    set = executed->ToString();
  }
  return resnapshot_state_.Stamp(BinlogCheckpoint(pos, gtid, set));
}

absl::StatusOr<MysqlResumePlan> Session::Plan(const v1::SourceCheckpoint& stored) const {
  absl::StatusOr<MysqlResumePlan> plan =
      PlanMysqlResume(config_.mysql_resume, mariadb_, gtid_mode_,
                      stored.position().binlog().gtid_set(), config_.name);
  if (!plan.ok()) return Fatal(plan.status());
  if (!plan->note.empty()) {
    logging::Warn(config_.name,
                  "the stored GTID set is not readable; resuming by file:pos and deriving the set "
                  "again from the binlog",
                  {{"error", plan->note}});
  }
  return plan;
}

absl::Status Session::CheckSettings() {
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet rs, conn_->Query(kMysqlSettingsQuery));
  std::map<std::string, std::string> vars;
  for (const auto& row : rs.rows) {
    if (row.size() >= 2 && row[0] && row[1]) vars[absl::AsciiStrToLower(*row[0])] = *row[1];
  }
  absl::Status st = CheckMysqlSettings(vars, config_.server_id, config_.name);
  if (!st.ok()) return Fatal(st);
  const std::string checksum = absl::AsciiStrToUpper(vars["binlog_checksum"]);
  checksum_ = checksum == "CRC32" ? mysql::ChecksumAlg::kCrc32 : mysql::ChecksumAlg::kOff;
  mariadb_ = absl::StrContains(absl::AsciiStrToLower(vars["version"]), "mariadb");
  gtid_mode_ = mariadb_ ? std::string() : vars["gtid_mode"];
  return absl::OkStatus();
}

absl::StatusOr<BinlogPosition> Session::CurrentPosition() {
  absl::StatusOr<mysqlclient::ResultSet> rs = conn_->Query("SHOW MASTER STATUS");
  if (!rs.ok()) rs = conn_->Query("SHOW BINARY LOG STATUS");  // MySQL 8.4+
  SLUICE_RETURN_IF_ERROR(rs.status());
  if (rs->rows.empty() || rs->rows[0].size() < 2 || !rs->rows[0][0] || !rs->rows[0][1]) {
    return Fatal(absl::FailedPreconditionError(
        absl::StrCat("source '", config_.name,
                     "': SHOW MASTER STATUS returned no binlog position: the binary log is off; "
                     "add log_bin=mysql-bin under [mysqld] in my.cnf and restart the server")));
  }
  BinlogPosition pos;
  pos.file = *rs->rows[0][0];
  if (!absl::SimpleAtoi(*rs->rows[0][1], &pos.offset)) {
    return absl::DataLossError(
        absl::StrCat("SHOW MASTER STATUS: bad position \"", *rs->rows[0][1], "\""));
  }
  return pos;
}

absl::StatusOr<bool> Session::BinlogOnServer(const std::string& file, std::string& oldest) {
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet rs, conn_->Query("SHOW BINARY LOGS"));
  for (const auto& row : rs.rows) {
    if (row.empty() || !row[0]) continue;
    if (oldest.empty()) oldest = *row[0];
    if (*row[0] == file) return true;
  }
  return false;
}

absl::Status Session::CheckBinlogExists(const BinlogPosition& start) {
  std::string first;
  SLUICE_ASSIGN_OR_RETURN(bool on_server, BinlogOnServer(start.file, first));
  if (on_server) return absl::OkStatus();
  return Fatal(absl::NotFoundError(absl::StrCat(
      "source '", config_.name, "': binlog file ", start.file, " (the stored position ",
      start.ToString(), ") is no longer on the server (it was purged; the oldest binlog is ",
      first.empty() ? std::string("none") : first,
      "): the changes after the stored position are lost to sluice. Re-snapshot the source "
      "(snapshot=when_needed) or start over with a new data dir, and raise "
      "binlog_expire_logs_seconds / expire_logs_days so the binlog outlives sluice downtime")));
}

absl::StatusOr<std::string> Session::LostReason(const v1::SourceCheckpoint& stored) {
  SLUICE_ASSIGN_OR_RETURN(MysqlResumePlan plan, Plan(stored));
  if (plan.by == MysqlResumePlan::By::kMysqlGtidSet) {
    // Resumed by GTID set: the server must still have every transaction not in it, i.e. the
    // GTIDs it purged must all be in the set (the file name does not matter, and differs after
    // a failover).
    SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet rs, conn_->Query("SELECT @@GLOBAL.gtid_purged"));
    std::string text;
    if (!rs.rows.empty() && !rs.rows[0].empty() && rs.rows[0][0]) text = *rs.rows[0][0];
    absl::StatusOr<mysql::GtidSet> purged = mysql::GtidSet::Parse(text);
    if (!purged.ok()) {
      return absl::DataLossError(
          absl::StrCat("@@GLOBAL.gtid_purged: ", std::string(purged.status().message())));
    }
    if (plan.executed->ContainsAll(*purged)) return std::string();
    return absl::StrCat("the server purged GTIDs the stored GTID set ",
                        Shorten(plan.executed->ToString()), " does not hold (gtid_purged is ",
                        Shorten(purged->ToString()), ")");
  }
  std::string oldest;
  SLUICE_ASSIGN_OR_RETURN(bool on_server,
                          BinlogOnServer(stored.position().binlog().file(), oldest));
  if (on_server) return std::string();
  return absl::StrCat("the stored position ", stored.position_text(),
                      " is no longer on the server (binlog purged; oldest is ",
                      oldest.empty() ? std::string("none") : oldest, ")");
}

// Adds the reason and the fix to errors the server gives while dumping.
absl::Status Session::Explain(absl::Status st) const {
  if (absl::StrContains(st.message(), "MySQL error 1236")) {
    return Fatal(absl::FailedPreconditionError(absl::StrCat(
        "source '", config_.name, "': the server cannot send the binlog from ",
        assembler_ ? assembler_->position().ToString() : std::string("the stored position"),
        assembler_ && !assembler_->gtid_state().empty()
            ? absl::StrCat(" / GTID state ", assembler_->gtid_state())
        : assembler_ && assembler_->executed_gtids()
            ? absl::StrCat(" / GTID set ", Shorten(assembler_->executed_gtids()->ToString()))
            : std::string(),
        " (", std::string(st.message()),
        "). If that part of the binlog is no longer on the server (purged), the changes after "
        "it are lost to sluice: Re-snapshot the source (snapshot=when_needed) or start over "
        "with a new data dir")));
  }
  return st;
}

absl::StatusOr<mysqlclient::ConnectOptions> Session::Options() const {
  return MysqlConnectOptions(config_, options_.connect_timeout);
}

absl::Status Session::Connect() {
  conn_.reset();
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ConnectOptions opts, Options());
  absl::StatusOr<std::unique_ptr<MysqlConnection>> conn = MysqlConnection::Connect(opts);
  if (!conn.ok()) return ExplainConnectError(config_, conn.status());
  conn_ = *std::move(conn);
  return absl::OkStatus();
}

// Takes (fresh) or continues the snapshot, on conn_ as an ordinary SQL session.
absl::Status Session::Snapshot(const v1::SourceCheckpoint& stored, bool fresh,
                               const std::string& resnapshot_reason) {
  if (fresh) {
    // A table the user has no privilege on is invisible to ListMysqlTables but streamed: refuse
    // instead of leaving its rows out (mysql_privileges.h).
    absl::Status readable = CheckMysqlSnapshotPrivileges(*conn_, config_.tables, mariadb_);
    if (absl::IsPermissionDenied(readable) && !mysqlclient::MysqlErrorCode(readable)) {
      return Fatal(absl::PermissionDeniedError(
          absl::StrCat("source '", config_.name, "': ", std::string(readable.message()),
                       "; then sluicectl pause ", config_.name, "; sluicectl resume ",
                       config_.name, " (not retried until then)")));
    }
    SLUICE_RETURN_IF_ERROR(readable);
  }
  SLUICE_ASSIGN_OR_RETURN(MysqlCut opened, OpenMysqlSnapshot(*conn_, mariadb_, fresh));
  storagepb::SnapshotState state;
  v1::SourceCheckpoint cut = stored;
  if (fresh) {
    SLUICE_ASSIGN_OR_RETURN(
        std::vector<storagepb::SnapshotTable> tables,
        ListMysqlTables(*conn_, [this](std::string_view db, std::string_view table) {
          return Selected(db, table) && !IsSignal(db, table);
        }));
    SLUICE_RETURN_IF_ERROR(CheckKeyless(config_, tables));
    for (auto& t : tables) *state.add_tables() = std::move(t);
    state.set_started_ts_micros(NowMicros());
    state.set_method(opened.exact ? "consistent" : "later");
    // MySQL: gtid_executed is the set at the cut only when it was read under the read lock
    // (no commit in between); otherwise the stream derives it from the binlog.
    cut = BinlogCheckpoint(opened.position, "",
                           mariadb_ || opened.exact ? opened.gtid_state : std::string());
  } else {
    SLUICE_ASSIGN_OR_RETURN(storagepb::ConnectorState cs, ParseConnectorState(stored));
    state = cs.snapshot();
    PrepareResume(state);
  }
  v1::SourceInfo info;
  info.set_name(config_.name);
  info.set_kind(v1::SOURCE_KIND_MYSQL);
  info.set_position(cut.position_text());
  auto* b = info.mutable_typed_position()->mutable_binlog();
  b->set_file(cut.position().binlog().file());
  b->set_position(cut.position().binlog().position());
  if (fresh) {
    std::vector<v1::ChangeEvent> markers;
    if (!resnapshot_reason.empty()) markers = ResnapshotMarkers(state, info, resnapshot_reason);
    SLUICE_RETURN_IF_ERROR(
        log_.Append(id_, std::move(markers), WithSnapshotState(cut, &state)).status());
  }
  MysqlSnapshotReader reader(*conn_);
  reader.set_source(config_.name);
  absl::Status st =
      RunSnapshot(reader, config_, log_, id_, registry_, stopping_, cut, std::move(state), info);
  if (absl::IsPermissionDenied(st)) {
    // The server refuses to read a selected table (e.g. 1142, SELECT command denied): every
    // retry would meet it again. The source stays in ERROR; what is stored stays.
    return Fatal(absl::PermissionDeniedError(absl::StrCat(
        "source '", config_.name, "': ", std::string(st.message()),
        " (not retried: sluice reads every selected table; run GRANT SELECT ON the table TO "
        "sluice's user, then sluicectl pause ",
        config_.name, "; sluicectl resume ", config_.name, ")")));
  }
  SLUICE_RETURN_IF_ERROR(st);
  return conn_->Query("COMMIT").status();
}

absl::Status Session::Prepare() {
  SLUICE_RETURN_IF_ERROR(Connect());
  SLUICE_RETURN_IF_ERROR(CheckSettings());
  SLUICE_RETURN_IF_ERROR(log_.DiscardAllStaged(id_));

  SLUICE_ASSIGN_OR_RETURN(v1::SourceCheckpoint stored, log_.Checkpoint(id_));
  SLUICE_RETURN_IF_ERROR(Plan(stored).status());  // mysql_resume=gtid without GTIDs: refuse now
  const bool never_started =
      !stored.position().has_binlog() || stored.position().binlog().file().empty();
  if (SnapshotInProgress(stored) ||
      (never_started && config_.snapshot != config::SnapshotMode::kNever)) {
    SLUICE_RETURN_IF_ERROR(Snapshot(stored, never_started));
    SLUICE_RETURN_IF_ERROR(Connect());  // a new session for the dump
    SLUICE_ASSIGN_OR_RETURN(stored, log_.Checkpoint(id_));
  } else if (!never_started && config_.snapshot == config::SnapshotMode::kWhenNeeded) {
    // The stored position is gone (binlog purged while sluice was down): take a new snapshot
    // at a new cut instead of failing. Its "t" markers tell subscribers to drop their copy.
    SLUICE_ASSIGN_OR_RETURN(std::string lost, LostReason(stored));
    if (!lost.empty()) {
      SLUICE_RETURN_IF_ERROR(Snapshot(stored, /*fresh=*/true, lost));
      SLUICE_RETURN_IF_ERROR(Connect());
      SLUICE_ASSIGN_OR_RETURN(stored, log_.Checkpoint(id_));
    }
  }
  BinlogPosition start;
  std::string gtid_state;
  const bool first_start =
      !stored.position().has_binlog() || stored.position().binlog().file().empty();
  // MariaDB resumes by GTID state when there is one (it survives a change of primary, and the
  // server finds the file); MySQL by its executed GTID set when gtid_mode=ON (COM_BINLOG_DUMP_GTID:
  // the server starts at the first binlog holding a transaction not in the set, also on a new
  // primary); otherwise by file:pos, which must still be on the server (mysql_resume.h).
  SLUICE_ASSIGN_OR_RETURN(MysqlResumePlan plan, Plan(stored));
  if (options_.reread_start_file_for_testing) {
    plan.by = MysqlResumePlan::By::kPosition;
    plan.derive = !plan.executed;
  }
  if (!first_start) {
    start.file = stored.position().binlog().file();
    start.offset = stored.position().binlog().position();
    gtid_state = stored.position().binlog().gtid_set();
    last_gtid_ = stored.position().binlog().gtid();
    if (plan.by == MysqlResumePlan::By::kMysqlGtidSet) {
      SLUICE_ASSIGN_OR_RETURN(std::string lost, LostReason(stored));
      if (!lost.empty()) {
        return Fatal(absl::NotFoundError(absl::StrCat(
            "source '", config_.name, "': ", lost,
            ": the changes after the stored position are lost to sluice. Re-snapshot the source "
            "(snapshot=when_needed) or start over with a new data dir, and raise "
            "binlog_expire_logs_seconds so the binlog outlives sluice downtime")));
      }
    } else if (plan.by == MysqlResumePlan::By::kPosition) {
      SLUICE_RETURN_IF_ERROR(CheckBinlogExists(start));
    }
  } else {
    // First start: stream from the current end of the binlog (stored below before reading
    // anything, so a restart continues from here and not from a later "current").
    SLUICE_ASSIGN_OR_RETURN(start, CurrentPosition());
    if (mariadb_ && start.file.find_first_of("'\\") == std::string::npos) {
      // The GTID state *at that position* (not @@gtid_binlog_pos, which may already include a
      // transaction committed after it).
      SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet gtid,
                              conn_->Query(absl::StrCat("SELECT BINLOG_GTID_POS('", start.file,
                                                        "', ", start.offset, ")")));
      if (!gtid.rows.empty() && !gtid.rows[0].empty() && gtid.rows[0][0]) {
        gtid_state = *gtid.rows[0][0];
      }
    }
  }
  if (start.offset > UINT32_MAX) {
    return Fatal(absl::DataLossError(
        absl::StrCat("source '", config_.name, "': stored position ", start.ToString(),
                     " is beyond 4 GiB, which COM_BINLOG_DUMP cannot address")));
  }
  assembler_.emplace(start, mariadb_ ? gtid_state : std::string());
  assembler_->set_filter(
      [this](std::string_view db, std::string_view table) { return Selected(db, table); });
  // MySQL: track the executed GTID set for the checkpoints. Without a stored set, derive it
  // (PREVIOUS_GTIDS of the start file plus the GTIDs before the start): the dump then reads the
  // start file from its beginning, and the assembler reports nothing before the start.
  // @@GLOBAL.gtid_executed would not do: it is not tied to any position.
  if (plan.executed) {
    assembler_->TrackExecutedGtids(*plan.executed);
  } else if (plan.derive) {
    assembler_->DeriveExecutedGtids();
    logging::Info(config_.name, "deriving the executed GTID set at the start position",
                  {{"position", start.ToString()},
                   {"reads", absl::StrCat(start.file, ":4 to ", start.offset)}});
  }
  if (first_start) {
    SLUICE_RETURN_IF_ERROR(log_.Append(id_, {}, CheckpointAt(start, "")).status());
  }

  const int64_t heartbeat_ns = int64_t{options_.heartbeat_period.count()} * 1'000'000;
  SLUICE_RETURN_IF_ERROR(
      conn_->Query("SET @master_binlog_checksum = @@GLOBAL.binlog_checksum").status());
  SLUICE_RETURN_IF_ERROR(
      conn_->Query(absl::StrCat("SET @master_heartbeat_period = ", heartbeat_ns)).status());
  // MariaDB: send GTID events (capability 4 = MARIA_SLAVE_CAPABILITY_GTID). MySQL ignores it.
  SLUICE_RETURN_IF_ERROR(conn_->Query("SET @mariadb_slave_capability = 4").status());
  if (plan.by == MysqlResumePlan::By::kMariadbGtidState) {
    // The server starts after this GTID state and ignores the file and position; strict mode
    // refuses a state the server's binlog does not continue (a diverged history).
    SLUICE_RETURN_IF_ERROR(
        conn_->Query(absl::StrCat("SET @slave_connect_state = '", gtid_state, "'")).status());
    SLUICE_RETURN_IF_ERROR(conn_->Query("SET @slave_gtid_strict_mode = 1").status());
    SLUICE_RETURN_IF_ERROR(conn_->Query("SET @slave_gtid_ignore_duplicates = 0").status());
  }
  SLUICE_RETURN_IF_ERROR(conn_->RegisterReplica(config_.server_id));
  if (plan.by == MysqlResumePlan::By::kMysqlGtidSet) {
    // Empty file name and position 4: the server starts at the first binlog holding a
    // transaction not in the set and skips those in it (a heartbeat marks each skipped group).
    SLUICE_RETURN_IF_ERROR(conn_->StartBinlogDumpGtid(*plan.executed, config_.server_id));
  } else {
    const uint32_t from = plan.derive ? 4u : static_cast<uint32_t>(start.offset);
    SLUICE_RETURN_IF_ERROR(conn_->StartBinlogDump(start.file, from, config_.server_id));
  }
  decoder_.set_initial_checksum(checksum_);
  decoder_.set_file_name(start.file);

  sink_.begin = [this](const mysql::TransactionBegin& b) { return OnBegin(b); };
  sink_.change = [this](v1::ChangeEvent e) { return OnChange(std::move(e)); };
  sink_.commit = [this](const mysql::TransactionCommit& c) { return OnCommit(c); };
  sink_.rollback = [this] { return OnRollback(); };
  sink_.idle = [this](const BinlogPosition& p) { return OnIdle(p); };
  return ResumeStoredResnapshot(log_, id_, resnapshot_state_, requests_, registry_, config_.name);
}

void Session::MaybeStartResnapshot() {
  if (resnapshots_.Reap()) resnapshot_state_.End();  // finished or failed: nothing to continue
  std::optional<ResnapshotRequest> started =
      resnapshots_.MaybeStart([this]() -> ResnapshotWorker::Body {
        return [this](const ResnapshotRequest& r, const std::atomic<bool>& stop) {
          return Resnapshot(r, stop);
        };
      });
  if (!started) return;
  resnapshot_state_.Begin(InitialResnapshotState(*started));
  // Accepted once this checkpoint (the newest one handed to the log, with the request) is
  // durable: from then on a restart continues the re-snapshot.
  // A failed append drops it: the caller and `status` are told (StoreCallback).
  log_.AppendAsync(id_, {}, resnapshot_state_.Stamp(resnapshot_state_.last()),
                   requests_.StoreCallback(started->id, started->table, appends_.Track()));
}

absl::Status Session::OnBegin(const mysql::TransactionBegin& begin) {
  txn_.emplace();
  txn_->stage_id = next_stage_id_++;
  txn_->txid = begin.gtid.empty() ? begin.position.ToString() : begin.gtid;
  return absl::OkStatus();
}

absl::Status Session::OnChange(v1::ChangeEvent event) {
  if (!txn_) return absl::InternalError("change outside a transaction");
  if (IsSignal(event.source().database(), event.source().table())) {
    // A watermark (ours, or another sluice's on the same server): never stored.
    for (const v1::Field& f : event.after().fields()) {
      if (f.name() == "mark") windows_.OnWatermark(f.value().string());
    }
    return absl::OkStatus();
  }
  windows_.OnChange(event);
  txn_->bytes += event.ByteSizeLong();
  ++txn_->count;
  txn_->events.push_back(std::move(event));
  if (txn_->bytes >= options_.stage_threshold_bytes ||
      txn_->events.size() >= options_.max_buffered_events) {
    SLUICE_RETURN_IF_ERROR(log_.Stage(id_, txn_->stage_id, std::move(txn_->events)));
    txn_->events.clear();
    txn_->bytes = 0;
    txn_->staged = true;
  }
  return absl::OkStatus();
}

absl::Status Session::OnCommit(const mysql::TransactionCommit& commit) {
  if (!txn_) return absl::InternalError("commit outside a transaction");
  OpenTxn txn = std::move(*txn_);
  txn_.reset();
  if (!commit.gtid.empty()) last_gtid_ = commit.gtid;
  if (assembler_->gave_up_gtids() && !warned_gtids_) {
    warned_gtids_ = true;
    logging::Warn(
        config_.name,
        "the executed GTID set has too many gaps to store with every checkpoint; it is "
        "no longer kept, and this source resumes by file:pos",
        {{"max_intervals", absl::StrCat(mysql::TransactionAssembler::kMaxExecutedGtidIntervals)}});
  }
  if (txn.events.empty() && !txn.staged) {  // all rows filtered out (or a watermark)
    SLUICE_RETURN_IF_ERROR(OnIdle(commit.next));
    EmitReadyChunk(commit.next);
    return absl::OkStatus();
  }

  v1::SourceInfo info;
  info.set_name(config_.name);
  info.set_kind(v1::SOURCE_KIND_MYSQL);
  info.set_txid(txn.txid);
  info.set_gtid(commit.gtid);
  info.set_commit_ts_micros(commit.commit_micros ? static_cast<int64_t>(*commit.commit_micros)
                                                 : int64_t{commit.timestamp} * 1'000'000);
  info.set_position(commit.next.ToString());
  auto* b = info.mutable_typed_position()->mutable_binlog();
  b->set_file(commit.next.file);
  b->set_position(commit.next.offset);
  b->set_gtid(commit.gtid);
  v1::SourceCheckpoint checkpoint = CheckpointAt(commit.next, last_gtid_);
  idle_.reset();
  if (txn.staged) {
    log_.AppendStagedAsync(id_, txn.stage_id, std::move(txn.events), info, std::move(checkpoint),
                           appends_.Track({}, txn.count));
  } else {
    log_.AppendAsync(id_, std::move(txn.events), info, std::move(checkpoint),
                     appends_.Track({}, txn.count));
  }
  EmitReadyChunk(commit.next);
  return absl::OkStatus();
}

void Session::EmitReadyChunk(const BinlogPosition& at) {
  std::string id;
  std::optional<WatermarkWindows::Ready> ready = windows_.TakeReady(id);
  if (!ready) return;  // nothing ready, or the chunk must be read again (the worker knows)
  // The chunk's append (also one without rows: every row changed in the window) stores the
  // table's progress after it; the append that holds the last chunk ends the stored state.
  resnapshot_state_.Advance(ready->after);
  {
    v1::SourceInfo info;
    info.set_name(config_.name);
    info.set_kind(v1::SOURCE_KIND_MYSQL);
    std::tie(*info.mutable_database(), *info.mutable_table()) = windows_.table();
    info.set_snapshot(true);
    info.set_commit_ts_micros(NowMicros());
    info.set_position(at.ToString());
    auto* b = info.mutable_typed_position()->mutable_binlog();
    b->set_file(at.file);
    b->set_position(at.offset);
    idle_.reset();
    const uint64_t count = ready->rows.events.size();
    log_.AppendAsync(id_, std::move(ready->rows.events), info, CheckpointAt(at, last_gtid_),
                     windows_.EmitWhenDurable(id, appends_.Track({}, count)));
  }
}

absl::Status Session::Resnapshot(const ResnapshotRequest& request,
                                 const std::atomic<bool>& stopping) {
  SLUICE_ASSIGN_OR_RETURN(auto names, SplitTableName(request.table));
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ConnectOptions opts, Options());
  absl::StatusOr<std::unique_ptr<MysqlConnection>> conn_or = MysqlConnection::Connect(opts);
  if (!conn_or.ok()) return ExplainConnectError(config_, conn_or.status());
  std::unique_ptr<MysqlConnection> conn = *std::move(conn_or);
  SLUICE_RETURN_IF_ERROR(PrepareMysqlReadSession(*conn));
  const std::string signal =
      absl::StrCat(QuoteMysqlIdentifier(config_.database), ".", QuoteMysqlIdentifier(kSignalTable));
  SLUICE_RETURN_IF_ERROR(conn->Query(absl::StrCat("CREATE TABLE IF NOT EXISTS ", signal,
                                                  " (source VARCHAR(64) PRIMARY KEY, "
                                                  "mark VARCHAR(128) NOT NULL)"))
                             .status());
  SLUICE_ASSIGN_OR_RETURN(std::vector<storagepb::SnapshotTable> tables,
                          ListMysqlTables(*conn, [&](std::string_view db, std::string_view table) {
                            return db == names.first && table == names.second;
                          }));
  if (tables.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "there is no base table ", request.table,
        ", or sluice's user has no privilege on it (then it is invisible; run GRANT SELECT ON ",
        QuoteMysqlIdentifier(names.first), ".", QuoteMysqlIdentifier(names.second),
        " TO sluice's user)"));
  }
  if (tables[0].key_columns().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(request.table, " has no primary key: a re-snapshot reads primary-key chunks"));
  }
  if (request.resumed && !ContinueFromStored(request, tables[0])) {
    logging::Warn(config_.name,
                  "the continued re-snapshot reads its table from the start: no chunk was stored "
                  "yet, or the table's primary key changed",
                  {{"table", request.table}});
  }
  windows_.SetTable(names.first, names.second);
  MysqlSnapshotReader reader(*conn);
  reader.set_source(config_.name);
  reader.set_where(request.where);
  auto progress =
      ResnapshotProgress(registry_, config_.name, request.table, tables[0].rows_estimated());
  progress(tables[0].rows_done(), false);
  const std::string upsert_prefix = absl::StrCat("INSERT INTO ", signal, " (source, mark) VALUES (",
                                                 QuoteMysqlLiteral(config_.name, false), ", ");
  return RunWatermarkChunks(
      windows_, tables[0], reader, config_,
      [&](const std::string& mark) {
        return conn
            ->Query(absl::StrCat(upsert_prefix, QuoteMysqlLiteral(mark, false),
                                 ") ON DUPLICATE KEY UPDATE mark = VALUES(mark)"))
            .status();
      },
      progress, stopping);
}

absl::Status Session::OnRollback() {
  if (!txn_) return absl::OkStatus();
  const bool staged = txn_->staged;
  const uint64_t stage_id = txn_->stage_id;
  txn_.reset();
  return staged ? log_.DiscardStaged(id_, stage_id) : absl::OkStatus();
}

absl::Status Session::OnIdle(const BinlogPosition& position) {
  idle_ = position;
  return MaybeStoreIdle(false);
}

absl::Status Session::MaybeStoreIdle(bool force) {
  if (!idle_ || txn_) return absl::OkStatus();
  const auto now = Clock::now();
  if (!force && now - last_idle_store_ < options_.idle_checkpoint_interval) {
    return absl::OkStatus();
  }
  last_idle_store_ = now;
  v1::SourceCheckpoint checkpoint = CheckpointAt(*idle_, last_gtid_);
  idle_.reset();
  log_.AppendAsync(id_, {}, std::move(checkpoint), appends_.Track());
  return absl::OkStatus();
}

absl::Status Session::HandleEvent(std::string bytes) {
  const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
  // The event's own offset: log_pos (the next event's offset) minus its size, when known.
  uint64_t position = 0;
  if (bytes.size() >= mysql::kEventHeaderLength) {
    absl::StatusOr<mysql::EventHeader> h = mysql::DecodeEventHeader({data, bytes.size()});
    if (h.ok() && h->log_pos >= h->event_size) position = h->log_pos - h->event_size;
  }
  SLUICE_ASSIGN_OR_RETURN(mysql::Event event, decoder_.Decode({data, bytes.size()}, position));
  if (const auto* rotate = std::get_if<mysql::Rotate>(&event.body)) {
    decoder_.set_file_name(rotate->next_file);
  }
  return assembler_->Feed(std::move(event), sink_);
}

absl::Status Session::Run() {
  registry_.SetState(config_.name, v1::SOURCE_STATE_CONNECTING);
  SLUICE_RETURN_IF_ERROR(Prepare());
  registry_.SetState(config_.name, v1::SOURCE_STATE_STREAMING);
  const auto dead_after = options_.heartbeat_period * 3 + std::chrono::seconds(5);
  last_event_ = Clock::now();
  while (!stopping_.load()) {
    SLUICE_RETURN_IF_ERROR(appends_.error());
    MaybeStartResnapshot();
    absl::StatusOr<std::string> bytes = conn_->ReadBinlogEvent(absl::Milliseconds(200));
    if (absl::IsDeadlineExceeded(bytes.status())) {
      if (Clock::now() - last_event_ > dead_after) {
        return absl::UnavailableError(
            absl::StrCat("source '", config_.name, "': no binlog event or heartbeat from ",
                         config_.host, ":", config_.port, " for ",
                         std::chrono::duration_cast<std::chrono::seconds>(dead_after).count(),
                         " s; reconnecting"));
      }
      SLUICE_RETURN_IF_ERROR(MaybeStoreIdle(false));
      continue;
    }
    if (absl::IsOutOfRange(bytes.status())) {
      return absl::UnavailableError(
          absl::StrCat("source '", config_.name, "': the server ended the binlog stream"));
    }
    if (!bytes.ok()) return Explain(bytes.status());
    last_event_ = Clock::now();
    absl::Status st = HandleEvent(*std::move(bytes));
    if (!st.ok()) {
      // A decoding error names file:pos; it repeats on reconnect, so an operator must look.
      return absl::IsUnavailable(st) ? st : Fatal(st);
    }
  }
  appends_.Drain();
  SLUICE_RETURN_IF_ERROR(appends_.error());  // never store a position past a failed append
  return MaybeStoreIdle(true);
}

// A server error that fails the same way on every retry (mysqlclient::IsPermanentMysqlError:
// a missing table or column, a privilege, a server setting) stops the source with what to do,
// instead of retrying it forever.
absl::Status PermanentServerErrorIsFatal(absl::Status st, const std::string& name) {
  if (st.ok() || IsFatal(st) || !mysqlclient::IsPermanentMysqlError(st)) return st;
  std::string fix;
  switch (st.code()) {
    case absl::StatusCode::kPermissionDenied:
      fix = "grant sluice's user the privilege the server names (docs/mysql-source.md lists "
            "what it needs)";
      break;
    case absl::StatusCode::kNotFound:
      fix = "a database, table or column sluice reads is missing: check the source URL and "
            "tables= against the server; a table altered or renamed while a snapshot was "
            "interrupted needs a new data dir (a table dropped during a snapshot is skipped)";
      break;
    default:
      fix = "the server refuses this statement the same way on every try: fix the server "
            "setting it names, or report it as a sluice bug if the statement is malformed";
      break;
  }
  return Fatal(absl::Status(
      st.code(), absl::StrCat("source '", name, "': ", std::string(st.message()),
                              " (not retried: ", fix, "; then sluicectl pause ", name,
                              "; sluicectl resume ", name, ")")));
}

}  // namespace

absl::Status MysqlSource::RunSession(const std::atomic<bool>& stopping) {
  Session session(config_, log_, id_, registry_, options_, stopping, requests_);
  return PermanentServerErrorIsFatal(session.Run(), config_.name);
}

absl::Status MysqlSource::RequestSnapshot(const std::string& table, const std::string& where) {
  SLUICE_RETURN_IF_ERROR(SplitTableName(table).status());
  if (config_.database.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source '", config_.name,
        "': a re-snapshot writes watermarks to a table DATABASE.sluice_signal, and the source "
        "URL names no database: add one (mysql://USER@HOST:PORT/DATABASE?...); sluice creates "
        "the table there and needs INSERT, UPDATE and CREATE on it"));
  }
  SLUICE_ASSIGN_OR_RETURN(std::string id, requests_.Push(table, where));
  // Shown at once, so nobody mistakes an earlier snapshot's "done" for this one's.
  ResnapshotProgress(registry_, config_.name, table, 0)(0, false);
  absl::Status accepted = requests_.AwaitAccepted(id, kResnapshotPickup, kResnapshotStored);
  if (absl::IsUnavailable(accepted) || absl::IsAborted(accepted)) {
    registry_.SetSnapshotProgress(config_.name, {});
  }
  return accepted;
}

}  // namespace sluice::pipeline
