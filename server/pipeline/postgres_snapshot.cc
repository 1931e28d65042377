#include "server/pipeline/postgres_snapshot.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "protocol/postgres/pg_binary_value.h"
#include "protocol/postgres/pg_value_wire.h"

namespace sluice::pipeline {

absl::Status OpenPostgresSnapshot(pgclient::ReplicationConnection& conn,
                                  const std::string& exported_snapshot) {
  // One round trip: the import must be the transaction's first statement, and a failed one
  // fails the whole string (the transaction is then aborted; the caller drops the session).
  std::string sql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  if (!exported_snapshot.empty()) {
    absl::StrAppend(&sql, "; SET TRANSACTION SNAPSHOT ", conn.QuoteLiteral(exported_snapshot));
  }
  return conn.Query(sql).status();
}

absl::StatusOr<std::vector<storagepb::SnapshotTable>> ListPostgresTables(
    pgclient::ReplicationConnection& conn, const std::string& publication) {
  // One query (a fresh backend spends most of it loading catalog caches): the publication's
  // tables as pg_publication_tables lists them (the same join of pg_publication and
  // pg_get_publication_tables, without the view's column lists and row filters), each with
  // its row estimate and one row per primary-key column in key order (a keyless table: one
  // row with a NULL column).
  SLUICE_ASSIGN_OR_RETURN(
      pgclient::TextResult rows,
      conn.QueryText(absl::StrCat(
          "SELECT n.nspname, c.relname, GREATEST(c.reltuples, 0)::bigint, a.attname "
          "FROM pg_publication p, LATERAL pg_get_publication_tables(p.pubname) g "
          "JOIN pg_class c ON c.oid = g.relid "
          "JOIN pg_namespace n ON n.oid = c.relnamespace "
          "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
          "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
          "WHERE p.pubname = ",
          conn.QuoteLiteral(publication),
          " ORDER BY 1, 2, array_position(i.indkey::int2[], a.attnum)")));
  std::vector<storagepb::SnapshotTable> out;
  for (const auto& row : rows.rows) {
    if (row.size() < 4 || !row[0] || !row[1]) continue;
    if (out.empty() || out.back().database() != *row[0] || out.back().table() != *row[1]) {
      storagepb::SnapshotTable& t = out.emplace_back();
      t.set_database(*row[0]);
      t.set_table(*row[1]);
      uint64_t estimate = 0;
      if (row[2] && absl::SimpleAtoi(*row[2], &estimate)) t.set_rows_estimated(estimate);
    }
    if (row[3]) out.back().add_key_columns(*row[3]);
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
  // The binary select: the same expressions, those not decoded in binary wrapped in their
  // type's output function (looked up in pg_type, schema-qualified).
  std::vector<std::string> exprs;
  if (keyless) exprs.push_back("ctid");
  for (std::string& c : columns) exprs.push_back(c);
  if (exprs.empty()) exprs.push_back("NULL");
  const std::set<std::string> keys(table.key_columns().begin(), table.key_columns().end());
  t.binary.assign(t.type_oids.size(), 0);
  std::set<uint32_t> text_oids;
  for (size_t c = 0; c < t.type_oids.size(); ++c) {
    const bool key = keys.count(t.names[c]) > 0;
    t.binary[c] = (keyless && c == 0) ? false
                  : key               ? postgres::HasBinaryText(t.type_oids[c])
                                      : postgres::HasBinaryDecoder(t.type_oids[c]);
    if (!t.binary[c]) text_oids.insert(t.type_oids[c]);
  }
  std::map<uint32_t, std::pair<std::string, std::string>> output_functions;  // function, cast
  if (!text_oids.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        pgclient::TextResult fns,
        conn_.QueryText(
            absl::StrCat("SELECT t.oid, quote_ident(n.nspname) || '.' || quote_ident(p.proname), "
                         "p.proargtypes[0] = t.oid, a.typtype = 'p', "
                         "quote_ident(tn.nspname) || '.' || quote_ident(t.typname) "
                         "FROM pg_type t JOIN pg_proc p ON p.oid = t.typoutput "
                         "JOIN pg_namespace n ON n.oid = p.pronamespace "
                         "JOIN pg_namespace tn ON tn.oid = t.typnamespace "
                         "JOIN pg_type a ON a.oid = p.proargtypes[0] WHERE t.oid IN (",
                         absl::StrJoin(text_oids, ", "), ")")));
    for (const auto& row : fns.rows) {
      uint32_t oid = 0;
      if (row.size() != 5 || !row[0] || !row[1] || !row[2] || !row[3] || !row[4] ||
          !absl::SimpleAtoi(*row[0], &oid)) {
        continue;
      }
      // The column goes to the function as the type the result row description names (for a
      // domain, its base type). A function declared for exactly that type takes it as it is; one
      // declared for a pseudo-type (enum_out(anyenum), array_out(anyarray), record_out…) needs
      // the concrete type spelled out, or a domain column does not resolve; any other
      // (refcursor's textout(text)) leaves the table to the text COPY.
      if (*row[2] == "t") {
        output_functions[oid] = {*row[1], ""};
      } else if (*row[3] == "t") {
        output_functions[oid] = {*row[1], *row[4]};
      }
    }
  }
  if (exprs.size() == t.type_oids.size()) {
    for (size_t c = 0; c < exprs.size(); ++c) {
      if (t.binary[c]) continue;
      auto fn = output_functions.find(t.type_oids[c]);
      if (fn == output_functions.end()) {
        exprs.clear();  // no output function known: this table is read in text
        break;
      }
      const auto& [function, cast] = fn->second;
      exprs[c] = absl::StrCat(function, "(", exprs[c], cast.empty() ? "" : "::", cast, ")");
    }
  } else {
    exprs.clear();
  }
  if (!exprs.empty()) t.binary_select = absl::StrCat("SELECT ", absl::StrJoin(exprs, ", "));
  return &(columns_[name] = std::move(t));
}

namespace {

// Before a table stream's COPY: a savepoint, so that ending the stream early (a cancelled query
// aborts the transaction) keeps the snapshot transaction; and no sort, so that the rows come in
// key order from the primary key's index as they do for the per-chunk query (LIMIT n), never
// from a sort of the whole table that the planner may prefer without the LIMIT (on the server's
// disk, with the first row only once every row is sorted). Keyless tables are still sorted by
// ctid: there is no other plan for them.
// statement_timeout = 0: the stream is one statement per table, open while the log ingests its
// chunks; a role's timeout sized for queries would cancel it again and again (each retry resumes
// after the last durable chunk, but a slow log could leave it no progress).
constexpr char kStartStream[] =
    "SAVEPOINT sluice_table_stream; SET LOCAL enable_sort = off; SET LOCAL statement_timeout = 0";
// After it, however it ended: back to the savepoint, which also undoes the SET LOCAL.
constexpr char kEndStream[] =
    "ROLLBACK TO SAVEPOINT sluice_table_stream; RELEASE SAVEPOINT sluice_table_stream";

}  // namespace

PostgresSnapshotReader::~PostgresSnapshotReader() { EndStream().IgnoreError(); }

std::string PostgresSnapshotReader::Select(const storagepb::SnapshotTable& table, const Plan& plan,
                                           size_t limit) const {
  const std::string from = absl::StrCat(conn_.QuoteIdentifier(table.database()), ".",
                                        conn_.QuoteIdentifier(table.table()));
  std::string sql =
      absl::StrCat(plan.binary ? plan.columns->binary_select : plan.columns->select, " FROM ", from);
  std::vector<std::string> conditions;
  std::string order;
  if (table.key_columns().empty()) {
    if (table.last_key_size() == 1) {
      conditions.push_back(absl::StrCat("ctid > ", conn_.QuoteLiteral(table.last_key(0)), "::tid"));
    }
    order = absl::StrCat(from, ".ctid");
  } else {
    // Qualified: in ORDER BY a bare name means a result column first, and the binary select's
    // wrapped columns are named after their output functions ("date_out"…).
    std::vector<std::string> keys, values;
    for (const std::string& k : table.key_columns()) {
      keys.push_back(absl::StrCat(from, ".", conn_.QuoteIdentifier(k)));
    }
    for (const std::string& v : table.last_key()) values.push_back(conn_.QuoteLiteral(v));
    if (table.last_key_size() == table.key_columns_size()) {
      conditions.push_back(
          absl::StrCat("(", absl::StrJoin(keys, ", "), ") > (", absl::StrJoin(values, ", "), ")"));
    }
    order = absl::StrJoin(keys, ", ");
  }
  if (!where_.empty()) conditions.push_back(absl::StrCat("(", where_, ")"));
  if (!conditions.empty()) absl::StrAppend(&sql, " WHERE ", absl::StrJoin(conditions, " AND "));
  absl::StrAppend(&sql, " ORDER BY ", order);
  if (limit > 0) absl::StrAppend(&sql, " LIMIT ", limit);
  return absl::StrCat("COPY (", sql, ") TO STDOUT", plan.binary ? " (FORMAT binary)" : "");
}

absl::StatusOr<EncodedRows> PostgresSnapshotReader::ReadEncodedChunk(
    const storagepb::SnapshotTable& table, size_t limit) {
  // A stream that this chunk does not continue ends first: the session takes no other query
  // while a copy is open (and Columns may need some).
  if (stream_.open &&
      (queries_ != ChunkQueries::kOnePerTable || stream_.table != QualifiedName(table) ||
       stream_.format != format_ || stream_.where != where_ ||
       !std::equal(stream_.last_key.begin(), stream_.last_key.end(), table.last_key().begin(),
                   table.last_key().end()))) {
    SLUICE_RETURN_IF_ERROR(EndStream());
  }
  SLUICE_ASSIGN_OR_RETURN(const TableColumns* columns, Columns(table));
  Plan plan;
  plan.columns = columns;
  plan.binary = format_ == CopyFormat::kBinary && !columns->binary_select.empty();
  last_chunk_binary_ = plan.binary;
  const bool keyless = table.key_columns().empty();
  plan.first = keyless ? 1 : 0;  // skip the ctid column
  if (plan.binary) {
    for (size_t c = plan.first; c < columns->names.size(); ++c) {
      Plan::Column& d = plan.decoders.emplace_back();
      d.type_oid = columns->type_oids[c];
      d.binary = columns->binary[c] != 0;
      if (d.binary) d.fast = postgres::binary_internal::FastDecoderFor(d.type_oid);
    }
  }
  if (keyless) {
    plan.key_at.push_back(0);
  } else {
    SLUICE_ASSIGN_OR_RETURN(plan.key_at, KeyColumnIndices(table, columns->names, plan.first));
  }
  encoder_.Reset(
      {table.key_columns().begin(), table.key_columns().end()},
      {columns->names.begin() + static_cast<std::ptrdiff_t>(plan.first), columns->names.end()});
  last_key_bytes_.assign(plan.key_at.size(), std::nullopt);

  EncodedRows out;
  // Room for as many bytes per row as the last chunk took, and an eighth more (rows of one
  // table are alike), up to 16 MiB (the last chunk may have been another table's few big
  // rows): the buffer is rarely grown (copied) while the rows come in.
  out.rows.Reserve(limit, std::min((row_bytes_ + row_bytes_ / 8) * limit, size_t{16} << 20));
  if (queries_ == ChunkQueries::kOnePerTable) {
    SLUICE_RETURN_IF_ERROR(ReadFromStream(table, plan, limit, out));
  } else {
    SLUICE_RETURN_IF_ERROR(ReadOneQuery(table, plan, limit, out));
  }
  if (absl::Status keyed = SetLastKey(plan, out); !keyed.ok()) {
    // The chunk's rows were taken from the stream: it cannot be continued from any key.
    EndStream().IgnoreError();
    return keyed;
  }
  if (stream_.open) stream_.last_key = out.last_key;  // where the next chunk must start
  if (!out.rows.empty()) row_bytes_ = out.rows.byte_size() / out.rows.size();
  out.rows.ReleaseSlack();
  return out;
}

absl::Status PostgresSnapshotReader::ReadOneQuery(const storagepb::SnapshotTable& table,
                                                  const Plan& plan, size_t limit,
                                                  EncodedRows& out) {
  const std::string sql = Select(table, plan, limit);
  binary_row_.Reset();
  SLUICE_RETURN_IF_ERROR(
      conn_.CopyOut(sql, [&](std::string_view row) { return TakeRow(plan, row, out); }).status());
  if (plan.binary && !binary_row_.ended()) {
    return absl::DataLossError(absl::StrCat("COPY binary of \"", sql.substr(0, 80),
                                            "\": the rows ended without the trailer"));
  }
  return absl::OkStatus();
}

absl::Status PostgresSnapshotReader::ReadFromStream(const storagepb::SnapshotTable& table,
                                                    const Plan& plan, size_t limit,
                                                    EncodedRows& out) {
  const std::string name = QualifiedName(table);
  if (!stream_.open) {  // else it stopped where this chunk starts (ReadEncodedChunk)
    const std::string sql = Select(table, plan, /*limit=*/0);
    SLUICE_RETURN_IF_ERROR(conn_.Query(kStartStream).status());
    if (absl::Status started = conn_.StartCopyOut(sql); !started.ok()) {
      conn_.Query(kEndStream).status().IgnoreError();  // the start's error is the one to report
      return started;
    }
    stream_.open = true;
    stream_.table = name;
    stream_.format = format_;
    stream_.where = where_;
    stream_.last_key.clear();
    binary_row_.Reset();
  }
  while (out.rows.size() < limit) {
    absl::StatusOr<std::optional<std::string_view>> row = conn_.NextCopyRow();
    if (!row.ok() || !*row) {
      // The copy is over: its error (the transaction aborted with it), or its end.
      stream_.open = false;
      if (!row.ok()) {
        conn_.Query(kEndStream).status().IgnoreError();  // the copy's error is the one to report
        return row.status();
      }
      SLUICE_RETURN_IF_ERROR(conn_.Query(kEndStream).status());
      if (plan.binary && !binary_row_.ended()) {
        return absl::DataLossError(absl::StrCat("COPY binary of ", name,
                                                ": the rows ended without the trailer"));
      }
      return absl::OkStatus();
    }
    if (absl::Status taken = TakeRow(plan, **row, out); !taken.ok()) {
      EndStream().IgnoreError();  // the row's error is the one to report
      return taken;
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresSnapshotReader::EndStream() {
  if (!stream_.open) return absl::OkStatus();
  stream_.open = false;
  SLUICE_RETURN_IF_ERROR(conn_.EndCopyOut().status());
  return conn_.Query(kEndStream).status();
}

absl::Status PostgresSnapshotReader::TakeRow(const Plan& plan, std::string_view message,
                                             EncodedRows& out) {
  const TableColumns& columns = *plan.columns;
  const size_t ncols = columns.names.size();
  const std::vector<std::optional<std::string_view>>* values;
  if (plan.binary) {
    SLUICE_RETURN_IF_ERROR(binary_row_.Parse(message, ncols));
    if (binary_row_.ended()) return absl::OkStatus();
    values = &binary_row_.values();
    const std::optional<std::string_view>* value = values->data() + plan.first;
    for (const Plan::Column& d : plan.decoders) {
      const std::optional<std::string_view>& v = *value++;
      std::string& wire = encoder_.AddColumn();
      if (d.fast != nullptr && v && d.fast(*v, wire)) continue;
      if (d.binary) {
        SLUICE_RETURN_IF_ERROR(postgres::binary_internal::AppendBinaryValueWireGeneral(
            d.type_oid, v, resolver_, scratch_, wire));
      } else {
        postgres::AppendTextValueWire(d.type_oid, v, resolver_, wire);
      }
    }
  } else {
    SLUICE_RETURN_IF_ERROR(copy_row_.Parse(message, ncols));
    values = &copy_row_.values();
    for (size_t c = plan.first; c < ncols; ++c) {
      postgres::AppendTextValueWire(columns.type_oids[c], (*values)[c], resolver_,
                                    encoder_.AddColumn());
    }
  }
  encoder_.FinishRow(out.rows);
  for (size_t k = 0; k < plan.key_at.size(); ++k) {
    const auto& v = (*values)[plan.key_at[k]];
    if (v) {
      last_key_bytes_[k].emplace(*v);
    } else {
      last_key_bytes_[k].reset();
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresSnapshotReader::SetLastKey(const Plan& plan, EncodedRows& out) const {
  if (out.rows.empty()) return absl::OkStatus();
  for (size_t k = 0; k < plan.key_at.size(); ++k) {
    std::string& text = out.last_key.emplace_back();
    const auto& v = last_key_bytes_[k];
    if (!v) continue;  // a NULL key is ""
    if (plan.binary && plan.columns->binary[plan.key_at[k]]) {
      SLUICE_RETURN_IF_ERROR(
          postgres::AppendBinaryValueText(plan.columns->type_oids[plan.key_at[k]], *v, text));
    } else {
      text = *v;
    }
  }
  return absl::OkStatus();
}

}  // namespace sluice::pipeline
