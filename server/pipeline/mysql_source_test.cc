// MysqlSource against a real MariaDB 10.11: every column type arrives with the value the server
// holds; committed transactions arrive whole and in order, rolled-back ones never; a DDL becomes
// a ddl event; a 200,000-row transaction is staged with bounded memory; a restart or a killed
// replica connection neither loses nor repeats anything; wrong settings and a purged binlog are
// clear errors.
#include "server/pipeline/mysql_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>
#include <random>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/value_json.h"
#include "server/pipeline/mysql_source_fixture.h"
#include "storage/test_util.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

const v1::Value* FieldOf(const v1::Row& row, const std::string& name) {
  for (const auto& f : row.fields()) {
    if (f.name() == name) return &f.value();
  }
  return nullptr;
}

std::string RowJsonOf(const v1::Row& row) {
  std::string s;
  AppendRowJson(row, s);
  return s;
}

std::string StripFraction(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Our value in the form the server's text protocol prints it (the server side of the query
// below already applies HEX() and +0 where the text form is not comparable).
std::string AsServerText(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::KIND_NOT_SET:
    case v1::Value::kNull:
      return "NULL";
    case v1::Value::kInt64:
      return std::to_string(v.int64());
    case v1::Value::kUint64:
      return std::to_string(v.uint64());
    case v1::Value::kDecimal:
      return v.decimal();
    case v1::Value::kString:
      return v.string();
    case v1::Value::kBytes:
      return absl::AsciiStrToUpper(absl::BytesToHexString(v.bytes()));
    case v1::Value::kJson:
      return v.json();
    default:
      break;
  }
  std::string json;
  AppendValueJson(v, json);
  if (json.size() >= 2 && json.front() == '"') json = json.substr(1, json.size() - 2);
  if (v.kind_case() == v1::Value::kTimestampMicros) {
    for (char& c : json) {
      if (c == 'T') c = ' ';
    }
    if (!json.empty() && json.back() == 'Z') json.pop_back();
  }
  return StripFraction(json);
}

constexpr const char* kTypesTable = R"sql(
CREATE TABLE test.ms_types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec1 DECIMAL(20,6), dec2 DECIMAL(65,30), fl FLOAT, db DOUBLE, bt BIT(10), yr YEAR,
  d DATE, t TIME, t6 TIME(6), dt DATETIME, dt3 DATETIME(3), ts TIMESTAMP(6) NULL,
  c CHAR(10), vc VARCHAR(100), vcl VARCHAR(50) CHARACTER SET latin1,
  vca VARCHAR(20) CHARACTER SET ascii, tx TEXT, mtx MEDIUMTEXT, bn BINARY(4), vb VARBINARY(20),
  bl BLOB, lb LONGBLOB, en ENUM('a','b','c'), st SET('x','y','z'), js JSON,
  g GEOMETRY, pt POINT, after_geo VARCHAR(10), u UUID, i6 INET6
))sql";

// Columns compared as the server prints them, and the expression that prints each.
const std::vector<std::pair<std::string, std::string>>& TypeColumns() {
  static const auto* columns = new std::vector<std::pair<std::string, std::string>>{
      {"id", "id"},
      {"ti", "ti"},
      {"tiu", "tiu"},
      {"si", "si"},
      {"siu", "siu"},
      {"mi", "mi"},
      {"miu", "miu"},
      {"i", "i"},
      {"iu", "iu"},
      {"bi", "bi"},
      {"biu", "biu"},
      {"dec1", "dec1"},
      {"dec2", "dec2"},
      {"bt", "bt+0"},
      {"yr", "yr+0"},
      {"d", "d"},
      {"t", "t"},
      {"t6", "t6"},
      {"dt", "dt"},
      {"dt3", "dt3"},
      {"ts", "ts"},
      {"c", "c"},
      {"vc", "vc"},
      {"vcl", "vcl"},
      {"vca", "vca"},
      {"tx", "tx"},
      {"mtx", "mtx"},
      {"bn", "HEX(bn)"},
      {"vb", "HEX(vb)"},
      {"bl", "HEX(bl)"},
      {"lb", "HEX(lb)"},
      {"en", "en"},
      {"st", "st"},
      {"js", "js"},
      {"g", "HEX(g)"},
      {"pt", "HEX(pt)"},
      {"after_geo", "after_geo"},
  };
  return *columns;
}

