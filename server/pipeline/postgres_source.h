#pragma once
// PostgresSource: streams a Postgres database's committed changes into the change log through a
// logical replication slot (pgoutput).
//
// One thread per source. Each session: connect (replication=database), check that the server's
// system id and timeline match the stored checkpoint, ensure the publication (created before the
// slot) and the slot (created only when this source has never stored a position: a slot that
// disappears later is an error, never silently recreated), then START_REPLICATION from the stored
// position. When a snapshot is wanted, its ordinary SQL session connects (and reads the catalog
// types) on a short-lived thread of its own meanwhile, so that its TCP connect and
// authentication overlap the slot's creation. Committed transactions are appended whole with
// the commit's end LSN as checkpoint; transactions over `stage_threshold_events`, and streamed
// in-progress transactions, go through the log's staging area, so memory stays bounded. The
// standby status update's flush LSN is only ever a durably appended checkpoint. On an idle
// database the keepalive LSN is stored and then confirmed, so the slot does not retain WAL.
//
// Transient errors (connection lost) reconnect with backoff; errors that need an operator (slot
// lost, another server behind the same address) leave the source in the ERROR state with a
// message that says what to do, and the process keeps running.

#include <chrono>
#include <memory>

#include "server/config/source_config.h"
#include "server/pipeline/source_registry.h"
#include "server/pipeline/source_runner.h"
#include "server/pipeline/source_support.h"
#include "server/pipeline/watermark_snapshot.h"
#include "storage/change_log.h"

namespace sluice::pipeline {

struct PostgresSourceOptions {
  size_t stage_threshold_events = 10'000;
  std::chrono::milliseconds status_interval{10'000};
  std::chrono::milliseconds max_backoff{30'000};
};

class PostgresSource final : public SessionSource<PostgresSourceOptions> {
 public:
  using SessionSource::SessionSource;
  ~PostgresSource() override { Stop(); }

  // On-demand re-snapshot with watermarks written as transactional logical decoding messages
  // (pg_logical_emit_message, prefix "sluice-wm"): no table in the source is needed. The table
  // must be in the source's publication.
  absl::Status RequestSnapshot(const std::string& table, const std::string& where) override;

 private:
  absl::Status RunSession(const std::atomic<bool>& stopping) override;

  ResnapshotQueue requests_;
};

}  // namespace sluice::pipeline
