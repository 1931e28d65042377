// Golden tests on the real binlog files in ../shared/fixtures/mysql-binlogs (read at run time from
// SLUICE_SHARED_DIR or SLUICE_SOURCE_DIR/../shared; never copied into the repo).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "proto/base/value_json.h"
#include "protocol/mysql/crc32.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

using testing::AsBytes;
using testing::DecodeAll;
using testing::Decoded;
using ::testing::ElementsAre;
using testing::FixtureDir;
using ::testing::HasSubstr;
using testing::ReadFileBytes;
using testing::Rows;

class FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FixtureDir();
    if (!dir_) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs is absent (set SLUICE_SHARED_DIR)";
  }
  Decoded Load(const std::string& name) {
    bytes_ = ReadFileBytes(*dir_ / name);
    return DecodeAll(bytes_, name);
  }
  std::vector<const RowsEvent*> RowEvents(const std::vector<Event>& events) {
    std::vector<const RowsEvent*> out;
    for (const Event& e : events)
      if (auto* r = std::get_if<RowsEvent>(&e.body)) out.push_back(r);
    return out;
  }
  template <typename T>
  std::vector<const T*> All(const std::vector<Event>& events) {
    std::vector<const T*> out;
    for (const Event& e : events)
      if (auto* r = std::get_if<T>(&e.body)) out.push_back(r);
    return out;
  }
  std::optional<std::filesystem::path> dir_;
  std::string bytes_;
};

// Every file decodes to its end, except the ones that are corrupt or use unfinished features.
TEST_F(FixtureTest, EveryFileDecodesOrFailsCleanly) {
  const std::map<std::string, std::pair<absl::StatusCode, std::string>> failing = {
      {"binlog_truncated_event.000001",
       {absl::StatusCode::kDataLoss, "binlog_truncated_event.000001:4: truncated event"}},
      {"binlog_truncated_prev_gtid_event.000001",
       {absl::StatusCode::kDataLoss,
        "binlog_truncated_prev_gtid_event.000001:120: truncated event"}},
      {"corrupt-relay-bin.000624",
       {absl::StatusCode::kDataLoss, "corrupt-relay-bin.000624:91204: QUERY_EVENT"}},
  };
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir_)) {
    std::string name = entry.path().filename().string();
    if (name == "README.md") continue;
    ++files;
    Decoded d = Load(name);
    auto it = failing.find(name);
    if (it == failing.end()) {
      EXPECT_TRUE(d.status.ok()) << name << ": " << d.status;
      EXPECT_FALSE(d.events.empty()) << name;
    } else {
      EXPECT_EQ(d.status.code(), it->second.first) << name << ": " << d.status;
      EXPECT_THAT(d.status.message(), HasSubstr(it->second.second)) << name;
    }
  }
  EXPECT_GE(files, 25);
}

