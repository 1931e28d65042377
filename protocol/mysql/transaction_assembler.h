#pragma once
// TransactionAssembler: turns the decoded event stream of one binlog (a live dump or a file) into
// transactions: begin, changes, then commit (with the position *after* the transaction) or
// rollback. It is the one place that knows how MySQL and MariaDB frame transactions:
//
//   MySQL    GTID | ANONYMOUS_GTID · QUERY "BEGIN" · (TABLE_MAP · ROWS*)* · XID | QUERY "COMMIT"
//            GTID · QUERY <ddl>                                 (DDL commits on its own)
//            TRANSACTION_PAYLOAD{ the above }                   (binlog_transaction_compression)
//   MariaDB  GTID(162, not standalone) · (TABLE_MAP · ROWS*)* · XID | QUERY "COMMIT"
//            GTID(162, standalone) · QUERY <ddl>
//   Without GTID events (old servers, no @mariadb_slave_capability) BEGIN opens the transaction.
//
// Positions: a commit carries {file, header.log_pos of the commit event} (for a transaction in a
// TRANSACTION_PAYLOAD, the payload's log_pos), which is where a dump must restart to continue
// after it. The fake ROTATE a dump starts with (timestamp 0 or log_pos 0) only names the file.
// A real ROTATE, and a HEARTBEAT, between transactions report an idle position so the caller can
// checkpoint an idle source.
//
// MySQL executed GTID set (for COM_BINLOG_DUMP_GTID): when tracking is on, the assembler keeps
// the set of GTIDs executed up to position(): a transaction's GTID joins the set when the
// transaction ends (commit, rollback, or the next GTID event for a statement that formed no
// transaction), so the set always matches the position a checkpoint stores with it. It starts
// either from a known set (a checkpoint's) or is derived from the binlog itself: for a stream
// that starts at offset 4 of the file a position lies in, the set at that position is the
// file's PREVIOUS_GTIDS plus the GTIDs of the transactions before the position. In derive mode
// the events that end at or before the start position are read only for that (no callbacks);
// `@@GLOBAL.gtid_executed` is not used because it is not tied to any position. A set that grows
// beyond kMaxExecutedGtidIntervals intervals (a server whose gtid_executed has that many gaps)
// stops being tracked: executed_gtids() returns null and the caller resumes by file:pos.
//
// Pure: no I/O, no clocks. Errors, naming file:pos: InvalidArgument for statement-based DML
// (binlog_format is not ROW); DataLoss for an INCIDENT event and for a GTID that starts a
// transaction while another is open. Thread-compatible.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/base/positions.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/gtid_set.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

struct TransactionBegin {
  BinlogPosition position;  // the first event of the transaction (its GTID event, or BEGIN)
  std::string gtid;         // "uuid:gno", "uuid:tag:gno", MariaDB "d-s-n"; empty if none
};

struct TransactionCommit {
  BinlogPosition next;     // where to resume after this transaction
  std::string gtid;        // as in TransactionBegin
  std::string gtid_state;  // MariaDB: the GTID position after this transaction ("0-1-42,1-2-7");
                           // MySQL: empty (see executed_gtids())
  uint32_t timestamp = 0;  // the commit event's header timestamp (seconds)
  std::optional<uint64_t> commit_micros;  // MySQL GTID immediate_commit_timestamp, when present
  uint64_t xid = 0;                       // 0 for a QUERY COMMIT or a standalone DDL
};

class TransactionAssembler {
 public:
  // Callbacks; any error they return stops Feed and is returned from it.
  struct Sink {
    std::function<absl::Status(const TransactionBegin&)> begin;
    // A change of the open transaction (row or DDL), after the table filter.
    std::function<absl::Status(v1::ChangeEvent)> change;
    std::function<absl::Status(const TransactionCommit&)> commit;
    std::function<absl::Status()> rollback;
    // Between transactions: the stream has reached `position` (real ROTATE, HEARTBEAT).
    std::function<absl::Status(const BinlogPosition&)> idle;
  };

