// Handcrafted TABLE_MAP and row events, GTIDs and heartbeats through BinlogDecoder, including the
// failure paths of the row decoder.
#include "protocol/mysql/binlog_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/mysql/event_builder_test_util.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

using testing::AsBytes;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::MakeFde;
using testing::PutLe;
using testing::RowJson;

std::string Lenenc(const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; }

// shop.t (id INT UNSIGNED PRIMARY KEY, name VARCHAR(10) utf8mb4, doc JSON) as table id 42.
std::string TableMapBody(uint64_t table_id = 42) {
  std::string b;
  PutLe(b, table_id, 6);
  PutLe(b, 1, 2);
  b += Lenenc("shop") + std::string(1, '\0') + Lenenc("t") + std::string(1, '\0');
  b.push_back(3);
  b += std::string("\x03\x0f\xf5", 3);
  b += std::string("\x03\x28\x00\x04", 4);  // meta: VARCHAR max 40 bytes, JSON 4 length bytes
  b.push_back(0x06);                        // nullable: name, doc
  b += std::string("\x01\x01\x80", 3);      // SIGNEDNESS: id unsigned
  std::string names = Lenenc("id") + Lenenc("name") + Lenenc("doc");
  b += std::string("\x04") + Lenenc(names);
  b += std::string("\x03\x01\x2d", 3);  // COLUMN_CHARSET: name utf8mb4
  b += std::string("\x08\x01\x00", 3);  // SIMPLE_PRIMARY_KEY: id
  b += std::string("\x0c\x01\xc0", 3);  // COLUMN_VISIBILITY: id, name visible; doc invisible
  return b;
}

std::string RowsHeader(uint64_t table_id, uint16_t extra_len = 2) {
  std::string b;
  PutLe(b, table_id, 6);
  PutLe(b, 1, 2);
  PutLe(b, extra_len, 2);
  if (extra_len > 2) b += std::string(extra_len - 2, '\x09');
  return b;
}

class RowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    decoder_.set_file_name("binlog.000001");
    fde_ = MakeFde(true);
    ASSERT_TRUE(decoder_.Decode(AsBytes(fde_), 4).ok());
    tm_ = MakeEvent(static_cast<uint8_t>(EventType::kTableMap), TableMapBody(), true);
    auto ev = decoder_.Decode(AsBytes(tm_), 100);
    ASSERT_TRUE(ev.ok()) << ev.status();
  }
  absl::StatusOr<Event> Decode(EventType type, const std::string& body) {
    event_ = MakeEvent(static_cast<uint8_t>(type), body, true);
    return decoder_.Decode(AsBytes(event_), 200);
  }
  BinlogDecoder decoder_;
  std::string fde_, tm_, event_;
};

TEST_F(RowsTest, TableMapMetadata) {
  const TableMap& t = *decoder_.tables().at(42);
  EXPECT_EQ(t.database, "shop");
  EXPECT_EQ(t.table, "t");
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[0].is_unsigned, true);
  EXPECT_FALSE(t.columns[0].nullable);
  EXPECT_EQ(t.columns[1].max_length, 40u);
  EXPECT_EQ(t.columns[1].collation, 45u);
  EXPECT_EQ(t.columns[2].length_bytes, 4);
  EXPECT_FALSE(t.columns[2].visible);
  EXPECT_EQ(t.primary_key, std::vector<uint32_t>{0});
  EXPECT_EQ(t.ColumnName(1), "name");
}

