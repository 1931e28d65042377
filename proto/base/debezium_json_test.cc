// The Debezium envelope and value mapping, checked against Debezium's own documentation.
//
// References (Debezium reference documentation, connectors/mysql and connectors/postgresql):
//   [MY-C] MySQL "Data change events" > "create events" (Anne Kretchmar, id 1004, pos 154)
//   [MY-U] MySQL "Data change events" > "update events" (first_name "Anne Marie", pos 484)
//   [MY-D] MySQL "Data change events" > "delete events" (pos 805)
//   [MY-T] MySQL "Transaction metadata" > "Change data event enrichment"
//   [MY-TYPES] MySQL "Data type mappings" > "Temporal types" (adaptive_time_microseconds)
//   [PG-C] PostgreSQL "Data change events" > "create events" (id 1, txId 555, lsn 24023128,
//          "snapshot": true)
//   [PG-M] PostgreSQL "Data change events" > "message events"
//   [PG-TYPES] PostgreSQL "Data type mappings" > "Temporal types" (time.precision.mode=adaptive),
//          "TIMESTAMP type", "Decimal types", basic types (INTERVAL: MicroDuration)
// Where the documented examples show fields sluice does not know (MySQL "server_id", "row",
// "thread", "query"; Postgres "sequence", "xmin"), the test asserts that they are absent rather
// than made up. The documents print "snapshot" as a boolean in old examples; Debezium's Source
// schema has been a string ("true"/"false"/"last") since 1.x, which is what is checked here.
#include "proto/base/debezium_json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace sluice {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

