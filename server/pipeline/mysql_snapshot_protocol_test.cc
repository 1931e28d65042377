// MysqlSnapshotReader over the binary protocol (prepared statements) against the text protocol
// (COM_QUERY), on a real MariaDB: every stored byte of every snapshot row (the `r` event's
// body and its table-state key) and every chunk's resume key must be the same, for a table with
// every column type and edge values, with keyset pagination over several chunks, for a
// composite key of a binary string and a signed integer, a BIGINT UNSIGNED key, a keyless table,
// and a temporal key.
//
// The one difference: FLOAT and DOUBLE(M,D) columns. The text protocol prints them rounded
// (a FLOAT to 6 digits, a DOUBLE(12,4) to 4 decimals), so the text reader stored a nearby
// number; the binary protocol sends the stored bits, which are what the binlog carries. The
// test checks that the binary reader's value is exactly the stored number (the server's
// CAST(col AS DOUBLE), printed to round-trip) for every row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "protocol/mysqlclient/text_value.h"
#include "server/pipeline/mysql_snapshot.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

// Everything a chunk stores or hands on, in order, as one comparable string per row/chunk.
struct Read {
  std::vector<std::string> rows;  // table, body and table-state key of each event
  std::vector<std::string> keys;  // each chunk's resume key
  std::vector<std::string> bodies;
  v1::ChangeEvent Event(size_t r) const {
    v1::ChangeEvent e;
    EXPECT_TRUE(e.ParseFromString(bodies[r]));
    return e;
  }
};

Read ReadAll(MysqlSnapshotReader& reader, storagepb::SnapshotTable table, size_t limit) {
  Read out;
  for (int guard = 0; guard < 10000 && !table.done(); ++guard) {
    auto rows = reader.ReadEncodedChunk(table, limit);
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) break;
    for (size_t i = 0; i < rows->rows.size(); ++i) {
      const std::string body(rows->rows.body(i));
      out.rows.push_back(absl::StrCat(QualifiedName(table), "|", body, "|",
                                      std::string(rows->rows.row_key(i))));
      out.bodies.push_back(body);
    }
    std::string key;
    for (const std::string& k : rows->last_key) absl::StrAppend(&key, k.size(), ":", k, ";");
    out.keys.push_back(key);
    AdvanceTable(table, rows->rows.size(), limit, rows->last_key);
  }
  return out;
}

// A session of the test server's user inside a consistent snapshot, as the source reads.
absl::StatusOr<std::unique_ptr<mysqlclient::MysqlConnection>> ConnectInSnapshot(
    TestDatabase& db) {
  mysqlclient::ConnectOptions o;
  o.host = db.host();
  o.port = static_cast<uint16_t>(db.port());
  o.user = db.user();
  o.password = db.password();
  o.tls = mysqlclient::TlsMode::kDisabled;
  auto conn = mysqlclient::MysqlConnection::Connect(o);
  if (!conn.ok()) return conn.status();
  auto cut = OpenMysqlSnapshot(**conn, true, false);
  if (!cut.ok()) return cut.status();
  return conn;
}

storagepb::SnapshotTable Table(const std::string& db, std::string name,
                               std::vector<std::string> keys) {
  storagepb::SnapshotTable t;
  t.set_database(db);
  t.set_table(std::move(name));
  for (auto& k : keys) t.add_key_columns(std::move(k));
  return t;
}

constexpr const char* kCreate = R"sql(
CREATE TABLE sp_types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  iz INT(6) ZEROFILL, dec1 DECIMAL(20,6), dec2 DECIMAL(65,30), dec0 DECIMAL(5,0), fl FLOAT,
  fl2 FLOAT(7,3), db DOUBLE, db2 DOUBLE(12,4), bt BIT(10), bt64 BIT(64), yr YEAR,
  d DATE, t TIME, t3 TIME(3), t6 TIME(6), dt DATETIME, dt1 DATETIME(1), dt6 DATETIME(6),
  ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
  c CHAR(10), vc VARCHAR(100), vcl VARCHAR(50) CHARACTER SET latin1,
  vca VARCHAR(20) CHARACTER SET ascii, gbk VARCHAR(20) CHARACTER SET gbk,
  u16 VARCHAR(10) CHARACTER SET utf16, tx TEXT, bn BINARY(4), vb VARBINARY(20), bl BLOB,
  en ENUM('a','b','c'), st SET('x','y','z'), js JSON, g GEOMETRY, pt POINT, u UUID, i6 INET6
))sql";

