#include "server/pipeline/read_event_encoder.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <string>
#include <vector>

#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/text_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pg_value_wire.h"
#include "storage/change_log.h"
#include "storage/table_state.h"
#include "storage/test_util.h"

namespace sluice::pipeline {
namespace {

using mysql::ColumnType;
using Texts = std::vector<std::optional<std::string>>;

mysqlclient::ColumnDefinition Col(std::string name, ColumnType type, uint16_t flags = 0) {
  mysqlclient::ColumnDefinition c;
  c.name = std::move(name);
  c.type = static_cast<uint8_t>(type);
  c.flags = flags;
  c.charset = 45;
  return c;
}

// The message the readers used to build for a row: op r, key columns, after.
v1::ChangeEvent MessageRow(const std::vector<std::string>& keys,
                           const std::vector<mysqlclient::ColumnDefinition>& columns,
                           const Texts& row) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_READ);
  for (const auto& k : keys) e.add_key_columns(k);
  v1::Row* after = e.mutable_after();
  for (size_t c = 0; c < columns.size(); ++c) {
    v1::Field* f = after->add_fields();
    f->set_name(columns[c].name);
    *f->mutable_value() = mysqlclient::DecodeTextColumn(columns[c], row[c]);
  }
  return e;
}

// Appends `row` to `chunk`.
void EncodeRow(ReadEventEncoder& encoder, const std::vector<mysqlclient::ColumnDefinition>& columns,
               const Texts& row, storage::EncodedChunk& chunk) {
  encoder.BeginRow();
  for (size_t c = 0; c < columns.size(); ++c) {
    mysqlclient::AppendTextColumnWire(
        columns[c], row[c] ? std::optional<std::string_view>(*row[c]) : std::nullopt,
        encoder.AddColumn());
  }
  encoder.FinishRow(chunk);
}

const std::vector<mysqlclient::ColumnDefinition> kColumns = {
    Col("id", ColumnType::kLong),
    Col("name", ColumnType::kVarchar),
    Col("amount", ColumnType::kNewDecimal),
    Col("created", ColumnType::kDateTime2),
    Col("note", ColumnType::kBlob),
    Col("", ColumnType::kLongLong, mysqlclient::kUnsignedFlag),
};

const std::vector<Texts> kRows = {
    {"1", "name-1", "0.01", "2026-01-01 00:00:01.000000", "n", "18446744073709551615"},
    {"-7", std::nullopt, std::nullopt, "0000-00-00 00:00:00", "", "0"},
    {"2147483647", std::string(200, 'x'), "-12345.67", "bad", std::string(20000, 'y'), "x"},
};

TEST(ReadEventEncoderTest, BodyIsTheSerializedMessage) {
  ReadEventEncoder encoder;
  std::vector<std::string> names;
  for (const auto& c : kColumns) names.push_back(c.name);
  for (const std::vector<std::string>& keys :
       {std::vector<std::string>{"id"}, std::vector<std::string>{"name", "id"},
        std::vector<std::string>{}}) {
    encoder.Reset(keys, names);
    // The rows one after the other in one chunk: each row's body and key are its own.
    storage::EncodedChunk chunk;
    for (const Texts& row : kRows) EncodeRow(encoder, kColumns, row, chunk);
    ASSERT_EQ(chunk.size(), kRows.size());
    for (size_t i = 0; i < kRows.size(); ++i) {
      const v1::ChangeEvent message = MessageRow(keys, kColumns, kRows[i]);
      const std::string body(chunk.body(i));
      EXPECT_EQ(body, message.SerializeAsString()) << message.ShortDebugString();
      v1::ChangeEvent parsed;
      ASSERT_TRUE(parsed.ParseFromString(body));
      EXPECT_EQ(parsed.ShortDebugString(), message.ShortDebugString());
      EXPECT_EQ(chunk.row_key(i),
                storage::EncodeRowKey(message.key_columns(), message.after()).value_or(""));
      if (!keys.empty()) {
        EXPECT_FALSE(chunk.row_key(i).empty());
      }
    }
  }
}

