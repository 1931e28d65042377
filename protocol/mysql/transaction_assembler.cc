#include "protocol/mysql/transaction_assembler.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "proto/base/status_macros.h"
#include "protocol/mysql/change_mapping.h"

namespace sluice::mysql {
namespace {

bool IsFakeRotate(const EventHeader& h) { return h.timestamp == 0 || h.log_pos == 0; }

// True for a DDL statement that ends in START TRANSACTION (MySQL's atomic CREATE ... SELECT).
bool OpensTransaction(std::string_view sql) {
  while (!sql.empty() && (sql.back() == ' ' || sql.back() == '\n' || sql.back() == ';')) {
    sql.remove_suffix(1);
  }
  constexpr std::string_view kTail = "START TRANSACTION";
  if (sql.size() < kTail.size()) return false;
  return absl::EqualsIgnoreCase(std::string(sql.substr(sql.size() - kTail.size())),
                                std::string(kTail));
}

}  // namespace

TransactionAssembler::TransactionAssembler(BinlogPosition start, std::string gtid_state)
    : position_(start), file_(start.file) {
  for (absl::string_view part : absl::StrSplit(gtid_state, ',', absl::SkipWhitespace())) {
    const size_t dash = part.find('-');
    uint32_t domain = 0;
    if (dash == absl::string_view::npos || !absl::SimpleAtoi(part.substr(0, dash), &domain)) {
      continue;
    }
    maria_domains_[domain] = std::string(part);
  }
}

const std::string& TransactionAssembler::gtid_state() const {
  std::vector<std::string> parts;
  for (const auto& [domain, gtid] : maria_domains_) parts.push_back(gtid);
  gtid_state_ = absl::StrJoin(parts, ",");
  return gtid_state_;
}

std::string TransactionAssembler::where(uint64_t pos) const {
  return absl::StrCat(file_, ":", pos);
}

void TransactionAssembler::TrackExecutedGtids(GtidSet executed) {
  executed_ = std::move(executed);
  gtids_ = Gtids::kKnown;
  skip_until_.reset();
}

void TransactionAssembler::DeriveExecutedGtids() {
  executed_ = GtidSet();
  gtids_ = Gtids::kDeriving;
  skip_until_ = position_.offset;
}

const GtidSet* TransactionAssembler::executed_gtids() const {
  return gtids_ == Gtids::kKnown && !skip_until_ ? &executed_ : nullptr;
}

bool TransactionAssembler::BeforeStart(const Event& event) const {
  return skip_until_ && event.header.log_pos != 0 && event.header.log_pos <= *skip_until_ &&
         file_ == position_.file;
}

absl::Status TransactionAssembler::ObserveBeforeStart(const Event& event) {
  if (const auto* g = std::get_if<Gtid>(&event.body)) {
    // Its transaction ends before the start position, so it is executed there.
    if (g->anonymous) return absl::OkStatus();
    return AddExecuted(g->sid, g->tag, g->gno, event.position);
  }
  if (const auto* p = std::get_if<PreviousGtids>(&event.body)) return SeedFromPrevious(event, *p);
  return absl::OkStatus();
}

absl::Status TransactionAssembler::SeedFromPrevious(const Event& event,
                                                    const PreviousGtids& previous) {
  if (gtids_ == Gtids::kOff) return absl::OkStatus();
  absl::StatusOr<GtidSet> set = GtidSet::FromPreviousGtids(previous);
  if (!set.ok()) {
    return absl::DataLossError(absl::StrCat(
        where(event.position), ": PREVIOUS_GTIDS: ", std::string(set.status().message())));
  }
  // Deriving: the set before this file. Known: every GTID of it is executed before this point
  // too (it is the server's set when the file began), so the union is still exact.
  executed_.AddAll(*set);
  gtids_ = Gtids::kKnown;
  return CheckExecutedSize();
}

absl::Status TransactionAssembler::AddExecuted(const Uuid& sid, const std::string& tag, int64_t gno,
                                               uint64_t at) {
  if (gtids_ == Gtids::kOff) return absl::OkStatus();
  if (absl::Status st = executed_.Add(sid, tag, gno); !st.ok()) {
    return absl::DataLossError(absl::StrCat(where(at), ": GTID ", UuidToString(sid),
                                            tag.empty() ? "" : ":", tag, ":", gno, ": ",
                                            std::string(st.message())));
  }
  return CheckExecutedSize();
}

absl::Status TransactionAssembler::CheckExecutedSize() {
  size_t intervals = 0;
  for (const auto& [key, v] : executed_.entries()) intervals += v.size();
  if (intervals > kMaxExecutedGtidIntervals) {
    // Too fragmented to store with every checkpoint: stop tracking (resume by file:pos).
    gtids_ = Gtids::kOff;
    executed_ = GtidSet();
    pending_gtid_.reset();
    gave_up_gtids_ = true;
  }
  return absl::OkStatus();
}

absl::Status TransactionAssembler::AddPendingGtid() {
  if (!pending_gtid_) return absl::OkStatus();
  PendingGtid g = std::move(*pending_gtid_);
  pending_gtid_.reset();
  return AddExecuted(g.sid, g.tag, g.gno, g.at);
}

absl::Status TransactionAssembler::Feed(Event event, const Sink& sink) {
  if (skip_until_) {
    // Derive mode, before the start position: only GTIDs are read. The event that ends right at
    // the start, any later event, or another file ends this. A real ROTATE is handled as usual
    // (the start is then at the end of its file).
    if (BeforeStart(event) && !std::holds_alternative<Rotate>(event.body)) {
      SLUICE_RETURN_IF_ERROR(ObserveBeforeStart(event));
      if (event.header.log_pos == *skip_until_) skip_until_.reset();
      return absl::OkStatus();
    }
    if (event.header.log_pos != 0 || file_ != position_.file) skip_until_.reset();
  }
  if (auto* payload = std::get_if<TransactionPayload>(&event.body)) {
    // The inner events have log_pos 0: the whole payload is one resumable unit.
    for (Event& inner : payload->events) {
      inner.position = event.position;
      SLUICE_RETURN_IF_ERROR(FeedOne(inner, event.header.log_pos, sink));
    }
    return absl::OkStatus();
  }
  return FeedOne(event, event.header.log_pos, sink);
}

absl::Status TransactionAssembler::Begin(const Sink& sink) {
  in_txn_ = true;
  standalone_pending_ = false;
  TransactionBegin begin;
  begin.position = {file_, begin_at_};
  begin.gtid = gtid_;
  return sink.begin ? sink.begin(begin) : absl::OkStatus();
}

absl::Status TransactionAssembler::Commit(const EventHeader& header, uint32_t next_pos,
                                          uint64_t xid, const Sink& sink) {
  TransactionCommit commit;
  commit.next = {file_, next_pos != 0 ? next_pos : position_.offset};
  commit.gtid = gtid_;
  if (maria_pending_) maria_domains_[maria_pending_->first] = maria_pending_->second;
  if (!maria_domains_.empty()) commit.gtid_state = gtid_state();
  commit.timestamp = header.timestamp;
  commit.commit_micros = commit_micros_;
  commit.xid = xid;
  SLUICE_RETURN_IF_ERROR(AddPendingGtid());
  position_ = commit.next;
  in_txn_ = false;
  standalone_pending_ = false;
  gtid_.clear();
  commit_micros_.reset();
  maria_pending_.reset();
  return sink.commit ? sink.commit(commit) : absl::OkStatus();
}

absl::Status TransactionAssembler::Ddl(const Query& query, const Sink& sink) {
  if (filter_ && !filter_(query.database, "")) return absl::OkStatus();
  return sink.change ? sink.change(MapDdl(query)) : absl::OkStatus();
}

absl::Status TransactionAssembler::FeedOne(Event& event, uint32_t next_pos, const Sink& sink) {
  const EventHeader& h = event.header;
  if (auto* rows = std::get_if<RowsEvent>(&event.body)) {
    if (!in_txn_) {
      begin_at_ = event.position;
      SLUICE_RETURN_IF_ERROR(Begin(sink));
    }
    if (rows->table == nullptr) return absl::OkStatus();
    if (filter_ && !filter_(rows->table->database, rows->table->table)) return absl::OkStatus();
    std::vector<v1::ChangeEvent> changes;
    AppendRowChanges(std::move(*rows), changes);
    if (!sink.change) return absl::OkStatus();
    for (v1::ChangeEvent& change : changes) SLUICE_RETURN_IF_ERROR(sink.change(std::move(change)));
    return absl::OkStatus();
  }
  if (auto* q = std::get_if<Query>(&event.body)) {
    switch (ClassifyQuery(q->query)) {
      case QueryKind::kBegin:
        if (in_txn_) return absl::OkStatus();
        if (!standalone_pending_ && gtid_.empty()) begin_at_ = event.position;
        return Begin(sink);
      case QueryKind::kCommit:
        if (!in_txn_) return absl::OkStatus();
        return Commit(h, next_pos, 0, sink);
      case QueryKind::kRollback:
        if (!in_txn_) return absl::OkStatus();
        in_txn_ = false;
        gtid_.clear();
        commit_micros_.reset();
        // The server used up the GTID: it belongs to the state even though nothing committed.
        if (maria_pending_) maria_domains_[maria_pending_->first] = maria_pending_->second;
        maria_pending_.reset();
        SLUICE_RETURN_IF_ERROR(AddPendingGtid());
        return sink.rollback ? sink.rollback() : absl::OkStatus();
      case QueryKind::kIgnored:
        return absl::OkStatus();
      case QueryKind::kDml:
        if (offline_) {
          ++skipped_statements_;
          return absl::OkStatus();
        }
        return absl::InvalidArgumentError(absl::StrCat(
            where(event.position), ": QUERY: statement-based DML in the binlog (\"",
            q->query.substr(0, 80),
            "\"): its rows cannot be decoded. Set binlog_format=ROW on the server (SET GLOBAL "
            "binlog_format='ROW' and binlog_format=ROW in my.cnf) and re-snapshot the tables it "
            "changed"));
      case QueryKind::kDdl:
        if (in_txn_) return Ddl(*q, sink);
        if (gtid_.empty()) begin_at_ = event.position;
        SLUICE_RETURN_IF_ERROR(Begin(sink));
        SLUICE_RETURN_IF_ERROR(Ddl(*q, sink));
        // MySQL 8.0.21+ logs CREATE TABLE ... SELECT as one transaction: the DDL (ending in
        // "START TRANSACTION"), the rows, then XID. It commits there, not after the DDL.
        if (OpensTransaction(q->query)) return absl::OkStatus();
        return Commit(h, next_pos, 0, sink);
    }
    return absl::OkStatus();
  }
  if (auto* x = std::get_if<Xid>(&event.body)) {
    if (!in_txn_) return absl::OkStatus();
    return Commit(h, next_pos, x->xid, sink);
  }
  if (std::holds_alternative<Gtid>(event.body) || std::holds_alternative<MariaGtid>(event.body)) {
    if (in_txn_) {
      return absl::DataLossError(absl::StrCat(
          where(event.position), ": GTID: a new transaction starts while transaction ", gtid_,
          " has not ended (no XID/COMMIT): the binlog is damaged or sluice misread it"));
    }
  }
  if (auto* g = std::get_if<Gtid>(&event.body)) {
    // A GTID still pending belonged to a statement that formed no transaction here (e.g. XA
    // COMMIT): it has ended all the same.
    SLUICE_RETURN_IF_ERROR(AddPendingGtid());
    if (!g->anonymous && gtids_ != Gtids::kOff) {
      pending_gtid_ = PendingGtid{g->sid, g->tag, g->gno, event.position};
    }
    gtid_ = g->anonymous ? "" : g->ToString();
    commit_micros_ = g->immediate_commit_micros;
    begin_at_ = event.position;
    return absl::OkStatus();
  }
  if (auto* g = std::get_if<MariaGtid>(&event.body)) {
    gtid_ = g->ToString();
    maria_pending_.emplace(g->domain_id, gtid_);
    commit_micros_.reset();
    begin_at_ = event.position;
    if (g->standalone()) {
      standalone_pending_ = true;
      return absl::OkStatus();
    }
    return Begin(sink);
  }
  if (auto* p = std::get_if<PreviousGtids>(&event.body)) return SeedFromPrevious(event, *p);
  if (auto* r = std::get_if<Rotate>(&event.body)) {
    file_ = r->next_file;
    if (IsFakeRotate(h)) {
      // A dump's first event names the file it reads; it never moves a stored position.
      if (position_.file.empty()) position_ = {r->next_file, r->position};
      return absl::OkStatus();
    }
    if (in_txn_) return absl::OkStatus();
    position_ = {r->next_file, r->position};
    return sink.idle ? sink.idle(position_) : absl::OkStatus();
  }
  if (auto* hb = std::get_if<Heartbeat>(&event.body)) {
    if (in_txn_ || h.log_pos == 0) return absl::OkStatus();
    if (!hb->file.empty() && hb->file != file_) return absl::OkStatus();  // stale
    if (h.log_pos <= position_.offset && position_.file == file_) return absl::OkStatus();
    position_ = {file_, h.log_pos};
    return sink.idle ? sink.idle(position_) : absl::OkStatus();
  }
  if (auto* s = std::get_if<Skipped>(&event.body)) {
    // INCIDENT (e.g. LOST_EVENTS): changes that never reached the binlog. A replica stops here.
    if (s->type == static_cast<uint8_t>(EventType::kIncident)) {
      if (offline_) {
        ++skipped_statements_;
        return absl::OkStatus();
      }
      return absl::DataLossError(absl::StrCat(
          where(event.position),
          ": INCIDENT: the server recorded that changes are missing from its binlog here (",
          s->what,
          "); events after it cannot be trusted to be complete. Re-snapshot the source "
          "(snapshot=when_needed) or start over with a new data dir"));
    }
    // XA PREPARE ends the binlogged part of an XA transaction: it is published here (a later
    // XA ROLLBACK of a prepared transaction is not reverted; see README.md).
    if (s->type == static_cast<uint8_t>(EventType::kXaPrepare) && in_txn_) {
      return Commit(h, next_pos, 0, sink);
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::mysql