// Three rows of every type for kTypesTable-shaped `table`: extreme values, zero values and
// NULLs. `uuid_inet6` is row 1's UUID and INET6 (their text form, or NULL, NULL).
std::string TypesRowsInsert(const std::string& table, const std::string& uuid_inet6) {
  std::string values = R"sql(
    (1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
     9223372036854775807, 18446744073709551615, '12345678901234.123456',
     '-12345678901234567890123456789012345.123456789012345678901234567890', 3.5,
     1.7976931348623157e308, b'1010101010', 2155, '9999-12-31', '838:59:59',
     '-507:48:27.123456', '9999-12-31 23:59:59', '2024-02-29 12:34:56.789',
     '2038-01-19 03:14:07.999999', 'abc', '😀 emoji 中文 日本語 한국어', 'café', 'plain',
     REPEAT('long text ', 100), 'm', 0x00FF1020, X'', 0xDEADBEEF, REPEAT('x', 70000), 'b',
     'x,z', '{"a":[1,2,{"b":null}],"s":"ü"}', ST_GeomFromText('LINESTRING(0 0,1 1)'),
     POINT(1, 2), 'q', %UUID_INET6%),
    (2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
     '0.000000', '0.000000000000000000000000000001', -0.25, -2.5e-300, b'0', 0,
     '0000-00-00', '-838:59:59', '00:00:00.000001', '0000-00-00 00:00:00',
     '1000-01-01 00:00:00.001', '1970-01-01 00:00:01', '', '', '', '', '', '', 0x00000000,
     0x00, X'', X'', '', '', '[]', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'), POINT(-1, 0.5), '', NULL, NULL),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))sql";
  values.replace(values.find("%UUID_INET6%"), 12, uuid_inet6);
  return "INSERT INTO " + table + " VALUES" + values;
}

TEST_F(MysqlSourceTest, EveryTypeMatchesTheServer) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_types").ok());
  StartSource();
  ASSERT_TRUE(db_->Exec("SET time_zone = '+00:00'").ok());
  ASSERT_TRUE(db_->Exec("SET sql_mode = ''").ok());  // zero dates allowed
  ASSERT_TRUE(db_->Exec(kTypesTable).ok());
  absl::Status inserted_all = db_->Exec(TypesRowsInsert(
      "test.ms_types", "'123e4567-e89b-12d3-a456-426614174000', '2001:db8::1'"));
  ASSERT_TRUE(inserted_all.ok()) << inserted_all;
  const std::vector<v1::ChangeEvent> events = Sync();

  std::vector<std::string> exprs;
  for (const auto& [name, expr] : TypeColumns()) exprs.push_back(expr);
  auto rows = db_->QueryNullable(absl::StrCat("SELECT ", absl::StrJoin(exprs, ", "),
                                              ", fl, db FROM test.ms_types ORDER BY id"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);

  bool saw_ddl = false;
  std::map<int64_t, const v1::ChangeEvent*> inserted;
  for (const auto& e : events) {
    if (e.op() == v1::OP_DDL && absl::StrContains(e.ddl().statement(), "ms_types")) {
      saw_ddl = true;
      EXPECT_EQ(e.source().database(), db_->database());  // the session's default database
    }
    if (e.source().table() == "ms_types" && e.op() == v1::OP_INSERT) {
      inserted[e.after().fields(0).value().int64()] = &e;
      EXPECT_EQ(e.source().database(), "test");
      EXPECT_EQ(e.key_columns_size(), 1);
      EXPECT_FALSE(e.source().gtid().empty());
      EXPECT_NE(e.source().commit_ts_micros(), 0);
    }
  }
  EXPECT_TRUE(saw_ddl);
  ASSERT_EQ(inserted.size(), 3u);
  for (size_t r = 0; r < rows->size(); ++r) {
    const auto& server = (*rows)[r];
    const v1::ChangeEvent& e = *inserted[static_cast<int64_t>(r + 1)];
    ASSERT_EQ(e.after().fields_size(), 41) << e.ShortDebugString().substr(0, 300);
    for (size_t c = 0; c < TypeColumns().size(); ++c) {
      const std::string& name = TypeColumns()[c].first;
      const v1::Value* ours = FieldOf(e.after(), name);
      ASSERT_NE(ours, nullptr) << name;
      std::string want = server[c] ? *server[c] : "NULL";
      // Temporal text: the server prints every fractional digit of the column, sluice the
      // significant ones.
      if (ours->has_date() || ours->has_time() || ours->has_datetime() ||
          ours->has_timestamp_micros()) {
        want = StripFraction(want);
      }
      EXPECT_EQ(AsServerText(*ours), want) << "row " << r + 1 << " column " << name;
    }
    // MariaDB UUID and INET6 arrive as their 16 stored bytes.
    for (const char* name : {"u", "i6"}) {
      const v1::Value* v = FieldOf(e.after(), name);
      ASSERT_NE(v, nullptr) << name;
      if (r == 0) {
        EXPECT_EQ(v->bytes().size(), 16u) << name << " " << v->ShortDebugString();
      }
    }
    // FLOAT and DOUBLE: the server prints them rounded; compare the numbers.
    const size_t fl = TypeColumns().size();
    for (size_t k = 0; k < 2; ++k) {
      const v1::Value* ours = FieldOf(e.after(), k == 0 ? "fl" : "db");
      ASSERT_NE(ours, nullptr);
      if (!server[fl + k]) {
        EXPECT_TRUE(ours->has_null() || ours->kind_case() == v1::Value::KIND_NOT_SET);
        continue;
      }
      ASSERT_TRUE(ours->has_double_()) << ours->ShortDebugString();
      const double want = std::stod(*server[fl + k]);
      EXPECT_NEAR(ours->double_(), want, std::fabs(want) * (k == 0 ? 1e-6 : 1e-15))
          << (k == 0 ? "fl" : "db");
    }
  }
}

// A row read by the initial snapshot (binary protocol) renders exactly as the same row decoded
// from the binlog: the pre-existing rows come as "r" events, then copies of them inserted
// while streaming come as "c" events, and every column but the key must be equal.
TEST_F(MysqlSourceTest, SnapshotRowsRenderExactlyAsStreamedRows) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_snap_types").ok());
  ASSERT_TRUE(db_->Exec("SET time_zone = '+00:00'").ok());
  ASSERT_TRUE(db_->Exec("SET sql_mode = ''").ok());
  std::string create = kTypesTable;
  create.replace(create.find("ms_types"), 8, "ms_snap_types");
  ASSERT_TRUE(db_->Exec(create).ok());
  // UUID and INET6 are NULL: the stream has their stored bytes, SELECT their text.
  absl::Status st = db_->Exec(TypesRowsInsert("test.ms_snap_types", "NULL, NULL"));
  ASSERT_TRUE(st.ok()) << st;
  // A FLOAT the text protocol prints rounded ("1.23457"): the snapshot reads the stored bits
  // (prepared statements), as the binlog carries them.
  st = db_->Exec("UPDATE test.ms_snap_types SET fl = 1.2345678 WHERE id = 2");
  ASSERT_TRUE(st.ok()) << st;
  config_.snapshot = config::SnapshotMode::kInitial;
  config_.snapshot_chunk_size = 2;  // two chunks, so keyset pagination runs too
  config_.tables = {"test.ms_snap_types", "test.ms_marker"};
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_snap_types SELECT id + 10, ti, tiu, si, siu, mi, "
                        "miu, i, iu, bi, biu, dec1, dec2, fl, db, bt, yr, d, t, t6, dt, dt3, ts, "
                        "c, vc, vcl, vca, tx, mtx, bn, vb, bl, lb, en, st, js, g, pt, after_geo, "
                        "u, i6 FROM test.ms_snap_types")
                  .ok());
  const std::vector<v1::ChangeEvent> events = Sync();
  std::map<int64_t, const v1::ChangeEvent*> read, streamed;
  for (const auto& e : events) {
    if (e.source().table() != "ms_snap_types") continue;
    const int64_t id = e.after().fields(0).value().int64();
    if (e.op() == v1::OP_READ) {
      read[id] = &e;
      EXPECT_TRUE(e.source().snapshot());
      EXPECT_EQ(e.source().database(), "test");
      EXPECT_THAT(e.key_columns(), ::testing::ElementsAre("id"));
      EXPECT_FALSE(e.source().position().empty());
    } else if (e.op() == v1::OP_INSERT) {
      streamed[id - 10] = &e;
      EXPECT_FALSE(e.source().snapshot());
    }
  }
  ASSERT_EQ(read.size(), 3u);
  ASSERT_EQ(streamed.size(), 3u);
  for (int64_t id = 1; id <= 3; ++id) {
    const v1::Row& a = read[id]->after();
    const v1::Row& b = streamed[id]->after();
    ASSERT_EQ(a.fields_size(), b.fields_size());
    for (int c = 1; c < a.fields_size(); ++c) {
      EXPECT_EQ(a.fields(c).name(), b.fields(c).name());
      EXPECT_EQ(a.fields(c).value().ShortDebugString().substr(0, 200),
                b.fields(c).value().ShortDebugString().substr(0, 200))
          << "row " << id << " column " << a.fields(c).name();
    }
  }
}

