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
//   COPY (SELECT cols FROM s.t WHERE (k1, k2) > ('v1', 'v2') ORDER BY k1, k2 LIMIT n) TO STDOUT
// (cols: the columns pgoutput sends, i.e. not generated ones). The result's column names and
// types come from the same SELECT with LIMIT 0, once per table. Tables without a primary key are
// read in ctid order (a TID range scan on 14+).
//
// Two COPY formats, with the same stored bytes (postgres_snapshot_format_test):
//  - binary (the default): COPY (...) TO STDOUT (FORMAT binary). The backend skips the text
//    output functions and COPY's escaping for the types pg_binary_value.h decodes (integers,
//    numeric, float8, bool, timestamps, uuid, text types, json/jsonb); every other column is
//    selected as its type's output function, `out_fn(col)` (a cstring, sent as its text), so
//    it arrives as the very text COPY's text format would give. A key column is read in binary
//    only if its text can be rendered back for the next chunk's keyset condition
//    (HasBinaryText); the ctid of a keyless table comes as tidout's text.
//  - text: COPY (...) TO STDOUT, each row split by CopyTextRow and every value decoded from
//    its text with postgres::AppendTextValueWire.
//
// Thread-compatible: one connection, one thread.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/pgclient/replication_connection.h"
#include "protocol/postgres/copy_binary.h"
#include "protocol/postgres/copy_text.h"
#include "protocol/postgres/pg_text_value.h"
#include "server/pipeline/read_event_encoder.h"
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
  absl::StatusOr<EncodedRows> ReadEncodedChunk(const storagepb::SnapshotTable& table,
                                               size_t limit) override;
  // An SQL condition every chunk must also satisfy (on-demand re-snapshots); "" for none.
  void set_where(std::string where) { where_ = std::move(where); }
  enum class CopyFormat { kBinary, kText };
  void set_copy_format(CopyFormat format) { format_ = format; }
  // Whether the last chunk was read with the binary COPY (a table whose columns cannot all be
  // selected for it is read with the text COPY).
  bool last_chunk_binary() const { return last_chunk_binary_; }

 private:
  struct TableColumns {
    std::string list;                // the quoted columns pgoutput would send, comma-separated
    std::string select;              // "SELECT <list>" (keyless tables: "SELECT ctid, <list>")
    std::vector<std::string> names;  // of `select`'s result
    std::vector<uint32_t> type_oids;
    // Binary COPY: `select` with each column that is not decoded in binary wrapped in its
    // type's output function, and per column whether it is decoded in binary.
    std::string binary_select;
    std::vector<char> binary;  // per column: 1 = decoded in binary
  };
  absl::StatusOr<const TableColumns*> Columns(const storagepb::SnapshotTable& table);
  // Reads one chunk's rows with COPY (`sql`) in binary; the key columns' texts to `last_key`.
  absl::Status CopyBinary(const TableColumns& columns, const std::string& sql, size_t first,
                          const std::vector<size_t>& key_index, EncodedRows& out);

  pgclient::ReplicationConnection& conn_;
  const postgres::TypeResolver& resolver_;
  std::map<std::string, TableColumns> columns_;
  std::string where_;
  CopyFormat format_ = CopyFormat::kBinary;
  bool last_chunk_binary_ = false;
  ReadEventEncoder encoder_;
  postgres::CopyTextRow copy_row_;
  postgres::CopyBinaryRow binary_row_;
  std::string scratch_;
  std::vector<std::optional<std::string>> last_key_bytes_;  // binary: the last row's key values
  std::string last_row_;  // the chunk's last row as sent, for its key
};

}  // namespace sluice::pipeline
