#include "server/pipeline/source_head.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proto/base/status_macros.h"
#include "server/logging/log.h"
#include "server/pipeline/source_support.h"

namespace sluice::pipeline {
namespace {

// SHOW BINLOG EVENTS columns: Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
constexpr size_t kPosColumn = 1;
constexpr size_t kEventTypeColumn = 2;

bool Quotable(std::string_view file) { return file.find_first_of("'\\") == std::string::npos; }

std::optional<uint64_t> Number(const std::optional<std::string>& cell) {
  uint64_t n = 0;
  if (!cell || !absl::SimpleAtoi(*cell, &n)) return std::nullopt;
  return n;
}

bool HasStoredPosition(const v1::SourceCheckpoint& c, v1::SourceKind kind) {
  if (kind == v1::SOURCE_KIND_POSTGRES)
    return c.position().has_pg() && c.position().pg().lsn() != 0;
  return c.position().has_binlog() && !c.position().binlog().file().empty();
}

}  // namespace

absl::StatusOr<uint64_t> BinlogBytesBehind(const BinlogPosition& stored, const BinlogPosition& head,
                                           const std::vector<BinlogFileSize>& files) {
  auto index_of = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t i = 0; i < files.size(); ++i) {
      if (files[i].name == name) return i;
    }
    return std::nullopt;
  };
  if (stored.file == head.file)
    return head.offset > stored.offset ? head.offset - stored.offset : 0;
  const std::optional<size_t> from = index_of(stored.file);
  if (!from) {
    return absl::NotFoundError(absl::StrCat("the stored binlog file ", stored.file,
                                            " is not among the server's binary logs (purged?)"));
  }
  const std::optional<size_t> to = index_of(head.file);
  if (!to) {
    return absl::NotFoundError(
        absl::StrCat("the head binlog file ", head.file, " is not among the server's binary logs"));
  }
  if (*from > *to) {
    return absl::InvalidArgumentError(absl::StrCat("the stored position ", stored.ToString(),
                                                   " is after the server's head ",
                                                   head.ToString()));
  }
  const uint64_t first_size = files[*from].size;
  uint64_t bytes = first_size > stored.offset ? first_size - stored.offset : 0;
  for (size_t i = *from + 1; i < *to; ++i) bytes += files[i].size;
  return bytes + head.offset;
}

uint64_t WalBytesBehind(Lsn stored, Lsn head) {
  return head.value() > stored.value() ? head.value() - stored.value() : 0;
}

bool IsRowEventType(std::string_view event_type) {
  return event_type.starts_with("Write_rows") || event_type.starts_with("Update_rows") ||
         event_type.starts_with("Delete_rows");
}

SourceHeadProbe::SourceHeadProbe(config::SourceConfig config, const storage::ChangeLog& log,
                                 storage::SourceId id, SourceRegistry& registry,
                                 HeadProbeOptions options)
    : config_(std::move(config)),
      log_(log),
      id_(id),
      registry_(registry),
      options_(options),
      in_flight_(registry.InFlightEvents(config_.name)) {}

void SourceHeadProbe::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      const SourceLag lag = ProbeOnce();
      lock.lock();
      // Until the source has stored its first position, look again soon.
      const auto wait = lag.head.empty() && !failing_
                            ? std::min(options_.interval, std::chrono::milliseconds(500))
                            : ProbeWait(options_.interval, refused_);
      wake_.wait_for(lock, wait, [this] { return stopping_; });
    }
  });
}

void SourceHeadProbe::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
}

void SourceHeadProbe::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds ProbeWait(std::chrono::milliseconds interval, int refused) {
  const int doublings = std::clamp(refused - 1, 0, 6);
  return interval * (int64_t{1} << doublings);
}

