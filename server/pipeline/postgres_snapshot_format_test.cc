// The Postgres snapshot reader in binary COPY stores exactly the bytes the text COPY reader
// stores: every event's body and table-state key, and every chunk's last key, for a table with a
// column of every type sluice knows (and some it does not), edge values of each, NULLs, and keys
// of the types read in binary (integers, numeric, text, uuid) and in text (timestamp, a domain).
// Both readers run against a real PostgreSQL 15 in one snapshot transaction.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/pipeline/postgres_snapshot.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;
using Format = PostgresSnapshotReader::CopyFormat;

struct Read {
  std::vector<std::string> bodies;
  std::vector<std::string> row_keys;
  std::vector<std::vector<std::string>> last_keys;
};

// Reads `table` to its end in chunks of `limit`, as RunSnapshot does.
Read ReadAll(PostgresSnapshotReader& reader, storagepb::SnapshotTable table, size_t limit) {
  Read out;
  for (int guard = 0; guard < 1000 && !table.done(); ++guard) {
    auto rows = reader.ReadEncodedChunk(table, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) break;
    for (size_t i = 0; i < rows->rows.size(); ++i) {
      out.bodies.push_back(std::string(rows->rows.body(i)));
      out.row_keys.push_back(std::string(rows->rows.row_key(i)));
    }
    out.last_keys.push_back(rows->last_key);
    AdvanceTable(table, rows->rows.size(), limit, rows->last_key);
  }
  return out;
}

storagepb::SnapshotTable Table(std::string name, std::vector<std::string> keys) {
  storagepb::SnapshotTable t;
  t.set_database("public");
  t.set_table(std::move(name));
  for (auto& k : keys) t.add_key_columns(std::move(k));
  return t;
}

// One column per type, each with edge values; row i takes value i % n of its column's list.
struct Column {
  const char* name;
  const char* type;
  std::vector<const char*> values;  // SQL literals
};

