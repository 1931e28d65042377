#pragma once
// SourceHeadProbe: how far a source's stored (durable) position is behind the source server's
// head, measured every `interval` on a side SQL connection of its own (never the replication
// connection, so the stream is never blocked), and published as the source's SourceLag in the
// SourceRegistry. It runs while the source streams, is paused or is in error: a paused source's
// lag keeps growing as the server is written to.
//
//   MySQL/MariaDB: SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.4+) gives the head
//     file:pos and SHOW BINARY LOGS the file sizes; bytes = binlog bytes from the stored
//     position to the head across files. events = binlog row events (Write/Update/Delete_rows,
//     of every table on the server) from the stored position to the head, read with SHOW BINLOG
//     EVENTS, at most `max_binlog_events_read` per probe (beyond that a lower bound).
//   Postgres: bytes = pg_current_wal_lsn() (pg_last_wal_replay_lsn() on a standby) minus the
//     stored LSN (WAL of every database on the server counts). events = change events sluice has
//     handed to the change log that are not durable yet (SourceRegistry::InFlightEvents): a lower
//     bound, since WAL not yet received cannot be counted in events.
//
// A failed probe never touches the source: the lag becomes unknown (nullopt, with the reason in
// SourceLag::error), a warning is logged at most once per `warn_every` (and an info line when
// probes work again), and the next probe reconnects. The connection is kept between probes;
// when a probe on a kept connection fails (the server closed it: wait_timeout, a restart), it is
// retried at once on a new connection before it counts as failed.
//
// Thread-safety: Start/Stop from one thread; the probe runs on its own thread. `log` and
// `registry` must outlive the probe. Stop() is idempotent and run by the destructor.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "protocol/mysqlclient/connection.h"
#include "protocol/pgclient/replication_connection.h"
#include "server/config/source_config.h"
#include "server/pipeline/source_registry.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

// One row of SHOW BINARY LOGS.
struct BinlogFileSize {
  std::string name;
  uint64_t size = 0;
};

// Bytes of binlog from `stored` to `head`, with `files` as SHOW BINARY LOGS lists them (oldest
// first). 0 when `stored` is at or past `head`. NotFound when the stored file is not on the
// server (purged) or the head file is not listed; InvalidArgument when `stored` comes after
// `head` in the file order.
absl::StatusOr<uint64_t> BinlogBytesBehind(const BinlogPosition& stored, const BinlogPosition& head,
                                           const std::vector<BinlogFileSize>& files);

// `head - stored`, 0 when `stored` is at or past `head`.
uint64_t WalBytesBehind(Lsn stored, Lsn head);

// How long the probe waits before its next try after `refused` probes in a row whose login the
// server refused (a wrong password, no such account, no pg_hba.conf entry: each try is one
// "access denied" in the server's log, and it stays refused until someone changes the
// credentials): the interval, doubled per refusal after the first, at most 64 intervals. 0 or 1
// refusals: the interval.
std::chrono::milliseconds ProbeWait(std::chrono::milliseconds interval, int refused);

// Whether an Event_type of SHOW BINLOG EVENTS is a row event (Write_rows, Update_rows,
// Delete_rows, with MySQL's and MariaDB's suffixes: _v1, _compressed_v1, _partial).
bool IsRowEventType(std::string_view event_type);

struct HeadProbeOptions {
  std::chrono::milliseconds interval{5'000};
  // Bounds the connect and (MySQL) each query, so that a dead server never stalls Stop() long.
  std::chrono::milliseconds connect_timeout{3'000};
  // MySQL: SHOW BINLOG EVENTS rows read per probe at most.
  uint64_t max_binlog_events_read = 10'000;
  std::chrono::milliseconds warn_every{60'000};
};

class SourceHeadProbe {
 public:
  SourceHeadProbe(config::SourceConfig config, const storage::ChangeLog& log, storage::SourceId id,
                  SourceRegistry& registry, HeadProbeOptions options = {});
  ~SourceHeadProbe() { Stop(); }
  SourceHeadProbe(const SourceHeadProbe&) = delete;
  SourceHeadProbe& operator=(const SourceHeadProbe&) = delete;

  // Probes at once, then every interval, on a new thread (once: a running probe stays).
  void Start();
  // Tells the thread to end after the probe in progress (if any), without waiting: for stopping
  // many probes at once. Stop() also waits for it.
  void RequestStop();
  void Stop();

  // One probe and its publication in the registry (what the thread runs). Also for tests; not
  // to be called while the thread runs.
  SourceLag ProbeOnce();

 private:
  absl::StatusOr<SourceLag> ProbeMysql(const v1::SourceCheckpoint& stored);
  absl::StatusOr<SourceLag> ProbePostgres(const v1::SourceCheckpoint& stored);
  // Row events from `stored` to `head`; sets lower_bound when the read limit cut it short.
  absl::StatusOr<uint64_t> CountRowEvents(const BinlogPosition& stored, const BinlogPosition& head,
                                          const std::vector<BinlogFileSize>& files,
                                          bool& lower_bound);
  void Report(const absl::Status& failure);

  const config::SourceConfig config_;
  const storage::ChangeLog& log_;
  const storage::SourceId id_;
  SourceRegistry& registry_;
  const HeadProbeOptions options_;
  const std::shared_ptr<std::atomic<int64_t>> in_flight_;

  // Probe thread only.
  std::unique_ptr<mysqlclient::MysqlConnection> mysql_;
  std::unique_ptr<pgclient::ReplicationConnection> pg_;
  bool failing_ = false;
  std::chrono::steady_clock::time_point last_warning_{};
  int refused_ = 0;  // probes in a row whose login the server refused (ProbeWait)

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace sluice::pipeline