TEST_F(MysqlSourceTest, TransactionsWholeInOrderRollbackInvisible) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_orders").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_orders (id INT PRIMARY KEY, qty INT)").ok());
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_orders VALUES (1, 1)").ok());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_orders VALUES (2, 2), (3, 3)").ok());
  ASSERT_TRUE(db_->Exec("UPDATE test.ms_orders SET qty = 10 WHERE id = 1").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM test.ms_orders WHERE id = 3").ok());
  ASSERT_TRUE(db_->Exec("COMMIT").ok());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_orders VALUES (99, 99)").ok());
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  ASSERT_TRUE(db_->Exec("ALTER TABLE test.ms_orders ADD COLUMN note VARCHAR(10)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_orders VALUES (4, 4, 'n')").ok());
  std::vector<v1::ChangeEvent> events = Sync();

  std::vector<std::string> seen;
  for (const auto& e : events) {
    if (e.source().table() == "ms_orders" ||
        (e.op() == v1::OP_DDL && absl::StrContains(e.ddl().statement(), "ms_orders"))) {
      std::string row;
      if (e.has_before()) absl::StrAppend(&row, " before=", RowJsonOf(e.before()));
      if (e.has_after()) absl::StrAppend(&row, " after=", RowJsonOf(e.after()));
      seen.push_back(absl::StrCat(v1::Op_Name(e.op()), " ", e.transaction_index(),
                                  e.last_in_transaction() ? " last" : "", row,
                                  e.op() == v1::OP_DDL ? " " + e.ddl().statement() : ""));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      R"(OP_INSERT 0 last after={"id":1,"qty":1})",
                      R"(OP_INSERT 0 after={"id":2,"qty":2})",
                      R"(OP_INSERT 1 after={"id":3,"qty":3})",
                      R"(OP_UPDATE 2 before={"id":1,"qty":1} after={"id":1,"qty":10})",
                      R"(OP_DELETE 3 last before={"id":3,"qty":3})",
                      "OP_DDL 0 last ALTER TABLE test.ms_orders ADD COLUMN note VARCHAR(10)",
                      R"(OP_INSERT 0 last after={"id":4,"qty":4,"note":"n"})",
                  }));
  // Offsets are contiguous from 1.
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].offset(), i + 1);
  // The checkpoint is the position after the last transaction, with the MariaDB GTID state.
  auto cp = log_->Checkpoint(id_);
  ASSERT_TRUE(cp.ok());
  EXPECT_FALSE(cp->position().binlog().file().empty());
  EXPECT_FALSE(cp->position().binlog().gtid_set().empty());
}

