#include "proto/base/event_json.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "proto/base/value_json.h"

namespace sluice {
namespace {

void AddField(v1::Row* row, std::string_view name, int64_t v) {
  v1::Field* field = row->add_fields();
  field->set_name(std::string(name));
  field->mutable_value()->set_int64(v);
}

void AddField(v1::Row* row, std::string_view name, std::string_view v) {
  v1::Field* field = row->add_fields();
  field->set_name(std::string(name));
  field->mutable_value()->set_string(std::string(v));
}

v1::ChangeEvent MysqlInsert() {
  v1::ChangeEvent event;
  event.set_offset(17);
  event.set_op(v1::OP_INSERT);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("shop-mysql");
  source->set_kind(v1::SOURCE_KIND_MYSQL);
  source->set_database("shop");
  source->set_table("orders");
  source->set_position("binlog.000003:1234");
  source->set_gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  source->set_txid("3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
  source->set_commit_ts_micros(1767323045123000);  // 2026-01-02T03:04:05.123Z
  event.add_key_columns("id");
  v1::Row* after = event.mutable_after();
  AddField(after, "id", 1);
  AddField(after, "note", "hi \"there\"");
  after->add_fields()->set_name("amount");
  after->mutable_fields(2)->mutable_value()->set_decimal("3.10");
  event.set_transaction_index(0);
  event.set_last_in_transaction(true);
  event.set_ingest_ts_micros(1767323046000000);  // not rendered
  return event;
}

v1::ChangeEvent PostgresUpdate() {
  v1::ChangeEvent event;
  event.set_offset(18);
  event.set_op(v1::OP_UPDATE);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("app-pg");
  source->set_kind(v1::SOURCE_KIND_POSTGRES);
  source->set_database("app");
  source->set_schema("public");
  source->set_table("users");
  source->set_position("0/16B3748");
  source->set_txid("731");
  event.add_key_columns("id");
  AddField(event.mutable_before(), "id", 7);
  AddField(event.mutable_before(), "name", "a");
  AddField(event.mutable_after(), "id", 7);
  AddField(event.mutable_after(), "name", "b");
  event.add_unchanged("avatar");
  event.add_unchanged("bio");
  event.set_transaction_index(2);
  event.set_last_in_transaction(false);
  return event;
}

// Every rendered event is one valid JSON text without insignificant whitespace.
void ExpectCanonical(const std::string& json) {
  std::string minified;
  ASSERT_TRUE(AppendMinifiedJson(json, minified)) << json;
  EXPECT_EQ(minified, json);
}

TEST(EventJsonTest, OpCodes) {
  EXPECT_EQ(OpCode(v1::OP_READ), "r");
  EXPECT_EQ(OpCode(v1::OP_INSERT), "c");
  EXPECT_EQ(OpCode(v1::OP_UPDATE), "u");
  EXPECT_EQ(OpCode(v1::OP_DELETE), "d");
  EXPECT_EQ(OpCode(v1::OP_TRUNCATE), "t");
  EXPECT_EQ(OpCode(v1::OP_DDL), "ddl");
  EXPECT_EQ(OpCode(v1::OP_MESSAGE), "m");
  EXPECT_EQ(OpCode(v1::OP_UNSPECIFIED), "?");
  EXPECT_EQ(OpCode(static_cast<v1::Op>(99)), "?");
  EXPECT_EQ(SourceKindName(v1::SOURCE_KIND_MYSQL), "mysql");
  EXPECT_EQ(SourceKindName(v1::SOURCE_KIND_POSTGRES), "postgres");
  EXPECT_EQ(SourceKindName(v1::SOURCE_KIND_UNSPECIFIED), "unknown");
}

TEST(EventJsonTest, Insert) {
  const std::string json = EventToJson(MysqlInsert());
  EXPECT_EQ(json,
            R"({"offset":17,"op":"c","source":{"name":"shop-mysql","kind":"mysql",)"
            R"("database":"shop","schema":null,"table":"orders","position":"binlog.000003:1234",)"
            R"("gtid":"3e11fa47-71ca-11e1-9e33-c80aa9429562:23",)"
            R"("txid":"3e11fa47-71ca-11e1-9e33-c80aa9429562:23",)"
            R"("commit_ts":"2026-01-02T03:04:05.123Z","snapshot":false},"key":{"id":1},)"
            R"("before":null,"after":{"id":1,"note":"hi \"there\"","amount":"3.10"},)"
            R"("unchanged":[],"txn":{"index":0,"last":true}})");
  ExpectCanonical(json);
}

TEST(EventJsonTest, Update) {
  const std::string json = EventToJson(PostgresUpdate());
  EXPECT_EQ(json, R"({"offset":18,"op":"u","source":{"name":"app-pg","kind":"postgres",)"
                  R"("database":"app","schema":"public","table":"users","position":"0/16B3748",)"
                  R"("gtid":null,"txid":"731","commit_ts":null,"snapshot":false},"key":{"id":7},)"
                  R"("before":{"id":7,"name":"a"},"after":{"id":7,"name":"b"},)"
                  R"("unchanged":["avatar","bio"],"txn":{"index":2,"last":false}})");
  ExpectCanonical(json);
}

TEST(EventJsonTest, UpdateWithMinimalImagesTakesKeyFromBefore) {
  v1::ChangeEvent event = PostgresUpdate();
  event.clear_key_columns();
  event.add_key_columns("tenant");
  event.add_key_columns("id");
  event.add_key_columns("absent");
  event.mutable_before()->Clear();
  AddField(event.mutable_before(), "id", 7);
  AddField(event.mutable_before(), "tenant", 3);
  event.mutable_after()->Clear();
  AddField(event.mutable_after(), "name", "b");
  AddField(event.mutable_after(), "tenant", 4);  // key changed: after wins
  const std::string json = EventToJson(event);
  EXPECT_NE(json.find(R"("key":{"tenant":4,"id":7},"before":{"id":7,"tenant":3},)"
                      R"("after":{"name":"b","tenant":4},)"),
            std::string::npos)
      << json;
}

TEST(EventJsonTest, Delete) {
  v1::ChangeEvent event;
  event.set_offset(19);
  event.set_op(v1::OP_DELETE);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("shop-mysql");
  source->set_kind(v1::SOURCE_KIND_MYSQL);
  source->set_database("shop");
  source->set_table("orders");
  source->set_position("binlog.000003:2000");
  source->set_txid("binlog.000003:1900");
  source->set_commit_ts_micros(-1);  // 1969-12-31T23:59:59.999999Z
  event.add_key_columns("id");
  AddField(event.mutable_before(), "id", 9);
  AddField(event.mutable_before(), "note", "bye");
  event.set_last_in_transaction(true);
  const std::string json = EventToJson(event);
  EXPECT_EQ(json,
            R"({"offset":19,"op":"d","source":{"name":"shop-mysql","kind":"mysql",)"
            R"("database":"shop","schema":null,"table":"orders","position":"binlog.000003:2000",)"
            R"("gtid":null,"txid":"binlog.000003:1900",)"
            R"("commit_ts":"1969-12-31T23:59:59.999999Z","snapshot":false},"key":{"id":9},)"
            R"("before":{"id":9,"note":"bye"},"after":null,)"
            R"("unchanged":[],"txn":{"index":0,"last":true}})");
  ExpectCanonical(json);
}

TEST(EventJsonTest, SnapshotReadAndEmptyNames) {
  v1::ChangeEvent event;
  event.set_offset(1);
  event.set_op(v1::OP_READ);
  event.mutable_source()->set_snapshot(true);
  event.add_key_columns("id");
  AddField(event.mutable_after(), "id", 1);
  EXPECT_EQ(EventToJson(event),
            R"({"offset":1,"op":"r","source":{"name":"","kind":"unknown",)"
            R"("database":null,"schema":null,"table":null,"position":"",)"
            R"("gtid":null,"txid":null,"commit_ts":null,"snapshot":true},"key":{"id":1},)"
            R"("before":null,"after":{"id":1},"unchanged":[],"txn":{"index":0,"last":false}})");
}

TEST(EventJsonTest, Ddl) {
  v1::ChangeEvent event;
  event.set_offset(20);
  event.set_op(v1::OP_DDL);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("shop-mysql");
  source->set_kind(v1::SOURCE_KIND_MYSQL);
  source->set_database("shop");
  source->set_table("orders");
  source->set_position("binlog.000003:3000");
  event.mutable_ddl()->set_statement("ALTER TABLE orders ADD COLUMN note TEXT");
  v1::ColumnSchema* id = event.mutable_ddl()->add_columns();
  id->set_name("id");
  id->set_type_name("bigint");
  id->set_nullable(false);
  id->set_key(true);
  v1::ColumnSchema* note = event.mutable_ddl()->add_columns();
  note->set_name("note");
  note->set_type_name("text");
  note->set_nullable(true);
  event.set_last_in_transaction(true);
  const std::string json = EventToJson(event);
  EXPECT_EQ(json,
            R"({"offset":20,"op":"ddl","source":{"name":"shop-mysql","kind":"mysql",)"
            R"("database":"shop","schema":null,"table":"orders","position":"binlog.000003:3000",)"
            R"("gtid":null,"txid":null,"commit_ts":null,"snapshot":false},"key":{},)"
            R"("before":null,"after":null,"unchanged":[],"txn":{"index":0,"last":true},)"
            R"("ddl":{"statement":"ALTER TABLE orders ADD COLUMN note TEXT","columns":[)"
            R"({"name":"id","type":"bigint","nullable":false,"key":true},)"
            R"({"name":"note","type":"text","nullable":true,"key":false}]}})");
  ExpectCanonical(json);

  event.mutable_ddl()->Clear();
  EXPECT_NE(EventToJson(event).find(R"(,"ddl":{"statement":null,"columns":[]}})"),
            std::string::npos);
}

TEST(EventJsonTest, Message) {
  v1::ChangeEvent event;
  event.set_offset(21);
  event.set_op(v1::OP_MESSAGE);
  v1::SourceInfo* source = event.mutable_source();
  source->set_name("app-pg");
  source->set_kind(v1::SOURCE_KIND_POSTGRES);
  source->set_database("app");
  source->set_position("0/16B3800");
  source->set_txid("732");
  source->set_commit_ts_micros(1767323045000000);
  event.mutable_message()->set_prefix("audit");
  event.mutable_message()->set_content(std::string("hi\0", 3));
  event.mutable_message()->set_transactional(true);
  event.set_transaction_index(1);
  const std::string json = EventToJson(event);
  EXPECT_EQ(json,
            R"({"offset":21,"op":"m","source":{"name":"app-pg","kind":"postgres",)"
            R"("database":"app","schema":null,"table":null,"position":"0/16B3800",)"
            R"("gtid":null,"txid":"732","commit_ts":"2026-01-02T03:04:05Z","snapshot":false},)"
            R"("key":{},"before":null,"after":null,"unchanged":[],"txn":{"index":1,"last":false},)"
            R"("message":{"prefix":"audit","content":"aGkA","transactional":true}})");
  ExpectCanonical(json);
}

TEST(EventJsonTest, DdlAndMessageOnlyForTheirOps) {
  v1::ChangeEvent event = MysqlInsert();
  event.mutable_ddl()->set_statement("x");
  event.mutable_message()->set_prefix("y");
  const std::string json = EventToJson(event);
  EXPECT_EQ(json.find("\"ddl\""), std::string::npos);
  EXPECT_EQ(json.find("\"message\""), std::string::npos);
}

TEST(EventJsonTest, Truncate) {
  v1::ChangeEvent event;
  event.set_offset(22);
  event.set_op(v1::OP_TRUNCATE);
  event.mutable_source()->set_kind(v1::SOURCE_KIND_POSTGRES);
  event.mutable_source()->set_name("app-pg");
  event.mutable_source()->set_database("app");
  event.mutable_source()->set_schema("public");
  event.mutable_source()->set_table("users");
  event.add_key_columns("id");
  EXPECT_EQ(EventToJson(event),
            R"({"offset":22,"op":"t","source":{"name":"app-pg","kind":"postgres",)"
            R"("database":"app","schema":"public","table":"users","position":"",)"
            R"("gtid":null,"txid":null,"commit_ts":null,"snapshot":false},"key":{},)"
            R"("before":null,"after":null,"unchanged":[],"txn":{"index":0,"last":false}})");
  EXPECT_EQ(EventToText(event), "22 t public.users");
}

TEST(EventJsonTest, HostileBytesStillRenderValidJson) {
  v1::ChangeEvent event = PostgresUpdate();
  event.mutable_source()->set_name("n\xff\n");
  event.mutable_source()->set_table("t\"\x01");
  event.mutable_after()->mutable_fields(1)->set_name("\xC3");
  event.mutable_after()->mutable_fields(1)->mutable_value()->set_json("{\"a\":\n\xff}");
  event.add_unchanged("\xED\xA0\x80");
  const std::string json = EventToJson(event);
  ExpectCanonical(json);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  const std::string text = EventToText(event);
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

TEST(EventTextTest, Insert) {
  EXPECT_EQ(
      EventToText(MysqlInsert()),
      R"(17 c shop.orders key={"id":1} after={"id":1,"note":"hi \"there\"","amount":"3.10"})");
}

TEST(EventTextTest, Update) {
  EXPECT_EQ(EventToText(PostgresUpdate()),
            R"(18 u public.users key={"id":7} before={"id":7,"name":"a"} )"
            R"(after={"id":7,"name":"b"} unchanged=["avatar","bio"])");
}

TEST(EventTextTest, DdlMessageAndNames) {
  v1::ChangeEvent ddl;
  ddl.set_offset(20);
  ddl.set_op(v1::OP_DDL);
  ddl.mutable_source()->set_database("shop");
  ddl.mutable_ddl()->set_statement("CREATE DATABASE shop");
  EXPECT_EQ(EventToText(ddl),
            R"(20 ddl shop ddl={"statement":"CREATE DATABASE shop","columns":[]})");

  v1::ChangeEvent message;
  message.set_offset(21);
  message.set_op(v1::OP_MESSAGE);
  message.mutable_message()->set_prefix("p");
  message.mutable_message()->set_content("hi");
  EXPECT_EQ(EventToText(message),
            R"(21 m - message={"prefix":"p","content":"aGk=","transactional":false})");

  v1::ChangeEvent odd;
  odd.set_offset(5);
  odd.set_op(v1::OP_DELETE);
  odd.mutable_source()->set_database("d b");
  odd.mutable_source()->set_table("new\nline");
  EXPECT_EQ(EventToText(odd), "5 d d b.new\\nline");
}

}  // namespace
}  // namespace sluice
