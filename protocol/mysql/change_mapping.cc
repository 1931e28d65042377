#include "protocol/mysql/change_mapping.h"

#include <array>
#include <cctype>
#include <optional>
#include <string>

#include "protocol/mysql/charset.h"

namespace sluice::mysql {
namespace {

// `sql` without leading whitespace and comments.
std::string_view SkipSpaceAndComments(std::string_view sql) {
  while (!sql.empty()) {
    const char c = sql.front();
    if (std::isspace(static_cast<unsigned char>(c))) {
      sql.remove_prefix(1);
    } else if (sql.starts_with("/*")) {
      // "/*!50001 ... */" version comments hold real statement text; keep their body.
      if (sql.size() > 2 && sql[2] == '!') {
        size_t i = 3;
        while (i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i]))) ++i;
        sql.remove_prefix(i);
        continue;
      }
      const size_t end = sql.find("*/", 2);
      sql.remove_prefix(end == std::string_view::npos ? sql.size() : end + 2);
    } else if (sql.starts_with("-- ") || sql.front() == '#') {
      const size_t end = sql.find('\n');
      sql.remove_prefix(end == std::string_view::npos ? sql.size() : end + 1);
    } else {
      break;
    }
  }
  return sql;
}

// The next keyword (letters and '_'), upper-cased, and the rest after it.
std::string NextWord(std::string_view& sql) {
  sql = SkipSpaceAndComments(sql);
  std::string word;
  size_t i = 0;
  while (i < sql.size() && i < 32 &&
         (std::isalpha(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i]))));
    ++i;
  }
  sql.remove_prefix(i);
  return word;
}

}  // namespace

QueryKind ClassifyQuery(std::string_view sql) {
  const std::string first = NextWord(sql);
  if (first == "BEGIN") return QueryKind::kBegin;
  if (first == "COMMIT") return QueryKind::kCommit;
  if (first == "SAVEPOINT" || first == "RELEASE") return QueryKind::kIgnored;
  if (first == "ROLLBACK") {
    return NextWord(sql) == "TO" ? QueryKind::kIgnored : QueryKind::kRollback;
  }
  if (first == "START") {
    return NextWord(sql) == "TRANSACTION" ? QueryKind::kBegin : QueryKind::kDdl;
  }
  if (first == "XA") {
    const std::string second = NextWord(sql);
    if (second == "START" || second == "BEGIN") return QueryKind::kBegin;
    // XA COMMIT / XA ROLLBACK of a prepared transaction end their own (empty) group; the
    // prepared transaction's rows were published at XA PREPARE.
    if (second == "COMMIT" || second == "ROLLBACK") return QueryKind::kCommit;
    return QueryKind::kIgnored;
  }
  static constexpr std::array<std::string_view, 5> kDml = {"INSERT", "UPDATE", "DELETE", "REPLACE",
                                                           "LOAD"};
  for (std::string_view dml : kDml) {
    if (first == dml) return QueryKind::kDml;
  }
  return QueryKind::kDdl;
}

void AppendRowChanges(RowsEvent&& rows, std::vector<v1::ChangeEvent>& out) {
  v1::Op op = v1::OP_INSERT;
  if (rows.kind == RowsKind::kUpdate) op = v1::OP_UPDATE;
  if (rows.kind == RowsKind::kDelete) op = v1::OP_DELETE;
  v1::ChangeEvent proto;
  proto.set_op(op);
  auto* source = proto.mutable_source();
  source->set_kind(v1::SOURCE_KIND_MYSQL);
  if (rows.table != nullptr) {
    source->set_database(rows.table->database);
    source->set_table(rows.table->table);
    for (uint32_t index : rows.table->primary_key) {
      proto.add_key_columns(rows.table->ColumnName(index));
    }
  }
  out.reserve(out.size() + rows.rows.size());
  for (RowChange& row : rows.rows) {
    v1::ChangeEvent& e = out.emplace_back(proto);
    if (row.before) *e.mutable_before() = std::move(*row.before);
    if (row.after) *e.mutable_after() = std::move(*row.after);
  }
}

std::string StatementUtf8(const Query& query) {
  if (!query.client_collation.has_value()) return query.query;
  const CharsetInfo charset = CharsetForCollation(*query.client_collation);
  if (charset.kind == CharsetKind::kLatin1) return Latin1ToUtf8(query.query);
  std::optional<std::string> converted = ConvertToUtf8(query.query, charset);
  return converted.has_value() ? *std::move(converted) : query.query;
}

v1::ChangeEvent MapDdl(const Query& query) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_DDL);
  e.mutable_source()->set_kind(v1::SOURCE_KIND_MYSQL);
  e.mutable_source()->set_database(query.database);
  e.mutable_ddl()->set_statement(StatementUtf8(query));
  return e;
}

}  // namespace sluice::mysql
