// Table state: the key layout, c/u/d/t and key changes through ChangeLog, staged publish,
// retention, table_state off, and a kill -9 at random instants after which the state equals a
// replay of the log.
#include "storage/table_state.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::IdRow;
using testing::MakeCheckpoint;
using testing::MakeRowEvent;
using testing::TempDir;

v1::ChangeEvent Insert(const std::string& t, int64_t id, const std::string& p) {
  return MakeRowEvent(t, v1::OP_INSERT, std::nullopt, IdRow(id, p));
}
v1::ChangeEvent Update(const std::string& t, int64_t old_id, int64_t id, const std::string& p) {
  return MakeRowEvent(t, v1::OP_UPDATE, IdRow(old_id, "?"), IdRow(id, p));
}
v1::ChangeEvent Delete(const std::string& t, int64_t id) {
  return MakeRowEvent(t, v1::OP_DELETE, IdRow(id, "?"), std::nullopt);
}
v1::ChangeEvent Truncate(const std::string& t) {
  return MakeRowEvent(t, v1::OP_TRUNCATE, std::nullopt, std::nullopt);
}

// (table, id) -> payload, as the state holds it; also checks each row's event shape.
using Rows = std::map<std::pair<std::string, int64_t>, std::string>;

Rows ReadState(const TableStateView& view, std::string_view table = {}, size_t page = 3) {
  Rows rows;
  std::string cursor;
  do {
    auto next = view.Read(table, cursor, ReadLimits{.max_events = page}, [&](const TableRow& row) {
      LogOffset changed_at;
      auto e = StateRowEvent(row.value, &changed_at);
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(e->op(), v1::OP_READ);
      EXPECT_EQ(e->offset(), 0u);
      EXPECT_TRUE(e->source().snapshot());
      EXPECT_GE(changed_at.value(), 1u);
      EXPECT_LE(changed_at.value(), view.offset().value());
      EXPECT_EQ(std::string(row.table), e->source().database() + "." + e->source().table());
      ASSERT_EQ(e->after().fields_size(), 2);
      rows[{std::string(row.table), e->after().fields(0).value().int64()}] =
          e->after().fields(1).value().string();
    });
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok()) break;
    cursor = *next;
  } while (!cursor.empty());
  return rows;
}

// The state the log implies, replayed event by event.
Rows Replay(const ChangeLog& log, SourceId id, LogOffset upto) {
  Rows rows;
  LogOffset next(1);
  while (next <= upto) {
    auto r = log.Read(id, next, ReadLimits{}, [&](const StoredRecord& rec) {
      if (rec.offset > upto) return;
      v1::ChangeEvent e;
      ASSERT_TRUE(e.ParseFromArray(rec.view.event.data(), static_cast<int>(rec.view.event.size())));
      const std::string table = "db." + e.source().table();
      switch (e.op()) {
        case v1::OP_INSERT:
        case v1::OP_READ:
        case v1::OP_UPDATE:
          if (e.has_before()) rows.erase({table, e.before().fields(0).value().int64()});
          rows[{table, e.after().fields(0).value().int64()}] = e.after().fields(1).value().string();
          break;
        case v1::OP_DELETE:
          rows.erase({table, e.before().fields(0).value().int64()});
          break;
        case v1::OP_TRUNCATE:
          std::erase_if(rows, [&](const auto& kv) { return kv.first.first == table; });
          break;
        default:
          break;
      }
    });
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || *r == next) break;
    next = *r;
  }
  return rows;
}

TEST(TableStateKey, TablesAreUnambiguousAndKeysOrdered) {
  const std::string a = TableStateKey(SourceId(1), "db.a", "k");
  const std::string a0 = TableStateKey(SourceId(1), std::string("db.a\0b", 6), "k");
  EXPECT_FALSE(a0.starts_with(TableStatePrefix(SourceId(1), "db.a")));
  EXPECT_TRUE(a.starts_with(TableStatePrefix(SourceId(1), "db.a")));
  EXPECT_LT(a, TableStatePrefixEnd(SourceId(1), "db.a"));
  EXPECT_GE(a0, TableStatePrefixEnd(SourceId(1), "db.a"));
  auto d = DecodeTableStateKey(a0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->table, std::string("db.a\0b", 6));
  EXPECT_EQ(d->row_key, "k");
  EXPECT_EQ(d->source, SourceId(1));
  EXPECT_FALSE(DecodeTableStateKey(std::string("\0\0\0\1db", 6)).ok());

  google::protobuf::RepeatedPtrField<std::string> cols;
  cols.Add("id");
  std::vector<int64_t> ids = {INT64_MIN, -5, -1, 0, 1, 7, 300, INT64_MAX};
  std::string prev;
  for (int64_t id : ids) {
    auto k = EncodeRowKey(cols, IdRow(id, ""));
    ASSERT_TRUE(k.has_value());
    if (!prev.empty()) {
      EXPECT_LT(prev, *k) << id;
    }
    prev = *k;
  }
  // Strings: "a" < "a\0" < "ab" < "b", and a two-column key is not confused by embedded zeros.
  cols.Add("payload");
  auto k1 = EncodeRowKey(cols, IdRow(1, "a"));
  auto k2 = EncodeRowKey(cols, IdRow(1, std::string("a\0", 2)));
  auto k3 = EncodeRowKey(cols, IdRow(1, "ab"));
  auto k4 = EncodeRowKey(cols, IdRow(1, "b"));
  EXPECT_LT(*k1, *k2);
  EXPECT_LT(*k2, *k3);
  EXPECT_LT(*k3, *k4);
  cols.Add("missing");
  EXPECT_FALSE(EncodeRowKey(cols, IdRow(1, "a")).has_value());
}

