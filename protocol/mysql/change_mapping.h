#pragma once
// Maps decoded binlog events to sluice ChangeEvents: row events to c/u/d events and DDL QUERY
// events to ddl events. Only the per-row parts are filled (op, source database and table, key
// columns, before/after); offsets, commit info and transaction indexes are the caller's.
//
// Pure; thread-compatible.

#include <string_view>
#include <vector>

#include "protocol/mysql/control_events.h"
#include "protocol/mysql/rows_event.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

// What a QUERY event's statement means for transaction assembly.
enum class QueryKind {
  kBegin,     // BEGIN, START TRANSACTION, XA START
  kCommit,    // COMMIT (non-transactional engines; XID ends InnoDB transactions), and
              // XA COMMIT / XA ROLLBACK, which end their own group
  kRollback,  // ROLLBACK (a transaction that touched non-transactional tables)
  kIgnored,   // SAVEPOINT, ROLLBACK TO, RELEASE SAVEPOINT, XA END: no change
  kDml,       // statement-based DML (INSERT, UPDATE, DELETE, REPLACE, LOAD): binlog_format
              // is not ROW, and the rows cannot be known
  kDdl,       // everything else: schema changes, account management, ...
};

// Classifies `sql` by its first keyword(s), case-insensitively, skipping leading whitespace and
// comments (/* ... */ and "-- " / "#" lines).
QueryKind ClassifyQuery(std::string_view sql);

// Appends one ChangeEvent per row of `rows` to `out`, moving the row images out of `rows`.
// source.kind is MYSQL and source.database / source.table come from the table map; key_columns
// are the primary-key column names.
void AppendRowChanges(RowsEvent&& rows, std::vector<v1::ChangeEvent>& out);

// A DDL event (op ddl) for a QUERY event: ddl.statement is the statement converted from the
// client's charset to UTF-8 (StatementUtf8), source.database the QUERY's default database.
v1::ChangeEvent MapDdl(const Query& query);

// The statement as UTF-8: converted from query.client_collation's charset when that is latin1 or
// a CJK charset sluice converts; otherwise (UTF-8 clients, an unknown or absent charset, bytes
// that are not valid in the charset) the bytes as they are, which the log stores readably
// (proto/base/utf8_safe.h mends what is not UTF-8).
std::string StatementUtf8(const Query& query);

}  // namespace sluice::mysql