Struct Parse(const std::string& json) {
  Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

bool Has(const Struct& s, const std::string& key) { return s.fields().count(key) == 1; }

const Value& Get(const Struct& s, const std::string& key) {
  static const Value kMissing;
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "missing key " << key;
  return it == s.fields().end() ? kMissing : it->second;
}

std::string Str(const Struct& s, const std::string& key) { return Get(s, key).string_value(); }
double Num(const Struct& s, const std::string& key) { return Get(s, key).number_value(); }
bool IsNull(const Struct& s, const std::string& key) {
  return Get(s, key).kind_case() == Value::kNullValue;
}
const Struct& Obj(const Struct& s, const std::string& key) { return Get(s, key).struct_value(); }

void AddField(v1::Row& row, const std::string& name, const v1::Value& value) {
  auto* f = row.add_fields();
  f->set_name(name);
  *f->mutable_value() = value;
}
v1::Value Int(int64_t v) {
  v1::Value value;
  value.set_int64(v);
  return value;
}
v1::Value Text(const std::string& v) {
  v1::Value value;
  value.set_string(v);
  return value;
}

v1::Row Customer(int64_t id, const std::string& first_name) {
  v1::Row row;
  AddField(row, "id", Int(id));
  AddField(row, "first_name", Text(first_name));
  AddField(row, "last_name", Text("Kretchmar"));
  AddField(row, "email", Text("annek@noanswer.org"));
  return row;
}

// An event of the MySQL connector "mysql-server-1" on inventory.customers, without GTIDs.
v1::ChangeEvent MysqlEvent(v1::Op op, uint64_t pos, int64_t commit_ms, int64_t ingest_ms) {
  v1::ChangeEvent e;
  e.set_op(op);
  auto* s = e.mutable_source();
  s->set_name("mysql-server-1");
  s->set_kind(v1::SOURCE_KIND_MYSQL);
  s->set_database("inventory");
  s->set_table("customers");
  s->set_txid("mysql-bin.000003:" + std::to_string(pos));
  s->set_position("mysql-bin.000003:" + std::to_string(pos));
  s->mutable_typed_position()->mutable_binlog()->set_file("mysql-bin.000003");
  s->mutable_typed_position()->mutable_binlog()->set_position(pos);
  s->set_commit_ts_micros(commit_ms * 1000);
  e.set_ingest_ts_micros(ingest_ms * 1000);
  e.add_key_columns("id");
  e.set_transaction_index(0);
  e.set_last_in_transaction(true);
  return e;
}

void ExpectMysqlSource(const Struct& source, int64_t ts_ms, uint64_t pos) {
  EXPECT_EQ(Str(source, "version"), DebeziumSourceVersion());
  EXPECT_EQ(Str(source, "connector"), "mysql");
  EXPECT_EQ(Str(source, "name"), "mysql-server-1");
  EXPECT_EQ(Num(source, "ts_ms"), static_cast<double>(ts_ms));
  EXPECT_EQ(Str(source, "snapshot"), "false");
  EXPECT_EQ(Str(source, "db"), "inventory");
  EXPECT_EQ(Str(source, "table"), "customers");
  EXPECT_TRUE(IsNull(source, "gtid"));
  EXPECT_EQ(Str(source, "file"), "mysql-bin.000003");
  EXPECT_EQ(Num(source, "pos"), static_cast<double>(pos));
  for (const char* unknown : {"server_id", "row", "thread", "query", "schema", "lsn", "txId"}) {
    EXPECT_FALSE(Has(source, unknown)) << unknown;
  }
  EXPECT_EQ(source.fields_size(), 10);
}

void ExpectCustomer(const Struct& row, int64_t id, const std::string& first_name) {
  EXPECT_EQ(row.fields_size(), 4);
  EXPECT_EQ(Num(row, "id"), static_cast<double>(id));
  EXPECT_EQ(Str(row, "first_name"), first_name);
  EXPECT_EQ(Str(row, "last_name"), "Kretchmar");
  EXPECT_EQ(Str(row, "email"), "annek@noanswer.org");
}

void ExpectTransaction(const Struct& payload, const std::string& id, int total, int per_table) {
  const Struct& txn = Obj(payload, "transaction");
  EXPECT_EQ(txn.fields_size(), 3);
  EXPECT_EQ(Str(txn, "id"), id);
  EXPECT_EQ(Num(txn, "total_order"), total);
  EXPECT_EQ(Num(txn, "data_collection_order"), per_table);
}

// [MY-C], [MY-T]: the whole line, byte for byte, and then field by field.
TEST(DebeziumJson, MysqlCreateMatchesTheDocumentedEvent) {
  v1::ChangeEvent e = MysqlEvent(v1::OP_INSERT, 154, 0, 1465491411815);
  *e.mutable_after() = Customer(1004, "Anne");
  DebeziumRenderer renderer;
  auto line = renderer.Render(e);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line,
            "{\"before\":null,\"after\":{\"id\":1004,\"first_name\":\"Anne\",\"last_name\":"
            "\"Kretchmar\",\"email\":\"annek@noanswer.org\"},\"source\":{\"version\":\"" +
                std::string(DebeziumSourceVersion()) +
                "\",\"connector\":\"mysql\",\"name\":\"mysql-server-1\",\"ts_ms\":0,\"snapshot\":"
                "\"false\",\"db\":\"inventory\",\"table\":\"customers\",\"gtid\":null,\"file\":"
                "\"mysql-bin.000003\",\"pos\":154},\"op\":\"c\",\"ts_ms\":1465491411815,"
                "\"transaction\":{\"id\":\"file=mysql-bin.000003,pos=154\",\"total_order\":1,"
                "\"data_collection_order\":1}}");
  const Struct payload = Parse(*line);
  EXPECT_EQ(payload.fields_size(), 6);
  EXPECT_EQ(Str(payload, "op"), "c");
  EXPECT_EQ(Num(payload, "ts_ms"), 1465491411815.0);
  EXPECT_TRUE(IsNull(payload, "before"));
  ExpectCustomer(Obj(payload, "after"), 1004, "Anne");
  ExpectMysqlSource(Obj(payload, "source"), 0, 154);
  ExpectTransaction(payload, "file=mysql-bin.000003,pos=154", 1, 1);
}

// [MY-U]
TEST(DebeziumJson, MysqlUpdateMatchesTheDocumentedEvent) {
  v1::ChangeEvent e = MysqlEvent(v1::OP_UPDATE, 484, 1465581029100, 1465581029523);
  *e.mutable_before() = Customer(1004, "Anne");
  *e.mutable_after() = Customer(1004, "Anne Marie");
  auto line = DebeziumRenderer().Render(e);
  ASSERT_TRUE(line.has_value());
  const Struct payload = Parse(*line);
  EXPECT_EQ(Str(payload, "op"), "u");
  EXPECT_EQ(Num(payload, "ts_ms"), 1465581029523.0);
  ExpectCustomer(Obj(payload, "before"), 1004, "Anne");
  ExpectCustomer(Obj(payload, "after"), 1004, "Anne Marie");
  ExpectMysqlSource(Obj(payload, "source"), 1465581029100, 484);
  ExpectTransaction(payload, "file=mysql-bin.000003,pos=484", 1, 1);
}

