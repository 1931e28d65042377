#include "server/pipeline/mysql_snapshot.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/status_macros.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/binary_value.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/messages.h"
#include "protocol/mysqlclient/text_value.h"
#include "server/logging/log.h"

namespace sluice::pipeline {
namespace {

using mysqlclient::MysqlConnection;
using mysqlclient::ResultSet;

absl::Status Run(MysqlConnection& conn, std::string_view sql) {
  absl::Status st = conn.Query(sql).status();
  if (st.ok()) return st;
  return mysqlclient::WithContext(st, absl::StrCat("snapshot: ", std::string(sql), ": "));
}

absl::StatusOr<ResultSet> Select(MysqlConnection& conn, std::string_view sql) {
  absl::StatusOr<ResultSet> rs = conn.Query(sql);
  if (rs.ok()) return rs;
  return mysqlclient::WithContext(rs.status(), absl::StrCat("snapshot: ", std::string(sql), ": "));
}

const std::string* Cell(const ResultSet& rs, size_t row, size_t col) {
  if (row >= rs.rows.size() || col >= rs.rows[row].size() || !rs.rows[row][col]) return nullptr;
  return &*rs.rows[row][col];
}

absl::StatusOr<BinlogPosition> PositionFrom(const ResultSet& rs, std::string_view what) {
  const std::string* file = Cell(rs, 0, 0);
  const std::string* pos = Cell(rs, 0, 1);
  BinlogPosition p;
  if (file == nullptr || pos == nullptr || file->empty() || !absl::SimpleAtoi(*pos, &p.offset)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: ", std::string(what),
        " gave no binlog position: the binary log is off; add log_bin=mysql-bin under [mysqld] "
        "in my.cnf and restart the server"));
  }
  p.file = *file;
  return p;
}

// MariaDB: the exact position of this session's consistent snapshot.
absl::StatusOr<BinlogPosition> MariadbSnapshotPosition(MysqlConnection& conn) {
  SLUICE_ASSIGN_OR_RETURN(ResultSet rs, Select(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'"));
  ResultSet pair;
  std::optional<std::string> file, pos;
  for (const auto& row : rs.rows) {
    if (row.size() < 2 || !row[0] || !row[1]) continue;
    const std::string name = absl::AsciiStrToLower(*row[0]);
    if (name == "binlog_snapshot_file") file = *row[1];
    if (name == "binlog_snapshot_position") pos = *row[1];
  }
  pair.rows.push_back({file, pos});
  return PositionFrom(pair, "SHOW STATUS LIKE 'binlog_snapshot_%'");
}

absl::StatusOr<BinlogPosition> MysqlCurrentPosition(MysqlConnection& conn, std::string& gtid) {
  absl::StatusOr<ResultSet> rs = conn.Query("SHOW BINARY LOG STATUS");  // MySQL 8.4+
  if (!rs.ok()) rs = Select(conn, "SHOW MASTER STATUS");
  SLUICE_RETURN_IF_ERROR(rs.status());
  // Executed_Gtid_Set is the fifth column when GTIDs are on.
  if (const std::string* g = Cell(*rs, 0, 4)) gtid = *g;
  return PositionFrom(*rs, "SHOW MASTER STATUS");
}

// FLOAT or DOUBLE: the text protocol prints these rounded (FLOAT to 6 significant digits).
bool IsFloatingPoint(const mysqlclient::ColumnDefinition& column) {
  return column.type == static_cast<uint8_t>(mysql::ColumnType::kFloat) ||
         column.type == static_cast<uint8_t>(mysql::ColumnType::kDouble);
}

}  // namespace

std::string QuoteMysqlIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseEnumMembers(std::string_view column_type) {
  std::string_view rest = column_type;
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "COLUMN_TYPE ", std::string(column_type.substr(0, 200)),
        " is not enum('...',...) or set('...',...)"));
  };
  const auto starts = [&](std::string_view prefix) {
    return rest.size() >= prefix.size() &&
           absl::AsciiStrToLower(std::string(rest.substr(0, prefix.size()))) == prefix;
  };
  if (starts("enum(")) {
    rest.remove_prefix(5);
  } else if (starts("set(")) {
    rest.remove_prefix(4);
  } else {
    return bad();
  }
  std::vector<std::string> members;
  while (true) {
    if (rest.empty() || rest.front() != '\'') return bad();
    rest.remove_prefix(1);
    std::string member;
    while (true) {
      if (rest.empty()) return bad();
      const char c = rest.front();
      rest.remove_prefix(1);
      if (c == '\'') {
        if (!rest.empty() && rest.front() == '\'') {  // '' is a quote
          member += '\'';
          rest.remove_prefix(1);
          continue;
        }
        break;
      }
      member += c;
    }
    members.push_back(std::move(member));
    if (rest.empty()) return bad();
    const char next = rest.front();
    rest.remove_prefix(1);
    if (next == ')') break;
    if (next != ',') return bad();
  }
  // Anything after the list (" unsigned"…) does not belong to an ENUM or SET.
  if (!rest.empty()) return bad();
  return members;
}

