// Golden test on real bytes: a PostgreSQL 15 server (tests/testing) runs a workload into a pgoutput
// slot; every message returned by pg_logical_slot_peek_binary_changes is decoded with
// DecodePgoutput, mapped with the relation cache, replayed into an in-memory table state, and that
// state is compared column by column with what the server holds at the end.
//
// With SLUICE_PG_WRITE_CORPUS=<dir> it also writes one captured message per kind into <dir>
// (the seed corpus in protocol/postgres/corpus/pgoutput/ was made this way).

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "proto/base/positions.h"
#include "protocol/postgres/pg_text_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pgoutput.h"
#include "protocol/postgres/relation_cache.h"
#include "protocol/postgres/row_mapping.h"
#include "tests/testing/test_database.h"

namespace sluice::postgres {
namespace {

using sluice::testing::SqlConnection;
using sluice::testing::TestDatabase;

// Settings sluice pins on its replication connection; the SQL decoding functions format values
// with the calling session's settings, so the test session uses the same.
constexpr const char* kSessionSettings =
    "SET datestyle = ISO; SET intervalstyle = postgres; SET extra_float_digits = 3; "
    "SET timezone = UTC; SET client_encoding = UTF8; "
    // The test server runs with synchronous_commit=off, and the SQL decoding functions stop at
    // the WAL flush position: make every commit of this session flush, so it is decodable at once.
    "SET synchronous_commit = on";

constexpr const char* kSchema = R"sql(
CREATE TYPE golden_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN golden_posint AS integer CHECK (VALUE > 0);
CREATE TABLE golden_types (
  id int PRIMARY KEY,
  c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid, c_numeric numeric, c_float4 float4,
  c_float8 float8, c_bool bool, c_text text, c_varchar varchar(20), c_bpchar char(5), c_name name,
  c_bytea bytea, c_uuid uuid, c_json json, c_jsonb jsonb, c_date date, c_time time,
  c_timetz timetz, c_timestamp timestamp, c_timestamptz timestamptz, c_interval interval,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money, c_bit bit(4), c_varbit varbit,
  c_int4_arr int4[], c_text_arr text[], c_tstz_arr timestamptz[], c_numeric_arr numeric[],
  c_interval_arr interval[], c_mood golden_mood, c_mood_arr golden_mood[], c_posint golden_posint,
  c_big text);
ALTER TABLE golden_types ALTER COLUMN c_big SET STORAGE EXTERNAL;
CREATE TABLE golden_full (id int PRIMARY KEY, v text, big text);
ALTER TABLE golden_full REPLICA IDENTITY FULL;
ALTER TABLE golden_full ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE golden_trunc (id serial PRIMARY KEY, v text);
CREATE PUBLICATION golden_pub FOR TABLE golden_types, golden_full, golden_trunc;
)sql";

// 128 kB of incompressible text, stored out of line: left alone by an UPDATE it arrives as 'u'.
constexpr const char* kBig =
    "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 4000) i)";

std::string Workload() {
  return absl::StrCat(R"sql(
INSERT INTO golden_types VALUES (1, 1, 2, 3, 4, 3.10, 1.5, 2.25, true, 'hello', 'varchar', 'ab',
  'nm', '\x0a0b', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": null}',
  '2026-01-02', '04:05:06.789', '04:05:06+05:30', '2026-01-02 03:04:05.123456',
  '2026-01-02 03:04:05.123+02', '1 year 2 mons 3 days 04:05:06.5', '192.168.0.1/24', '10.0.0.0/8',
  '08:00:2b:01:02:03', 12.34, B'1010', B'101', '{1,2,NULL}', '{"a b","c\\\"d",NULL,""}',
  '{"2026-01-02 03:04:05+00",infinity}', '{NaN,1.50,-Infinity}', '{"1 day","-00:00:01"}',
  'happy', '{sad,NULL}', 7, 'small');
INSERT INTO golden_types (id, c_int2, c_int4, c_int8, c_numeric, c_float4, c_float8, c_bool,
  c_text, c_varchar, c_bytea, c_date, c_time, c_timetz, c_timestamp, c_timestamptz, c_interval,
  c_int4_arr, c_text_arr)
  VALUES (2, -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', '-Infinity', false,
  '', 'ünïcødé ✓ 日本', '\x', '0044-03-15 BC', '24:00:00', '23:59:59.999999-08',
  '0044-03-15 12:00:00 BC', '-infinity', '-1 days -02:00:00', '{}', '{NULL}');
INSERT INTO golden_types (id, c_numeric, c_float8, c_date, c_timestamp, c_timestamptz,
  c_interval) VALUES (3, 'Infinity', 'Infinity', 'infinity', 'infinity', '1900-01-01 00:00:00+00',
  '-178956970 years -7 mons -2147483647 days -2562047788:00:54.775807');
INSERT INTO golden_types (id, c_numeric, c_timestamptz, c_date, c_timestamp)
  VALUES (4, '-Infinity', '2100-06-30 23:59:59.999999+00', '5874897-12-31',
  '294276-12-31 23:59:59.999999');
INSERT INTO golden_types (id, c_int4, c_big) VALUES (5, 1, )sql",
                      kBig, R"sql();
UPDATE golden_types SET c_int4 = 2 WHERE id = 5;
UPDATE golden_types SET id = 10 WHERE id = 1;
DELETE FROM golden_types WHERE id = 2;
BEGIN; INSERT INTO golden_types (id) VALUES (99); ROLLBACK;
BEGIN;
INSERT INTO golden_types (id) VALUES (20);
SAVEPOINT s;
INSERT INTO golden_types (id) VALUES (21);
ROLLBACK TO s;
COMMIT;
SELECT pg_logical_emit_message(true, 'golden', 'transactional');
SELECT pg_logical_emit_message(false, 'golden', 'not transactional');
INSERT INTO golden_full VALUES (1, 'a', )sql",
                      kBig, R"sql();
UPDATE golden_full SET v = 'b' WHERE id = 1;
INSERT INTO golden_full VALUES (2, 'x', 'y');
UPDATE golden_full SET v = 'z' WHERE id = 2;
DELETE FROM golden_full WHERE id = 2;
INSERT INTO golden_trunc (v) VALUES ('gone');
TRUNCATE golden_trunc RESTART IDENTITY;
)sql");
}

std::string HexToBytes(std::string_view hex) {
  std::string out;
  if (hex.size() < 2 || hex.substr(0, 2) != "\\x") return out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 2; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

using RowState = std::map<std::string, v1::Value>;   // column -> value
using TableState = std::map<std::string, RowState>;  // id text -> row

std::string IdOf(const v1::Row& row) {
  for (const auto& f : row.fields()) {
    if (f.name() == "id") return std::to_string(f.value().int64());
  }
  return "?";
}

const v1::Value* Field(const v1::Row& row, std::string_view name) {
  for (const auto& f : row.fields()) {
    if (f.name() == name) return &f.value();
  }
  return nullptr;
}

class PgCodecGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_->Exec(kSessionSettings).ok());
  }

  // A resolver from the catalog, as the replication client will build it.
  TypeResolver CatalogResolver() {
    auto rows = conn_->Query(
        "SELECT oid, typtype, typbasetype, typelem, typcategory, typname FROM pg_type "
        "WHERE typname LIKE '%golden%'");
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::map<uint32_t, TypeResolution> types;
    for (const auto& r : *rows) {
      TypeResolution t;
      t.type_name = r[5];
      if (r[1] == "e") {
        t.kind = TypeResolution::Kind::kEnum;
      } else if (r[1] == "d") {
        t.kind = TypeResolution::Kind::kBase;
        t.oid = static_cast<uint32_t>(std::stoul(r[2]));
      } else if (r[4] == "A") {
        t.kind = TypeResolution::Kind::kArray;
        t.oid = static_cast<uint32_t>(std::stoul(r[3]));
      }
      types[static_cast<uint32_t>(std::stoul(r[0]))] = t;
    }
    return [types](uint32_t oid) {
      auto it = types.find(oid);
      return it == types.end() ? TypeResolution{} : it->second;
    };
  }

  TestDatabase* db_ = nullptr;
  std::unique_ptr<SqlConnection> conn_;
};