// [MY-D]
TEST(DebeziumJson, MysqlDeleteMatchesTheDocumentedEvent) {
  v1::ChangeEvent e = MysqlEvent(v1::OP_DELETE, 805, 1465581902300, 1465581902461);
  *e.mutable_before() = Customer(1004, "Anne Marie");
  auto line = DebeziumRenderer().Render(e);
  ASSERT_TRUE(line.has_value());
  const Struct payload = Parse(*line);
  EXPECT_EQ(Str(payload, "op"), "d");
  EXPECT_EQ(Num(payload, "ts_ms"), 1465581902461.0);
  ExpectCustomer(Obj(payload, "before"), 1004, "Anne Marie");
  EXPECT_TRUE(IsNull(payload, "after"));
  ExpectMysqlSource(Obj(payload, "source"), 1465581902300, 805);
}

// [PG-C]: the documented row read by a snapshot ("snapshot": true), as the "r" event sluice
// writes for it. Snapshot rows have "transaction": null, as in Debezium.
TEST(DebeziumJson, PostgresSnapshotReadMatchesTheDocumentedEvent) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_READ);
  auto* s = e.mutable_source();
  s->set_name("PostgreSQL_server");
  s->set_kind(v1::SOURCE_KIND_POSTGRES);
  s->set_database("postgres");
  s->set_schema("public");
  s->set_table("customers");
  s->set_txid("555");
  s->mutable_typed_position()->mutable_pg()->set_lsn(24023128);
  s->set_commit_ts_micros(1559033904863000);
  s->set_snapshot(true);
  e.set_ingest_ts_micros(1559033904863000);
  *e.mutable_after() = Customer(1, "Anne");
  auto line = DebeziumRenderer().Render(e);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line,
            "{\"before\":null,\"after\":{\"id\":1,\"first_name\":\"Anne\",\"last_name\":"
            "\"Kretchmar\",\"email\":\"annek@noanswer.org\"},\"source\":{\"version\":\"" +
                std::string(DebeziumSourceVersion()) +
                "\",\"connector\":\"postgresql\",\"name\":\"PostgreSQL_server\",\"ts_ms\":"
                "1559033904863,\"snapshot\":\"true\",\"db\":\"postgres\",\"schema\":\"public\","
                "\"table\":\"customers\",\"txId\":555,\"lsn\":24023128},\"op\":\"r\",\"ts_ms\":"
                "1559033904863,\"transaction\":null}");
  const Struct payload = Parse(*line);
  EXPECT_EQ(Str(payload, "op"), "r");
  EXPECT_TRUE(IsNull(payload, "before"));
  ExpectCustomer(Obj(payload, "after"), 1, "Anne");
  EXPECT_TRUE(IsNull(payload, "transaction"));
  const Struct& source = Obj(payload, "source");
  EXPECT_EQ(Str(source, "connector"), "postgresql");
  EXPECT_EQ(Str(source, "name"), "PostgreSQL_server");
  EXPECT_EQ(Num(source, "ts_ms"), 1559033904863.0);
  EXPECT_EQ(Str(source, "snapshot"), "true");
  EXPECT_EQ(Str(source, "db"), "postgres");
  EXPECT_EQ(Str(source, "schema"), "public");
  EXPECT_EQ(Str(source, "table"), "customers");
  EXPECT_EQ(Num(source, "txId"), 555);
  EXPECT_EQ(Num(source, "lsn"), 24023128);
  for (const char* unknown : {"sequence", "xmin", "file", "pos", "gtid"}) {
    EXPECT_FALSE(Has(source, unknown)) << unknown;
  }
}