// FinishRow copies the prefix, short column heads and values a fixed number of bytes at a time
// (32), and the last ones of a row byte-exactly: names (also of a key column) and values of every
// length around that, in every position of the row, still give exactly the serialized message.
TEST(ReadEventEncoderTest, BodyIsTheSerializedMessageForEveryNameAndValueLength) {
  const std::vector<size_t> name_sizes = {0,  1,  23, 24, 25, 26, 27, 28, 29,
                                          30, 31, 32, 33, 63, 64, 65, 130};
  ReadEventEncoder encoder;
  for (const size_t name_size : name_sizes) {
    std::vector<mysqlclient::ColumnDefinition> columns = {
        Col("id", ColumnType::kLong), Col(std::string(name_size, 'n'), ColumnType::kVarchar),
        Col("b", ColumnType::kVarchar)};
    std::vector<std::string> names;
    for (const auto& c : columns) names.push_back(c.name);
    // The long name a key column too: the prefix (op, key columns) around 32 bytes.
    std::vector<std::string> keys = {"id"};
    if (name_size > 0) keys.push_back(names[1]);
    encoder.Reset(keys, names);
    storage::EncodedChunk chunk;
    std::vector<Texts> rows;
    for (size_t a = 0; a <= 70; ++a) {
      for (const size_t b : {size_t{0}, size_t{1}, size_t{30}, size_t{31}, size_t{32},
                             size_t{33}, size_t{127}, size_t{128}, size_t{300}}) {
        std::string first(a, 'a');
        for (size_t k = 0; k < a; ++k) first[k] = static_cast<char>('a' + k % 26);
        rows.push_back(Texts{std::to_string(rows.size()), first, std::string(b, 'z')});
        rows.push_back(Texts{std::to_string(rows.size()), std::string(b, 'y'), first});
      }
    }
    for (const Texts& row : rows) EncodeRow(encoder, columns, row, chunk);
    ASSERT_EQ(chunk.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const v1::ChangeEvent message = MessageRow(keys, columns, rows[i]);
      ASSERT_EQ(std::string(chunk.body(i)), message.SerializeAsString())
          << "name size " << name_size << ", row " << message.ShortDebugString();
      ASSERT_EQ(chunk.row_key(i),
                storage::EncodeRowKey(message.key_columns(), message.after()).value_or(""));
    }
  }
}

TEST(ReadEventEncoderTest, PostgresValuesAndAMissingKeyColumn) {
  ReadEventEncoder encoder;
  encoder.Reset({"id", "gone"}, {"id", "ts"});
  encoder.BeginRow();
  postgres::AppendTextValueWire(postgres::kInt8Oid, "42", nullptr, encoder.AddColumn());
  postgres::AppendTextValueWire(postgres::kTimestampOid, "2026-01-02 03:04:05.5", nullptr,
                                encoder.AddColumn());
  storage::EncodedChunk chunk;
  encoder.FinishRow(chunk);
  ASSERT_EQ(chunk.size(), 1u);
  v1::ChangeEvent message;
  message.set_op(v1::OP_READ);
  message.add_key_columns("id");
  message.add_key_columns("gone");
  v1::Field* f = message.mutable_after()->add_fields();
  f->set_name("id");
  *f->mutable_value() = postgres::DecodeTextValue(postgres::kInt8Oid, "42");
  f = message.mutable_after()->add_fields();
  f->set_name("ts");
  *f->mutable_value() = postgres::DecodeTextValue(postgres::kTimestampOid, "2026-01-02 03:04:05.5");
  EXPECT_EQ(chunk.body(0), message.SerializeAsString());
  EXPECT_EQ(chunk.row_key(0), "");  // not kept in the table state
}

// A key component that does not parse, after one that did, leaves no partial key bytes, and the
// next row starts right after the row (EncodedChunk's boundaries).
TEST(ReadEventEncoderTest, AFailedKeyComponentLeavesNoPartialBytes) {
  ReadEventEncoder encoder;
  encoder.Reset({"a", "b"}, {"a", "b"});
  storage::EncodedChunk chunk;
  // Row 1: a = int64 5, b = bytes that are no Value (a truncated varint field).
  encoder.BeginRow();
  encoder.AddColumn().append("\x10\x05", 2);
  encoder.AddColumn().append("\x10\xff", 2);
  encoder.FinishRow(chunk);
  // Row 2: both parse.
  encoder.BeginRow();
  encoder.AddColumn().append("\x10\x06", 2);
  encoder.AddColumn().append("\x10\x07", 2);
  encoder.FinishRow(chunk);
  ASSERT_EQ(chunk.size(), 2u);
  EXPECT_EQ(chunk.row_key(0), "");
  EXPECT_NE(chunk.row_key(1), "");
  v1::ChangeEvent e1;
  ASSERT_TRUE(e1.ParseFromArray(chunk.body(1).data(), static_cast<int>(chunk.body(1).size())));
  EXPECT_EQ(e1.after().fields_size(), 2);
  EXPECT_EQ(e1.after().fields(1).value().int64(), 7);
  EXPECT_EQ(chunk.byte_size(),
            chunk.body(0).size() + chunk.body(1).size() + chunk.row_key(1).size());
}

