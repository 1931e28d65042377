#pragma once
// The MySQL/MariaDB half of a snapshot, over an ordinary SQL session (MysqlConnection::Query,
// text protocol; never the replication connection).
//
// OpenMysqlSnapshot starts the snapshot transaction and, for a fresh snapshot, finds its cut:
//   MariaDB  START TRANSACTION WITH CONSISTENT SNAPSHOT, then SHOW STATUS LIKE
//            'binlog_snapshot_%' gives the binlog file:pos of exactly that snapshot. No lock.
//   MySQL    FLUSH TABLES WITH READ LOCK; read the position (SHOW BINARY LOG STATUS on 8.4+,
//            else SHOW MASTER STATUS) and gtid_executed; START TRANSACTION WITH CONSISTENT
//            SNAPSHOT; UNLOCK TABLES. The lock is held for those three statements only
//            (MysqlCut::lock_held). When FTWRL is denied (no RELOAD privilege, or a managed
//            server), it reads the position first and opens the transaction after it: rows are
//            then read slightly after the cut and the stream from the cut replays the window
//            (method "later", docs/guarantees.md).
// A resumed snapshot only opens a new consistent transaction (the cut is already stored).
//
// MysqlSnapshotReader reads primary-key chunks with keyset pagination
//   SELECT * FROM `db`.`t` WHERE (k1 > v1) OR (k1 = v1 AND k2 > v2) ... ORDER BY k1, k2 LIMIT n
// streamed row by row and encoded as they arrive, so snapshot rows render exactly as the
// stream's rows. By default over the binary protocol (MysqlConnection::QueryStreamBinary,
// mysqlclient::AppendBinaryColumnWire): the server then sends integers, floats and temporals
// without formatting them, which costs it less CPU per row than the text protocol; the resume
// key is made from the last row's binary key values (BinaryKeyText). A reader set to
// MysqlRowProtocol::kText reads with COM_QUERY (QueryStream, AppendTextColumnWire), and so does
// everything after the server refused to prepare a chunk's statement (e.g.
// max_prepared_stmt_count = 0). Both store the same bytes but for FLOAT and DOUBLE, which text
// gives rounded (mysql_snapshot_protocol_test).
// The resume key of a FLOAT or DOUBLE key column is always the stored number, never the
// server's rounded text (a FLOAT prints with 6 significant digits, so `k > 1.23457` skipped or
// re-read rows): over the binary protocol it is the value's bits (BinaryKeyText), over the text
// protocol the chunk also selects `k + 0e0`, a DOUBLE the server prints with every digit; the
// next chunk compares with it as a DOUBLE literal (KeysetLiteral), which is exact for a FLOAT
// column too (its value widens to double). Tables without a primary key are read with
// LIMIT/OFFSET in the one transaction. The session runs with time_zone '+00:00' (TIMESTAMP
// values are UTC) and utf8mb4.
//
// Thread-compatible: one connection, one thread.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/base/positions.h"
#include "protocol/mysqlclient/connection.h"
#include "server/pipeline/read_event_encoder.h"
#include "server/pipeline/snapshot.h"

