#pragma once
// MysqlSource: streams a MySQL/MariaDB server's committed row changes into the change log by
// posing as a replica (protocol/mysqlclient: COM_REGISTER_SLAVE + COM_BINLOG_DUMP).
//
// One thread per source. Each session: connect, check the server's settings (binary log on,
// binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL, a server_id different from
// ours) and refuse with the exact SET GLOBAL / my.cnf fix when one is wrong; find the start
// position (the stored checkpoint, or on the very first start the server's current position,
// which is stored before anything is read); negotiate checksums, the heartbeat period and
// MariaDB GTID events; dump from that position: by file:pos, by MariaDB GTID state, or on MySQL
// with gtid_mode=ON by the executed GTID set (COM_BINLOG_DUMP_GTID; mysql_resume.h decides).
// Events go through mysql::TransactionAssembler: a committed transaction is appended whole, with
// the position after it (file:pos, GTID, and the MariaDB GTID state or the MySQL executed GTID
// set) as the checkpoint in the same write. A transaction larger than
// `stage_threshold_bytes` (or `max_buffered_events`) is spilled to the log's staging area and
// published at commit, so memory stays bounded. Rolled-back transactions never reach the log.
// Heartbeats, rotations and filtered-out transactions advance the checkpoint of an idle source.
//
// Transient errors (connection lost, no heartbeat) reconnect with backoff and resume from the
// last durable position; errors that need an operator (wrong settings, purged binlog) leave the
// source in ERROR with a message saying what to do, and the process keeps running.

#include <chrono>
#include <cstdint>

#include "server/config/source_config.h"
#include "server/pipeline/source_registry.h"
#include "server/pipeline/source_runner.h"
#include "server/pipeline/source_support.h"
#include "server/pipeline/watermark_snapshot.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

struct MysqlSourceOptions {
  // A transaction whose buffered events exceed this many serialized bytes, or this many events,
  // is spilled to the staging area.
  uint64_t stage_threshold_bytes = 64ull << 20;
  size_t max_buffered_events = 10'000;
  // @master_heartbeat_period; a session with no event for 3 periods + 5 s is presumed dead.
  std::chrono::milliseconds heartbeat_period{5'000};
  // How often an idle position (heartbeat, rotation, filtered transaction) is stored at most.
  std::chrono::milliseconds idle_checkpoint_interval{1'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds max_backoff{30'000};
  // Testing only: resume by file:pos and read the start file from offset 4, skipping what lies
  // before the stored position, as deriving a MySQL source's executed GTID set does; lets the
  // MariaDB tests run that path (MariaDB never needs it).
  bool reread_start_file_for_testing = false;
};

class MysqlSource final : public SessionSource<MysqlSourceOptions> {
 public:
  using SessionSource::SessionSource;
  ~MysqlSource() override { Stop(); }

  // On-demand re-snapshot with watermarks written to DATABASE.sluice_signal (DATABASE from the
  // source URL's path, which is then required; sluice creates the table and keeps one row per
  // source in it).
  absl::Status RequestSnapshot(const std::string& table, const std::string& where) override;

 private:
  absl::Status RunSession(const std::atomic<bool>& stopping) override;

  ResnapshotQueue requests_;
};

}  // namespace sluice::pipeline