// A QUERY event holds the statement in the client's character set: a DDL sent by a latin1
// client is not UTF-8. It must still be stored as an event every reader can parse (protobuf
// refuses a `string` that is not UTF-8): the ill-formed bytes become U+FFFD.
TEST_F(MysqlSourceTest, DdlFromALatin1ClientIsStoredReadably) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_latin1").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_latin1 (id INT PRIMARY KEY)").ok());
  StartSource();
  ASSERT_TRUE(db_->Exec("SET NAMES latin1").ok());
  const absl::Status alter = db_->Exec("ALTER TABLE test.ms_latin1 COMMENT 'caf\xE9'");
  ASSERT_TRUE(db_->Exec("SET NAMES utf8mb4").ok());
  ASSERT_TRUE(alter.ok()) << alter;
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_latin1 VALUES (1)").ok());
  std::vector<v1::ChangeEvent> events = Sync();  // every stored event parses
  std::vector<std::string> seen;
  for (const auto& e : events) {
    if (e.op() == v1::OP_DDL && absl::StrContains(e.ddl().statement(), "COMMENT")) {
      seen.push_back(e.ddl().statement());
    }
    if (e.source().table() == "ms_latin1" && e.op() == v1::OP_INSERT) seen.push_back("insert");
  }
  // The statement is logged in latin1 (the client's charset) and stored converted to UTF-8.
  EXPECT_EQ(seen, (std::vector<std::string>{"ALTER TABLE test.ms_latin1 COMMENT 'caf\xC3\xA9'",
                                            "insert"}));
}

