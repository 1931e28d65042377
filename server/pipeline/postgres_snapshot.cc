#include "server/pipeline/postgres_snapshot.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "protocol/postgres/pg_value_wire.h"

namespace sluice::pipeline {

absl::Status OpenPostgresSnapshot(pgclient::ReplicationConnection& conn,
                                  const std::string& exported_snapshot) {
  SLUICE_RETURN_IF_ERROR(conn.Query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").status());
  if (!exported_snapshot.empty()) {
    SLUICE_RETURN_IF_ERROR(
        conn.Query(absl::StrCat("SET TRANSACTION SNAPSHOT ", conn.QuoteLiteral(exported_snapshot)))
            .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<storagepb::SnapshotTable>> ListPostgresTables(
    pgclient::ReplicationConnection& conn, const std::string& publication) {
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult tables,
      conn.QueryText(
          absl::StrCat("SELECT pt.schemaname, pt.tablename, GREATEST(c.reltuples, 0)::bigint "
                       "FROM pg_publication_tables pt "
                       "JOIN pg_namespace n ON n.nspname = pt.schemaname "
                       "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
                       "WHERE pt.pubname = ",
                       conn.QuoteLiteral(publication), " ORDER BY 1, 2")));
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult keys,
      conn.QueryText("SELECT n.nspname, c.relname, a.attname FROM pg_index i "
                     "JOIN pg_class c ON c.oid = i.indrelid "
                     "JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                     "WHERE i.indisprimary "
                     "ORDER BY 1, 2, array_position(i.indkey::int2[], a.attnum)"));
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> key_columns;
  for (const auto& row : keys.rows) {
    if (row.size() < 3 || !row[0] || !row[1] || !row[2]) continue;
    key_columns[{*row[0], *row[1]}].push_back(*row[2]);
  }
  std::vector<storagepb::SnapshotTable> out;
  for (const auto& row : tables.rows) {
    if (row.size() < 3 || !row[0] || !row[1]) continue;
    storagepb::SnapshotTable& t = out.emplace_back();
    t.set_database(*row[0]);
    t.set_table(*row[1]);
    uint64_t estimate = 0;
    if (row[2] && absl::SimpleAtoi(*row[2], &estimate)) t.set_rows_estimated(estimate);
    auto it = key_columns.find({*row[0], *row[1]});
    if (it != key_columns.end()) {
      for (const std::string& k : it->second) t.add_key_columns(k);
    }
  }
  return out;
}

absl::StatusOr<const PostgresSnapshotReader::TableColumns*> PostgresSnapshotReader::Columns(
    const storagepb::SnapshotTable& table) {
  const std::string name = QualifiedName(table);
  auto it = columns_.find(name);
  if (it != columns_.end()) return &it->second;
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult rs,
      conn_.QueryText(
          absl::StrCat("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = ",
                       conn_.QuoteLiteral(absl::StrCat(conn_.QuoteIdentifier(table.database()), ".",
                                                       conn_.QuoteIdentifier(table.table()))),
                       "::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
                       "ORDER BY a.attnum")));
  std::vector<std::string> columns;
  for (const auto& row : rs.rows) {
    if (!row.empty() && row[0]) columns.push_back(conn_.QuoteIdentifier(*row[0]));
  }
  TableColumns t;
  t.list = absl::StrJoin(columns, ", ");
  const bool keyless = table.key_columns().empty();
  t.select = keyless ? absl::StrCat("SELECT ctid", t.list.empty() ? "" : ", ", t.list)
                     : absl::StrCat("SELECT ", t.list.empty() ? "NULL" : t.list);
  // COPY gives no column names or types: the same select list with LIMIT 0 does.
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult shape,
      conn_.QueryText(absl::StrCat(t.select, " FROM ", conn_.QuoteIdentifier(table.database()), ".",
                                   conn_.QuoteIdentifier(table.table()), " LIMIT 0")));
  t.names = std::move(shape.names);
  t.type_oids = std::move(shape.type_oids);
  return &(columns_[name] = std::move(t));
}

absl::StatusOr<EncodedRows> PostgresSnapshotReader::ReadEncodedChunk(
    const storagepb::SnapshotTable& table, size_t limit) {
  SLUICE_ASSIGN_OR_RETURN(const TableColumns* columns, Columns(table));
  const std::string from = absl::StrCat(conn_.QuoteIdentifier(table.database()), ".",
                                        conn_.QuoteIdentifier(table.table()));
  const bool keyless = table.key_columns().empty();
  std::string sql = absl::StrCat(columns->select, " FROM ", from);
  std::vector<std::string> conditions;
  std::string order;
  if (keyless) {
    if (table.last_key_size() == 1) {
      conditions.push_back(absl::StrCat("ctid > ", conn_.QuoteLiteral(table.last_key(0)), "::tid"));
    }
    order = "ctid";
  } else {
    std::vector<std::string> keys, values;
    for (const std::string& k : table.key_columns()) keys.push_back(conn_.QuoteIdentifier(k));
    for (const std::string& v : table.last_key()) values.push_back(conn_.QuoteLiteral(v));
    if (table.last_key_size() == table.key_columns_size()) {
      conditions.push_back(
          absl::StrCat("(", absl::StrJoin(keys, ", "), ") > (", absl::StrJoin(values, ", "), ")"));
    }
    order = absl::StrJoin(keys, ", ");
  }
  if (!where_.empty()) conditions.push_back(absl::StrCat("(", where_, ")"));
  if (!conditions.empty()) absl::StrAppend(&sql, " WHERE ", absl::StrJoin(conditions, " AND "));
  absl::StrAppend(&sql, " ORDER BY ", order, " LIMIT ", limit);

  const size_t first = keyless ? 1 : 0;  // skip the ctid column
  SLUICE_ASSIGN_OR_RETURN(std::vector<size_t> key_index,
                          KeyColumnIndices(table, columns->names, first));
  encoder_.Reset(
      QualifiedName(table), {table.key_columns().begin(), table.key_columns().end()},
      {columns->names.begin() + static_cast<std::ptrdiff_t>(first), columns->names.end()});
  const size_t ncols = columns->names.size();

  EncodedRows out;
  out.events.reserve(limit);
  // COPY streams the rows in text format; each is encoded as it arrives.
  SLUICE_RETURN_IF_ERROR(conn_
                             .CopyOut(absl::StrCat("COPY (", sql, ") TO STDOUT"),
                                      [&](std::string_view row) -> absl::Status {
                                        SLUICE_RETURN_IF_ERROR(copy_row_.Parse(row, ncols));
                                        const auto& values = copy_row_.values();
                                        for (size_t c = first; c < ncols; ++c) {
                                          postgres::AppendTextValueWire(columns->type_oids[c],
                                                                        values[c], resolver_,
                                                                        encoder_.AddColumn());
                                        }
                                        out.events.push_back(encoder_.FinishRow());
                                        last_row_.assign(row);
                                        return absl::OkStatus();
                                      })
                             .status());
  if (!out.events.empty()) {
    SLUICE_RETURN_IF_ERROR(copy_row_.Parse(last_row_, ncols));
    const auto& last = copy_row_.values();
    if (keyless) {
      out.last_key.emplace_back(last[0].value_or(""));
    } else {
      for (size_t index : key_index) out.last_key.emplace_back(last[index].value_or(""));
    }
  }
  return out;
}

}  // namespace sluice::pipeline