namespace sluice::pipeline {

struct MysqlCut {
  BinlogPosition position;
  std::string gtid_state;  // MariaDB: BINLOG_GTID_POS of the position; MySQL: gtid_executed
  bool exact = true;       // rows are read exactly at `position`
  absl::Duration lock_held = absl::ZeroDuration();
};

// Session settings for reading rows that render as the stream's: utf8mb4, time_zone UTC, no
// NO_BACKSLASH_ESCAPES (for QuoteMysqlLiteral).
absl::Status PrepareMysqlReadSession(mysqlclient::MysqlConnection& conn);

// Sets up the session and opens the snapshot transaction; `fresh` also determines the cut.
// Errors from the server pass through with the statement named.
absl::StatusOr<MysqlCut> OpenMysqlSnapshot(mysqlclient::MysqlConnection& conn, bool mariadb,
                                           bool fresh);

// The base tables `selected` accepts (system schemas excluded), with their primary keys and
// the server's row estimates, ordered by database and name.
absl::StatusOr<std::vector<storagepb::SnapshotTable>> ListMysqlTables(
    mysqlclient::MysqlConnection& conn,
    const std::function<bool(std::string_view db, std::string_view table)>& selected);

// How MysqlSnapshotReader asks for rows (see the top of this file).
enum class MysqlRowProtocol { kBinary, kText };

class MysqlSnapshotReader final : public SnapshotReader {
 public:
  explicit MysqlSnapshotReader(mysqlclient::MysqlConnection& conn) : conn_(conn) {}
  // A table dropped after it was listed (ER_NO_SUCH_TABLE) gives an empty chunk, which ends it,
  // and a warning naming it: its DROP comes after the cut, so the stream delivers it
  // (docs/guarantees.md). Other errors pass through.
  absl::StatusOr<EncodedRows> ReadEncodedChunk(const storagepb::SnapshotTable& table,
                                               size_t limit) override;
  // The source named in warnings.
  void set_source(std::string source) { source_ = std::move(source); }
  // An SQL condition every chunk must also satisfy (on-demand re-snapshots); "" for none.
  void set_where(std::string where) { where_ = std::move(where); }
  void set_protocol(MysqlRowProtocol protocol) { protocol_ = protocol; }

 private:
  absl::StatusOr<EncodedRows> ReadChunk(const storagepb::SnapshotTable& table, size_t limit);
  // The table's columns as the server describes them (for quoting key literals).
  absl::StatusOr<const std::vector<mysqlclient::ColumnDefinition>*> Columns(
      const storagepb::SnapshotTable& table);

  // Per key column: FLOAT or DOUBLE.
  absl::StatusOr<std::vector<bool>> FloatingPointKeys(const storagepb::SnapshotTable& table);
  // The SELECT of the chunk after table.last_key(): every column, then `k + 0e0` for each key
  // column k marked in `exact_keys` (may be empty).
  absl::StatusOr<std::string> ChunkSql(const storagepb::SnapshotTable& table, size_t limit,
                                       const std::vector<bool>& exact_keys);
  // The members of an ENUM or SET column (information_schema.COLUMNS).
  absl::StatusOr<const std::vector<std::string>*> Members(const storagepb::SnapshotTable& table,
                                                          const std::string& column);

  mysqlclient::MysqlConnection& conn_;
  std::map<std::string, std::vector<mysqlclient::ColumnDefinition>> columns_;
  std::map<std::string, std::vector<std::string>> members_;  // by table + column
  std::string where_;
  std::string source_ = "mysql snapshot";
  MysqlRowProtocol protocol_ = MysqlRowProtocol::kBinary;
  ReadEventEncoder encoder_;
  std::string last_row_;  // the chunk's last row as sent, for its key
};

// The members of an ENUM or SET column from its information_schema.COLUMNS.COLUMN_TYPE
// ("enum('a','it''s')", "set('x','y')"); InvalidArgument when the text is not of that form.
absl::StatusOr<std::vector<std::string>> ParseEnumMembers(std::string_view column_type);

// The keyset literal for a key column's resume text (`key`, as the row gave it), in the order
// ORDER BY sorts the column: BIT as its unsigned number and ENUM as its member's index, SET as
// its bitmask (compared with a string, these three would compare as strings, which is not the
// index's order: rows were skipped or read again); FLOAT and DOUBLE as a DOUBLE literal of the
// number (`1.2345670461654663e0`; DataLoss when `key` is not a finite number); any other
// column as a string literal (_binary for a binary-charset column). `members`: an ENUM/SET
// column's members.
absl::StatusOr<std::string> KeysetLiteral(const mysqlclient::ColumnDefinition& column,
                                          std::string_view key,
                                          const std::vector<std::string>* members);

// `name` as a backquoted identifier.
std::string QuoteMysqlIdentifier(std::string_view name);
// `bytes` as a string literal ('...' with backslash escapes; _binary'...' when `binary`).
// Needs a session without NO_BACKSLASH_ESCAPES (OpenMysqlSnapshot sees to it).
std::string QuoteMysqlLiteral(std::string_view bytes, bool binary);

}  // namespace sluice::pipeline