TEST_F(MysqlSourceTest, BigTransactionIsStagedWithBoundedMemory) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_big").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_big (id INT PRIMARY KEY, pad VARCHAR(200), "
                        "n BIGINT, at DATETIME(6))")
                  .ok());
  StartSource();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> peak{storage::testing::RssBytes()};
  std::thread sampler([&] {
    while (!done.load()) {
      peak = std::max(peak.load(), storage::testing::RssBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  constexpr int kRows = 200'000;
  ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_big SELECT seq, REPEAT('p', 150), "
                                     "seq * 7, NOW(6) FROM seq_1_to_",
                                     kRows))
                  .ok());
  WaitForMarker();
  done = true;
  sampler.join();
  int64_t expect_id = 1;
  uint64_t first_offset = 0;
  int bad = 0;
  ForEach(1, [&](const v1::ChangeEvent& e) {
    if (e.source().table() != "ms_big" || bad > 5) return;
    if (first_offset == 0) first_offset = e.offset();
    const bool ok = e.after().fields(0).value().int64() == expect_id &&
                    e.transaction_index() == static_cast<uint32_t>(expect_id - 1) &&
                    e.last_in_transaction() == (expect_id == kRows) &&
                    e.offset() == first_offset + static_cast<uint64_t>(expect_id - 1);
    if (!ok) {
      ++bad;
      ADD_FAILURE() << "row " << expect_id << ": " << e.ShortDebugString().substr(0, 300);
    }
    ++expect_id;
  });
  EXPECT_EQ(expect_id, kRows + 1);
  std::printf("peak RSS during a %d-row transaction: %.1f MiB\n", kRows,
              static_cast<double>(peak.load()) / (1 << 20));
  EXPECT_LT(peak.load(), 256ull << 20);
}

TEST_F(MysqlSourceTest, RestartAndKilledConnectionNeitherLoseNorRepeat) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_once").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_once (id INT PRIMARY KEY)").ok());
  StartSource();
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_once VALUES (", i, ")")).ok());
  }
  Sync();
  source_.reset();  // stop; the server keeps writing
  for (int i = 51; i <= 100; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_once VALUES (", i, ")")).ok());
  }
  StartSource();
  Sync();
  // Kill the replica's dump thread on the server: the source reconnects and resumes.
  auto threads =
      db_->Query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_FALSE(threads->empty());
  for (const auto& row : *threads) ASSERT_TRUE(db_->Exec("KILL " + row[0]).ok());
  for (int i = 101; i <= 150; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_once VALUES (", i, ")")).ok());
  }
  std::vector<v1::ChangeEvent> events = Sync();
  std::vector<int64_t> ids;
  for (const auto& e : events) {
    if (e.source().table() == "ms_once") ids.push_back(e.after().fields(0).value().int64());
  }
  ASSERT_EQ(ids.size(), 150u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int64_t>(i + 1));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].offset(), i + 1);
}