SourceLag SourceHeadProbe::ProbeOnce() {
  SourceLag lag;
  absl::StatusOr<v1::SourceCheckpoint> stored = log_.Checkpoint(id_);
  if (stored.ok() && !HasStoredPosition(*stored, config_.kind)) {
    lag.error = "no position stored yet";  // not a failure: the source has not started yet
    lag.probed_ts_micros = NowMicros();
    registry_.SetLag(config_.name, lag);
    return lag;
  }
  auto probe = [&]() -> absl::StatusOr<SourceLag> {
    if (!stored.ok()) return stored.status();
    return config_.kind == v1::SOURCE_KIND_POSTGRES ? ProbePostgres(*stored) : ProbeMysql(*stored);
  };
  const bool reused = mysql_ != nullptr || pg_ != nullptr;
  absl::StatusOr<SourceLag> probed = probe();
  if (!probed.ok() && reused) {
    // The kept connection may have been closed by the server (wait_timeout, a restart): try
    // once more on a new one before calling the probe failed.
    mysql_.reset();
    pg_.reset();
    probed = probe();
  }
  if (probed.ok()) {
    lag = *std::move(probed);
    refused_ = 0;
    Report(absl::OkStatus());
  } else {
    const bool refused = mysqlclient::IsLoginRefused(probed.status()) ||
                         probed.status().code() == absl::StatusCode::kPermissionDenied;
    refused_ = refused ? refused_ + 1 : 0;
    lag.error = absl::StrCat("head probe failed: ", probed.status().message());
    mysql_.reset();  // reconnect next time
    pg_.reset();
    Report(probed.status());
  }
  lag.probed_ts_micros = NowMicros();
  registry_.SetLag(config_.name, lag);
  return lag;
}

void SourceHeadProbe::Report(const absl::Status& failure) {
  const auto now = std::chrono::steady_clock::now();
  if (failure.ok()) {
    if (failing_) logging::Info(config_.name, "head probe works again: lag in bytes is known");
    failing_ = false;
    return;
  }
  if (failing_ && now - last_warning_ < options_.warn_every) return;
  failing_ = true;
  last_warning_ = now;
  logging::Warn(config_.name,
                "head probe failed: lag in bytes and events is unknown (the source itself is "
                "not affected; the probe retries every interval, less often while the server "
                "refuses its login, and this warning repeats at most once a minute)",
                {{"error", std::string(failure.message())}});
}

absl::StatusOr<SourceLag> SourceHeadProbe::ProbeMysql(const v1::SourceCheckpoint& checkpoint) {
  if (!checkpoint.position().has_binlog() || checkpoint.position().binlog().file().empty()) {
    return absl::FailedPreconditionError("no position stored yet");
  }
  BinlogPosition stored;
  stored.file = checkpoint.position().binlog().file();
  stored.offset = checkpoint.position().binlog().position();
  if (mysql_ == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(mysqlclient::ConnectOptions opts,
                            MysqlConnectOptions(config_, options_.connect_timeout));
    SLUICE_ASSIGN_OR_RETURN(mysql_, mysqlclient::MysqlConnection::Connect(opts));
  }
  absl::StatusOr<mysqlclient::ResultSet> status = mysql_->Query("SHOW MASTER STATUS");
  if (!status.ok()) status = mysql_->Query("SHOW BINARY LOG STATUS");  // MySQL 8.4+
  SLUICE_RETURN_IF_ERROR(status.status());
  BinlogPosition head;
  const std::optional<uint64_t> head_offset = status->rows.empty() || status->rows[0].size() < 2
                                                  ? std::nullopt
                                                  : Number(status->rows[0][1]);
  if (!head_offset || !status->rows[0][0]) {
    return absl::DataLossError("SHOW MASTER STATUS returned no binlog position");
  }
  head.file = *status->rows[0][0];
  head.offset = *head_offset;

  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet logs, mysql_->Query("SHOW BINARY LOGS"));
  std::vector<BinlogFileSize> files;
  for (const auto& row : logs.rows) {
    if (row.size() < 2 || !row[0]) continue;
    files.push_back({*row[0], Number(row[1]).value_or(0)});
  }
  SourceLag lag;
  lag.head = head.ToString();
  SLUICE_ASSIGN_OR_RETURN(lag.bytes, BinlogBytesBehind(stored, head, files));
  bool lower_bound = false;
  absl::StatusOr<uint64_t> events = uint64_t{0};
  if (*lag.bytes > 0) events = CountRowEvents(stored, head, files, lower_bound);
  if (events.ok()) {
    lag.events = *events;
    lag.events_lower_bound = lower_bound;
    if (lower_bound) {
      lag.error = absl::StrCat("events counted in the first ", options_.max_binlog_events_read,
                               " binlog events after the stored position only");
    }
  } else {
    // Bytes are known; events fall back to what was received and is not durable yet.
    lag.events = static_cast<uint64_t>(std::max<int64_t>(in_flight_->load(), 0));
    lag.events_lower_bound = true;
    lag.error = absl::StrCat("SHOW BINLOG EVENTS failed (", events.status().message(),
                             "): events count only what sluice received");
  }
  return lag;
}