// Appending encoded rows as a snapshot chunk stores the same event bytes as appending the
// messages, and the rows reach the table state.
TEST(ReadEventEncoderTest, LogStoresTheSameEventsAsForMessages) {
  storage::testing::TempDir dir;
  storage::ChangeLogOptions options;
  options.sync = false;
  options.clock = [] { return int64_t{1'700'000'000'000'000}; };
  auto log = storage::ChangeLog::Open(dir.path(), options);
  ASSERT_TRUE(log.ok()) << log.status();
  auto by_message = (*log)->RegisterSource("messages", v1::SOURCE_KIND_MYSQL);
  auto by_encoder = (*log)->RegisterSource("encoded", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(by_message.ok() && by_encoder.ok());
  v1::SourceInfo info;
  info.set_kind(v1::SOURCE_KIND_MYSQL);
  info.set_database("test");
  info.set_table("t");
  info.set_snapshot(true);
  info.set_commit_ts_micros(123);

  std::vector<std::string> names;
  for (const auto& c : kColumns) names.push_back(c.name);
  ReadEventEncoder encoder;
  encoder.Reset({"id"}, names);
  std::vector<v1::ChangeEvent> messages;
  storage::EncodedChunk encoded;
  for (const Texts& row : kRows) {
    messages.push_back(MessageRow({"id"}, kColumns, row));
    EncodeRow(encoder, kColumns, row, encoded);
  }
  auto append = [&](auto submit) {
    std::promise<absl::StatusOr<LogOffset>> done;
    submit([&](absl::StatusOr<LogOffset> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  };
  auto m = append([&](storage::AppendCallback cb) {
    (*log)->AppendAsync(*by_message, messages, info, {}, std::move(cb));
  });
  auto n = append([&](storage::AppendCallback cb) {
    (*log)->AppendSnapshotChunkAsync(*by_encoder, std::move(encoded), info, {},
                                     /*ingest_now=*/true, nullptr, std::move(cb));
  });
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(m->value(), 3u);
  EXPECT_EQ(n->value(), 3u);

  auto read = [&](storage::SourceId id) {
    std::vector<std::pair<std::string, std::string>> out;  // (table, event)
    auto next = (*log)->Read(id, LogOffset(1), {}, [&](const storage::StoredRecord& r) {
      out.emplace_back(std::string(r.view.table), std::string(r.view.event));
    });
    EXPECT_TRUE(next.ok()) << next.status();
    return out;
  };
  const auto from_messages = read(*by_message);
  const auto from_encoder = read(*by_encoder);
  ASSERT_EQ(from_messages.size(), 3u);
  ASSERT_EQ(from_encoder.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(from_encoder[i].second, from_messages[i].second) << "event " << i + 1;
    EXPECT_EQ(from_encoder[i].first, "test.t");
  }

  auto state = (*log)->OpenTableState(*by_encoder);
  ASSERT_TRUE(state.ok()) << state.status();
  std::vector<v1::ChangeEvent> rows;
  auto cursor = (*state)->Read("test.t", "", {}, [&](const storage::TableRow& row) {
    LogOffset at;
    auto e = storage::StateRowEvent(row.value, &at);
    ASSERT_TRUE(e.ok()) << e.status();
    rows.push_back(*e);
  });
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  ASSERT_EQ(rows.size(), 3u);
  // Key order: -7, 1, 2147483647.
  const int order[] = {1, 0, 2};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[i].after().SerializeAsString(), messages[order[i]].after().SerializeAsString());
    EXPECT_EQ(rows[i].source().table(), "t");
  }
}

}  // namespace
}  // namespace sluice::pipeline