// What deriving a MySQL source's executed GTID set does to the dump, run on MariaDB: the start
// file is read again from offset 4 and everything before the stored position is skipped. Nothing
// stored is repeated, across a binlog rotation too, and the GTID state stays exact.
TEST_F(MysqlSourceTest, RereadingTheStartFileFromItsBeginningRepeatsNothing) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_reread").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_reread (id INT PRIMARY KEY)").ok());
  StartSource();
  for (int i = 1; i <= 40; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_reread VALUES (", i, ")")).ok());
  }
  Sync();
  source_.reset();
  auto stopped_at = log_->Checkpoint(id_);
  ASSERT_TRUE(stopped_at.ok());
  ASSERT_GT(stopped_at->position().binlog().position(), 4u);
  for (int i = 41; i <= 60; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_reread VALUES (", i, ")")).ok());
  }
  MysqlSourceOptions reread;
  reread.reread_start_file_for_testing = true;
  StartSource(reread);
  Sync();
  source_.reset();
  // Stopped in one file, resumed after the server moved on to the next.
  ASSERT_TRUE(db_->Exec("FLUSH BINARY LOGS").ok());
  for (int i = 61; i <= 80; ++i) {
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_reread VALUES (", i, ")")).ok());
  }
  StartSource(reread);
  std::vector<v1::ChangeEvent> events = Sync();
  std::vector<int64_t> ids;
  for (const auto& e : events) {
    if (e.source().table() == "ms_reread") ids.push_back(e.after().fields(0).value().int64());
  }
  ASSERT_EQ(ids.size(), 80u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int64_t>(i + 1));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].offset(), i + 1);
  // The stored GTID state is the server's after the last transaction (the marker).
  auto binlog_pos = db_->Query("SELECT @@GLOBAL.gtid_binlog_pos");
  ASSERT_TRUE(binlog_pos.ok()) << binlog_pos.status();
  auto cp = log_->Checkpoint(id_);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->position().binlog().gtid_set(), (*binlog_pos)[0][0]);
}

TEST_F(MysqlSourceTest, TableFilterAppliesBeforeStoring) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_keep, test.ms_drop").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_keep (id INT PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_drop (id INT PRIMARY KEY)").ok());
  config_.tables = {"test.ms_keep", "test.ms_marker"};
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_keep VALUES (1)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_drop VALUES (1)").ok());
  ASSERT_TRUE(db_->Exec("CREATE DATABASE IF NOT EXISTS ms_other").ok());
  for (const auto& e : Sync()) {
    EXPECT_NE(e.source().table(), "ms_drop");
    EXPECT_NE(e.source().database(), "ms_other") << e.ShortDebugString();
  }
}

TEST_F(MysqlSourceTest, WrongSettingsAreRefusedWithTheFix) {
  ASSERT_TRUE(db_->Exec("SET GLOBAL binlog_row_image = 'MINIMAL'").ok());
  source_ = std::make_unique<MysqlSource>(config_, *log_, id_, registry_);
  source_->Start();
  const std::string error = WaitForError();
  source_.reset();
  ASSERT_TRUE(db_->Exec("SET GLOBAL binlog_row_image = 'FULL'").ok());
  EXPECT_NE(error.find("binlog_row_image=MINIMAL"), std::string::npos) << error;
  EXPECT_NE(error.find("SET GLOBAL binlog_row_image='FULL'"), std::string::npos) << error;
}