const std::vector<Column>& Columns() {
  static const std::vector<Column> columns = {
      {"c_int2", "int2", {"0", "-32768", "32767", "-1"}},
      {"c_int4", "int4", {"0", "-2147483648", "2147483647", "42"}},
      {"c_int8", "int8", {"0", "-9223372036854775808", "9223372036854775807", "-7"}},
      {"c_oid", "oid", {"0", "4294967295", "12345"}},
      {"c_numeric",
       "numeric",
       {"0", "'NaN'", "'Infinity'", "'-Infinity'", "-0.5", "0.0001", "1e20", "-1e-20",
        "123456789.000000001", "1.50000", "0.00", "99999999999999999999.9999",
        "-12345678901234567890123456789.123456789012345678901234567890", "10000", "0.1230",
        "1e-1000", "-9999.9999"}},
      {"c_numeric_s", "numeric(12,2)", {"0", "1234.5", "-0.01", "9999999999.99"}},
      {"c_float4", "float4", {"0", "'NaN'", "'Infinity'", "-0", "0.1", "3.4028235e38", "1e-45"}},
      {"c_float8",
       "float8",
       {"0", "'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "0.1", "1.7976931348623157e308",
        "5e-324", "2.2250738585072014e-308", "-123.456", "1e22"}},
      {"c_bool", "bool", {"true", "false"}},
      {"c_text",
       "text",
       {"''", "'plain'", "E'tab\\there'", "E'new\\nline'", "E'back\\\\slash'",
        "'caf\u00e9 \U0001F600'", "E'\\\\N'", "'\"quoted\" {braces}'"}},
      {"c_varchar", "varchar(20)", {"''", "'v'", "E'x\\ty'"}},
      {"c_bpchar", "char(5)", {"'a'", "''", "'abcde'", "' b '"}},
      {"c_name", "name", {"'n'", "'pg_catalog'"}},
      {"c_char", "\"char\"", {"'a'", "'\\'"}},
      {"c_uuid",
       "uuid",
       {"'00000000-0000-0000-0000-000000000000'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
        "'ffffffff-ffff-ffff-ffff-ffffffffffff'"}},
      {"c_json", "json", {"'{\"a\": [1, 2.50, null]}'", "'\"s\\\\u00e9\"'", "'  [ ]  '"}},
      {"c_jsonb", "jsonb", {"'{\"b\": 1, \"a\": [true, 2.50]}'", "'\"x\"'", "'null'"}},
      {"c_bytea", "bytea", {"'\\x'", "'\\x000aff5c'"}},
      {"c_date",
       "date",
       {"'2026-01-31'", "'infinity'", "'-infinity'", "'0044-03-15 BC'", "'5874897-12-31'",
        "'4713-01-01 BC'", "'2000-02-29'"}},
      {"c_time", "time", {"'00:00'", "'23:59:59.999999'", "'24:00'", "'12:34:56.5'"}},
      {"c_timetz", "timetz", {"'00:00+00'", "'23:59:59.999999-15:59'", "'12:00+05:30'"}},
      {"c_timestamp",
       "timestamp",
       {"'2026-01-01 00:00:00'", "'infinity'", "'-infinity'", "'2000-01-01'",
        "'1999-12-31 23:59:59.999999'", "'1970-01-01 00:00:00.000001'", "'0044-03-15 12:00 BC'",
        "'4713-01-01 00:00 BC'", "'294276-12-31 23:59:59.999999'", "'2024-02-29 12:00:00.5'",
        "'0001-01-01 00:00'", "'0001-12-31 23:59:59.999999 BC'", "'9999-12-31 23:59:59.999999'",
        "'10000-01-01 00:00'", "'1900-03-31 01:02:03.04'"}},
      {"c_timestamptz",
       "timestamptz",
       {"'2026-01-01 00:00:00+00'", "'infinity'", "'-infinity'", "'1999-12-31 23:59:59.999999-08'",
        "'0044-03-15 12:00+00 BC'", "'4713-01-01 00:00+00 BC'", "'294276-12-31 23:59:59.999999+00'",
        "'1969-12-31 23:59:59.5+00'"}},
      {"c_interval",
       "interval",
       {"'0'", "'1 year 2 mons -3 days 04:05:06.7'", "'-178000000 years'"}},
      {"c_inet", "inet", {"'1.2.3.4'", "'1.2.3.4/24'", "'::1'"}},
      {"c_cidr", "cidr", {"'10.0.0.0/8'"}},
      {"c_macaddr", "macaddr", {"'08:00:2b:01:02:03'"}},
      {"c_money", "money", {"12.34", "-0.01"}},
      {"c_bit", "bit(3)", {"B'101'"}},
      {"c_varbit", "varbit", {"B''", "B'1'"}},
      {"c_xml", "xml", {"'<a>x</a>'"}},
      {"c_int4_arr", "int4[]", {"'{}'", "'{1,NULL,-3}'", "'{{1,2},{3,4}}'", "'[0:1]={5,6}'"}},
      {"c_text_arr", "text[]", {"'{\"a b\",\"\\\\\\\\\",\"NULL\",NULL}'", "'{}'"}},
      {"c_numeric_arr", "numeric[]", {"'{NaN,1.50,-0.001}'"}},
      {"c_ts_arr", "timestamp[]", {"'{infinity,\"2026-01-01 00:00:00\"}'"}},
      {"c_enum", "sf_mood", {"'happy'", "'sad'"}},
      {"c_dom_int", "sf_posint", {"1", "2147483647"}},
      {"c_dom_char", "sf_code", {"'ab'", "'abc'"}},
      {"c_dom_num", "sf_price", {"1.5", "0"}},
      {"c_composite", "sf_pair", {"ROW(1, 'x y')", "ROW(NULL, '')"}},
      {"c_range", "int4range", {"'[1,5)'", "'empty'"}},
      {"c_point", "point", {"'(1.5,-2)'"}},
  };
  return columns;
}

class PostgresSnapshotFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
  }

  // Both readers over one snapshot; each pair of reads must be byte-identical.
  // `binary_read`: whether the binary reader must really read in binary (else it falls back to
  // the text COPY for this table).
  void ExpectSameBytes(const storagepb::SnapshotTable& table, size_t expected_rows,
                       bool binary_read = true) {
    pgclient::ConnectParams params;
    params.host = db_->host();
    params.port = static_cast<uint16_t>(db_->port());
    params.user = db_->user();
    params.password = db_->password();
    params.database = db_->database();
    params.sslmode = "disable";
    params.replication = false;
    auto conn = pgclient::ReplicationConnection::Connect(params);
    ASSERT_TRUE(conn.ok()) << conn.status();
    ASSERT_TRUE(OpenPostgresSnapshot(**conn, "").ok());
    const postgres::TypeResolver resolver;
    PostgresSnapshotReader text(**conn, resolver);
    text.set_copy_format(Format::kText);
    PostgresSnapshotReader binary(**conn, resolver);
    binary.set_copy_format(Format::kBinary);
    // As the initial snapshot reads: one binary COPY stream per table, cut into chunks.
    PostgresSnapshotReader stream(**conn, resolver);
    stream.set_copy_format(Format::kBinary);
    stream.set_chunk_queries(PostgresSnapshotReader::ChunkQueries::kOnePerTable);
    for (size_t limit : {size_t{3}, size_t{1000}}) {
      const Read a = ReadAll(text, table, limit);
      EXPECT_FALSE(text.last_chunk_binary());
      for (PostgresSnapshotReader* reader : {&binary, &stream}) {
        SCOPED_TRACE(absl::StrCat(table.table(), ", chunks of ", limit,
                                  reader == &stream ? ", one stream" : ", a query per chunk"));
        const Read b = ReadAll(*reader, table, limit);
        EXPECT_EQ(reader->last_chunk_binary(), binary_read);
        EXPECT_EQ(a.bodies.size(), expected_rows);
        ASSERT_EQ(a.bodies.size(), b.bodies.size());
        for (size_t i = 0; i < a.bodies.size(); ++i) {
          EXPECT_EQ(a.bodies[i], b.bodies[i])
              << "row " << i << "\ntext:   " << absl::CHexEscape(a.bodies[i])
              << "\nbinary: " << absl::CHexEscape(b.bodies[i]);
          EXPECT_EQ(a.row_keys[i], b.row_keys[i]) << "row " << i;
        }
        EXPECT_EQ(a.last_keys, b.last_keys);
      }
    }
  }

  TestDatabase* db_ = nullptr;
};

TEST_F(PostgresSnapshotFormatTest, EveryTypeStoresTheSameBytes) {
  std::string sql =
      "DROP TABLE IF EXISTS sf_all; DROP TYPE IF EXISTS sf_mood, sf_pair; "
      "DROP DOMAIN IF EXISTS sf_posint, sf_code, sf_price; "
      "CREATE TYPE sf_mood AS ENUM ('happy', 'sad'); "
      "CREATE TYPE sf_pair AS (a int, b text); "
      "CREATE DOMAIN sf_posint AS int4 CHECK (VALUE > 0); "
      "CREATE DOMAIN sf_code AS char(4); "
      "CREATE DOMAIN sf_price AS numeric(10,2); "
      "CREATE TABLE sf_all (id int8 PRIMARY KEY";
  for (const Column& c : Columns()) absl::StrAppend(&sql, ", ", c.name, " ", c.type);
  absl::StrAppend(&sql, ");");
  size_t rows = 0;
  for (const Column& c : Columns()) rows = std::max(rows, c.values.size());
  rows += 2;  // a row of NULLs, and one more so that every list wraps
  for (size_t i = 0; i < rows; ++i) {
    absl::StrAppend(&sql, "INSERT INTO sf_all VALUES (", static_cast<int64_t>(i) - 5);
    for (const Column& c : Columns()) {
      absl::StrAppend(&sql, ", ", i == 1 ? "NULL" : c.values[i % c.values.size()]);
    }
    absl::StrAppend(&sql, ");");
  }
  ASSERT_TRUE(db_->Exec(sql).ok());
  ExpectSameBytes(Table("sf_all", {"id"}), rows);
}