TEST(TableStateKey, BytesFollowTheGrammar) {
  using namespace std::string_literals;
  google::protobuf::RepeatedPtrField<std::string> cols;
  cols.Add("id");
  EXPECT_EQ(*EncodeRowKey(cols, IdRow(5, "")), "\x03\x80\0\0\0\0\0\0\x05"s);
  EXPECT_EQ(*EncodeRowKey(cols, IdRow(-2, "")), "\x03\x7f\xff\xff\xff\xff\xff\xff\xfe"s);
  cols.Add("payload");
  EXPECT_EQ(*EncodeRowKey(cols, IdRow(1, "\0a\0\0b"s)),
            "\x03\x80\0\0\0\0\0\0\x01\x05\0\xff"
            "a\0\xff\0\xff"
            "b\0\x01"s);
  EXPECT_EQ(*EncodeRowKey(cols, IdRow(1, "")), "\x03\x80\0\0\0\0\0\0\x01\x05\0\x01"s);
  EXPECT_EQ(TableStateKey(SourceId(0x01020304), "db.t\0"s, "K"),
            "\x01\x02\x03\x04"
            "db.t\0\xff\0\x01K"s);
  EXPECT_EQ(TableStatePrefixEnd(SourceId(1), "x"), "\0\0\0\x01x\0\x02"s);
  // uint64 and bool, and the wire path (below) writes the same bytes.
  v1::Row row;
  auto* f = row.add_fields();
  f->set_name("u");
  f->mutable_value()->set_uint64(0x0102030405060708u);
  f = row.add_fields();
  f->set_name("b");
  f->mutable_value()->set_bool_(true);
  google::protobuf::RepeatedPtrField<std::string> ub;
  ub.Add("u");
  ub.Add("b");
  const std::string expected = "\x04\x01\x02\x03\x04\x05\x06\x07\x08\x02\x01"s;
  EXPECT_EQ(*EncodeRowKey(ub, row), expected);
  std::string wire;
  for (const auto& field : row.fields()) {
    ASSERT_TRUE(AppendRowKeyComponent(field.value().SerializeAsString(), wire));
  }
  EXPECT_EQ(wire, expected);
}