// [MY-T]: total_order counts the transaction's events, data_collection_order those of one table;
// a GTID is the transaction id. Postgres ids are "xid:lsn".
TEST(DebeziumJson, TransactionBlockCountsPerTransactionAndPerTable) {
  const char* tables[] = {"customers", "orders", "customers", "customers"};
  const int per_table[] = {1, 1, 2, 3};
  DebeziumRenderer renderer;
  for (int i = 0; i < 4; ++i) {
    v1::ChangeEvent e = MysqlEvent(v1::OP_INSERT, 900, 1, 2);
    e.mutable_source()->set_gtid("0e4d5dcd-a33b-11ea-80f1-02010a22a99e:10");
    e.mutable_source()->set_table(tables[i]);
    e.set_transaction_index(i);
    e.set_last_in_transaction(i == 3);
    *e.mutable_after() = Customer(i, "x");
    auto line = renderer.Render(e);
    ASSERT_TRUE(line.has_value());
    ExpectTransaction(Parse(*line), "0e4d5dcd-a33b-11ea-80f1-02010a22a99e:10", i + 1, per_table[i]);
  }
  // The next transaction starts counting again.
  v1::ChangeEvent next = MysqlEvent(v1::OP_INSERT, 1000, 1, 2);
  ExpectTransaction(Parse(*renderer.Render(next)), "file=mysql-bin.000003,pos=1000", 1, 1);

  v1::ChangeEvent pg;
  pg.set_op(v1::OP_DELETE);
  pg.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  pg.mutable_source()->set_txid("571");
  pg.mutable_source()->mutable_typed_position()->mutable_pg()->set_lsn(53195832);
  ExpectTransaction(Parse(*renderer.Render(pg)), "571:53195832", 1, 1);
}

TEST(DebeziumJson, StreamJoinedMidTransactionHasNoDataCollectionOrderUntilTheNextOne) {
  DebeziumRenderer renderer;
  v1::ChangeEvent e = MysqlEvent(v1::OP_INSERT, 154, 1, 2);
  e.set_transaction_index(2);
  e.set_last_in_transaction(false);
  Struct payload = Parse(*renderer.Render(e));
  EXPECT_EQ(Num(Obj(payload, "transaction"), "total_order"), 3);
  EXPECT_TRUE(IsNull(Obj(payload, "transaction"), "data_collection_order"));
  e.set_transaction_index(3);
  e.set_last_in_transaction(true);
  payload = Parse(*renderer.Render(e));
  EXPECT_TRUE(IsNull(Obj(payload, "transaction"), "data_collection_order"));
  e.set_transaction_index(0);
  payload = Parse(*renderer.Render(e));
  EXPECT_EQ(Num(Obj(payload, "transaction"), "data_collection_order"), 1);
}

// DDL is not emitted: it keeps its place in total_order (transaction_index + 1) but does not count
// for data_collection_order, which counts the events emitted for the table.
TEST(DebeziumJson, DdlIsSkipped) {
  DebeziumRenderer renderer;
  v1::ChangeEvent ddl = MysqlEvent(v1::OP_DDL, 154, 1, 2);
  ddl.mutable_ddl()->set_statement("ALTER TABLE customers ADD COLUMN x INT");
  ddl.set_last_in_transaction(false);
  EXPECT_FALSE(renderer.Render(ddl).has_value());
  v1::ChangeEvent insert = MysqlEvent(v1::OP_INSERT, 154, 1, 2);
  insert.set_transaction_index(1);
  ExpectTransaction(Parse(*renderer.Render(insert)), "file=mysql-bin.000003,pos=154", 2, 1);
}

TEST(DebeziumJson, TruncateHasNoRowImages) {
  v1::ChangeEvent e = MysqlEvent(v1::OP_TRUNCATE, 484, 1465581029100, 1465581029523);
  const Struct payload = Parse(*DebeziumRenderer().Render(e));
  EXPECT_EQ(Str(payload, "op"), "t");
  EXPECT_TRUE(IsNull(payload, "before"));
  EXPECT_TRUE(IsNull(payload, "after"));
  ExpectMysqlSource(Obj(payload, "source"), 1465581029100, 484);
}