absl::StatusOr<std::string> KeysetLiteral(const mysqlclient::ColumnDefinition& column,
                                          std::string_view key,
                                          const std::vector<std::string>* members) {
  const auto unknown = [&](std::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat(
        "snapshot: key column ", column.name, " holds ", std::string(what),
        ", which is not one of its members; the table's definition changed during the "
        "snapshot? Re-snapshot the table (sluicectl snapshot)"));
  };
  if (column.type == static_cast<uint8_t>(mysql::ColumnType::kBit)) {
    if (key.size() > 8) {
      return absl::DataLossError(absl::StrCat("snapshot: BIT key column ", column.name, " gave ",
                                              key.size(), " bytes, at most 8 expected"));
    }
    uint64_t v = 0;
    for (char c : key) v = v << 8 | static_cast<uint8_t>(c);
    return absl::StrCat(v);
  }
  if (IsFloatingPoint(column)) {
    // A DOUBLE literal (an exponent makes it one) of exactly the stored number: compared with a
    // FLOAT column, the column's value is widened to double, so the comparison is exact.
    double d = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), d);
    if (ec != std::errc() || end != key.data() + key.size() || key.empty() || !std::isfinite(d)) {
      return absl::DataLossError(absl::StrCat("snapshot: key column ", column.name,
                                              " has the resume key '", std::string(key),
                                              "', which is not a number"));
    }
    std::string literal;
    mysqlclient::ExactDoubleText(d, literal);
    if (literal.find('e') == std::string::npos) literal += "e0";
    return literal;
  }
  if ((column.flags & mysqlclient::kEnumFlag) != 0 && members != nullptr) {
    if (key.empty()) return std::string("0");  // the error value '' (index 0)
    for (size_t i = 0; i < members->size(); ++i) {
      if ((*members)[i] == key) return absl::StrCat(i + 1);
    }
    return unknown(absl::StrCat("'", std::string(key), "'"));
  }
  if ((column.flags & mysqlclient::kSetFlag) != 0 && members != nullptr) {
    uint64_t mask = 0;
    while (!key.empty()) {
      const size_t comma = key.find(',');
      const std::string_view item = key.substr(0, comma);
      key = comma == std::string_view::npos ? std::string_view() : key.substr(comma + 1);
      size_t i = 0;
      while (i < members->size() && (*members)[i] != item) ++i;
      if (i == members->size() || i >= 64) {
        return unknown(absl::StrCat("'", std::string(item), "'"));
      }
      mask |= uint64_t{1} << i;
    }
    return absl::StrCat(mask);
  }
  return QuoteMysqlLiteral(key, column.charset == mysqlclient::kBinaryCharset);
}

std::string QuoteMysqlLiteral(std::string_view bytes, bool binary) {
  std::string out = binary ? "_binary'" : "'";
  for (char c : bytes) {
    switch (c) {
      case '\0':
        out += "\\0";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\x1a':
        out += "\\Z";
        break;
      default:
        out += c;
    }
  }
  out += '\'';
  return out;
}