TEST_F(RowsTest, WriteUpdateDeleteV2) {
  std::string w = RowsHeader(42, 4);  // 2 bytes of extra data
  w.push_back(3);
  w.push_back(0x07);
  w.push_back(0x04);  // doc is NULL
  PutLe(w, 0xFFFFFFFF, 4);
  w += Lenenc("h\xc3\xa9");
  auto ev = Decode(EventType::kWriteRowsV2, w);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& rows = std::get<RowsEvent>(ev->body);
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(RowJson(*rows.rows[0].after),
            "{\"id\":4294967295,\"name\":\"h\xc3\xa9\",\"doc\":null}");

  // MINIMAL update: before has the key, after has the changed column only.
  std::string u = RowsHeader(42);
  u.push_back(3);
  u.push_back(0x01);
  u.push_back(0x02);
  u.push_back(0x00);
  PutLe(u, 7, 4);
  u.push_back(0x00);
  u += Lenenc("new");
  ev = Decode(EventType::kUpdateRowsV2, u);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& upd = std::get<RowsEvent>(ev->body);
  EXPECT_EQ(RowJson(*upd.rows[0].before), "{\"id\":7}");
  EXPECT_EQ(RowJson(*upd.rows[0].after), "{\"name\":\"new\"}");

  // v1 delete of two rows (no extra data).
  std::string d;
  PutLe(d, 42, 6);
  PutLe(d, 1, 2);
  d.push_back(3);
  d.push_back(0x01);
  d.push_back(0x00);
  PutLe(d, 1, 4);
  d.push_back(0x00);
  PutLe(d, 2, 4);
  ev = Decode(EventType::kDeleteRowsV1, d);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<RowsEvent>(ev->body).rows.size(), 2u);
  EXPECT_EQ(std::get<RowsEvent>(ev->body).kind, RowsKind::kDelete);
}

TEST_F(RowsTest, RowFailurePaths) {
  std::string base = RowsHeader(42);
  base.push_back(3);
  base.push_back(0x07);
  base.push_back(0x04);
  PutLe(base, 5, 4);
  base += Lenenc("abc");
  ASSERT_TRUE(Decode(EventType::kWriteRowsV2, base).ok());
  // Every truncation of the body is a clean error (or, at the row boundary, an empty event).
  for (size_t n = 0; n < base.size(); ++n) {
    auto ev = Decode(EventType::kWriteRowsV2, base.substr(0, n));
    if (n == 10 || n == 12) {
      // Header only (a statement-end marker), or bitmaps with zero rows: valid and empty.
      ASSERT_TRUE(ev.ok()) << n;
      EXPECT_TRUE(std::get<RowsEvent>(ev->body).rows.empty());
      continue;
    }
    EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss) << n << " " << ev.status();
    EXPECT_THAT(ev.status().message(), HasSubstr("binlog.000001:200: WRITE_ROWS_EVENT")) << n;
  }
  // No TABLE_MAP for the id.
  std::string other = base;
  other[0] = 43;
  auto ev = Decode(EventType::kWriteRowsV2, other);
  EXPECT_THAT(ev.status().message(), HasSubstr("no TABLE_MAP_EVENT seen for table id 43"));
  // extra_len below 2.
  std::string bad_extra = base;
  bad_extra[8] = 1;
  EXPECT_THAT(Decode(EventType::kWriteRowsV2, bad_extra).status().message(),
              HasSubstr("extra-data length 1"));
  // More columns than the table.
  std::string many = base;
  many[10] = 9;
  EXPECT_EQ(Decode(EventType::kWriteRowsV2, many).status().code(), absl::StatusCode::kDataLoss);
  // No column present but bytes remain: must not loop forever.
  std::string empty_row = RowsHeader(42);
  empty_row += std::string("\x03\x00\x00", 3);
  EXPECT_THAT(Decode(EventType::kWriteRowsV2, empty_row).status().message(), HasSubstr("is empty"));
  // A JSON value that is not valid binary JSON.
  std::string bad_json = RowsHeader(42);
  bad_json += std::string("\x03\x05\x00", 3);
  PutLe(bad_json, 1, 4);
  PutLe(bad_json, 2, 4);
  bad_json += std::string("\x00\x05", 2);  // small object, truncated
  EXPECT_THAT(Decode(EventType::kWriteRowsV2, bad_json).status().message(),
              HasSubstr("column `doc`"));
  // The XID clears the table-map cache.
  std::string x(8, '\0');
  ASSERT_TRUE(Decode(EventType::kXid, x).ok());
  EXPECT_TRUE(decoder_.tables().empty());
}