TEST_F(MysqlSourceTest, UnreachableServerIsAClearError) {
  config_.port = 1;  // nothing listens there
  source_ = std::make_unique<MysqlSource>(config_, *log_, id_, registry_);
  source_->Start();
  const std::string error = WaitForError();
  source_.reset();
  EXPECT_NE(error.find("source 'my': cannot reach the server at " + config_.host + ":1"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("sluice keeps retrying"), std::string::npos) << error;
}

TEST_F(MysqlSourceTest, PurgedBinlogIsAClearErrorAndKeepsTheLog) {
  // A private server: purging binlogs must not disturb the other tests.
  auto own = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(own.ok()) << own.status();
  UseServer(own->get());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_p (id INT PRIMARY KEY)").ok());
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_p VALUES (1)").ok());
  const size_t stored = Sync().size();
  source_.reset();
  ASSERT_TRUE(db_->Exec("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_p VALUES (2)").ok());
  ASSERT_TRUE(db_->Exec("FLUSH BINARY LOGS").ok());
  auto logs = db_->Query("SHOW BINARY LOGS");
  ASSERT_TRUE(logs.ok());
  // The server keeps files a (dying) dump thread still reads: retry until they are gone.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db_->Exec("PURGE BINARY LOGS TO '" + logs->back()[0] + "'").ok());
    auto left = db_->Query("SHOW BINARY LOGS");
    ASSERT_TRUE(left.ok());
    if (left->size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  source_ = std::make_unique<MysqlSource>(config_, *log_, id_, registry_);
  source_->Start();
  const std::string error = WaitForError();
  source_.reset();
  EXPECT_NE(error.find("no longer on the server"), std::string::npos) << error;
  EXPECT_NE(error.find("Re-snapshot"), std::string::npos) << error;
  EXPECT_EQ(ReadAll().size(), stored);  // nothing stored is lost
  log_.reset();
  db_ = nullptr;
}

// snapshot=when_needed: a binlog purged while sluice was down triggers a new snapshot at a new
// cut, opened by a "t" marker, instead of an error; replaying the log gives the source's state,
// including the row deleted while sluice was down.
TEST_F(MysqlSourceTest, PurgedBinlogWithWhenNeededResnapshotsToAnEqualState) {
  auto own = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  ASSERT_TRUE(own.ok()) << own.status();
  UseServer(own->get());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_w (id INT PRIMARY KEY, v VARCHAR(10))").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_w VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
  config_.snapshot = config::SnapshotMode::kWhenNeeded;
  config_.tables = {"test.ms_w", "test.ms_marker"};
  StartSource();
  ASSERT_TRUE(db_->Exec("UPDATE test.ms_w SET v = 'a2' WHERE id = 1").ok());
  Sync();
  source_.reset();
  ASSERT_TRUE(db_->Exec("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM test.ms_w WHERE id = 2; INSERT INTO test.ms_w VALUES (4, 'd');"
                        " UPDATE test.ms_w SET v = 'c2' WHERE id = 3")
                  .ok());
  ASSERT_TRUE(db_->Exec("FLUSH BINARY LOGS").ok());
  auto logs = db_->Query("SHOW BINARY LOGS");
  ASSERT_TRUE(logs.ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db_->Exec("PURGE BINARY LOGS TO '" + logs->back()[0] + "'").ok());
    auto left = db_->Query("SHOW BINARY LOGS");
    ASSERT_TRUE(left.ok());
    if (left->size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_w VALUES (5, 'e')").ok());
  std::map<int64_t, std::string> replay;
  bool marker = false;
  for (const v1::ChangeEvent& e : Sync()) {
    if (e.source().table() != "ms_w") continue;
    if (e.op() == v1::OP_TRUNCATE) {
      marker = true;
      EXPECT_TRUE(e.source().snapshot());
      EXPECT_NE(e.ddl().statement().find("re-snapshot"), std::string::npos);
      replay.clear();
    } else if (e.op() == v1::OP_DELETE) {
      replay.erase(e.before().fields(0).value().int64());
    } else {
      replay[e.after().fields(0).value().int64()] = e.after().fields(1).value().string();
    }
  }
  source_.reset();
  EXPECT_TRUE(marker);
  EXPECT_EQ(replay, (std::map<int64_t, std::string>{{1, "a2"}, {3, "c2"}, {4, "d"}, {5, "e"}}));
  log_.reset();
  db_ = nullptr;
}

// An on-demand re-snapshot while a writer keeps changing the table (DBLog watermarks in
// test.sluice_signal): the stream never pauses, and replaying the log (which holds no initial
// snapshot: snapshot=never) gives exactly the table's final contents. A second request with a
// WHERE condition re-reads only the rows it selects.
TEST_F(MysqlSourceTest, ResnapshotWhileStreamingReplaysToTheSourceState) {
  ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.ms_rs").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE test.ms_rs (id INT PRIMARY KEY, v VARCHAR(20), n INT)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO test.ms_rs SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_3000")
                  .ok());
  config_.database = "test";
  config_.tables = {"test.ms_rs", "test.ms_marker"};
  config_.snapshot_chunk_size = 200;
  StartSource();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    std::mt19937 rng(7);
    int next = 10'000;
    while (!stop.load()) {
      const int id = static_cast<int>(rng() % 3100) + 1;
      std::string sql;
      switch (rng() % 4) {
        case 0:
          sql = absl::StrCat("UPDATE test.ms_rs SET v = NULL, n = n + 1 WHERE id = ", id);
          break;
        case 1:
          sql = absl::StrCat("DELETE FROM test.ms_rs WHERE id = ", id);
          break;
        case 2:
          sql = absl::StrCat("INSERT INTO test.ms_rs VALUES (", next++, ", 'new', 0)");
          break;
        default:
          sql = absl::StrCat("UPDATE test.ms_rs SET v = 'upd', n = ", rng() % 100,
                             " WHERE id = ", id);
      }
      ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
      // Paced so that the stream (one durable append per transaction) keeps up: each chunk
      // waits for its high watermark to come through the stream.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  auto wait_done = [&](const std::string& table) {
    for (int i = 0; i < 1200; ++i) {
      const auto snap = registry_.Snapshot()[0];
      if (!snap.last_error.empty()) return snap.last_error;
      if (snap.snapshot_tables.size() == 1 && snap.snapshot_tables[0].table() == table &&
          snap.snapshot_tables[0].done()) {
        return std::string();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::string("timed out");
  };
  ASSERT_TRUE(source_->RequestSnapshot("test.ms_rs", "").ok());
  EXPECT_THAT(source_->RequestSnapshot("test.ms_rs", "").message(),
              ::testing::HasSubstr("already queued or running"));
  EXPECT_EQ(wait_done("test.ms_rs"), "");
  // "done" is reported once the last chunk is durable (not when it is queued to the log), so
  // every "r" event of the first pass is at or before this offset.
  stop = true;
  writer.join();
  const uint64_t first_pass_end = log_->Bounds(id_)->last.value();
  registry_.SetSnapshotProgress("my", {});
  ASSERT_TRUE(source_->RequestSnapshot("test.ms_rs", "id <= 100").ok());
  EXPECT_EQ(wait_done("test.ms_rs"), "");

  std::map<int64_t, std::string> replay;
  size_t reads = 0, late_reads = 0;
  for (const v1::ChangeEvent& e : Sync()) {
    if (e.source().table() == "sluice_signal") ADD_FAILURE() << "a watermark was stored";
    if (e.source().table() != "ms_rs") continue;
    if (e.op() == v1::OP_DELETE) {
      replay.erase(e.before().fields(0).value().int64());
      continue;
    }
    const int64_t id = e.after().fields(0).value().int64();
    replay[id] = e.after().ShortDebugString();
    if (e.op() == v1::OP_READ) {
      ++reads;
      EXPECT_TRUE(e.source().snapshot());
      EXPECT_EQ(e.source().database(), "test");
      if (e.offset() > first_pass_end) {
        ++late_reads;
        EXPECT_LE(id, 100) << "the WHERE condition was not applied";
      }
    }
  }
  EXPECT_GT(reads, 2000u);
  EXPECT_GT(late_reads, 0u);
  auto rows = db_->QueryNullable("SELECT id, v, n FROM test.ms_rs ORDER BY id");
  ASSERT_TRUE(rows.ok());
  std::map<int64_t, std::string> source;
  for (const auto& r : *rows) {
    v1::Row row;
    auto add = [&](const char* name, const std::optional<std::string>& text, bool number) {
      v1::Field* f = row.add_fields();
      f->set_name(name);
      if (!text) {
        f->mutable_value()->set_null(true);
      } else if (number) {
        f->mutable_value()->set_int64(std::stoll(*text));
      } else {
        f->mutable_value()->set_string(*text);
      }
    };
    add("id", r[0], true);
    add("v", r[1], false);
    add("n", r[2], true);
    source[std::stoll(*r[0])] = row.ShortDebugString();
  }
  EXPECT_EQ(replay.size(), source.size());
  int diffs = 0;
  for (const auto& [id, row] : source) {
    if (replay[id] != row && diffs++ < 5) ADD_FAILURE() << id << ": " << replay[id] << " vs " << row;
  }
  EXPECT_EQ(diffs, 0);
}

}  // namespace
}  // namespace sluice::pipeline