// AppendRowKeyComponent over each key column's Value bytes, column by column, gives exactly
// EncodeRowKey of the row those bytes parse to: for every kind, for bytes as the encoders write
// them and for bytes they never write (which the parser decides), and for composite keys.
TEST(TableStateKey, ComponentsFromValueBytesEqualEncodeRowKey) {
  using namespace std::string_literals;
  auto value_bytes = [](auto set) {
    v1::Value v;
    set(v);
    return v.SerializeAsString();
  };
  std::vector<std::string> values;
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{-2}, int64_t{127}, int64_t{128},
                    int64_t{300}, INT64_MIN, INT64_MAX}) {
    values.push_back(value_bytes([&](v1::Value& v) { v.set_int64(i); }));
  }
  for (uint64_t u : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 63, UINT64_MAX}) {
    values.push_back(value_bytes([&](v1::Value& v) { v.set_uint64(u); }));
  }
  for (bool b : {false, true}) values.push_back(value_bytes([&](v1::Value& v) { v.set_bool_(b); }));
  values.push_back(value_bytes([](v1::Value& v) { v.set_null(true); }));
  values.push_back("");  // no kind: a NULL component
  for (const std::string& s :
       {""s, "a"s, "a\0b"s, "\0"s, "\0\0"s, "h\xc3\xa9llo"s, std::string(200, 'x') + "\0"s}) {
    values.push_back(value_bytes([&](v1::Value& v) { v.set_string(s); }));
  }
  for (const std::string& s : {""s, "\0\xff\0"s, "\xff\xfe"s, std::string(300, '\0')}) {
    values.push_back(value_bytes([&](v1::Value& v) { v.set_bytes(s); }));
  }
  values.push_back(value_bytes([](v1::Value& v) { v.set_decimal("3.10"); }));
  values.push_back(value_bytes([](v1::Value& v) { v.set_double_(1.5); }));
  values.push_back(value_bytes([](v1::Value& v) { v.set_timestamp_micros(-7); }));
  values.push_back(value_bytes([](v1::Value& v) { v.set_json("{\"a\": 0}"); }));
  values.push_back(value_bytes([](v1::Value& v) {
    v.mutable_date()->set_year(2026);
    v.mutable_date()->set_month(12);
  }));
  // Bytes no encoder writes: overlong and 10-byte varints, an 11-byte one, a string that is
  // not UTF-8, lengths that do not match, two kinds (the last wins), an unknown field after
  // the kind, a truncated field, and string/bytes lengths written in 6 bytes.
  for (const std::string& raw :
       {"\x10\x80\x00"s, "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"s,
        "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s,
        "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s, "\x32\x01\xff"s, "\x3a\x01\xff"s,
        "\x32\x05"
        "ab"s,
        "\x32\x01"
        "ab"s,
        "\x3a\x00\x00"s,
        "\x10\x05\x32\x01"
        "a"s,
        "\x32\x01"
        "a\x10\x05"s,
        "\x10\x05\xa0\x06\x01"s, "\x10"s, "\x32"s, "\x40\x02"s, "\x08\x00"s,
        // lengths in 6 bytes, which protobuf's parser refuses (it reads at most 5)
        "\x32\x81\x80\x80\x80\x80\x00"
        "a"s,
        "\x3a\x81\x80\x80\x80\x80\x00"
        "a"s}) {
    values.push_back(raw);
  }

  // The row whose key fields parse from `bytes` (one field per value, named k0, k1, ...);
  // nullopt when one does not parse.
  auto expected_key = [](const std::vector<std::string>& bytes) -> std::optional<std::string> {
    google::protobuf::RepeatedPtrField<std::string> cols;
    v1::Row row;
    for (size_t i = 0; i < bytes.size(); ++i) {
      auto* f = row.add_fields();
      f->set_name("k" + std::to_string(i));
      if (!f->mutable_value()->ParseFromString(bytes[i])) return std::nullopt;
      cols.Add(std::string(f->name()));
    }
    return EncodeRowKey(cols, row);
  };
  auto wire_key = [](const std::vector<std::string>& bytes) -> std::optional<std::string> {
    std::string key = "prefix";
    for (const std::string& b : bytes) {
      const std::string before = key;
      if (!AppendRowKeyComponent(b, key)) {
        EXPECT_EQ(key, before) << "changed on failure";
        return std::nullopt;
      }
    }
    return key.substr(6);
  };
  size_t failing = 0;
  for (const std::string& v : values) {
    const auto want = expected_key({v});
    if (!want) ++failing;
    EXPECT_EQ(wire_key({v}), want) << absl::CEscape(v);
  }
  EXPECT_GE(failing, 4u);  // the parser refuses some of the bytes above
  // Composite keys: every ordered pair, and triples with NULL and an embedded 0x00 in between.
  for (const std::string& a : values) {
    for (const std::string& b : values) {
      EXPECT_EQ(wire_key({a, b}), expected_key({a, b}))
          << absl::CEscape(a) << " | " << absl::CEscape(b);
    }
    for (const std::string& c : {values[0], values[values.size() - 1]}) {
      const std::vector<std::string> triple = {
          a, value_bytes([](v1::Value& v) { v.set_null(true); }), c};
      EXPECT_EQ(wire_key(triple), expected_key(triple)) << absl::CEscape(a);
    }
  }
}