TEST_F(FixtureTest, TimeOver24HoursNegative) {
  Decoded d = Load("time_issue.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  auto rows = RowEvents(d.events);
  ASSERT_EQ(rows.size(), 1u);
  const v1::Value& v = rows[0]->rows.at(0).after->fields(0).value();
  EXPECT_TRUE(v.time().negative());
  EXPECT_EQ(v.time().hours(), 507u);
  EXPECT_EQ(ValueToJson(v), "\"-507:48:27\"");
}

TEST_F(FixtureTest, MinimalRowMetadataUnsignedAndAbsentColumns) {
  Decoded d = Load("minimal_row_metadata.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_THAT(Rows(d.events), ElementsAre("I {\"col_1\":1,\"col_3\":\"a\",\"col_5\":3230202323}"));
  auto rows = RowEvents(d.events);
  const v1::Row& after = *rows[0]->rows[0].after;
  ASSERT_EQ(after.fields_size(), 3);  // col_2 and col_4 were not sent: absent, not NULL
  EXPECT_EQ(after.fields(2).value().kind_case(), v1::Value::kUint64);
  EXPECT_EQ(after.fields(2).value().uint64(), 3230202323u);
  EXPECT_EQ(rows[0]->table->columns[1].collation, 63u);
}

TEST_F(FixtureTest, BitValues) {
  Decoded d = Load("mysql_type_bit.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_THAT(Rows(d.events), ElementsAre("I {\"a\":4,\"b\":\"foo\",\"c\":32}"));
  auto rows = RowEvents(d.events);
  EXPECT_EQ(rows[0]->rows[0].after->fields(0).value().kind_case(), v1::Value::kUint64);
  EXPECT_EQ(rows[0]->table->columns[0].bits, 3u);
  EXPECT_EQ(rows[0]->table->columns[2].bits, 8u);
}

TEST_F(FixtureTest, EnumSetAndLongStrings) {
  Decoded d = Load("mysql-enum-string-set.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  auto rows = RowEvents(d.events);
  ASSERT_EQ(rows.size(), 3u);
  const TableMap& t = *rows[0]->table;
  EXPECT_EQ(t.columns[2].type, ColumnType::kEnum);
  EXPECT_EQ(t.columns[3].type, ColumnType::kSet);
  EXPECT_EQ(t.columns[1].max_length, 1200u);  // VARCHAR(300) utf8mb4
  const v1::Row& deleted = *rows[2]->rows[0].before;
  EXPECT_EQ(deleted.fields(0).value().string(), "field1");
  EXPECT_EQ(deleted.fields(1).value().string(), "field_2");
  EXPECT_EQ(deleted.fields(2).value().string(), "variant2");
  EXPECT_EQ(deleted.fields(3).value().string(), "two,four");
  EXPECT_EQ(rows[1]->kind, RowsKind::kUpdate);
  EXPECT_TRUE(rows[1]->rows[0].before.has_value() && rows[1]->rows[0].after.has_value());
}

TEST_F(FixtureTest, JsonOpaqueValues) {
  Decoded d = Load("json-opaque.binlog");
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_THAT(
      Rows(d.events),
      ElementsAre("I {\"a\":{\"a\":\"base64:type15:VQ==\"}}", "I {\"a\":{\"b\":\"2012-03-18\"}}",
                  "I {\"a\":{\"c\":\"2012-03-18 11:30:45\"}}",
                  "I {\"a\":{\"c\":\"87:31:46.654321\"}}", "I {\"a\":{\"d\":123.456}}",
                  "I {\"a\":{\"e\":9.00}}", "I {\"a\":{\"e\":[0,1,true,false]}}",
                  "I {\"a\":{\"e\":null}}"));
}

TEST_F(FixtureTest, JsonDocumentsAndPartialUpdate) {
  Decoded d = Load("json.binlog.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::vector<std::string> rows = Rows(d.events);
  ASSERT_GE(rows.size(), 7u);
  EXPECT_EQ(rows[0],
            "I "
            "{\"col_1\":1,\"col_2\":{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"},\"col_"
            "3\":\"Joe\",\"col_4\":24}");
  EXPECT_THAT(rows[6], HasSubstr("-> {\"col_1\":1,\"col_2\":{\"age\":25,"));
  // PARTIAL_UPDATE_ROWS with a MINIMAL before image: the JSON diff is kept as a raw value.
  EXPECT_EQ(
      rows.back(),
      "U {\"col_1\":6} -> "
      "{\"col_2\":\"[{\\\"op\\\":\\\"replace\\\",\\\"path\\\":\\\"$.age\\\",\\\"value\\\":42}]\","
      "\"col_3\":\"Pete\",\"col_4\":42}");
  const RowsEvent* partial = RowEvents(d.events).back();
  EXPECT_EQ(partial->type, static_cast<uint8_t>(EventType::kPartialUpdateRows));
  const v1::Value& diff = partial->rows[0].after->fields(0).value();
  EXPECT_EQ(diff.raw().type_name(), "mysql_json_diff");
  EXPECT_EQ(diff.raw().text(), "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":26}]");
}

TEST_F(FixtureTest, TaggedGtids) {
  Decoded d = Load("binlog_transaction_with_GTID_TAG.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  auto prev = All<PreviousGtids>(d.events);
  ASSERT_EQ(prev.size(), 1u);
  EXPECT_EQ(
      prev[0]->ToString(),
      "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2");
  auto gtids = All<Gtid>(d.events);
  ASSERT_EQ(gtids.size(), 1u);
  EXPECT_EQ(gtids[0]->tag, "mytag");
  EXPECT_EQ(gtids[0]->gno, 3);
  EXPECT_EQ(gtids[0]->ToString(), "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3");
  EXPECT_EQ(gtids[0]->last_committed, 0);
  EXPECT_EQ(gtids[0]->sequence_number, 1);
  EXPECT_EQ(gtids[0]->transaction_length, 296u);
  EXPECT_THAT(Rows(d.events), ElementsAre("I {\"col_1\":3,\"col_2\":100,\"col_3\":\"250.00\"}"));
}

TEST_F(FixtureTest, UntaggedGtidsAndPrevious) {
  Decoded d = Load("mysql-enum-string-set.000001");
  ASSERT_TRUE(d.status.ok());
  auto gtids = All<Gtid>(d.events);
  ASSERT_EQ(gtids.size(), 5u);
  EXPECT_EQ(gtids[4]->ToString(), "93e95066-a2f4-11ec-9b69-9657f0ae95e2:5");
  EXPECT_EQ(gtids[4]->last_committed, 4);
  Decoded p = Load("binlog_transaction_previous_GTID_no_tag.000001");
  ASSERT_TRUE(p.status.ok());
  auto prev = All<PreviousGtids>(p.events);
  ASSERT_EQ(prev.size(), 1u);
  EXPECT_FALSE(prev[0]->entries.empty());
}

TEST_F(FixtureTest, VectorColumns) {
  Decoded d = Load("vector.binlog");
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::vector<std::string> rows = Rows(d.events);
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[1], "I {\"id\":2,\"vector_column\":[1,-1,0]}");
  EXPECT_EQ(
      rows[3],
      "I {\"id\":2,\"vector_column\":[1.0099999904632568,-1.0099999904632568],\"foo\":\"bar\","
      "\"vector_column2\":[42,43,44,45]}");
  EXPECT_THAT(rows.back(), HasSubstr("\"id\":3"));
}

TEST_F(FixtureTest, MariaDbEventsAndV1Rows) {
  Decoded d = Load("mariadb-bin.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  auto gtids = All<MariaGtid>(d.events);
  ASSERT_EQ(gtids.size(), 2u);
  EXPECT_EQ(gtids[0]->ToString(), "0-1-1");
  EXPECT_EQ(gtids[1]->ToString(), "0-1-2");
  EXPECT_TRUE(gtids[0]->flags & kMariaGtidTransactional);
  ASSERT_EQ(All<BinlogCheckpoint>(d.events).size(), 1u);
  EXPECT_EQ(All<BinlogCheckpoint>(d.events)[0]->file, "mariadb-bin.000001");
  ASSERT_EQ(All<MariaGtidList>(d.events).size(), 1u);
  auto annotate = All<RowsQuery>(d.events);
  ASSERT_EQ(annotate.size(), 2u);
  EXPECT_EQ(annotate[0]->query,
            "insert into outbox (topic, event_type, event) values ('foo', 'JSON', '{\"foo\":1}')");
  auto rows = RowEvents(d.events);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]->type, static_cast<uint8_t>(EventType::kWriteRowsV1));
  const TableMap& t = *rows[0]->table;
  EXPECT_EQ(t.database, "toddy_test");
  EXPECT_EQ(t.table, "outbox");
  EXPECT_EQ(t.primary_key, std::vector<uint32_t>{0});
  EXPECT_EQ(t.columns[1].collation, 45u);
  EXPECT_EQ(t.columns[2].collation, 45u);  // ENUM_AND_SET_DEFAULT_CHARSET
  EXPECT_THAT(t.columns[2].enum_values, ElementsAre("BLOB", "JSON", "PROTOBUF"));
  EXPECT_THAT(Rows(d.events)[0], HasSubstr("\"event_type\":\"JSON\",\"event\":\"eyJmb28iOjF9\","
                                           "\"created\":\"2022-04-20T22:18:04Z\""));
}