constexpr const char* kInsert = R"sql(
INSERT INTO sp_types VALUES
 (1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
  9223372036854775807, 18446744073709551615, 42, '12345678901234.123456',
  '-12345678901234567890123456789012345.123456789012345678901234567890', 99999, 3.5,
  1234.567, 1.7976931348623157e308, 12345678.1234, b'1010101010', b'1111111111111111111111111111111111111111111111111111111111111111', 2155,
  '9999-12-31', '838:59:59', '-838:59:59.999', '-507:48:27.123456', '9999-12-31 23:59:59',
  '2024-02-29 12:34:56.7', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07',
  '2038-01-19 03:14:07.999999', 'abc', 'emoji 😀 中文', 'café', 'plain',
  '中文', 'hé', REPEAT('long text ', 100), 0x00FF1020, X'', 0xDEADBEEF,
  'b', 'x,z', '{"a":[1,2,{"b":null}],"s":"ü"}', ST_GeomFromText('LINESTRING(0 0,1 1)'),
  POINT(1, 2), '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1'),
 (2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0,
  '0.000000', '0.000000000000000000000000000001', -99999, -0.25, -0.001, -2.5e-300, -0.0001,
  b'0', b'0', 0, '0000-00-00', '-00:00:01', '00:00:00.001', '00:00:00.000001',
  '0000-00-00 00:00:00', '1000-01-01 00:00:00.1', '1000-01-01 00:00:00.000001',
  '1970-01-01 00:00:01', '0000-00-00 00:00:00', '', '', '', '', '', '', '', 0x00000000, 0x00,
  X'', '', '', '[]', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), POINT(-1, 0.5),
  '00000000-0000-0000-0000-000000000000', '::'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, '1', '1', 1, 1.2345678, 0.1, 0.1, 0.1, b'1', b'1', 1901,
  '2020-02-30', '-00:00:00.5', '-00:00:00.001', '100:00:00', '2020-00-00 00:00:00',
  '2001-02-03 04:05:06.7', '2001-02-03 04:05:06.000007', '2001-02-03 04:05:06',
  '2001-02-03 04:05:06.654321', 'x', 'y', 'z', 'a', 'b', 'c', 'd', 0x01, 0x02, 0x03, 'c', '',
  '1', POINT(0, 0), POINT(0, 0), NULL, NULL),
 (5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '0', '0', 0, 3.4028235e38, 0, 3.141592653589793, 0,
  b'1000000000', b'1000000000000000000000000000000000000000000000000000000000000000', 2000, '1000-01-01', '00:00:00', '00:00:00', '00:00:00',
  '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1000-01-01 00:00:00', '1970-01-01 00:00:01',
  '1970-01-01 00:00:01.000001', 'a ', ' b', 'x\\y', 'q\'', 'tab\there', 'nl\nx', 'cr\rx',
  'a\0b', 0x0000, 0x00, 'a', 'x,y,z', '"s"', NULL, NULL, NULL, NULL),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1.17549435e-38, 1e-45, 4.9e-324, 2.2250738585072014e-308,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
)sql";