// [PG-M]: {"source":..,"op":"m","ts_ms":..,"message":{"prefix":..,"content":base64}}.
TEST(DebeziumJson, LogicalMessageHasDebeziumsMessageShape) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_MESSAGE);
  e.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  e.mutable_source()->set_name("PostgreSQL_server");
  e.mutable_source()->set_database("postgres");
  e.mutable_source()->set_txid("556");
  e.mutable_source()->mutable_typed_position()->mutable_pg()->set_lsn(46523128);
  e.mutable_source()->set_commit_ts_micros(1559033904863000);
  e.set_ingest_ts_micros(1559033904961000);
  e.mutable_message()->set_prefix("foo");
  e.mutable_message()->set_content("bar");
  e.mutable_message()->set_transactional(true);
  const Struct payload = Parse(*DebeziumRenderer().Render(e));
  EXPECT_EQ(payload.fields_size(), 4);
  EXPECT_EQ(Str(payload, "op"), "m");
  EXPECT_EQ(Num(payload, "ts_ms"), 1559033904961.0);
  EXPECT_EQ(Str(Obj(payload, "message"), "prefix"), "foo");
  EXPECT_EQ(Str(Obj(payload, "message"), "content"), "YmFy");
  const Struct& source = Obj(payload, "source");
  EXPECT_EQ(Str(source, "schema"), "");
  EXPECT_EQ(Str(source, "table"), "");
  EXPECT_EQ(Num(source, "txId"), 556);
  EXPECT_EQ(Num(source, "lsn"), 46523128);
}

// Postgres unchanged TOAST columns carry Debezium's placeholder in "after".
TEST(DebeziumJson, UnchangedColumnsGetTheUnavailablePlaceholder) {
  v1::ChangeEvent e = MysqlEvent(v1::OP_UPDATE, 1, 1, 1);
  e.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  AddField(*e.mutable_after(), "id", Int(7));
  e.add_unchanged("bio");
  const Struct payload = Parse(*DebeziumRenderer().Render(e));
  EXPECT_EQ(Str(Obj(payload, "after"), "bio"), "__debezium_unavailable_value");
  EXPECT_EQ(Num(Obj(payload, "after"), "id"), 7);
}

std::string Render(const v1::Value& value) {
  std::string out;
  AppendDebeziumValue(value, out);
  return out;
}

v1::Value DateValue(int32_t year, uint32_t month, uint32_t day) {
  v1::Value v;
  v.mutable_date()->set_year(year);
  v.mutable_date()->set_month(month);
  v.mutable_date()->set_day(day);
  return v;
}

v1::Value DateTimeValue(int32_t y, uint32_t mo, uint32_t d, uint32_t h, uint32_t mi, uint32_t s,
                        uint32_t micros) {
  v1::Value v;
  *v.mutable_datetime()->mutable_date() = DateValue(y, mo, d).date();
  auto* t = v.mutable_datetime()->mutable_time();
  t->set_hours(h);
  t->set_minutes(mi);
  t->set_seconds(s);
  t->set_micros(micros);
  return v;
}

// [MY-TYPES], [PG-TYPES]: DATE is io.debezium.time.Date, days since the epoch.
TEST(DebeziumValue, DateIsDaysSinceTheEpoch) {
  EXPECT_EQ(Render(DateValue(1970, 1, 1)), "0");
  EXPECT_EQ(Render(DateValue(2018, 6, 20)), "17702");
  EXPECT_EQ(Render(DateValue(1969, 12, 31)), "-1");
  EXPECT_EQ(Render(DateValue(1, 1, 1)), "-719162");
  EXPECT_EQ(Render(DateValue(-1, 12, 31)), "-719163");  // 0001-12-31 BC, the day before
  EXPECT_EQ(Render(DateValue(0, 0, 0)), "null");        // MySQL zero date
  EXPECT_EQ(Render(DateValue(2026, 0, 0)), "null");
  v1::Value infinity;
  infinity.mutable_date()->set_infinity(1);
  EXPECT_EQ(Render(infinity), "\"infinity\"");
}