TEST_F(FixtureTest, CompressedTransactionPayload) {
  Decoded d = Load("transaction_compression.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  auto payloads = All<TransactionPayload>(d.events);
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0]->compression, 0u);
  std::vector<uint8_t> inner;
  for (const Event& e : payloads[0]->events) inner.push_back(e.header.type);
  EXPECT_THAT(inner, ElementsAre(static_cast<uint8_t>(EventType::kQuery),
                                 static_cast<uint8_t>(EventType::kTableMap),
                                 static_cast<uint8_t>(EventType::kWriteRowsV2),
                                 static_cast<uint8_t>(EventType::kXid)));
  EXPECT_THAT(Rows(d.events), ElementsAre("I {\"col_1\":1}"));
}

TEST_F(FixtureTest, InvisibleColumnsAndPartialImages) {
  Decoded d = Load("binlog-invisible-columns.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  const TableMap& t = *RowEvents(d.events)[0]->table;
  EXPECT_FALSE(t.columns[0].visible);
  EXPECT_TRUE(t.columns[2].visible);
  EXPECT_TRUE(t.columns[0].is_unsigned.value_or(false));
  EXPECT_EQ(Rows(d.events)[0],
            "I {\"f1\":1,\"f2\":2,\"f3\":-3,\"f4\":\"4\",\"f5\":\"BQ==\",\"f6\":6000000000}");

  Decoded p = Load("update-partial-row.binlog");
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_THAT(Rows(p.events),
              ::testing::Contains("U {\"col_1\":4,\"col_3\":4} -> {\"col_1\":4,\"col_3\":40}"));
}

TEST_F(FixtureTest, DdlAndTransactionBoundaries) {
  Decoded d = Load("binlog_transaction_with_GTID.000001");
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::vector<std::string> queries;
  for (const Query* q : All<Query>(d.events)) queries.push_back(q->query);
  EXPECT_THAT(queries, ::testing::Contains("CREATE TABLE t1 (c1 INT)"));
  EXPECT_THAT(queries, ::testing::Contains("BEGIN"));
  EXPECT_EQ(All<Stop>(d.events).size(), 1u);
}

// For every event of every file: every truncation of the event (with its size field and checksum
// fixed up so that the body parser itself sees the short input) and, for small events, every
// single-bit flip, decode without crashing to either a value or a clean error.
TEST_F(FixtureTest, TruncatedAndCorruptedEventsFailCleanly) {
  size_t attempts = 0, errors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir_)) {
    std::string name = entry.path().filename().string();
    if (name == "README.md") continue;
    std::string file = ReadFileBytes(entry.path());
    BinlogDecoder decoder;
    decoder.set_file_name(name);
    size_t pos = 4;
    while (pos + kEventHeaderLength <= file.size()) {
      auto h = DecodeEventHeader(AsBytes(file).subspan(pos));
      if (!h.ok() || h->event_size > file.size() - pos) break;
      std::string event = file.substr(pos, h->event_size);
      bool crc = decoder.format().checksum == ChecksumAlg::kCrc32 ||
                 static_cast<EventType>(h->type) == EventType::kFormatDescription;
      auto try_decode = [&](std::string bytes) {
        if (bytes.size() >= kEventHeaderLength) {
          uint32_t n = static_cast<uint32_t>(bytes.size());
          for (int i = 0; i < 4; ++i) bytes[9 + i] = static_cast<char>(n >> (8 * i));
          if (crc && bytes.size() >= kEventHeaderLength + 4) {
            uint32_t c = Crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
            if (static_cast<EventType>(h->type) == EventType::kFormatDescription) {
              std::string tmp = bytes.substr(0, bytes.size() - 4);
              tmp[17] = static_cast<char>(tmp[17] & ~1);
              c = Crc32(tmp);
            }
            for (int i = 0; i < 4; ++i)
              bytes[bytes.size() - 4 + i] = static_cast<char>(c >> (8 * i));
          }
        }
        BinlogDecoder copy = decoder;
        auto ev = copy.Decode(AsBytes(bytes), pos);
        ++attempts;
        if (!ev.ok()) {
          ++errors;
          auto code = ev.status().code();
          EXPECT_TRUE(code == absl::StatusCode::kDataLoss ||
                      code == absl::StatusCode::kInvalidArgument ||
                      code == absl::StatusCode::kUnimplemented)
              << ev.status();
          EXPECT_THAT(ev.status().message(), HasSubstr(name + ":" + std::to_string(pos) + ": "));
        }
      };
      // Truncations: keep the checksum slot (so the cut lands in the body) when there is one.
      size_t step = event.size() > 4096 ? event.size() / 64 : 1;
      for (size_t n = 0; n < event.size(); n += step) {
        std::string cut = event.substr(0, n);
        if (crc && n >= kEventHeaderLength) cut += std::string(4, '\0');
        try_decode(cut);
      }
      if (event.size() <= 1024) {
        for (size_t i = 0; i + (crc ? 4 : 0) < event.size(); ++i) {
          if (i >= 9 && i < 13) continue;  // event_size is fixed up anyway
          for (int bit = 0; bit < 8; ++bit) {
            std::string bad = event;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            try_decode(bad);
          }
        }
      }
      if (!decoder.Decode(AsBytes(event), pos).ok()) break;
      pos += h->event_size;
    }
  }
  EXPECT_GT(attempts, 10000u);
  EXPECT_GT(errors, attempts / 20);
  std::cout << "decoded " << attempts << " mutated events, " << errors << " clean errors\n";
}

}  // namespace
}  // namespace sluice::mysql