TEST(MysqlSnapshotProtocolTest, BinaryAndTextStoreTheSameBytes) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::Status st = (*db)->Exec(absl::StrCat(
      "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'; SET time_zone = '+00:00'; SET NAMES utf8mb4; "
      "DROP TABLE IF EXISTS sp_types, sp_composite, sp_unsigned, sp_keyless, sp_temporal; ",
      kCreate, "; ", kInsert, "; ",
      "CREATE TABLE sp_composite (k1 VARBINARY(20), k2 INT, v DECIMAL(8,2), s VARCHAR(20), "
      "PRIMARY KEY (k1, k2)); "
      "CREATE TABLE sp_unsigned (k BIGINT UNSIGNED PRIMARY KEY, v INT); "
      "CREATE TABLE sp_keyless (a INT, t TEXT); "
      "CREATE TABLE sp_temporal (k DATETIME(6) PRIMARY KEY, v INT)"));
  ASSERT_TRUE(st.ok()) << st;
  std::string fill;
  const char* const tricky[] = {"plain",     "tab\\there", "new\\nline", "back\\\\slash",
                                "quote\\'d", "",           "\\0zero",    "caf\xc3\xa9"};
  int n = 0;
  for (const char* t : tricky) {
    for (int k2 : {-5, 0, 7}) {
      ++n;
      absl::StrAppend(&fill, "INSERT INTO sp_composite VALUES (_binary'", t, "', ", k2, ", ",
                      n % 4 == 0 ? "NULL" : absl::StrCat(n, ".25"), ", '", t, "'); ",
                      "INSERT INTO sp_keyless VALUES (", n, ", '", t, "'); ",
                      "INSERT INTO sp_temporal VALUES ('2026-01-01' + INTERVAL ", n * 1001,
                      " MICROSECOND, ", n, "); ");
    }
  }
  for (const char* k : {"0", "1", "9223372036854775807", "9223372036854775808",
                        "18446744073709551614", "18446744073709551615"}) {
    absl::StrAppend(&fill, "INSERT INTO sp_unsigned VALUES (", k, ", 1); ");
  }
  st = (*db)->Exec(fill);
  ASSERT_TRUE(st.ok()) << st;

  auto conn = ConnectInSnapshot(**db);
  ASSERT_TRUE(conn.ok()) << conn.status();
  MysqlSnapshotReader binary(**conn);
  MysqlSnapshotReader text(**conn);
  text.set_protocol(MysqlRowProtocol::kText);

  const std::string database = (*db)->database();
  struct Case {
    storagepb::SnapshotTable table;
    size_t rows;
    size_t limit;
  };
  const Case cases[] = {
      {Table(database, "sp_types", {"id"}), 6, 2},
      {Table(database, "sp_types", {"id"}), 6, 100},
      {Table(database, "sp_composite", {"k1", "k2"}), 24, 5},
      {Table(database, "sp_unsigned", {"k"}), 6, 4},
      {Table(database, "sp_keyless", {}), 24, 7},
      {Table(database, "sp_temporal", {"k"}), 24, 5},
  };
  // The stored numbers of the floating-point columns, by id.
  const std::vector<std::string> floats = {"fl", "fl2", "db", "db2"};
  auto exact = (*conn)->Query(
      absl::StrCat("SELECT id, CAST(fl AS DOUBLE), CAST(fl2 AS DOUBLE), CAST(db AS DOUBLE), "
                   "CAST(db2 AS DOUBLE) FROM ",
                   database, ".sp_types ORDER BY id"));
  ASSERT_TRUE(exact.ok()) << exact.status();
  ASSERT_EQ(exact->rows.size(), 6u);
  int rounded = 0;  // values the text protocol stored rounded
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.table.table(), " in chunks of ", c.limit));
    const Read b = ReadAll(binary, c.table, c.limit);
    const Read t = ReadAll(text, c.table, c.limit);
    ASSERT_EQ(t.rows.size(), c.rows);
    ASSERT_EQ(b.rows.size(), t.rows.size());
    EXPECT_EQ(b.keys, t.keys);
    for (size_t r = 0; r < t.rows.size(); ++r) {
      if (c.table.table() != "sp_types") {
        EXPECT_EQ(b.rows[r], t.rows[r]) << "row " << r;
        continue;
      }
      // Table and table-state key alike; every Value but the floating-point ones byte-equal.
      EXPECT_EQ(b.rows[r].substr(0, b.rows[r].find('|')), t.rows[r].substr(0, t.rows[r].find('|')));
      EXPECT_EQ(b.rows[r].substr(b.rows[r].rfind('|')), t.rows[r].substr(t.rows[r].rfind('|')));
      const v1::ChangeEvent be = b.Event(r), te = t.Event(r);
      ASSERT_EQ(be.after().fields_size(), 48);
      ASSERT_EQ(be.after().fields_size(), te.after().fields_size());
      EXPECT_EQ(be.key_columns_size(), 1);
      EXPECT_EQ(be.op(), v1::OP_READ);
      for (int f = 0; f < be.after().fields_size(); ++f) {
        const v1::Field& bf = be.after().fields(f);
        const v1::Field& tf = te.after().fields(f);
        EXPECT_EQ(bf.name(), tf.name());
        const auto k = std::find(floats.begin(), floats.end(), bf.name());
        if (k == floats.end()) {
          EXPECT_EQ(bf.value().SerializeAsString(), tf.value().SerializeAsString())
              << "row " << r << " column " << bf.name() << ": binary "
              << bf.value().ShortDebugString() << ", text " << tf.value().ShortDebugString();
          continue;
        }
        const auto& server = exact->rows[r][1 + (k - floats.begin())];
        if (!server) {
          EXPECT_TRUE(bf.value().null()) << bf.value().ShortDebugString();
          EXPECT_TRUE(tf.value().null()) << tf.value().ShortDebugString();
          continue;
        }
        ASSERT_TRUE(bf.value().has_double_()) << bf.value().ShortDebugString();
        EXPECT_EQ(bf.value().double_(), std::strtod(server->c_str(), nullptr))
            << "row " << r << " column " << bf.name() << " stored " << *server;
        if (tf.value().double_() != bf.value().double_()) ++rounded;
      }
    }
  }
  // FLOAT 1.2345678 and 3.4028235e38, DOUBLE(12,4) -0.0001 (and the same in the second case).
  EXPECT_GE(rounded, 6);
}

