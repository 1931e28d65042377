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
// PostgresSnapshotReader reads primary-key chunks with keyset pagination, in one of two ways:
//  - one query per chunk (the default; the watermark re-snapshot needs it, since each of its
//    chunks must be read between that chunk's low and high watermark):
//      COPY (SELECT cols FROM s.t WHERE (k1, k2) > ('v1', 'v2') ORDER BY k1, k2 LIMIT n) TO STDOUT
//  - one query per table (the initial snapshot, set_chunk_queries(kOnePerTable)): the same
//    query without LIMIT, from the table's resume key, read as one stream that each
//    ReadEncodedChunk cuts after `limit` rows. In one REPEATABLE READ transaction the rows and
//    last key of every chunk are exactly those of the per-chunk query (snapshot_reader_test);
//    the backend does not stop and start again between chunks, and plans the table once.
//    A chunk continues the open stream only when its table and resume key (and the reader's
//    format and condition) are where the stream stopped; otherwise the stream is ended (cancelled
//    on the server, the transaction rolled back to the savepoint taken before it) and a new one
//    starts from the requested key. So any order of calls reads the right rows, and a restart
//    (a new reader) starts from the durable key. Needs an open transaction block (the savepoint).
//    Inside the savepoint the stream runs with enable_sort = off, so that its rows come from the
//    primary key's index as the per-chunk query's do, not from a sort of the whole table, and
//    with statement_timeout = 0 (one statement reads the whole table).
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
#include "protocol/postgres/pg_binary_value.h"
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
  // Ends an open stream (EndStream), so the connection takes the next command at once.
  ~PostgresSnapshotReader() override;
  absl::StatusOr<EncodedRows> ReadEncodedChunk(const storagepb::SnapshotTable& table,
                                               size_t limit) override;
  enum class ChunkQueries { kOnePerChunk, kOnePerTable };
  void set_chunk_queries(ChunkQueries queries) { queries_ = queries; }
  // Ends the open table stream, if any: cancels its query on the server, drops the rows on
  // their way and rolls the transaction back to before the stream. An error only when the
  // connection broke or the transaction is gone.
  absl::Status EndStream();
  bool stream_open() const { return stream_.open; }
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
  // How the rows of one table are decoded.
  struct Plan {
    const TableColumns* columns = nullptr;
    bool binary = false;  // COPY (FORMAT binary) with columns->binary_select
    size_t first = 0;     // the first column of the row (1: after a keyless table's ctid)
    std::vector<size_t> key_at;  // the columns whose values make a chunk's last key
    // Binary: how each column from `first` on is decoded, chosen once for the chunk. A value
    // goes to its type's fast decoder when it has one and to AppendBinaryValueWireGeneral when
    // that declines (as AppendBinaryValueWire does); a column read as its output function's
    // text (binary false) goes to AppendTextValueWire.
    struct Column {
      postgres::binary_internal::FastDecoder fast = nullptr;
      uint32_t type_oid = 0;
      bool binary = false;
    };
    std::vector<Column> decoders;
  };
  // The chunk's or stream's SELECT: from table.last_key(), with LIMIT `limit` unless 0.
  std::string Select(const storagepb::SnapshotTable& table, const Plan& plan, size_t limit) const;
  absl::StatusOr<const TableColumns*> Columns(const storagepb::SnapshotTable& table);
  // Decodes one COPY message: a row becomes an event in `out` and its key values are kept for
  // the chunk's last key; the binary header is read with the first row, the trailer is noted.
  absl::Status TakeRow(const Plan& plan, std::string_view message, EncodedRows& out);
  // The last row's key values as the keyset condition's texts.
  absl::Status SetLastKey(const Plan& plan, EncodedRows& out) const;
  // Per-chunk query; and the next `limit` rows of the table's stream.
  absl::Status ReadOneQuery(const storagepb::SnapshotTable& table, const Plan& plan, size_t limit,
                            EncodedRows& out);
  absl::Status ReadFromStream(const storagepb::SnapshotTable& table, const Plan& plan,
                              size_t limit, EncodedRows& out);

  pgclient::ReplicationConnection& conn_;
  const postgres::TypeResolver& resolver_;
  std::map<std::string, TableColumns> columns_;
  std::string where_;
  CopyFormat format_ = CopyFormat::kBinary;
  ChunkQueries queries_ = ChunkQueries::kOnePerChunk;
  bool last_chunk_binary_ = false;
  size_t row_bytes_ = 0;  // bytes per encoded row in the last chunk read
  // Where the open table stream stopped: the next chunk continues it only from there.
  struct Stream {
    bool open = false;
    std::string table;  // QualifiedName
    CopyFormat format = CopyFormat::kBinary;
    std::string where;
    std::vector<std::string> last_key;  // of the chunk it returned last (empty: none yet)
  } stream_;
  ReadEventEncoder encoder_;
  postgres::CopyTextRow copy_row_;
  postgres::CopyBinaryRow binary_row_;
  std::string scratch_;
  // The last row's key values as sent (binary bytes or COPY text), for the chunk's last key.
  std::vector<std::optional<std::string>> last_key_bytes_;
};

}  // namespace sluice::pipeline