  // `start` is where the stream starts (a dump's requested file and position; a file's name and
  // 4). `gtid_state` seeds the MariaDB GTID position ("" if unknown).
  TransactionAssembler(BinlogPosition start, std::string gtid_state = "");

  // Only rows (and DDL) of tables for which `filter(database, table)` is true become changes;
  // DDL passes when `filter(database, "")` is true. Default: everything.
  void set_filter(std::function<bool(std::string_view db, std::string_view table)> filter) {
    filter_ = std::move(filter);
  }

  // Consumes one decoded event (row images are moved out of it).
  absl::Status Feed(Event event, const Sink& sink);

  // Statement-based DML and INCIDENT events are errors by default (streaming past them would
  // lose changes). The offline decoder sets this to skip them instead and count them, the way
  // mysqlbinlog -v prints them without rows.
  void set_skip_statement_dml(bool skip) { offline_ = skip; }
  uint64_t skipped_statements() const { return skipped_statements_; }

  // MySQL executed GTID set tracking (see the top of this file). Call one of these before the
  // first Feed. TrackExecutedGtids: `executed` is the set at the start position.
  void TrackExecutedGtids(GtidSet executed);
  // Derive the set: the caller streams from offset 4 of the start position's file; events that
  // end at or before the start offset only contribute their GTIDs (and the PREVIOUS_GTIDS).
  void DeriveExecutedGtids();
  // The executed set at position() (inside a sink callback: including the transaction being
  // committed), or null while it is unknown: no tracking, deriving and either no PREVIOUS_GTIDS
  // seen yet or the start not reached yet, or given up for size.
  const GtidSet* executed_gtids() const;
  // Whether tracking stopped because the set outgrew kMaxExecutedGtidIntervals.
  bool gave_up_gtids() const { return gave_up_gtids_; }
  static constexpr size_t kMaxExecutedGtidIntervals = 1000;

  bool in_transaction() const { return in_txn_; }
  // The position after the last whole transaction or idle point seen.
  const BinlogPosition& position() const { return position_; }
  const std::string& gtid_state() const;

 private:
  absl::Status FeedOne(Event& event, uint32_t next_pos, const Sink& sink);
  absl::Status Begin(const Sink& sink);
  absl::Status Commit(const EventHeader& header, uint32_t next_pos, uint64_t xid, const Sink& sink);
  absl::Status Ddl(const Query& query, const Sink& sink);
  std::string where(uint64_t pos) const;
  // Derive mode: whether `event` ends at or before the start position (read for GTIDs only).
  bool BeforeStart(const Event& event) const;
  absl::Status ObserveBeforeStart(const Event& event);
  absl::Status SeedFromPrevious(const Event& event, const PreviousGtids& previous);
  // Adds the pending MySQL GTID (the transaction just ended) to the executed set.
  absl::Status AddPendingGtid();
  absl::Status AddExecuted(const Uuid& sid, const std::string& tag, int64_t gno, uint64_t at);
  absl::Status CheckExecutedSize();

  enum class Gtids { kOff, kDeriving, kKnown };
  Gtids gtids_ = Gtids::kOff;
  GtidSet executed_;
  std::optional<uint64_t> skip_until_;  // derive mode: the start offset, until passed
  struct PendingGtid {
    Uuid sid{};
    std::string tag;
    int64_t gno = 0;
    uint64_t at = 0;
  };
  std::optional<PendingGtid> pending_gtid_;
  bool gave_up_gtids_ = false;

  std::function<bool(std::string_view, std::string_view)> filter_;
  BinlogPosition position_;
  std::string file_;
  bool in_txn_ = false;
  bool standalone_pending_ = false;  // MariaDB standalone GTID: the next statement commits alone
  std::string gtid_;
  uint64_t begin_at_ = 0;  // position of the GTID event (or BEGIN) of the next transaction
  std::optional<std::pair<uint32_t, std::string>> maria_pending_;  // domain, gtid
  std::optional<uint64_t> commit_micros_;
  std::map<uint32_t, std::string> maria_domains_;  // domain -> "d-s-n"
  mutable std::string gtid_state_;
  bool offline_ = false;
  uint64_t skipped_statements_ = 0;
};

}  // namespace sluice::mysql