// A server that will not prepare statements (max_prepared_stmt_count = 0, as some managed
// servers are set up): the reader falls back to the text protocol and reads the same rows
// (a FLOAT the text protocol rounds shows which protocol read them).
TEST(MysqlSnapshotProtocolTest, ServerWithoutPreparedStatementsFallsBackToText) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::Status st = (*db)->Exec(
      "DROP TABLE IF EXISTS sp_noprep; CREATE TABLE sp_noprep (k INT PRIMARY KEY, f FLOAT); "
      "INSERT INTO sp_noprep VALUES (1, 0.5), (2, 1.5), (3, 1.2345678), (4, NULL), (5, -1)");
  ASSERT_TRUE(st.ok()) << st;
  auto conn = ConnectInSnapshot(**db);
  ASSERT_TRUE(conn.ok()) << conn.status();
  MysqlSnapshotReader text(**conn);
  text.set_protocol(MysqlRowProtocol::kText);
  const storagepb::SnapshotTable table = Table((*db)->database(), "sp_noprep", {"k"});
  const Read want = ReadAll(text, table, 2);
  ASSERT_EQ(want.rows.size(), 5u);

  auto max = (*db)->Query("SELECT @@GLOBAL.max_prepared_stmt_count");
  ASSERT_TRUE(max.ok()) << max.status();
  ASSERT_TRUE((*db)->Exec("SET GLOBAL max_prepared_stmt_count = 0").ok());
  MysqlSnapshotReader binary(**conn);
  const Read got = ReadAll(binary, table, 2);
  ASSERT_TRUE(
      (*db)->Exec(absl::StrCat("SET GLOBAL max_prepared_stmt_count = ", (*max)[0][0])).ok());
  // The text protocol's rounded 1.23457: read as text.
  EXPECT_EQ(got.rows, want.rows);
  EXPECT_EQ(got.keys, want.keys);
  // Prepared statements allowed again: a new reader reads the stored float.
  MysqlSnapshotReader again(**conn);
  const Read exact = ReadAll(again, table, 2);
  ASSERT_EQ(exact.rows.size(), 5u);
  EXPECT_NE(exact.rows[2], want.rows[2]);
  EXPECT_EQ(exact.rows[1], want.rows[1]);
}