TEST_F(PgCodecGoldenTest, DecodesEveryCapturedMessage) {
  absl::Status schema = conn_->Exec(kSchema);
  ASSERT_TRUE(schema.ok()) << schema;
  // Its own statement: a slot cannot be created in a transaction that has written.
  schema = conn_->Exec("SELECT pg_create_logical_replication_slot('golden_slot', 'pgoutput')");
  ASSERT_TRUE(schema.ok()) << schema;
  // One statement (or one explicit BEGIN ... line) per call: a multi-statement query is one
  // implicit transaction, which would merge the transactions under test.
  for (absl::string_view statement : absl::StrSplit(Workload(), ";\n", absl::SkipWhitespace())) {
    absl::Status st = conn_->Exec(std::string_view(statement.data(), statement.size()));
    ASSERT_TRUE(st.ok()) << st;
  }

  auto changes = conn_->Query(
      "SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes('golden_slot', NULL, NULL, "
      "'proto_version', '1', 'publication_names', 'golden_pub', 'messages', 'true')");
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_GT(changes->size(), 20u);

  RelationCache cache;
  TypeResolver resolver = cache.Resolver(CatalogResolver());
  std::map<uint32_t, TableState> state;  // relid -> rows
  std::map<char, std::string> corpus;    // one sample per message kind
  std::vector<v1::ChangeEvent> events;
  std::vector<LogicalMessage> messages;
  std::vector<TruncateMessage> truncates;
  std::vector<std::string> type_names;
  std::optional<BeginMessage> open;
  int begins = 0, commits = 0;

  for (const auto& row : *changes) {
    const std::string bytes = HexToBytes(row[2]);
    ASSERT_FALSE(bytes.empty()) << row[2];
    auto decoded = DecodePgoutput(bytes, /*in_stream=*/false);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << " at " << row[0];
    char kind = bytes[0];
    if (auto* u = std::get_if<UpdateMessage>(&*decoded)) {
      if (u->old_kind != OldTupleKind::kNone) kind = static_cast<char>(u->old_kind);
    }
    auto [slot, fresh] = corpus.emplace(kind, bytes);
    // Keep the first sample of each kind unless it is big (the 128 kB TOAST row): seeds stay small.
    if (!fresh && slot->second.size() > 4096 && bytes.size() < slot->second.size()) {
      slot->second = bytes;
    }

    std::visit(
        [&](auto& m) {
          using M = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<M, BeginMessage>) {
            EXPECT_FALSE(open.has_value());
            EXPECT_EQ(std::to_string(m.xid), row[1]);
            open = m;
            ++begins;
          } else if constexpr (std::is_same_v<M, CommitMessage>) {
            ASSERT_TRUE(open.has_value());
            EXPECT_EQ(m.commit_lsn, open->final_lsn);
            EXPECT_EQ(m.commit_ts_pg_micros, open->commit_ts_pg_micros);
            EXPECT_GT(m.end_lsn, m.commit_lsn);
            EXPECT_EQ(FormatLsn(m.end_lsn), row[0]);  // the SQL interface reports the end
            open.reset();
            ++commits;
          } else if constexpr (std::is_same_v<M, RelationMessage>) {
            RelationChange change = cache.Apply(m);
            // Relation messages are re-sent after invalidations (TRUNCATE here) with the same
            // shape: that must not look like a schema change.
            EXPECT_FALSE(change.shape_changed) << m.name;
          } else if constexpr (std::is_same_v<M, TypeMessage>) {
            cache.ApplyType(m);
            type_names.push_back(m.schema + "." + m.name);
          } else if constexpr (std::is_same_v<M, InsertMessage>) {
            auto e = MapInsert(cache, m, resolver);
            ASSERT_TRUE(e.ok()) << e.status();
            RowState& r = state[m.relid][IdOf(e->after())];
            r.clear();
            for (const auto& f : e->after().fields()) r[f.name()] = f.value();
            events.push_back(*e);
          } else if constexpr (std::is_same_v<M, UpdateMessage>) {
            auto e = MapUpdate(cache, m, resolver);
            ASSERT_TRUE(e.ok()) << e.status();
            TableState& t = state[m.relid];
            const std::string new_id = IdOf(e->after());
            const std::string old_id = e->has_before() ? IdOf(e->before()) : new_id;
            RowState r = t[old_id];
            t.erase(old_id);
            for (const auto& f : e->after().fields()) r[f.name()] = f.value();
            for (const auto& name : e->unchanged()) {
              EXPECT_TRUE(r.count(name)) << "unchanged column " << name << " was never seen";
            }
            t[new_id] = r;
            events.push_back(*e);
          } else if constexpr (std::is_same_v<M, DeleteMessage>) {
            auto e = MapDelete(cache, m, resolver);
            ASSERT_TRUE(e.ok()) << e.status();
            EXPECT_EQ(state[m.relid].erase(IdOf(e->before())), 1u);
            events.push_back(*e);
          } else if constexpr (std::is_same_v<M, TruncateMessage>) {
            for (uint32_t relid : m.relids) state[relid].clear();
            truncates.push_back(m);
          } else if constexpr (std::is_same_v<M, LogicalMessage>) {
            messages.push_back(m);
          } else {
            ADD_FAILURE() << "unexpected message kind " << bytes[0];
          }
        },
        *decoded);
  }
  EXPECT_FALSE(open.has_value());
  EXPECT_EQ(begins, commits);
  EXPECT_GE(begins, 15);

  // Final state replayed from the stream == what the server holds, column by column.
  for (const char* table : {"golden_types", "golden_full", "golden_trunc"}) {
    const CachedRelation* rel = nullptr;
    uint32_t relid = 0;
    for (const auto& [id, _] : state) {
      if (cache.Find(id) != nullptr && cache.Find(id)->name == table)
        rel = cache.Find(id), relid = id;
    }
    ASSERT_NE(rel, nullptr) << table;
    std::vector<std::string> cols;
    for (const auto& c : rel->columns) cols.push_back(c.name);
    auto rows = conn_->QueryNullable(
        absl::StrCat("SELECT ", absl::StrJoin(cols, ", "), " FROM ", table, " ORDER BY id"));
    ASSERT_TRUE(rows.ok()) << rows.status();
    const TableState& t = state[relid];
    ASSERT_EQ(rows->size(), t.size()) << table;
    for (const auto& server_row : *rows) {
      const std::string id = *server_row[0];
      auto it = t.find(id);
      ASSERT_NE(it, t.end()) << table << " id " << id;
      for (size_t i = 0; i < cols.size(); ++i) {
        const v1::Value want =
            server_row[i] ? DecodeTextValue(rel->columns[i].type_oid, *server_row[i], resolver)
                          : NullValue();
        auto got = it->second.find(cols[i]);
        ASSERT_NE(got, it->second.end()) << table << " id " << id << " " << cols[i];
        EXPECT_EQ(got->second.SerializeAsString(), want.SerializeAsString())
            << table << " id " << id << " " << cols[i] << ": got " << got->second.ShortDebugString()
            << " want " << want.ShortDebugString();
        // Only raw types the decoder does not model: nothing here should be raw.
        EXPECT_NE(got->second.kind_case(), v1::Value::kRaw)
            << table << " " << cols[i] << " " << got->second.ShortDebugString();
      }
    }
  }

  // Spot checks against the values written, independent of the decoder.
  ASSERT_GE(events.size(), 10u);
  const v1::ChangeEvent& first = events[0];
  EXPECT_EQ(first.op(), v1::OP_INSERT);
  EXPECT_EQ(first.source().schema(), "public");
  EXPECT_EQ(first.key_columns_size(), 1);
  EXPECT_EQ(Field(first.after(), "c_numeric")->decimal(), "3.10");
  EXPECT_EQ(Field(first.after(), "c_bytea")->bytes(), "\x0a\x0b");
  EXPECT_EQ(Field(first.after(), "c_timetz")->time().utc_offset_seconds(), 19800);
  EXPECT_EQ(Field(first.after(), "c_timestamptz")->timestamp_micros(), 1767315845123000);
  EXPECT_EQ(Field(first.after(), "c_interval")->interval().months(), 14);
  EXPECT_EQ(Field(first.after(), "c_mood")->string(), "happy");
  EXPECT_EQ(Field(first.after(), "c_mood_arr")->array().elements(0).string(), "sad");
  EXPECT_TRUE(Field(first.after(), "c_mood_arr")->array().elements(1).null());
  EXPECT_EQ(Field(first.after(), "c_posint")->int64(), 7);
  EXPECT_TRUE(Field(first.after(), "c_int4_arr")->array().elements(2).null());
  EXPECT_EQ(Field(first.after(), "c_text_arr")->array().elements(1).string(), "c\\\"d");
  const v1::ChangeEvent& edge = events[1];
  EXPECT_EQ(Field(edge.after(), "c_numeric")->decimal(), "NaN");
  EXPECT_EQ(Field(edge.after(), "c_int8")->int64(), INT64_MIN);
  EXPECT_EQ(Field(edge.after(), "c_date")->date().year(), -44);
  EXPECT_EQ(Field(edge.after(), "c_timestamptz")->timestamp_micros(), INT64_MIN);
  EXPECT_EQ(Field(edge.after(), "c_interval")->interval().micros(), -7200000000);
  EXPECT_EQ(Field(edge.after(), "c_text")->string(), "");
  EXPECT_EQ(Field(edge.after(), "c_varchar")->string(), "ünïcødé ✓ 日本");

  int toast_default = 0, toast_full = 0, key_changes = 0;
  for (const auto& e : events) {
    const std::string id = e.has_after() ? IdOf(e.after()) : IdOf(e.before());
    EXPECT_NE(id, "99") << "rolled-back insert was decoded";
    EXPECT_NE(id, "21") << "rolled-back savepoint insert was decoded";
    if (e.op() != v1::OP_UPDATE) continue;
    if (e.source().table() == "golden_types" && id == "5") {
      ASSERT_EQ(e.unchanged_size(), 1);
      EXPECT_EQ(e.unchanged(0), "c_big");
      EXPECT_EQ(Field(e.after(), "c_big"), nullptr);
      ++toast_default;
    }
    if (e.source().table() == "golden_full" && id == "1") {
      EXPECT_EQ(e.unchanged_size(), 0);
      ASSERT_NE(Field(e.after(), "big"), nullptr);
      EXPECT_EQ(Field(e.after(), "big")->string().size(), 128000u);
      EXPECT_EQ(e.before().fields_size(), 3);
      ++toast_full;
    }
    if (id == "10") {
      ASSERT_TRUE(e.has_before());
      EXPECT_EQ(IdOf(e.before()), "1");
      EXPECT_EQ(e.before().fields_size(), 1);  // key image only
      ++key_changes;
    }
  }
  EXPECT_EQ(toast_default, 1);
  EXPECT_EQ(toast_full, 1);
  EXPECT_EQ(key_changes, 1);

  // Type messages announce the non-built-in column types before the Relation that uses them.
  EXPECT_NE(std::find(type_names.begin(), type_names.end(), "public.golden_mood"),
            type_names.end());
  EXPECT_EQ(cache.TypeName(BuiltinArrayElementOid(kInt4ArrayOid).value()), "int4");

  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0].transactional());
  EXPECT_EQ(messages[0].prefix, "golden");
  EXPECT_EQ(messages[0].content, "transactional");
  EXPECT_FALSE(messages[1].transactional());
  EXPECT_EQ(messages[1].content, "not transactional");
  ASSERT_EQ(truncates.size(), 1u);
  EXPECT_TRUE(truncates[0].restart_identity());
  EXPECT_FALSE(truncates[0].cascade());

  if (const char* dir = std::getenv("SLUICE_PG_WRITE_CORPUS")) {
    const std::map<char, const char*> names = {
        {'B', "begin"},  {'C', "commit"},   {'R', "relation"},   {'Y', "type"},
        {'I', "insert"}, {'U', "update"},   {'K', "update_key"}, {'O', "update_old"},
        {'D', "delete"}, {'T', "truncate"}, {'M', "message"}};
    for (const auto& [kind, bytes] : corpus) {
      auto it = names.find(kind);
      if (it == names.end()) continue;
      std::ofstream out(absl::StrCat(dir, "/", it->second, ".bin"), std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
}

// Protocol 2 with streaming: a transaction larger than logical_decoding_work_mem arrives as
// Stream Start / changes carrying the xid / Stream Stop chunks, then Stream Commit. A streamed
// transaction that rolls back ends in Stream Abort.
TEST_F(PgCodecGoldenTest, DecodesStreamedTransactions) {
  absl::Status st = conn_->Exec(
      "CREATE TABLE golden_stream (id int PRIMARY KEY, pad text);"
      "CREATE PUBLICATION golden_stream_pub FOR TABLE golden_stream");
  ASSERT_TRUE(st.ok()) << st;
  st = conn_->Exec("SELECT pg_create_logical_replication_slot('golden_stream_slot', 'pgoutput')");
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(conn_->Exec("SET logical_decoding_work_mem = '64kB'").ok());
  st = conn_->Exec(
      "INSERT INTO golden_stream SELECT i, repeat('x', 100) FROM generate_series(1, 3000) i");
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(conn_->Exec("BEGIN").ok());
  st = conn_->Exec(
      "INSERT INTO golden_stream SELECT i, repeat('y', 100) FROM generate_series(5001, 8000) i");
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_TRUE(conn_->Exec("ROLLBACK").ok());
  // Aborts are not flushed; a committed transaction with an xid flushes past the abort record.
  ASSERT_TRUE(conn_->Exec("SELECT pg_logical_emit_message(true, 'flush', '')").ok());

  auto changes = conn_->Query(
      "SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes('golden_stream_slot', NULL, "
      "NULL, 'proto_version', '2', 'publication_names', 'golden_stream_pub', 'streaming', 'on')");
  ASSERT_TRUE(changes.ok()) << changes.status();

  ASSERT_GT(changes->size(), 10u);
  RelationCache cache;
  bool in_stream = false;
  uint32_t stream_xid = 0;
  int starts = 0, stops = 0, stream_commits = 0, stream_aborts = 0;
  std::map<uint32_t, int> inserts_by_xid;
  std::map<char, std::string> corpus;
  for (const auto& row : *changes) {
    const std::string bytes = HexToBytes(row[2]);
    auto decoded = DecodePgoutput(bytes, in_stream);
    ASSERT_TRUE(decoded.ok()) << decoded.status() << " at " << row[0];
    corpus.emplace(bytes[0], bytes);
    if (auto* s = std::get_if<StreamStartMessage>(&*decoded)) {
      EXPECT_FALSE(in_stream);
      EXPECT_EQ(s->first_segment, starts == 0 || s->xid != stream_xid);
      in_stream = true;
      stream_xid = s->xid;
      ++starts;
    } else if (std::holds_alternative<StreamStopMessage>(*decoded)) {
      EXPECT_TRUE(in_stream);
      in_stream = false;
      ++stops;
    } else if (auto* r = std::get_if<RelationMessage>(&*decoded)) {
      EXPECT_EQ(r->xid.has_value(), in_stream);
      cache.Apply(*r);
    } else if (auto* i = std::get_if<InsertMessage>(&*decoded)) {
      ASSERT_TRUE(in_stream);
      ASSERT_TRUE(i->xid.has_value());
      EXPECT_EQ(*i->xid, stream_xid);
      auto e = MapInsert(cache, *i);
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(e->after().fields(1).value().string().size(), 100u);
      ++inserts_by_xid[*i->xid];
    } else if (auto* c = std::get_if<StreamCommitMessage>(&*decoded)) {
      EXPECT_FALSE(in_stream);
      EXPECT_EQ(inserts_by_xid[c->xid], 3000);
      EXPECT_GT(c->end_lsn, c->commit_lsn);
      ++stream_commits;
    } else if (auto* a = std::get_if<StreamAbortMessage>(&*decoded)) {
      EXPECT_FALSE(in_stream);
      EXPECT_EQ(a->xid, a->subxid);
      EXPECT_GT(inserts_by_xid[a->xid], 0);  // the chunks streamed before the abort
      ++stream_aborts;
    } else {
      ADD_FAILURE() << "unexpected message " << PgoutputMessageName(bytes[0]);
    }
  }
  EXPECT_FALSE(in_stream);
  EXPECT_GT(starts, 2);
  EXPECT_EQ(starts, stops);
  EXPECT_EQ(stream_commits, 1);
  EXPECT_EQ(stream_aborts, 1);

  if (const char* dir = std::getenv("SLUICE_PG_WRITE_CORPUS")) {
    const std::map<char, const char*> names = {{'S', "stream_start"},  {'E', "stream_stop"},
                                               {'c', "stream_commit"}, {'A', "stream_abort"},
                                               {'I', "stream_insert"}, {'R', "stream_relation"}};
    for (const auto& [kind, bytes] : corpus) {
      auto it = names.find(kind);
      if (it == names.end()) continue;
      std::ofstream out(absl::StrCat(dir, "/", it->second, ".bin"), std::ios::binary);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
  }
}

}  // namespace
}  // namespace sluice::postgres