TEST_F(RowsTest, TableMapFailurePaths) {
  std::string body = TableMapBody(50);
  size_t cut_ok = 0;
  for (size_t n = 0; n < body.size(); ++n) {
    auto ev = Decode(EventType::kTableMap, body.substr(0, n));
    if (ev.ok()) {
      ++cut_ok;  // a cut between optional-metadata TLVs is a valid, shorter table map
      continue;
    }
    EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss) << n;
    EXPECT_THAT(ev.status().message(), HasSubstr("TABLE_MAP_EVENT")) << n;
  }
  EXPECT_LE(cut_ok, 6u);
  // Bad per-column metadata: BLOB length size 9, DECIMAL(70,2), BIT(0), ENUM pack length 3.
  auto one_column = [&](char type, const std::string& meta) {
    std::string b;
    PutLe(b, 60, 6);
    PutLe(b, 0, 2);
    b += Lenenc("d") + std::string(1, '\0') + Lenenc("t") + std::string(1, '\0');
    b.push_back(1);
    b.push_back(type);
    b += Lenenc(meta);
    b.push_back(0);
    return Decode(EventType::kTableMap, b).status();
  };
  EXPECT_THAT(one_column('\xfc', "\x09").message(), HasSubstr("length-prefix size 9"));
  EXPECT_THAT(one_column('\xf6', "\x46\x02").message(), HasSubstr("DECIMAL(70,2)"));
  EXPECT_THAT(one_column('\x10', std::string("\x00\x00", 2)).message(), HasSubstr("BIT metadata"));
  EXPECT_THAT(one_column('\xfe', "\xf7\x03").message(), HasSubstr("ENUM pack length 3"));
  EXPECT_THAT(one_column('\x12', "\x07").message(), HasSubstr("fractional precision 7"));
  EXPECT_TRUE(one_column('\xfe', "\xfe\x10").ok());
  // CHAR(300) utf8mb4 = 1200 bytes: high length bits folded into the type byte.
  ASSERT_TRUE(one_column('\xfe', "\xee\xb0").ok());
  const ColumnDef& c = decoder_.tables().at(60)->columns[0];
  EXPECT_EQ(c.type, ColumnType::kString);
  EXPECT_EQ(c.max_length, 0xb0u | (0x10u << 4));
}

TEST(GtidEventTest, MySql8GtidWithTimestamps) {
  BinlogDecoder d;
  std::string fde = MakeFde(false);
  ASSERT_TRUE(d.Decode(AsBytes(fde), 4).ok());
  std::string g;
  g.push_back(1);
  for (int i = 0; i < 16; ++i) g.push_back(static_cast<char>(i));
  PutLe(g, 77, 8);
  g.push_back(2);
  PutLe(g, 10, 8);
  PutLe(g, 11, 8);
  PutLe(g, 1000 | (uint64_t{1} << 55), 7);
  PutLe(g, 900, 7);
  g.push_back(static_cast<char>(200));  // transaction length
  std::string e = MakeEvent(static_cast<uint8_t>(EventType::kGtid), g, false);
  auto ev = d.Decode(AsBytes(e), 4);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const Gtid& gt = std::get<Gtid>(ev->body);
  EXPECT_EQ(gt.ToString(), "00010203-0405-0607-0809-0a0b0c0d0e0f:77");
  EXPECT_EQ(gt.last_committed, 10);
  EXPECT_EQ(gt.sequence_number, 11);
  EXPECT_EQ(gt.immediate_commit_micros, 1000u);
  EXPECT_EQ(gt.original_commit_micros, 900u);
  EXPECT_EQ(gt.transaction_length, 200u);
  g[25] = 3;  // bad logical timestamp type
  e = MakeEvent(static_cast<uint8_t>(EventType::kGtid), g, false);
  EXPECT_EQ(d.Decode(AsBytes(e), 4).status().code(), absl::StatusCode::kDataLoss);

  std::string hb =
      MakeEvent(static_cast<uint8_t>(EventType::kHeartbeat), "binlog.000009", false, 0, 1, 4567);
  ev = d.Decode(AsBytes(hb), 0);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(std::get<Heartbeat>(ev->body).file, "binlog.000009");
  EXPECT_EQ(ev->header.log_pos, 4567u);

  std::string rq =
      MakeEvent(static_cast<uint8_t>(EventType::kRowsQuery), "\x05UPDATE t SET a=1", false);
  ev = d.Decode(AsBytes(rq), 0);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(std::get<RowsQuery>(ev->body).query, "UPDATE t SET a=1");
}