// Key columns whose ORDER BY order is not their string order: YEAR (0000 sorts first; the
// string '0' would be read as 2000), ENUM (by member index), SET (by bitmask) and BIT (by
// number). Each table is read whole in chunks of 1 and 2 by both protocols: every row exactly
// once, in key order (rows were skipped (ENUM, YEAR 0) or read again (BIT) before the
// keyset literal followed the column's order).
TEST(MysqlSnapshotProtocolTest, KeysetFollowsTheIndexOrderOfEveryKeyType) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::Status st = (*db)->Exec(
      "DROP TABLE IF EXISTS sk_year, sk_enum, sk_set, sk_bit; "
      "CREATE TABLE sk_year (y YEAR, id INT, PRIMARY KEY (y, id)); "
      "INSERT INTO sk_year VALUES (0,1),(0,2),(0,3),(0,4),(1901,1),(1999,1),(2000,1),(2001,1),"
      "(2155,1); "
      "CREATE TABLE sk_enum (e ENUM('b','a','it''s','c,d') PRIMARY KEY, v INT); "
      "INSERT INTO sk_enum VALUES ('b',1),('a',2),('it''s',3),('c,d',4); "
      "CREATE TABLE sk_set (s SET('z','y','x'), id INT, PRIMARY KEY (s, id)); "
      "INSERT INTO sk_set VALUES ('',1),('z',1),('y',1),('z,y',1),('x',1),('x',2),('z,x',1),"
      "('z,y,x',1); "
      "CREATE TABLE sk_bit (b BIT(8) PRIMARY KEY); "
      "INSERT INTO sk_bit VALUES (5),(48),(65),(66),(200),(0),(255);");
  ASSERT_TRUE(st.ok()) << st;
  auto conn = ConnectInSnapshot(**db);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string database = (*db)->database();
  struct Case {
    const char* table;
    std::vector<std::string> keys;
    size_t rows;
  };
  for (const Case& c : {Case{"sk_year", {"y", "id"}, 9}, Case{"sk_enum", {"e"}, 4},
                        Case{"sk_set", {"s", "id"}, 8}, Case{"sk_bit", {"b"}, 7}}) {
    const storagepb::SnapshotTable table = Table(database, c.table, c.keys);
    MysqlSnapshotReader whole(**conn);
    whole.set_protocol(MysqlRowProtocol::kText);
    const Read all = ReadAll(whole, table, 1000);  // one chunk: no keyset condition
    ASSERT_EQ(all.rows.size(), c.rows) << c.table;
    for (MysqlRowProtocol protocol : {MysqlRowProtocol::kText, MysqlRowProtocol::kBinary}) {
      for (size_t limit : {size_t{1}, size_t{2}}) {
        SCOPED_TRACE(absl::StrCat(c.table, protocol == MysqlRowProtocol::kText ? " text" : " binary",
                                  " in chunks of ", limit));
        MysqlSnapshotReader reader(**conn);
        reader.set_protocol(protocol);
        const Read got = ReadAll(reader, table, limit);
        if (protocol == MysqlRowProtocol::kText) {
          EXPECT_EQ(got.rows, all.rows);
        } else {
          EXPECT_EQ(got.rows.size(), all.rows.size());
        }
      }
    }
  }
}