absl::StatusOr<uint64_t> SourceHeadProbe::CountRowEvents(const BinlogPosition& stored,
                                                         const BinlogPosition& head,
                                                         const std::vector<BinlogFileSize>& files,
                                                         bool& lower_bound) {
  uint64_t budget = options_.max_binlog_events_read;
  uint64_t rows_events = 0;
  bool started = false;
  for (const BinlogFileSize& file : files) {
    if (file.name == stored.file) started = true;
    if (!started) continue;
    if (!Quotable(file.name)) {
      return absl::InvalidArgumentError(absl::StrCat("binlog file name ", file.name));
    }
    std::string sql = absl::StrCat("SHOW BINLOG EVENTS IN '", file.name, "'");
    if (file.name == stored.file) absl::StrAppend(&sql, " FROM ", stored.offset);
    absl::StrAppend(&sql, " LIMIT ", budget);
    SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet rs, mysql_->Query(sql));
    const bool head_file = file.name == head.file;
    bool past_head = false;
    for (const auto& row : rs.rows) {
      if (row.size() <= kEventTypeColumn || !row[kEventTypeColumn]) continue;
      // Events written after SHOW MASTER STATUS are past the head this probe measures.
      if (head_file && Number(row[kPosColumn]).value_or(0) >= head.offset) {
        past_head = true;
        break;
      }
      if (IsRowEventType(*row[kEventTypeColumn])) ++rows_events;
    }
    if (past_head) return rows_events;
    if (rs.rows.size() >= budget) {
      lower_bound = true;
      return rows_events;
    }
    budget -= rs.rows.size();
    if (head_file) break;
  }
  return rows_events;
}

absl::StatusOr<SourceLag> SourceHeadProbe::ProbePostgres(const v1::SourceCheckpoint& checkpoint) {
  if (!checkpoint.position().has_pg() || checkpoint.position().pg().lsn() == 0) {
    return absl::FailedPreconditionError("no position stored yet");
  }
  const Lsn stored(checkpoint.position().pg().lsn());
  if (pg_ == nullptr) {
    pgclient::ConnectParams params = PostgresConnectParams(config_, /*replication=*/false);
    params.connect_timeout =
        std::max(std::chrono::seconds(1),
                 std::chrono::duration_cast<std::chrono::seconds>(options_.connect_timeout));
    params.application_name = "sluice-head-probe";
    SLUICE_ASSIGN_OR_RETURN(pg_, pgclient::ReplicationConnection::Connect(params));
  }
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult r,
      pg_->QueryText("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                     "ELSE pg_current_wal_lsn() END"));
  if (r.rows.empty() || r.rows[0].empty() || !r.rows[0][0]) {
    return absl::DataLossError("the server returned no current WAL position");
  }
  SLUICE_ASSIGN_OR_RETURN(Lsn head, ParseLsn(*r.rows[0][0]));
  SourceLag lag;
  lag.head = FormatLsn(head);
  lag.bytes = WalBytesBehind(stored, head);
  lag.events = static_cast<uint64_t>(std::max<int64_t>(in_flight_->load(), 0));
  lag.events_lower_bound = true;
  return lag;
}

}  // namespace sluice::pipeline