TEST(PreviousGtidsTest, HostileCountsAreRejectedBeforeAllocating) {
  std::string body;
  PutLe(body, uint64_t{1} << 40, 8);
  auto st = DecodePreviousGtids(AsBytes(body));
  EXPECT_EQ(st.status().code(), absl::StatusCode::kDataLoss);
  std::string one;
  PutLe(one, 1, 8);
  one += std::string(16, '\x11');
  PutLe(one, uint64_t{1} << 50, 8);
  EXPECT_EQ(DecodePreviousGtids(AsBytes(one)).status().code(), absl::StatusCode::kDataLoss);
  std::string ok;
  PutLe(ok, 1, 8);
  ok += std::string(16, '\x11');
  PutLe(ok, 2, 8);
  PutLe(ok, 1, 8);
  PutLe(ok, 6, 8);
  PutLe(ok, 7, 8);
  PutLe(ok, 8, 8);
  auto p = DecodePreviousGtids(AsBytes(ok));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ToString(), "11111111-1111-1111-1111-111111111111:1-5:7");
}

}  // namespace
}  // namespace sluice::mysql

namespace sluice::mysql {
namespace {

// TRANSACTION_PAYLOAD header fields: { type · len · value } lenenc each, then 0.
std::string PayloadBody(uint64_t compression, const std::string& data, uint64_t uncompressed) {
  auto lenenc = [](uint64_t v) {
    std::string s;
    if (v < 251) {
      s.push_back(static_cast<char>(v));
    } else {
      s.push_back('\xfc');
      PutLe(s, v, 2);
    }
    return s;
  };
  auto field = [&](uint64_t type, uint64_t v) {
    std::string value = lenenc(v);
    return lenenc(type) + lenenc(value.size()) + value;
  };
  return field(2, compression) + field(3, uncompressed) + field(1, data.size()) +
         std::string(1, '\0') + data;
}

TEST(TransactionPayloadTest, UncompressedInnerEventsAndErrors) {
  BinlogDecoder d;
  d.set_file_name("binlog.000002");
  std::string fde = MakeFde(true);
  ASSERT_TRUE(d.Decode(AsBytes(fde), 4).ok());
  // Inner events carry no checksum.
  std::string inner = MakeEvent(static_cast<uint8_t>(EventType::kTableMap), TableMapBody(), false);
  std::string w = RowsHeader(42);
  w += std::string("\x03\x07\x06", 3);
  PutLe(w, 9, 4);
  inner += MakeEvent(static_cast<uint8_t>(EventType::kWriteRowsV2), w, false);
  inner += MakeEvent(static_cast<uint8_t>(EventType::kXid), std::string(8, '\0'), false);
  std::string ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload),
                             PayloadBody(255, inner, inner.size()), true);
  auto out = d.Decode(AsBytes(ev), 300);
  ASSERT_TRUE(out.ok()) << out.status();
  const auto& p = std::get<TransactionPayload>(out->body);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(RowJson(*std::get<RowsEvent>(p.events[1].body).rows[0].after),
            "{\"id\":9,\"name\":null,\"doc\":null}");

  // Declared payload size disagrees with the bytes.
  std::string body = PayloadBody(255, inner, inner.size());
  body.pop_back();
  ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload), body, true);
  auto st = d.Decode(AsBytes(ev), 300).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("binlog.000002:300: TRANSACTION_PAYLOAD_EVENT"));
  // A truncated inner event.
  std::string cut = inner.substr(0, inner.size() - 3);
  ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload),
                 PayloadBody(255, cut, cut.size()), true);
  EXPECT_THAT(d.Decode(AsBytes(ev), 300).status().message(), HasSubstr("remain"));
  // Not a zstd frame.
  ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload),
                 PayloadBody(0, "not zstd at all", 100), true);
  EXPECT_THAT(d.Decode(AsBytes(ev), 300).status().message(), HasSubstr("zstd"));
  // Over the size limit.
  d.set_max_payload_size(10);
  ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload), PayloadBody(0, "x", 1000),
                 true);
  EXPECT_THAT(d.Decode(AsBytes(ev), 300).status().message(), HasSubstr("exceeds the limit"));
  // Unknown compression.
  ev =
      MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload), PayloadBody(7, "x", 1), true);
  EXPECT_EQ(d.Decode(AsBytes(ev), 300).status().code(), absl::StatusCode::kUnimplemented);
  // A payload inside a payload.
  d.set_max_payload_size(1 << 20);
  std::string nested = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload),
                                 PayloadBody(255, "", 0), false);
  ev = MakeEvent(static_cast<uint8_t>(EventType::kTransactionPayload),
                 PayloadBody(255, nested, nested.size()), true);
  EXPECT_THAT(d.Decode(AsBytes(ev), 300).status().message(), HasSubstr("nested"));
}

}  // namespace
}  // namespace sluice::mysql