TEST(TableStateUpdate, TruncateAndDropStatementsNameTheTablesTheyEmpty) {
  using V = std::vector<std::string>;
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE TABLE t1", "db"), (V{"db.t1"}));
  EXPECT_EQ(TablesClearedByDdl("truncate `other`.`we``ird`", "db"), (V{"other.we`ird"}));
  EXPECT_EQ(TablesClearedByDdl("/* c */ TRUNCATE x.y;", "db"), (V{"x.y"}));
  EXPECT_EQ(TablesClearedByDdl("DROP TABLE IF EXISTS `a`,b.c /* generated by server */", "db"),
            (V{"db.a", "b.c"}));
  EXPECT_EQ(TablesClearedByDdl("DROP TEMPORARY TABLE t", "db"), V{});
  EXPECT_EQ(TablesClearedByDdl("DROP VIEW v", "db"), V{});
  EXPECT_EQ(TablesClearedByDdl("ALTER TABLE t ADD COLUMN c INT", "db"), V{});
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE", "db"), V{});
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE `unterminated", "db"), V{});
  // A qualified name is in its own database, whatever the session's default database is.
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE otherdb.t", "db"), (V{"otherdb.t"}));
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE TABLE x", "db"), (V{"db.x"}));
  EXPECT_EQ(TablesClearedByDdl("DROP TABLE a, b.c", "db"), (V{"db.a", "b.c"}));
  EXPECT_EQ(TablesClearedByDdl("drop table `o d`.`t 1` , `x` . y", "db"), (V{"o d.t 1", "x.y"}));
  // Unquoted names may hold any non-ASCII character (it used to end the name: "db.t").
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE t\xc3\xabst", "db"), (V{"db.t\xc3\xabst"}));
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE \xc3\xa9tat.t", "db"), (V{"\xc3\xa9tat.t"}));
  // sql_mode ANSI_QUOTES: "quoted" identifiers.
  EXPECT_EQ(TablesClearedByDdl("TRUNCATE \"o\"\"d\".\"t\"", "db"), (V{"o\"d.t"}));
}

TEST(TableStateUpdate, KeylessAndDdlEventsAreNotKept) {
  auto e = Insert("t", 1, "x");
  e.clear_key_columns();
  EXPECT_EQ(ComputeTableStateUpdate(e).kind, TableStateUpdate::Kind::kNone);
  v1::ChangeEvent ddl;
  ddl.set_op(v1::OP_DDL);
  ddl.mutable_source()->set_table("t");
  EXPECT_EQ(ComputeTableStateUpdate(ddl).kind, TableStateUpdate::Kind::kNone);
  EXPECT_EQ(
      ComputeTableStateUpdate(Update("t", 1, 2, "x")).old_key,
      *EncodeRowKey(e.key_columns().empty() ? Insert("t", 0, "").key_columns() : e.key_columns(),
                    IdRow(1, "")));
}

TEST(TableState, FollowsInsertUpdateDeleteTruncateAndKeyChanges) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  auto append = [&](std::vector<v1::ChangeEvent> events) {
    auto r = (*log)->Append(id, std::move(events), MakeCheckpoint("x"));
    ASSERT_TRUE(r.ok()) << r.status();
  };
  append({Insert("a", 1, "one"), Insert("a", 2, "two"), Insert("a", 3, "three"),
          Insert("b", 1, "b-one")});
  append({Update("a", 2, 2, "TWO")});      // same key
  append({Update("a", 3, 30, "thirty")});  // key change: 3 disappears
  append({Delete("a", 1)});
  append({Insert("b", 2, "b-two"), Truncate("b"), Insert("b", 3, "b-three")});
  auto keyless = Insert("c", 1, "nokey");
  keyless.clear_key_columns();
  append({keyless});
  // MySQL logs TRUNCATE as a statement; the session's database qualifies the name.
  append({Insert("d", 1, "d-one"), Insert("d", 2, "d-two")});
  v1::ChangeEvent ddl;
  ddl.set_op(v1::OP_DDL);
  ddl.mutable_source()->set_database("db");
  ddl.mutable_ddl()->set_statement("TRUNCATE TABLE d");
  append({ddl});

  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->offset(), LogOffset(14));
  Rows expected = {{{"db.a", 2}, "TWO"}, {{"db.a", 30}, "thirty"}, {{"db.b", 3}, "b-three"}};
  EXPECT_EQ(ReadState(**view), expected);
  EXPECT_EQ(ReadState(**view, "db.b"), (Rows{{{"db.b", 3}, "b-three"}}));
  EXPECT_EQ(ReadState(**view, "db.nothing"), Rows{});

  // A view is a snapshot: later appends do not change it.
  append({Delete("a", 2)});
  EXPECT_EQ(ReadState(**view), expected);
  auto later = (*log)->OpenTableState(id);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ((*later)->offset(), LogOffset(15));
  expected.erase({"db.a", 2});
  EXPECT_EQ(ReadState(**later), expected);
}

// MySQL logs TRUNCATE and DROP TABLE as statements with the session's default database; a
// qualified name in the statement is another database's table.
TEST(TableState, DdlStatementsClearTheTablesTheyNameInAnyDatabase) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  auto append = [&](std::vector<v1::ChangeEvent> events) {
    auto r = (*log)->Append(id, std::move(events), MakeCheckpoint("x"));
    ASSERT_TRUE(r.ok()) << r.status();
  };
  auto in_db = [](v1::ChangeEvent e, const std::string& database) {
    e.mutable_source()->set_database(database);
    return e;
  };
  auto ddl = [](const std::string& default_database, const std::string& statement) {
    v1::ChangeEvent e;
    e.set_op(v1::OP_DDL);
    e.mutable_source()->set_database(default_database);
    e.mutable_ddl()->set_statement(statement);
    return e;
  };
  append({Insert("t", 1, "db-t"), in_db(Insert("t", 1, "other-t"), "otherdb"),
          Insert("a", 1, "db-a"), in_db(Insert("c", 1, "b-c"), "b"), Insert("c", 1, "db-c"),
          in_db(Insert("a", 1, "b-a"), "b")});
  append({ddl("db", "TRUNCATE otherdb.t")});
  {
    auto view = (*log)->OpenTableState(id);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(ReadState(**view), (Rows{{{"db.t", 1}, "db-t"},
                                       {{"db.a", 1}, "db-a"},
                                       {{"b.c", 1}, "b-c"},
                                       {{"db.c", 1}, "db-c"},
                                       {{"b.a", 1}, "b-a"}}));
  }
  append({ddl("db", "DROP TABLE a, `b`.`c`")});
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(ReadState(**view),
            (Rows{{{"db.t", 1}, "db-t"}, {{"db.c", 1}, "db-c"}, {{"b.a", 1}, "b-a"}}));
}

TEST(TableState, RowsCarryTheLastEventsSourceWithTheCommitOverlay) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  v1::SourceInfo info;
  info.set_commit_ts_micros(1234);
  info.set_position("binlog.000001:99");
  std::vector<v1::ChangeEvent> events = {Insert("a", 1, "one")};
  ASSERT_TRUE((*log)->AppendStaged(id, 0, std::move(events), info, MakeCheckpoint("x")).ok());
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok());
  int rows = 0;
  ASSERT_TRUE((*view)
                  ->Read({}, {}, ReadLimits{},
                         [&](const TableRow& row) {
                           LogOffset at;
                           auto e = StateRowEvent(row.value, &at);
                           ASSERT_TRUE(e.ok());
                           EXPECT_EQ(at, LogOffset(1));
                           EXPECT_EQ(e->source().commit_ts_micros(), 1234);
                           EXPECT_EQ(e->source().position(), "binlog.000001:99");
                           EXPECT_EQ(e->source().table(), "a");
                           EXPECT_EQ(e->key_columns_size(), 1);
                           EXPECT_FALSE(e->has_before());
                           ++rows;
                         })
                  .ok());
  EXPECT_EQ(rows, 1);

  // A snapshot chunk names its table only in the commit info.
  v1::SourceInfo chunk;
  chunk.set_database("db");
  chunk.set_table("snap");
  chunk.set_snapshot(true);
  std::vector<v1::ChangeEvent> rows_only;
  for (int i = 1; i <= 3; ++i) {
    auto e = MakeRowEvent("", v1::OP_READ, std::nullopt, IdRow(i, "s"));
    e.clear_source();
    rows_only.push_back(std::move(e));
  }
  std::promise<absl::StatusOr<LogOffset>> done;
  (*log)->AppendAsync(id, std::move(rows_only), chunk, {},
                      [&](absl::StatusOr<LogOffset> r) { done.set_value(r); });
  ASSERT_TRUE(done.get_future().get().ok());
  auto after = (*log)->OpenTableState(id);
  ASSERT_TRUE(after.ok());
  Rows state = ReadState(**after, "db.snap");
  EXPECT_EQ(state, (Rows{{{"db.snap", 1}, "s"}, {{"db.snap", 2}, "s"}, {{"db.snap", 3}, "s"}}));
}

TEST(TableState, StagedTransactionUpdatesTheStateWhenPublished) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_POSTGRES);
  ASSERT_TRUE((*log)->Append(id, {Insert("a", 1, "one"), Insert("a", 2, "two")}, {}).ok());
  std::vector<v1::ChangeEvent> chunk;
  for (int i = 10; i < 2000; ++i) chunk.push_back(Insert("a", i, std::string(3000, 'p')));
  ASSERT_TRUE((*log)->Stage(id, 7, std::move(chunk)).ok());
  ASSERT_TRUE((*log)->Stage(id, 7, {Update("a", 1, 1, "ONE"), Delete("a", 2)}).ok());
  // Staged but not published: the state is unchanged.
  auto before = (*log)->OpenTableState(id);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(ReadState(**before, {}, 1000).size(), 2u);
  before->reset();
  ASSERT_TRUE((*log)->AppendStaged(id, 7, {Update("a", 10, 5, "five")}, {}, {}).ok());
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok());
  Rows rows = ReadState(**view, {}, 1000);
  EXPECT_EQ(rows.size(), 1991u);  // 1, 5 and 11..1999
  EXPECT_EQ(rows[std::make_pair(std::string("db.a"), int64_t{1})], "ONE");
  EXPECT_EQ(rows.count({"db.a", 2}), 0u);
  EXPECT_EQ(rows.count({"db.a", 10}), 0u);
  EXPECT_EQ(rows[std::make_pair(std::string("db.a"), int64_t{5})], "five");
  EXPECT_EQ(rows, Replay(**log, id, (*view)->offset()));
}

TEST(TableState, EncodedEventsUpdateTheStateToo) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  std::vector<EncodedEvent> events;
  for (int i = 1; i <= 3; ++i) {
    auto e = MakeRowEvent("a", v1::OP_READ, std::nullopt, IdRow(i, "snap" + std::to_string(i)));
    events.push_back(EncodedEvent{e.SerializeAsString(), "db.a", v1::OP_READ, std::nullopt});
  }
  std::promise<absl::StatusOr<LogOffset>> done;
  (*log)->AppendEncodedAsync(id, std::move(events), {}, {},
                             [&](absl::StatusOr<LogOffset> r) { done.set_value(r); });
  ASSERT_TRUE(done.get_future().get().ok());
  ASSERT_TRUE((*log)->Append(id, {Update("a", 2, 2, "changed")}, {}).ok());
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(ReadState(**view),
            (Rows{{{"db.a", 1}, "snap1"}, {{"db.a", 2}, "changed"}, {{"db.a", 3}, "snap3"}}));
}

TEST(TableState, RetentionDoesNotTouchTheState) {
  TempDir dir;
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*log)->Append(id, {Insert("a", i, "row")}, MakeCheckpoint("x")).ok());
  }
  auto trimmed = (*log)->ApplyRetention(id, RetentionPolicy{.max_bytes = 1});
  ASSERT_TRUE(trimmed.ok());
  EXPECT_GT(trimmed->events_removed, 40u);
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(ReadState(**view).size(), 50u);
}

TEST(TableState, OffRemovesTheStateAndRefusesReads) {
  TempDir dir;
  {
    auto log = ChangeLog::Open(dir.path());
    ASSERT_TRUE(log.ok());
    auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    auto other = *(*log)->RegisterSource("other", v1::SOURCE_KIND_MYSQL);
    ASSERT_TRUE((*log)->Append(id, {Insert("a", 1, "one")}, {}).ok());
    ASSERT_TRUE((*log)->Append(other, {Insert("a", 1, "one")}, {}).ok());
    ASSERT_TRUE((*log)->SetTableState(id, false).ok());
    auto refused = (*log)->OpenTableState(id);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(refused.status().message().find("table_state: false"), std::string::npos);
    ASSERT_TRUE((*log)->Append(id, {Insert("a", 2, "two")}, {}).ok());
    auto view = (*log)->OpenTableState(other);
    ASSERT_TRUE(view.ok());
    EXPECT_EQ(ReadState(**view).size(), 1u);
  }
  // Turned on again after a restart: the state missed events, so it stays refused.
  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto id = *(*log)->FindSource("s");
  auto refused = (*log)->OpenTableState(id);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("incomplete"), std::string::npos);
}

// Random transactions over three tables with 20 keys each, so updates, key changes, deletes
// and truncates all hit existing rows.
std::vector<v1::ChangeEvent> RandomTxn(std::mt19937& rng, uint64_t k) {
  std::vector<v1::ChangeEvent> txn;
  const int n = static_cast<int>(rng() % 8) + 1;
  for (int i = 0; i < n; ++i) {
    const std::string table = std::string(1, static_cast<char>('a' + rng() % 3));
    const int64_t id = static_cast<int64_t>(rng() % 20);
    const std::string payload = "v" + std::to_string(k) + "." + std::to_string(i);
    switch (rng() % 10) {
      case 0:
      case 1:
        txn.push_back(Delete(table, id));
        break;
      case 2:
        txn.push_back(Update(table, id, static_cast<int64_t>(rng() % 20), payload));
        break;
      case 3:
        if (rng() % 8 == 0) {
          txn.push_back(Truncate(table));
          break;
        }
        [[fallthrough]];
      default:
        txn.push_back(Update(table, id, id, payload));
        break;
    }
  }
  return txn;
}

// Appends random transactions until killed; writes one byte to `durable_fd` once its first
// append is durable.
[[noreturn]] void RunAppender(const std::string& dir, uint32_t seed, int durable_fd) {
  auto log = ChangeLog::Open(dir);
  if (!log.ok()) _exit(3);
  auto id = (*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  if (!id.ok()) _exit(4);
  std::mt19937 rng(seed);
  auto done = [durable_fd](absl::StatusOr<LogOffset> r) {
    if (!r.ok()) _exit(6);
    static std::once_flag first;
    std::call_once(first, [durable_fd] {
      const char c = 1;
      if (write(durable_fd, &c, 1) != 1) _exit(7);
    });
  };
  for (uint64_t k = 0;; ++k) {
    auto txn = RandomTxn(rng, k);
    if (k % 5 == 0) {
      if (!(*log)->Stage(*id, k, std::move(txn)).ok()) _exit(5);
      (*log)->AppendStagedAsync(*id, k, {}, {}, {}, done);
    } else {
      (*log)->AppendAsync(*id, std::move(txn), {}, done);
    }
  }
}

bool ReadByte(int fd);

TEST(TableState, AfterKillNineTheStateEqualsAReplayOfTheLog) {
  TempDir dir;
  std::mt19937 rng(777);
  for (int round = 0; round < 4; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunAppender(dir.path(), 1000 + round, fds[1]);
    }
    close(fds[1]);
    // Killed at a random moment after its first durable append (not a fixed time after the
    // fork: on a loaded machine opening the log alone can take longer than that).
    const bool appended = ReadByte(fds[0]);
    close(fds[0]);
    if (appended) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "appender exited early with " << WEXITSTATUS(status);
    ASSERT_TRUE(appended) << "the appender stored nothing within a minute";

    auto log = ChangeLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = (*log)->FindSource("s");
    ASSERT_TRUE(id.ok());
    auto view = (*log)->OpenTableState(*id);
    ASSERT_TRUE(view.ok()) << view.status();
    auto bounds = (*log)->Bounds(*id);
    ASSERT_TRUE(bounds.ok());
    EXPECT_EQ((*view)->offset(), bounds->last);
    EXPECT_GT(bounds->last.value(), 0u);
    Rows state = ReadState(**view, {}, 64);
    EXPECT_EQ(state, Replay(**log, *id, (*view)->offset())) << "round " << round;
  }
}

// The child of the next test, in a process of its own (exec'd: RocksDB's background threads do
// not survive a fork, so a forked child stalls at its first flush). Skipped unless the parent
// set SLUICE_TABLE_STATE_CHILD_DIR.
TEST(TableStateChild, StageAndPublishALargeTransaction) {
  const char* dir = std::getenv("SLUICE_TABLE_STATE_CHILD_DIR");
  const char* fd_text = std::getenv("SLUICE_TABLE_STATE_CHILD_FD");
  if (dir == nullptr || fd_text == nullptr) GTEST_SKIP() << "run by KillDuringALargeStagedPublish";
  const int fd = std::atoi(fd_text);
  auto log = ChangeLog::Open(dir);
  if (!log.ok()) _exit(3);
  auto id = *(*log)->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
  if (!(*log)->Append(id, {Insert("a", 1, "one")}, {}).ok()) _exit(4);
  for (int c = 0; c < 20; ++c) {
    std::vector<v1::ChangeEvent> chunk;
    for (int i = 0; i < 1000; ++i) {
      chunk.push_back(Insert("a", 10 + c * 1000 + i, std::string(1000, 'x')));
    }
    if (!(*log)->Stage(id, 1, std::move(chunk)).ok()) _exit(5);
  }
  char go = 1;
  if (write(fd, &go, 1) != 1) _exit(6);
  (void)(*log)->AppendStaged(id, 1, {Delete("a", 1)}, {}, {});
  if (write(fd, &go, 1) != 1) _exit(7);
  pause();
  _exit(0);
}

// Reads one byte from `fd`, waiting at most a minute.
bool ReadByte(int fd) {
  pollfd p{fd, POLLIN, 0};
  char c = 0;
  return poll(&p, 1, 60'000) == 1 && read(fd, &c, 1) == 1;
}

// A staged transaction large enough that its table state is written in chunks ahead of its
// commit, killed while it is published: after reopening (which finishes an interrupted publish)
// the state equals a replay of the log, never half-applied.
TEST(TableState, KillDuringALargeStagedPublishNeverServesAPartialState) {
  int whole = 0;
  int before = 0;
  std::mt19937 rng(4242);
  // Round 0 measures how long the publish takes; the others kill at a random moment inside it.
  int64_t publish_ms = 0;
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      setenv("SLUICE_TABLE_STATE_CHILD_DIR", dir.path().c_str(), 1);
      setenv("SLUICE_TABLE_STATE_CHILD_FD", std::to_string(fds[1]).c_str(), 1);
      execl("/proc/self/exe", "storage_test",
            "--gtest_filter=TableStateChild.StageAndPublishALargeTransaction", nullptr);
      _exit(8);
    }
    close(fds[1]);
    const bool staged = ReadByte(fds[0]);
    if (!staged) kill(pid, SIGKILL);
    ASSERT_TRUE(staged) << "the child did not stage its transaction";
    if (round == 0) {
      const auto start = std::chrono::steady_clock::now();
      const bool published = ReadByte(fds[0]);
      if (!published) kill(pid, SIGKILL);
      ASSERT_TRUE(published) << "the child did not publish its transaction";
      publish_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    } else {
      std::this_thread::sleep_for(
          std::chrono::milliseconds(rng() % static_cast<uint64_t>(publish_ms + 1)));
    }
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);

    auto log = ChangeLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = *(*log)->FindSource("s");
    auto view = (*log)->OpenTableState(id);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(ReadState(**view, {}, 5000), Replay(**log, id, (*view)->offset()));
    // The transaction is in the log whole (1 + 20,000 + 1 events) or not at all (1).
    const uint64_t last = (*view)->offset().value();
    EXPECT_TRUE(last == 1 || last == 20002) << last;
    ++(last == 1 ? before : whole);
  }
  std::cout << "publish " << publish_ms << " ms; after a kill the transaction was whole " << whole
            << " times, not yet staged for publishing " << before << " times" << std::endl;
}

// The child of the next test (exec'd, see above): stages a big transaction and publishes it with a
// hook that ends the process right after the first chunk of its table state is written ahead of
// the commit. Skipped unless the parent set SLUICE_TABLE_STATE_CRASH_DIR.
TEST(TableStateChild, CrashAfterTheFirstStateChunk) {
  const char* dir = std::getenv("SLUICE_TABLE_STATE_CRASH_DIR");
  if (dir == nullptr) GTEST_SKIP() << "run by CrashInTheMiddleOfABigPublishIsFinishedOnOpen";
  ChangeLogOptions options;
  options.after_state_chunk_for_testing = [] { _exit(0); };
  auto log = ChangeLog::Open(dir, options);
  if (!log.ok()) _exit(3);
  auto id = (*log)->RegisterSource("s", v1::SOURCE_KIND_POSTGRES);
  if (!id.ok()) _exit(4);
  if (!(*log)
           ->Append(*id, {Insert("a", 1, "one"), Insert("a", 2, "two"), Insert("b", 1, "b")},
                    MakeCheckpoint("first"))
           .ok()) {
    _exit(5);
  }
  std::vector<v1::ChangeEvent> staged;
  for (int i = 10; i < 4010; ++i) staged.push_back(Insert("a", i, std::string(3000, 'p')));
  staged.push_back(Update("a", 1, 1, "ONE"));
  staged.push_back(Truncate("b"));
  if (!(*log)->Stage(*id, 7, std::move(staged)).ok()) _exit(6);
  // The commit, with one more event after the stage. Does not return: the hook exits.
  (void)(*log)->AppendStaged(*id, 7, {Delete("a", 2)}, {}, MakeCheckpoint("big"));
  _exit(7);
}

// A crash between two chunks of a big transaction's table state leaves its marker; the next open
// finishes the publish: the log holds the whole transaction once, with its checkpoint, and the
// state equals a replay of the log.
TEST(TableState, CrashInTheMiddleOfABigPublishIsFinishedOnOpen) {
  TempDir dir;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("SLUICE_TABLE_STATE_CRASH_DIR", dir.path().c_str(), 1);
    execl("/proc/self/exe", "storage_test",
          "--gtest_filter=TableStateChild.CrashAfterTheFirstStateChunk", nullptr);
    _exit(8);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "the child did not stop in the middle of the publish";

  auto log = ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = *(*log)->FindSource("s");
  auto bounds = (*log)->Bounds(id);
  ASSERT_TRUE(bounds.ok());
  EXPECT_EQ(bounds->last.value(), 3u + 4000u + 3u);  // the whole transaction, once
  auto checkpoint = (*log)->Checkpoint(id);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->position_text(), "big");
  auto view = (*log)->OpenTableState(id);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->offset(), bounds->last);
  Rows rows = ReadState(**view, {}, 1000);
  EXPECT_EQ(rows.size(), 4001u);  // a/1 and a/10..4009; a/2 deleted, b truncated
  EXPECT_EQ((rows[{"db.a", 1}]), "ONE");
  EXPECT_EQ(rows.count({"db.a", 2}), 0u);
  EXPECT_EQ(rows.count({"db.b", 1}), 0u);
  EXPECT_EQ(rows, Replay(**log, id, bounds->last));
  view->reset();

  // Appends continue after it, and the next open finds nothing left to finish.
  ASSERT_TRUE((*log)->Append(id, {Insert("a", 3, "three")}, MakeCheckpoint("next")).ok());
  log->reset();
  auto again = ChangeLog::Open(dir.path());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->Bounds(id)->last.value(), bounds->last.value() + 1);
  EXPECT_TRUE((*again)->OpenTableState(id).ok());
}
}  // namespace
}  // namespace sluice::storage
