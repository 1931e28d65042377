// The snapshot readers against real servers: every chunk, read and encoded off the wire (MariaDB
// QueryStream, Postgres COPY), equals the rows a plain SELECT of the whole table decodes to, for
// composite keys, keyless tables and text that needs escaping.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "protocol/mysqlclient/text_value.h"
#include "protocol/postgres/pg_text_value.h"
#include "server/pipeline/mysql_snapshot.h"
#include "server/pipeline/postgres_snapshot.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

// Reads `table` to its end in chunks of `limit` as RunSnapshot does; the rows' `after` images.
std::vector<std::string> ReadAll(SnapshotReader& reader, storagepb::SnapshotTable table,
                                 size_t limit) {
  std::vector<std::string> out;
  for (int guard = 0; guard < 1000 && !table.done(); ++guard) {
    auto rows = reader.ReadChunk(table, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) break;
    for (const v1::ChangeEvent& e : rows->events) {
      EXPECT_EQ(e.op(), v1::OP_READ);
      EXPECT_EQ(e.key_columns_size(), table.key_columns_size());
      out.push_back(e.after().ShortDebugString());
    }
    AdvanceTable(table, rows->events.size(), limit, rows->last_key);
  }
  return out;
}

storagepb::SnapshotTable Table(std::string db, std::string name, std::vector<std::string> keys) {
  storagepb::SnapshotTable t;
  t.set_database(std::move(db));
  t.set_table(std::move(name));
  for (auto& k : keys) t.add_key_columns(std::move(k));
  return t;
}

// Text every escaping layer has to get right: COPY's backslash escapes, SQL quoting of keys.
const char* const kTricky[] = {"plain",   "tab\there", "new\nline", "back\\slash",
                               "quote'd", "cr\rx",     "\\N",       "caf\xc3\xa9",
                               "",        "\\x41"};

TEST(SnapshotReaderTest, PostgresChunksEqualASelect) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string sql =
      "DROP TABLE IF EXISTS sr_keyed, sr_keyless; "
      "CREATE TABLE sr_keyed (k1 text, k2 int, v numeric(8,2), at timestamp, b bytea, "
      "PRIMARY KEY (k1, k2)); CREATE TABLE sr_keyless (a int, t text); ";
  int n = 0;
  for (const char* t : kTricky) {
    for (int k2 = 0; k2 < 3; ++k2, ++n) {
      absl::StrAppend(&sql, "INSERT INTO sr_keyed VALUES (", "E'",
                      absl::StrReplaceAll(t, {{"\\", "\\\\"}, {"'", "\\'"}}), "', ", k2, ", ",
                      n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"),
                      ", timestamp '2026-01-01' + interval '1 second' * ", n, ", '\\x0a09'); ",
                      "INSERT INTO sr_keyless VALUES (", n, ", E'",
                      absl::StrReplaceAll(t, {{"\\", "\\\\"}, {"'", "\\'"}}), "'); ");
    }
  }
  ASSERT_TRUE((*db)->Exec(sql).ok());

  pgclient::ConnectParams params;
  params.host = (*db)->host();
  params.port = static_cast<uint16_t>((*db)->port());
  params.user = (*db)->user();
  params.password = (*db)->password();
  params.database = (*db)->database();
  params.sslmode = "disable";
  params.replication = false;
  auto conn = pgclient::ReplicationConnection::Connect(params);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(OpenPostgresSnapshot(**conn, "").ok());
  const postgres::TypeResolver resolver;
  PostgresSnapshotReader reader(**conn, resolver);

  auto expected = [&](const std::string& select) {
    auto rs = (*conn)->QueryText(select);
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::vector<std::string> out;
    for (const auto& row : rs->rows) {
      v1::Row r;
      for (size_t c = 0; c < row.size(); ++c) {
        v1::Field* f = r.add_fields();
        f->set_name(rs->names[c]);
        *f->mutable_value() =
            row[c] ? postgres::DecodeTextValue(rs->type_oids[c], *row[c]) : postgres::NullValue();
      }
      out.push_back(r.ShortDebugString());
    }
    return out;
  };
  const auto keyed = expected("SELECT * FROM sr_keyed ORDER BY k1, k2");
  ASSERT_EQ(keyed.size(), 30u);
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyed", {"k1", "k2"}), 7), keyed);
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyed", {"k1", "k2"}), 30), keyed);
  const auto keyless = expected("SELECT * FROM sr_keyless ORDER BY ctid");
  EXPECT_EQ(ReadAll(reader, Table("public", "sr_keyless", {}), 4), keyless);
}

TEST(SnapshotReaderTest, MariaDbChunksEqualASelect) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  std::string sql =
      "DROP TABLE IF EXISTS sr_keyed, sr_keyless; "
      "CREATE TABLE sr_keyed (k1 VARBINARY(20), k2 INT, v DECIMAL(8,2), at DATETIME(6), "
      "s VARCHAR(20), PRIMARY KEY (k1, k2)); CREATE TABLE sr_keyless (a INT, t TEXT); ";
  int n = 0;
  for (const char* t : kTricky) {
    for (int k2 = 0; k2 < 3; ++k2, ++n) {
      const std::string lit = QuoteMysqlLiteral(t, false);
      absl::StrAppend(&sql, "INSERT INTO sr_keyed VALUES (", QuoteMysqlLiteral(t, true), ", ", k2,
                      ", ", n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"),
                      ", TIMESTAMP('2026-01-01') + INTERVAL ", n, " SECOND, ", lit, "); ",
                      "INSERT INTO sr_keyless VALUES (", n, ", ", lit, "); ");
    }
  }
  ASSERT_TRUE((*db)->Exec(sql).ok());

  mysqlclient::ConnectOptions o;
  o.host = (*db)->host();
  o.port = static_cast<uint16_t>((*db)->port());
  o.user = (*db)->user();
  o.password = (*db)->password();
  o.tls = mysqlclient::TlsMode::kDisabled;
  auto conn = mysqlclient::MysqlConnection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(OpenMysqlSnapshot(**conn, true, false).ok());
  MysqlSnapshotReader reader(**conn);

  auto expected = [&](const std::string& select) {
    auto rs = (*conn)->Query(select);
    EXPECT_TRUE(rs.ok()) << rs.status();
    std::vector<std::string> out;
    for (const auto& row : rs->rows) {
      v1::Row r;
      for (size_t c = 0; c < row.size(); ++c) {
        v1::Field* f = r.add_fields();
        f->set_name(rs->columns[c].name);
        *f->mutable_value() = mysqlclient::DecodeTextColumn(rs->columns[c], row[c]);
      }
      out.push_back(r.ShortDebugString());
    }
    return out;
  };
  const std::string database = (*db)->database();
  const auto keyed =
      expected(absl::StrCat("SELECT * FROM ", database, ".sr_keyed ORDER BY k1, k2"));
  ASSERT_EQ(keyed.size(), 30u);
  EXPECT_EQ(ReadAll(reader, Table(database, "sr_keyed", {"k1", "k2"}), 7), keyed);
  const auto keyless = expected(absl::StrCat("SELECT * FROM ", database, ".sr_keyless"));
  EXPECT_EQ(ReadAll(reader, Table(database, "sr_keyless", {}), 4), keyless);
}

}  // namespace
}  // namespace sluice::pipeline