namespace sluice::mysql {
namespace {

// Deferred rows visited one at a time (reusing one RowChange) are exactly the rows the eager
// decoder keeps, on every fixture; also when the decoder borrows the row events' bodies
// (set_borrow_deferred_rows): then a row event read from the given bytes points into them and
// copies nothing, while a compressed event's or a TRANSACTION_PAYLOAD's inner event's rows, which
// are in a buffer of the decoder's, are copied.
TEST(ForEachRowTest, SameRowsAsTheEagerDecoderOnEveryFixture) {
  auto dir = testing::FixtureDir();
  if (!dir) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs not found";
  for (const bool borrow : {false, true}) {
    SCOPED_TRACE(borrow ? "borrowed" : "copied");
    size_t total = 0;
    size_t borrowed = 0;
    size_t copied = 0;
    for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
      const std::string name = entry.path().filename().string();
      if (name == "README.md") continue;
      const std::string bytes = testing::ReadFileBytes(entry.path());
      testing::Decoded eager = testing::DecodeAll(bytes, name);
      std::vector<std::string> want = testing::Rows(eager.events);

      std::vector<std::string> got;
      BinlogDecoder decoder;
      decoder.set_defer_rows(true);
      decoder.set_borrow_deferred_rows(borrow);
      uint64_t pos = 4;
      Bytes event_bytes;  // the bytes of the event being walked
      absl::Status st;
      const auto visit = [&](const RowsEvent& header, const RowChange& c) {
        switch (header.kind) {
          case RowsKind::kWrite:
            got.push_back("I " + testing::RowJson(*c.after));
            break;
          case RowsKind::kUpdate:
            got.push_back("U " + testing::RowJson(*c.before) + " -> " + testing::RowJson(*c.after));
            break;
          case RowsKind::kDelete:
            got.push_back("D " + testing::RowJson(*c.before));
            break;
        }
        return absl::OkStatus();
      };
      std::function<absl::Status(const Event&, bool)> walk = [&](const Event& e,
                                                                 bool inner) -> absl::Status {
        if (const auto* p = std::get_if<TransactionPayload>(&e.body)) {
          for (const Event& in : p->events) {
            absl::Status s = walk(in, true);
            if (!s.ok()) return s;
          }
        }
        if (const auto* rows = std::get_if<RowsEvent>(&e.body)) {
          EXPECT_TRUE(rows->rows.empty());
          const Bytes body = rows->deferred_rows();
          const auto type = static_cast<EventType>(e.header.type);
          const bool compressed = type >= EventType::kMariaWriteRowsCompressedV1 &&
                                  type <= EventType::kMariaDeleteRowsCompressed;
          if (!body.empty() && borrow && !inner && !compressed) {
            EXPECT_TRUE(rows->deferred_body.empty()) << name << " at " << pos;
            EXPECT_TRUE(body.data() >= event_bytes.data() &&
                        body.data() + body.size() <= event_bytes.data() + event_bytes.size())
                << name << " at " << pos;
            ++borrowed;
          } else if (!body.empty()) {
            EXPECT_TRUE(rows->deferred_view.empty()) << name << " at " << pos;
            EXPECT_EQ(rows->deferred_body.size(), body.size()) << name << " at " << pos;
            ++copied;
          }
          return ForEachRow(*rows, decoder.format(), visit);
        }
        return absl::OkStatus();
      };
      st = testing::ForEachFileEvent(bytes, decoder, [&](const Event& e, uint64_t at, Bytes b) {
        pos = at;
        event_bytes = b;
        return walk(e, false);
      });
      if (!eager.status.ok()) continue;  // truncated/corrupt fixtures: compared up to the error
      EXPECT_TRUE(st.ok()) << name << ": " << st;
      EXPECT_EQ(got, want) << name;
      total += got.size();
    }
    EXPECT_GT(total, 50u);
    if (borrow) {
      EXPECT_GT(borrowed, 20u);
    } else {
      EXPECT_EQ(borrowed, 0u);
    }
    EXPECT_GT(copied, 0u);  // compressed and payload fixtures
  }
}

}  // namespace
}  // namespace sluice::mysql