TEST_F(PostgresSnapshotFormatTest, KeysOfEveryKindPaginateTheSame) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS sf_knum, sf_ktext, sf_kuuid, sf_kts, sf_kcomp, "
                        "sf_kdom, sf_keyless; DROP DOMAIN IF EXISTS sf_kd; "
                        "CREATE DOMAIN sf_kd AS text; "
                        "CREATE TABLE sf_knum (k numeric PRIMARY KEY, v text); "
                        "INSERT INTO sf_knum SELECT (g - 10) / 3.0, g::text FROM "
                        "generate_series(1, 20) g; "
                        "INSERT INTO sf_knum VALUES ('NaN', 'nan'), ('Infinity', 'inf'), "
                        "('-Infinity', '-inf'), (1e30, 'big'), (1e-30, 'tiny'); "
                        "CREATE TABLE sf_ktext (k text PRIMARY KEY, v int); "
                        "INSERT INTO sf_ktext VALUES ('', 1), (E'tab\\tx', 2), ('quote''d', 3), "
                        "(E'back\\\\slash', 4), ('caf\u00e9', 5), ('z', 6), ('A', 7); "
                        "CREATE TABLE sf_kuuid (k uuid PRIMARY KEY, v int); "
                        "INSERT INTO sf_kuuid SELECT md5(g::text)::uuid, g FROM "
                        "generate_series(1, 10) g; "
                        "CREATE TABLE sf_kts (k timestamp PRIMARY KEY, v float8); "
                        "INSERT INTO sf_kts SELECT timestamp '2026-01-01' + g * interval '1.5 s', "
                        "g / 7.0 FROM generate_series(1, 10) g; "
                        "INSERT INTO sf_kts VALUES ('infinity', 1), ('-infinity', 2), "
                        "('0044-03-15 BC', 3); "
                        "CREATE TABLE sf_kcomp (a int2, b varchar(10), c char(3), d int8, v jsonb, "
                        "PRIMARY KEY (a, b, c, d)); "
                        "INSERT INTO sf_kcomp SELECT g % 3, 'b' || (g % 4), 'c' || (g % 2), g, "
                        "jsonb_build_object('g', g) FROM generate_series(1, 30) g; "
                        "CREATE TABLE sf_kdom (k sf_kd PRIMARY KEY, v oid); "
                        "INSERT INTO sf_kdom VALUES ('x', 1), ('y', 2), ('w x', 3), ('', 4); "
                        "CREATE TABLE sf_keyless (a int4, b text); "
                        "INSERT INTO sf_keyless SELECT g, repeat('x', g) FROM "
                        "generate_series(1, 10) g;")
                  .ok());
  ExpectSameBytes(Table("sf_knum", {"k"}), 25);
  ExpectSameBytes(Table("sf_ktext", {"k"}), 7);
  ExpectSameBytes(Table("sf_kuuid", {"k"}), 10);
  ExpectSameBytes(Table("sf_kts", {"k"}), 13);
  ExpectSameBytes(Table("sf_kcomp", {"a", "b", "c", "d"}), 30);
  ExpectSameBytes(Table("sf_kdom", {"k"}), 4);
  ExpectSameBytes(Table("sf_keyless", {}), 10);
}

// Columns whose output function does not take them as they are: a domain over an enum
// (enum_out(anyenum) rejects the domain unless the column is cast to the enum), a domain over an
// array, and refcursor (textout(text): that table is read with the text COPY). Key columns named
// like an output function ("date_out", the result name of a wrapped date column) must still
// order by the table's column.
TEST_F(PostgresSnapshotFormatTest, OutputFunctionsResolveForDomainsAndOddNames) {
  const absl::Status setup = db_->Exec("DROP TABLE IF EXISTS sf_odd1, sf_odd2, sf_odd3; "
                        "DROP DOMAIN IF EXISTS sf_dmood, sf_darr; DROP TYPE IF EXISTS sf_mood3; "
                        "CREATE TYPE sf_mood3 AS ENUM ('low', 'high'); "
                        "CREATE DOMAIN sf_dmood AS sf_mood3; "
                        "CREATE DOMAIN sf_darr AS int4[]; "
                        "CREATE TABLE sf_odd1 (\"date_out\" int4 PRIMARY KEY, d date, "
                        "e sf_dmood, a sf_darr); "
                        "INSERT INTO sf_odd1 SELECT 20 - g, date '2026-01-01' + g, "
                        "CASE WHEN g % 2 = 0 THEN 'low' ELSE 'high' END::sf_mood3, "
                        "ARRAY[g, -g] FROM generate_series(1, 12) g; "
                        "CREATE TABLE sf_odd2 (k int4 PRIMARY KEY, r refcursor); "
                        "INSERT INTO sf_odd2 SELECT g, ('cur' || g)::refcursor FROM generate_series(1, 5) g; "
                        "CREATE TABLE sf_odd3 (\"date_out\" date PRIMARY KEY, v int4); "
                        "INSERT INTO sf_odd3 SELECT date '2026-03-01' - g, g "
                        "FROM generate_series(1, 9) g;");
  ASSERT_TRUE(setup.ok()) << setup;
  ExpectSameBytes(Table("sf_odd1", {"date_out"}), 12);
  ExpectSameBytes(Table("sf_odd2", {"k"}), 5, /*binary_read=*/false);
  ExpectSameBytes(Table("sf_odd3", {"date_out"}), 9);
}

}  // namespace
}  // namespace sluice::pipeline