// [MY-TYPES] "DATETIME with a value of 2018-06-20 06:37:03" and [PG-TYPES] "TIMESTAMP value
// 2018-06-20 15:13:16.945104 is represented by an io.debezium.time.MicroTimestamp with the value
// 1529507596945104"; infinities as documented in "TIMESTAMP type".
TEST(DebeziumValue, DateTimeIsMicrosSinceTheEpoch) {
  EXPECT_EQ(Render(DateTimeValue(2018, 6, 20, 15, 13, 16, 945104)), "1529507596945104");
  EXPECT_EQ(Render(DateTimeValue(2018, 6, 20, 6, 37, 3, 0)), "1529476623000000");
  EXPECT_EQ(Render(DateTimeValue(1969, 12, 31, 23, 59, 59, 999999)), "-1");
  EXPECT_EQ(Render(DateTimeValue(0, 0, 0, 0, 0, 0, 0)), "null");
  v1::Value infinity;
  infinity.mutable_datetime()->mutable_date()->set_infinity(1);
  EXPECT_EQ(Render(infinity), "9223372036825200000");
  infinity.mutable_datetime()->mutable_date()->set_infinity(-1);
  EXPECT_EQ(Render(infinity), "-9223372036832400000");
  // Beyond what int64 microseconds hold: the canonical text instead of a wrong number.
  EXPECT_EQ(Render(DateTimeValue(2000000000, 1, 1, 0, 0, 0, 0)), "\"2000000000-01-01 00:00:00\"");
}

// [MY-TYPES] "TIMESTAMP with a value of 2018-06-20 06:37:03 becomes 2018-06-20T13:37:03Z"
// (io.debezium.time.ZonedTimestamp, in UTC).
TEST(DebeziumValue, TimestampIsZonedTimestampText) {
  v1::Value v;
  v.set_timestamp_micros(1529501823000000);
  EXPECT_EQ(Render(v), "\"2018-06-20T13:37:03Z\"");
  v.set_timestamp_micros(1529501823120000);
  EXPECT_EQ(Render(v), "\"2018-06-20T13:37:03.12Z\"");
}

// io.debezium.time.MicroTime for TIME; io.debezium.time.ZonedTime (UTC) for timetz.
TEST(DebeziumValue, TimeIsMicrosAndTimetzIsUtcText) {
  v1::Value v;
  auto* t = v.mutable_time();
  t->set_hours(10);
  t->set_minutes(5);
  t->set_seconds(3);
  t->set_micros(500000);
  EXPECT_EQ(Render(v), "36303500000");
  t->set_negative(true);
  EXPECT_EQ(Render(v), "-36303500000");  // MySQL negative durations keep their sign
  t->set_negative(false);
  t->set_utc_offset_seconds(5 * 3600 + 30 * 60);
  EXPECT_EQ(Render(v), "\"04:35:03.5Z\"");
  t->set_hours(1);
  EXPECT_EQ(Render(v), "\"19:35:03.5Z\"");  // wraps to the previous day in UTC
}

TEST(DebeziumValue, DecimalIsStringAndIntervalIsMicroDuration) {
  v1::Value v;
  v.set_decimal("3.10");
  EXPECT_EQ(Render(v), "\"3.10\"");
  v.set_decimal("NaN");
  EXPECT_EQ(Render(v), "\"NAN\"");
  // P1Y2M3DT4H5M6.78S with 365.25/12 days a month.
  v.mutable_interval()->set_months(14);
  v.mutable_interval()->set_days(3);
  v.mutable_interval()->set_micros((4 * 3600 + 5 * 60 + 6) * int64_t{1000000} + 780000);
  EXPECT_EQ(Render(v), "37091106780000");
}

TEST(DebeziumValue, JsonIsAStringAndOtherKindsAreCanonical) {
  v1::Value v;
  v.set_json("{\"a\": [1, 2]}");
  EXPECT_EQ(Render(v), "\"{\\\"a\\\": [1, 2]}\"");
  v.set_bytes(std::string("foo"));
  EXPECT_EQ(Render(v), "\"Zm9v\"");
  v.set_bool_(true);
  EXPECT_EQ(Render(v), "true");
  v.set_uint64(18446744073709551615u);
  EXPECT_EQ(Render(v), "18446744073709551615");
  v.set_double_(0.1);
  EXPECT_EQ(Render(v), "0.1");
  v.set_null(true);
  EXPECT_EQ(Render(v), "null");
  v1::Value array;
  *array.mutable_array()->add_elements() = DateValue(2018, 6, 20);
  array.mutable_array()->add_elements()->set_null(true);
  EXPECT_EQ(Render(array), "[17702,null]");
}

}  // namespace
}  // namespace sluice