// Floating-point keys: the text protocol prints a FLOAT to 6 significant digits (1.2345671,
// 1.2345673 and 1.2345675 all print as 1.23457), so a resume key taken from that text skipped
// or re-read rows near a chunk boundary. The resume key is now the stored number (read over
// the binary protocol, or selected as `k + 0e0` over the text protocol). Tables keyed by FLOAT,
// DOUBLE, FLOAT(M,D), DOUBLE(M,D) and (FLOAT, INT), with values closer together than the text
// shows, negative, zero, tiny, huge; and temporal keys with fractional seconds (their text was
// exact already; they are now read over the binary protocol too). Each is read in chunks of 1 and 2 by both protocols: every row exactly once, in the
// order of a read in one chunk by the same protocol.
TEST(MysqlSnapshotProtocolTest, FloatingPointAndTemporalKeysReadEveryRowOnce) {
  auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(db.ok()) << db.status();
  const char* const floats =
      "1.2345671, 1.2345673, 1.2345675, 1.2345677, 1.23457, -1.2345671, -1.2345673, -0.0, 1e-45, "
      "3e-45, 1.1754944e-38, 3.4028234e38, 3.4028232e38, -3.4028234e38, 100000.01, 100000.02";
  const char* const doubles =
      "1.2345671, 1.2345672, 1.2345673, 0.1, 0.30000000000000004, 0.3, -0.0, 5e-324, 1e-323, "
      "2.2250738585072014e-308, 1.7976931348623157e308, 1.7976931348623155e308, "
      "-1.7976931348623157e308, 123456789.1234567, 123456789.1234568";
  std::string sql =
      "DROP TABLE IF EXISTS kf_float, kf_double, kf_float_md, kf_double_md, kf_composite, "
      "kf_datetime, kf_time, kf_timestamp; "
      "CREATE TABLE kf_float (k FLOAT PRIMARY KEY, v INT); "
      "CREATE TABLE kf_double (k DOUBLE PRIMARY KEY, v INT); "
      "CREATE TABLE kf_float_md (k FLOAT(9,4) PRIMARY KEY, v INT); "
      "CREATE TABLE kf_double_md (k DOUBLE(12,3) PRIMARY KEY, v INT); "
      "CREATE TABLE kf_composite (f FLOAT, i INT, PRIMARY KEY (f, i)); "
      "CREATE TABLE kf_datetime (k DATETIME(6) PRIMARY KEY, f FLOAT DEFAULT 1.2345678); "
      "CREATE TABLE kf_time (k TIME(3) PRIMARY KEY); "
      "CREATE TABLE kf_timestamp (k TIMESTAMP(6) PRIMARY KEY); "
      "SET time_zone = '+00:00'; ";
  int v = 0;
  for (std::string_view list : {std::string_view(floats), std::string_view(doubles)}) {
    const bool is_float = list == floats;
    for (std::string_view rest = list; !rest.empty();) {
      const size_t comma = rest.find(", ");
      const std::string value(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
      ++v;
      absl::StrAppend(&sql, "INSERT INTO ", is_float ? "kf_float" : "kf_double", " VALUES (",
                      value, ", ", v, "); ");
      if (is_float) {
        absl::StrAppend(&sql, "INSERT INTO kf_composite VALUES (", value, ", 1), (", value,
                        ", -2); ");
      }
    }
  }
  for (const char* k : {"1.2345", "1.2346", "1.2347", "-1.2345", "0", "99999.9999", "0.0001"}) {
    absl::StrAppend(&sql, "INSERT INTO kf_float_md VALUES (", k, ", 1); ");
  }
  for (const char* k : {"1.234", "1.235", "0.001", "-0.001", "123456789.123", "123456789.124"}) {
    absl::StrAppend(&sql, "INSERT INTO kf_double_md VALUES (", k, ", 1); ");
  }
  absl::StrAppend(
      &sql,
      "INSERT INTO kf_datetime (k) VALUES ('2026-01-01 00:00:00.000001'), "
      "('2026-01-01 00:00:00.000002'), ('2026-01-01 00:00:00.000003'), ('2026-01-01 00:00:00'), "
      "('1000-01-01 00:00:00'), ('9999-12-31 23:59:59.999999'), ('2026-01-01 00:00:00.999999'); "
      "INSERT INTO kf_time VALUES ('-838:59:59'), ('-00:00:00.002'), ('-00:00:00.001'), "
      "('00:00:00'), ('00:00:00.001'), ('00:00:00.002'), ('838:59:59'); "
      "INSERT INTO kf_timestamp VALUES ('1970-01-01 00:00:01'), ('1970-01-01 00:00:01.000001'), "
      "('2038-01-19 03:14:07.999999'), ('2026-03-29 01:00:00.5'), ('2026-03-29 01:00:00.500001')");
  absl::Status st = (*db)->Exec(sql);
  ASSERT_TRUE(st.ok()) << st;
  auto conn = ConnectInSnapshot(**db);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string database = (*db)->database();
  struct Case {
    const char* table;
    std::vector<std::string> keys;
    size_t rows;
  };
  for (const Case& c : {Case{"kf_float", {"k"}, 16}, Case{"kf_double", {"k"}, 15},
                        Case{"kf_float_md", {"k"}, 7}, Case{"kf_double_md", {"k"}, 6},
                        Case{"kf_composite", {"f", "i"}, 32}, Case{"kf_datetime", {"k"}, 7},
                        Case{"kf_time", {"k"}, 7}, Case{"kf_timestamp", {"k"}, 5}}) {
    const storagepb::SnapshotTable table = Table(database, c.table, c.keys);
    for (MysqlRowProtocol protocol : {MysqlRowProtocol::kText, MysqlRowProtocol::kBinary}) {
      const char* name = protocol == MysqlRowProtocol::kText ? " text" : " binary";
      MysqlSnapshotReader whole(**conn);
      whole.set_protocol(protocol);
      const Read all = ReadAll(whole, table, 1000);  // one chunk: no keyset condition
      ASSERT_EQ(all.rows.size(), c.rows) << c.table << name;
      for (size_t limit : {size_t{1}, size_t{2}}) {
        SCOPED_TRACE(absl::StrCat(c.table, name, " in chunks of ", limit));
        MysqlSnapshotReader reader(**conn);
        reader.set_protocol(protocol);
        const Read got = ReadAll(reader, table, limit);
        EXPECT_EQ(got.rows.size(), all.rows.size());
        EXPECT_TRUE(got.rows == all.rows) << "not the rows of a read in one chunk, in order";
        if (protocol == MysqlRowProtocol::kBinary && std::string(c.table) == "kf_datetime") {
          // A temporal key no longer sends the table to the text protocol: its FLOAT column is
          // the stored number (the text protocol's would be 1.23457).
          for (size_t r = 0; r < got.bodies.size(); ++r) {
            const v1::ChangeEvent e = got.Event(r);
            ASSERT_EQ(e.after().fields_size(), 2);
            EXPECT_EQ(e.after().fields(1).value().double_(), static_cast<double>(1.2345678f));
          }
        }
        if (protocol == MysqlRowProtocol::kBinary) {
          // The same resume keys whichever protocol read the chunk.
          MysqlSnapshotReader text(**conn);
          text.set_protocol(MysqlRowProtocol::kText);
          EXPECT_EQ(ReadAll(text, table, limit).keys, got.keys);
        }
      }
    }
  }
}

TEST(MysqlSnapshotKeyset, FloatingPointLiterals) {
  mysqlclient::ColumnDefinition f;
  f.name = "f";
  f.type = 4;  // FLOAT
  EXPECT_EQ(*KeysetLiteral(f, "1.2345670461654663", nullptr), "1.2345670461654663e0");
  EXPECT_EQ(*KeysetLiteral(f, "1.401298464324817e-45", nullptr), "1.401298464324817e-45");
  EXPECT_EQ(*KeysetLiteral(f, "-0", nullptr), "-0e0");
  EXPECT_EQ(*KeysetLiteral(f, "1.23457", nullptr), "1.23457e0");  // a key stored before
  mysqlclient::ColumnDefinition d;
  d.name = "d";
  d.type = 5;  // DOUBLE
  EXPECT_EQ(*KeysetLiteral(d, "-1.7976931348623157e+308", nullptr), "-1.7976931348623157e+308");
  for (const char* bad : {"", "1.5' OR 1=1 -- ", "inf", "nan", "1e999", "0x10", " 1"}) {
    EXPECT_TRUE(absl::IsDataLoss(KeysetLiteral(d, bad, nullptr).status())) << bad;
  }
}

TEST(MysqlSnapshotKeyset, EnumMembersAndLiterals) {
  auto members = ParseEnumMembers("enum('b','a','it''s','c,d','')");
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ(*members, (std::vector<std::string>{"b", "a", "it's", "c,d", ""}));
  EXPECT_TRUE(ParseEnumMembers("set('x')").ok());
  EXPECT_FALSE(ParseEnumMembers("int(11)").ok());
  EXPECT_FALSE(ParseEnumMembers("enum('a'").ok());
  EXPECT_FALSE(ParseEnumMembers("enum('a') unsigned").ok());

  mysqlclient::ColumnDefinition e;
  e.name = "e";
  e.flags = mysqlclient::kEnumFlag;
  EXPECT_EQ(*KeysetLiteral(e, "a", &*members), "2");
  EXPECT_EQ(*KeysetLiteral(e, "c,d", &*members), "4");
  EXPECT_FALSE(KeysetLiteral(e, "zz", &*members).ok());
  mysqlclient::ColumnDefinition s;
  s.name = "s";
  s.flags = mysqlclient::kSetFlag;
  const std::vector<std::string> set_members = {"z", "y", "x"};
  EXPECT_EQ(*KeysetLiteral(s, "", &set_members), "0");
  EXPECT_EQ(*KeysetLiteral(s, "z,x", &set_members), "5");
  EXPECT_FALSE(KeysetLiteral(s, "z,w", &set_members).ok());
  mysqlclient::ColumnDefinition b;
  b.name = "b";
  b.type = 16;  // BIT
  b.charset = mysqlclient::kBinaryCharset;
  EXPECT_EQ(*KeysetLiteral(b, std::string("\x01\x00", 2), nullptr), "256");
  EXPECT_FALSE(KeysetLiteral(b, std::string(9, 'x'), nullptr).ok());
  mysqlclient::ColumnDefinition v;
  v.name = "v";
  EXPECT_EQ(*KeysetLiteral(v, "it's", nullptr), "'it\\'s'");
}

}  // namespace
}  // namespace sluice::pipeline
