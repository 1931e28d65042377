#pragma once
// The Postgres half of a snapshot, over an ordinary (non-replication) SQL session with the same
// pinned settings as the replication connection, so text values render exactly as pgoutput's.
//
// A fresh snapshot imports the snapshot that CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')
// exported (BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT): its
// rows are exactly those of the slot's consistent point, while the slot connection stays idle.
// A resumed snapshot (the exported snapshot died with the old connection) reads in a new
// REPEATABLE READ transaction; the stream from the consistent point replays the window.
//
// PostgresSnapshotReader reads primary-key chunks with keyset pagination
//   SELECT cols FROM s.t WHERE (k1, k2) > ('v1', 'v2') ORDER BY k1, k2 LIMIT n
// (cols: the columns pgoutput sends, i.e. not generated ones) and decodes them with
// postgres::DecodeTextValue and the source's type resolver. Tables without a primary key are
// read in ctid order (a TID range scan on 14+).
//
// Thread-compatible: one connection, one thread.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/pgclient/replication_connection.h"
#include "protocol/postgres/pg_text_value.h"
#include "server/pipeline/snapshot.h"

namespace sluice::pipeline {

// Opens the snapshot transaction; imports `exported_snapshot` unless it is empty.
absl::Status OpenPostgresSnapshot(pgclient::ReplicationConnection& conn,
                                  const std::string& exported_snapshot);

// The tables of `publication`, with their primary keys and row estimates, ordered by name.
absl::StatusOr<std::vector<storagepb::SnapshotTable>> ListPostgresTables(
    pgclient::ReplicationConnection& conn, const std::string& publication);

class PostgresSnapshotReader final : public SnapshotReader {
 public:
  PostgresSnapshotReader(pgclient::ReplicationConnection& conn,
                         const postgres::TypeResolver& resolver)
      : conn_(conn), resolver_(resolver) {}
  absl::StatusOr<SnapshotRows> ReadChunk(const storagepb::SnapshotTable& table,
                                         size_t limit) override;
  // An SQL condition every chunk must also satisfy (on-demand re-snapshots); "" for none.
  void set_where(std::string where) { where_ = std::move(where); }

 private:
  // The quoted column list pgoutput would send for `table`.
  absl::StatusOr<std::string> ColumnList(const storagepb::SnapshotTable& table);

  pgclient::ReplicationConnection& conn_;
  const postgres::TypeResolver& resolver_;
  std::map<std::string, std::string> columns_;
  std::string where_;
};

}  // namespace sluice::pipeline