absl::Status PrepareMysqlReadSession(MysqlConnection& conn) {
  conn.set_io_timeout(absl::Minutes(10));  // one chunk's SELECT may take a while
  SLUICE_RETURN_IF_ERROR(Run(conn, "SET NAMES utf8mb4"));
  SLUICE_RETURN_IF_ERROR(Run(conn, "SET time_zone = '+00:00'"));
  return Run(conn,
             "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
}

absl::StatusOr<MysqlCut> OpenMysqlSnapshot(MysqlConnection& conn, bool mariadb, bool fresh) {
  SLUICE_RETURN_IF_ERROR(PrepareMysqlReadSession(conn));
  SLUICE_RETURN_IF_ERROR(Run(conn, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  MysqlCut cut;
  if (!fresh) {
    SLUICE_RETURN_IF_ERROR(Run(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    return cut;
  }
  if (mariadb) {
    SLUICE_RETURN_IF_ERROR(Run(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    SLUICE_ASSIGN_OR_RETURN(cut.position, MariadbSnapshotPosition(conn));
    if (cut.position.file.find_first_of("'\\") == std::string::npos) {
      SLUICE_ASSIGN_OR_RETURN(
          ResultSet g, Select(conn, absl::StrCat("SELECT BINLOG_GTID_POS('", cut.position.file,
                                                 "', ", cut.position.offset, ")")));
      if (const std::string* s = Cell(g, 0, 0)) cut.gtid_state = *s;
    }
    return cut;
  }
  const auto locked = std::chrono::steady_clock::now();
  absl::Status lock = conn.Query("FLUSH TABLES WITH READ LOCK").status();
  if (lock.ok()) {
    absl::StatusOr<BinlogPosition> pos = MysqlCurrentPosition(conn, cut.gtid_state);
    absl::Status st = pos.status();
    if (st.ok()) st = Run(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT");
    absl::Status unlock = Run(conn, "UNLOCK TABLES");
    cut.lock_held = absl::FromChrono(std::chrono::steady_clock::now() - locked);
    SLUICE_RETURN_IF_ERROR(st);
    SLUICE_RETURN_IF_ERROR(unlock);
    cut.position = *pos;
    return cut;
  }
  if (!absl::IsPermissionDenied(lock)) {
    return mysqlclient::WithContext(lock, "snapshot: FLUSH TABLES WITH READ LOCK: ");
  }
  // No RELOAD privilege: position first, then the transaction (rows read just after the cut).
  SLUICE_ASSIGN_OR_RETURN(cut.position, MysqlCurrentPosition(conn, cut.gtid_state));
  SLUICE_RETURN_IF_ERROR(Run(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT"));
  cut.exact = false;
  return cut;
}

absl::StatusOr<std::vector<storagepb::SnapshotTable>> ListMysqlTables(
    MysqlConnection& conn,
    const std::function<bool(std::string_view db, std::string_view table)>& selected) {
  constexpr const char* kSystem = "('mysql', 'information_schema', 'performance_schema', 'sys')";
  SLUICE_ASSIGN_OR_RETURN(
      ResultSet tables,
      Select(conn, absl::StrCat("SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM "
                                "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
                                "TABLE_SCHEMA NOT IN ",
                                kSystem, " ORDER BY TABLE_SCHEMA, TABLE_NAME")));
  SLUICE_ASSIGN_OR_RETURN(
      ResultSet keys,
      Select(conn, absl::StrCat("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM "
                                "information_schema.STATISTICS WHERE INDEX_NAME = 'PRIMARY' AND "
                                "TABLE_SCHEMA NOT IN ",
                                kSystem, " ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX")));
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> key_columns;
  for (const auto& row : keys.rows) {
    if (row.size() < 3 || !row[0] || !row[1] || !row[2]) continue;
    key_columns[{*row[0], *row[1]}].push_back(*row[2]);
  }
  std::vector<storagepb::SnapshotTable> out;
  for (const auto& row : tables.rows) {
    if (row.size() < 3 || !row[0] || !row[1]) continue;
    if (!selected(*row[0], *row[1])) continue;
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

absl::StatusOr<const std::vector<mysqlclient::ColumnDefinition>*> MysqlSnapshotReader::Columns(
    const storagepb::SnapshotTable& table) {
  const std::string name = QualifiedName(table);
  auto it = columns_.find(name);
  if (it != columns_.end()) return &it->second;
  SLUICE_ASSIGN_OR_RETURN(
      ResultSet rs,
      Select(conn_, absl::StrCat("SELECT * FROM ", QuoteMysqlIdentifier(table.database()), ".",
                                 QuoteMysqlIdentifier(table.table()), " LIMIT 0")));
  return &(columns_[name] = std::move(rs.columns));
}

absl::StatusOr<const std::vector<std::string>*> MysqlSnapshotReader::Members(
    const storagepb::SnapshotTable& table, const std::string& column) {
  const std::string name = absl::StrCat(QualifiedName(table), ".", column);
  auto it = members_.find(name);
  if (it != members_.end()) return &it->second;
  SLUICE_ASSIGN_OR_RETURN(
      ResultSet rs,
      Select(conn_, absl::StrCat("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE "
                                 "TABLE_SCHEMA = ",
                                 QuoteMysqlLiteral(table.database(), false), " AND TABLE_NAME = ",
                                 QuoteMysqlLiteral(table.table(), false), " AND COLUMN_NAME = ",
                                 QuoteMysqlLiteral(column, false))));
  const std::string* type = Cell(rs, 0, 0);
  if (type == nullptr) {
    return absl::NotFoundError(absl::StrCat("snapshot: no column ", column, " in ",
                                            QualifiedName(table),
                                            " in information_schema.COLUMNS"));
  }
  auto members = ParseEnumMembers(*type);
  if (!members.ok()) {
    return absl::Status(members.status().code(),
                        absl::StrCat("snapshot: key column ", QualifiedName(table), ".", column,
                                     ": ", members.status().message()));
  }
  return &(members_[name] = *std::move(members));
}

absl::StatusOr<std::vector<bool>> MysqlSnapshotReader::FloatingPointKeys(
    const storagepb::SnapshotTable& table) {
  std::vector<bool> out(static_cast<size_t>(table.key_columns_size()), false);
  if (out.empty()) return out;
  SLUICE_ASSIGN_OR_RETURN(const std::vector<mysqlclient::ColumnDefinition>* columns,
                          Columns(table));
  for (int j = 0; j < table.key_columns_size(); ++j) {
    for (const auto& c : *columns) {
      if (c.name == table.key_columns(j)) out[static_cast<size_t>(j)] = IsFloatingPoint(c);
    }
  }
  return out;
}

absl::StatusOr<std::string> MysqlSnapshotReader::ChunkSql(const storagepb::SnapshotTable& table,
                                                          size_t limit,
                                                          const std::vector<bool>& exact_keys) {
  std::string sql = "SELECT *";
  for (size_t j = 0; j < exact_keys.size(); ++j) {
    if (!exact_keys[j]) continue;
    absl::StrAppend(&sql, ", ", QuoteMysqlIdentifier(table.key_columns(static_cast<int>(j))),
                    " + 0e0");
  }
  absl::StrAppend(&sql, " FROM ", QuoteMysqlIdentifier(table.database()), ".",
                  QuoteMysqlIdentifier(table.table()));
  const int nkeys = table.key_columns_size();
  if (nkeys > 0) {
    if (table.last_key_size() == nkeys) {
      SLUICE_ASSIGN_OR_RETURN(const std::vector<mysqlclient::ColumnDefinition>* columns,
                              Columns(table));
      std::vector<std::string> literals;
      for (int j = 0; j < nkeys; ++j) {
        const mysqlclient::ColumnDefinition* column = nullptr;
        for (const auto& c : *columns) {
          if (c.name == table.key_columns(j)) column = &c;
        }
        if (column == nullptr) {
          literals.push_back(QuoteMysqlLiteral(table.last_key(j), false));
          continue;
        }
        const std::vector<std::string>* members = nullptr;
        if ((column->flags & (mysqlclient::kEnumFlag | mysqlclient::kSetFlag)) != 0) {
          SLUICE_ASSIGN_OR_RETURN(members, Members(table, column->name));
        }
        SLUICE_ASSIGN_OR_RETURN(std::string literal,
                                KeysetLiteral(*column, table.last_key(j), members));
        literals.push_back(std::move(literal));
      }
      // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...: a range the optimizer uses on any version.
      std::vector<std::string> disjuncts;
      for (int i = 0; i < nkeys; ++i) {
        std::vector<std::string> terms;
        for (int j = 0; j <= i; ++j) {
          terms.push_back(absl::StrCat(QuoteMysqlIdentifier(table.key_columns(j)),
                                       j == i ? " > " : " = ", literals[j]));
        }
        disjuncts.push_back(absl::StrCat("(", absl::StrJoin(terms, " AND "), ")"));
      }
      absl::StrAppend(&sql, " WHERE (", absl::StrJoin(disjuncts, " OR "), ")");
      if (!where_.empty()) absl::StrAppend(&sql, " AND (", where_, ")");
    } else if (!where_.empty()) {
      absl::StrAppend(&sql, " WHERE (", where_, ")");
    }
    std::vector<std::string> order;
    for (const std::string& k : table.key_columns()) order.push_back(QuoteMysqlIdentifier(k));
    absl::StrAppend(&sql, " ORDER BY ", absl::StrJoin(order, ", "), " LIMIT ", limit);
  } else {
    if (!where_.empty()) absl::StrAppend(&sql, " WHERE (", where_, ")");
    absl::StrAppend(&sql, " LIMIT ", limit, " OFFSET ", table.rows_done());
  }
  return sql;
}

absl::StatusOr<EncodedRows> MysqlSnapshotReader::ReadEncodedChunk(
    const storagepb::SnapshotTable& table, size_t limit) {
  absl::StatusOr<EncodedRows> rows = ReadChunk(table, limit);
  if (mysqlclient::MysqlErrorCode(rows.status()) != 1146) return rows;
  // ER_NO_SUCH_TABLE: the table was listed after the cut and dropped since (a table the snapshot
  // transaction has read from cannot be dropped before it ends: it holds the table's metadata
  // lock). Its DROP is in the binlog after the cut, so the stream brings it: the table is done.
  logging::Warn(source_, "a snapshotted table was dropped; the rest of it is skipped (its DROP "
                "follows in the stream)",
                {{"table", QualifiedName(table)},
                 {"rows_read", absl::StrCat(table.rows_done())},
                 {"error", std::string(rows.status().message())}});
  return EncodedRows{};
}

absl::StatusOr<EncodedRows> MysqlSnapshotReader::ReadChunk(const storagepb::SnapshotTable& table,
                                                           size_t limit) {
  bool binary = protocol_ == MysqlRowProtocol::kBinary;
  // Over the text protocol, a FLOAT or DOUBLE key column is also selected as a DOUBLE
  // expression, which the server prints with every digit: the resume key is the stored number.
  std::vector<bool> exact_keys;
  size_t extra = 0;  // those expressions, after the table's columns
  auto text_sql = [&]() -> absl::StatusOr<std::string> {
    SLUICE_ASSIGN_OR_RETURN(exact_keys, FloatingPointKeys(table));
    extra = static_cast<size_t>(std::count(exact_keys.begin(), exact_keys.end(), true));
    return ChunkSql(table, limit, exact_keys);
  };
  std::string sql;
  if (binary) {
    SLUICE_ASSIGN_OR_RETURN(sql, ChunkSql(table, limit, {}));
  } else {
    SLUICE_ASSIGN_OR_RETURN(sql, text_sql());
  }
  EncodedRows out;
  out.rows.Reserve(limit, 0);
  std::vector<mysqlclient::ColumnDefinition> columns;
  size_t ncols = 0;  // the table's columns (columns.size() but the extra expressions)
  std::vector<size_t> key_index;
  mysqlclient::TextRowView values;  // also a BinaryRowView: both are optional string views
  auto names = [&]() {
    ncols = columns.size() >= extra ? columns.size() - extra : 0;
    std::vector<std::string> out_names;
    for (size_t c = 0; c < ncols; ++c) out_names.push_back(columns[c].name);
    return out_names;
  };
  auto start_chunk = [&]() -> absl::Status {
    std::vector<std::string> table_names = names();
    SLUICE_ASSIGN_OR_RETURN(key_index, KeyColumnIndices(table, table_names));
    encoder_.Reset({table.key_columns().begin(), table.key_columns().end()}, table_names);
    return absl::OkStatus();
  };
  // Rows are encoded as they arrive, while the server sends the next ones.
  absl::Status st;
  if (binary) {
    bool refused = false;
    st = conn_.QueryStreamBinary(sql, columns, [&](std::string_view row) -> absl::Status {
      if (out.rows.empty()) SLUICE_RETURN_IF_ERROR(start_chunk());
      SLUICE_RETURN_IF_ERROR(mysqlclient::ParseBinaryRowView(row, columns, values));
      for (size_t c = 0; c < columns.size(); ++c) {
        SLUICE_RETURN_IF_ERROR(
            mysqlclient::AppendBinaryColumnWire(columns[c], values[c], encoder_.AddColumn()));
      }
      encoder_.FinishRow(out.rows);
      last_row_.assign(row);
      return absl::OkStatus();
    }, &refused);
    if (refused) {
      // The server will not prepare statements (e.g. max_prepared_stmt_count = 0): this and
      // every later chunk of this reader go over the text protocol.
      protocol_ = MysqlRowProtocol::kText;
      binary = false;
      SLUICE_ASSIGN_OR_RETURN(sql, text_sql());
    }
  }
  if (!binary) {
    st = conn_.QueryStream(sql, columns, [&](std::string_view row) -> absl::Status {
      if (out.rows.empty()) SLUICE_RETURN_IF_ERROR(start_chunk());
      SLUICE_RETURN_IF_ERROR(mysqlclient::ParseTextRowView(row, columns.size(), values));
      for (size_t c = 0; c < ncols; ++c) {
        mysqlclient::AppendTextColumnWire(columns[c], values[c], encoder_.AddColumn());
      }
      encoder_.FinishRow(out.rows);
      last_row_.assign(row);
      return absl::OkStatus();
    });
  }
  if (!st.ok()) {
    return mysqlclient::WithContext(st, absl::StrCat("snapshot: ", sql, ": "));
  }
  out.rows.ReleaseSlack();
  if (out.rows.empty()) {
    SLUICE_RETURN_IF_ERROR(KeyColumnIndices(table, names()).status());
    return out;
  }
  if (!binary) {
    SLUICE_RETURN_IF_ERROR(mysqlclient::ParseTextRowView(last_row_, columns.size(), values));
    size_t next_extra = ncols;
    for (size_t j = 0; j < key_index.size(); ++j) {
      std::string& text = out.last_key.emplace_back(values[key_index[j]].value_or(""));
      if (j >= exact_keys.size() || !exact_keys[j]) continue;
      // The DOUBLE expression's text, as BinaryKeyText writes the number (same key either way).
      const std::optional<std::string_view> exact =
          next_extra < values.size() ? values[next_extra] : std::nullopt;
      ++next_extra;
      double d = 0;
      const auto [end, ec] =
          exact ? std::from_chars(exact->data(), exact->data() + exact->size(), d)
                : std::from_chars_result{nullptr, std::errc::invalid_argument};
      if (ec != std::errc() || end != exact->data() + exact->size()) {
        return absl::DataLossError(absl::StrCat(
            "snapshot: ", QualifiedName(table), ": key column ", table.key_columns(j),
            " + 0e0 gave '", std::string(exact.value_or("NULL")), "', not a number"));
      }
      mysqlclient::ExactDoubleText(d, text);
    }
    return out;
  }
  SLUICE_RETURN_IF_ERROR(mysqlclient::ParseBinaryRowView(last_row_, columns, values));
  for (size_t index : key_index) {
    std::string& text = out.last_key.emplace_back();
    if (values[index] && !mysqlclient::BinaryKeyText(columns[index], *values[index], text)) {
      return absl::DataLossError(absl::StrCat("snapshot: ", QualifiedName(table), ": key column ",
                                              columns[index].name, " of type ",
                                              columns[index].type, " has no text"));
    }
  }
  return out;
}

}  // namespace sluice::pipeline
