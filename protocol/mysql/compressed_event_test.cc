// MariaDB compressed events (165-171), handcrafted with zlib: records, query and row events
// through BinlogDecoder, and the failure paths.
#include "protocol/mysql/compressed_event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/event_builder_test_util.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

using testing::AsBytes;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::PutLe;
using testing::RowJson;

std::string Lenenc(const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; }

std::string Zlib(const std::string& plain, int level = Z_DEFAULT_COMPRESSION) {
  uLongf len = compressBound(plain.size());
  std::string out(len, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &len,
                      reinterpret_cast<const Bytef*>(plain.data()), plain.size(), level),
            Z_OK);
  out.resize(len);
  return out;
}

// A compressed record the way MariaDB writes it: the fewest big-endian length bytes.
std::string Record(const std::string& plain) {
  const uint32_t n = static_cast<uint32_t>(plain.size());
  int bytes = n > 0xFFFFFF ? 4 : n > 0xFFFF ? 3 : n > 0xFF ? 2 : 1;
  std::string r(1, static_cast<char>(0x80 | bytes));
  for (int i = bytes - 1; i >= 0; --i) r.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  return r + Zlib(plain);
}

// A MariaDB 10.11 FORMAT_DESCRIPTION: 171 post-header lengths, compressed types included.
std::string MariaFde(bool crc) {
  std::string body;
  PutLe(body, 4, 2);
  std::string v = "10.11.19-MariaDB-log";
  v.resize(50, '\0');
  body += v;
  PutLe(body, 0, 4);
  body.push_back(19);
  std::string lengths(171, '\0');
  auto set = [&](int type, int len) { lengths[type - 1] = static_cast<char>(len); };
  set(2, 13);
  set(4, 8);
  set(15, 57 + 171);
  set(19, 8);
  for (int t = 23; t <= 25; ++t) set(t, 8);
  for (int t = 30; t <= 32; ++t) set(t, 10);
  set(165, 13);
  for (int t = 166; t <= 168; ++t) set(t, 8);
  for (int t = 169; t <= 171; ++t) set(t, 10);
  body += lengths;
  body.push_back(crc ? 1 : 0);
  std::string e;
  PutLe(e, 0, 4);
  e.push_back(static_cast<char>(EventType::kFormatDescription));
  PutLe(e, 1, 4);
  PutLe(e, kEventHeaderLength + body.size() + 4, 4);
  PutLe(e, 0, 4);
  PutLe(e, 0, 2);
  e += body;
  PutLe(e, crc ? Crc32(e) : 0, 4);
  return e;
}

// QUERY post-header (13 bytes) · status vars · db · NUL, before the compressed query.
std::string QueryHead(const std::string& db, const std::string& status = "") {
  std::string b;
  PutLe(b, 77, 4);  // thread id
  PutLe(b, 0, 4);
  b.push_back(static_cast<char>(db.size()));
  PutLe(b, 0, 2);
  PutLe(b, status.size(), 2);
  return b + status + db + std::string(1, '\0');
}

// shop.t (id INT, note VARCHAR(300) utf8mb4) as table id 7.
std::string TableMapBody() {
  std::string b;
  PutLe(b, 7, 6);
  PutLe(b, 1, 2);
  b += Lenenc("shop") + std::string(1, '\0') + Lenenc("t") + std::string(1, '\0');
  b.push_back(2);
  b += std::string("\x03\x0f", 2);
  b += std::string("\x02\x2c\x01", 3);  // VARCHAR max 300 bytes
  b.push_back(0x02);
  std::string names = Lenenc("id") + Lenenc("note");
  b += std::string("\x04") + Lenenc(names);
  b += std::string("\x03\x01\x2d", 3);  // COLUMN_CHARSET: note utf8mb4
  return b;
}

std::string RowImage(int32_t id, const std::string& note) {
  std::string r(1, '\0');  // no NULLs
  PutLe(r, static_cast<uint32_t>(id), 4);
  PutLe(r, note.size(), 2);
  return r + note;
}

class CompressedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    decoder_.set_file_name("mariadb-bin.000002");
    fde_ = MariaFde(true);
    ASSERT_TRUE(decoder_.Decode(AsBytes(fde_), 4).ok());
    tm_ = MakeEvent(static_cast<uint8_t>(EventType::kTableMap), TableMapBody(), true);
    auto ev = decoder_.Decode(AsBytes(tm_), 100);
    ASSERT_TRUE(ev.ok()) << ev.status();
  }
  absl::StatusOr<Event> Decode(EventType type, const std::string& body) {
    event_ = MakeEvent(static_cast<uint8_t>(type), body, true);
    return decoder_.Decode(AsBytes(event_), 417);
  }
  // Rows header, column count 2, both columns present (twice for UPDATE).
  static std::string RowsHead(bool v2, bool update) {
    std::string b;
    PutLe(b, 7, 6);
    PutLe(b, 1, 2);
    if (v2) {
      PutLe(b, 5, 2);  // 3 bytes of extra data
      b += "\x01\x02\x03";
    }
    b.push_back(2);
    b.push_back(0x03);
    if (update) b.push_back(0x03);
    return b;
  }
  BinlogDecoder decoder_;
  std::string fde_, tm_, event_;
};

TEST(CompressedRecordTest, TypesMapToTheirUncompressedEvents) {
  EXPECT_EQ(UncompressedEventType(165), 2);
  EXPECT_EQ(UncompressedEventType(166), 23);
  EXPECT_EQ(UncompressedEventType(167), 24);
  EXPECT_EQ(UncompressedEventType(168), 25);
  EXPECT_EQ(UncompressedEventType(169), 30);
  EXPECT_EQ(UncompressedEventType(170), 31);
  EXPECT_EQ(UncompressedEventType(171), 32);
  EXPECT_EQ(UncompressedEventType(2), std::nullopt);
  EXPECT_EQ(UncompressedEventType(164), std::nullopt);
}

TEST(CompressedRecordTest, LengthIsBigEndianInOneToFourBytes) {
  for (size_t n : {size_t{10}, size_t{255}, size_t{256}, size_t{70000}, size_t{0x1000001}}) {
    std::string plain(n, 'q');
    plain[n / 2] = 'x';
    std::string rec = Record(plain);
    auto out = DecompressRecord(AsBytes(rec), uint64_t{1} << 30, "QUERY_COMPRESSED_EVENT", 30);
    ASSERT_TRUE(out.ok()) << n << ": " << out.status();
    EXPECT_EQ(*out, plain) << n;
  }
  // The same 300 bytes with a 4-byte length field.
  std::string plain(300, 'a');
  std::string rec = std::string("\x84\x00\x00\x01\x2c", 5) + Zlib(plain);
  auto out = DecompressRecord(AsBytes(rec), 1000, "X", 0);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, plain);
}

TEST(CompressedRecordTest, BadRecordsAreDataLoss) {
  const std::string plain = "INSERT INTO t VALUES (1, 'abcdefghijklmnop')";
  const std::string good = Record(plain);
  auto expect = [](const std::string& rec, uint64_t max, const std::string& msg) {
    auto out = DecompressRecord(AsBytes(rec), max, "QUERY_COMPRESSED_EVENT", 40);
    ASSERT_FALSE(out.ok()) << msg;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss) << out.status();
    EXPECT_THAT(out.status().message(), HasSubstr(msg));
    EXPECT_THAT(out.status().message(), HasSubstr("QUERY_COMPRESSED_EVENT: "));
  };
  expect("", 100, "no compressed record at offset 40");
  std::string r = good;
  r[0] = 0x01;
  expect(r, 100, "lacks the compressed flag");
  r = good;
  r[0] = static_cast<char>(0x91);
  expect(r, 100, "compression algorithm 1 at offset 40 is unknown");
  r = good;
  r[0] = static_cast<char>(0x85);
  expect(r, 100, "declares 5 length bytes");
  r = good;
  r[0] = static_cast<char>(0x80);
  expect(r, 100, "declares 0 length bytes");
  expect(std::string("\x82\x01", 2), 100, "compressed record length");
  expect(std::string("\x81\x00", 2) + Zlib(""), 100, "uncompressed length of 0");
  expect(good, plain.size() - 1, "exceeds the limit");
  r = good;
  r[1] = static_cast<char>(plain.size() + 1);
  expect(r, 1000,
         "inflates to " + std::to_string(plain.size()) + " bytes, the record declares " +
             std::to_string(plain.size() + 1));
  r = good;
  r[1] = static_cast<char>(plain.size() - 1);
  expect(r, 1000, "bytes, the record declares " + std::to_string(plain.size() - 1));
  r = good;
  r[1] = static_cast<char>(plain.size() - 10);
  expect(r, 1000, "inflates to more than " + std::to_string(plain.size() - 10));
  expect(good.substr(0, good.size() - 5), 1000, "before its end mark");
  r = good;
  r[5] ^= 0x55;
  expect(r, 1000, "at offset 42 is corrupt");
  expect(good + "xyz", 1000, "3 bytes follow the end of the zlib stream");
}

TEST_F(CompressedTest, QueryDecodesAsQueryEvent) {
  const std::string query =
      "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(300)) -- " + std::string(400, 'z');
  std::string status("\x00\x00\x00\x00\x00", 5);  // a flags2 status var
  auto ev = Decode(EventType::kMariaQueryCompressed, QueryHead("shop", status) + Record(query));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->header.type, 165);
  const auto& q = std::get<Query>(ev->body);
  EXPECT_EQ(q.thread_id, 77u);
  EXPECT_EQ(q.database, "shop");
  EXPECT_EQ(q.query, query);
}

TEST_F(CompressedTest, QueryErrorsNameFilePositionAndEvent) {
  auto ev = Decode(EventType::kMariaQueryCompressed, QueryHead("shop"));
  ASSERT_FALSE(ev.ok());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ev.status().message(),
              HasSubstr("mariadb-bin.000002:417: QUERY_COMPRESSED_EVENT: the query's compressed "
                        "record would start at offset 18"));
  std::string body = QueryHead("shop") + Record("SELECT 1234567890");
  body[body.size() - 3] ^= 0x40;  // inside the zlib stream's adler32
  ev = Decode(EventType::kMariaQueryCompressed, body);
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(
      ev.status().message(),
      HasSubstr("mariadb-bin.000002:417: QUERY_COMPRESSED_EVENT: zlib stream at offset 20"));
}

TEST_F(CompressedTest, RowsV1AndV2DecodeAsRowEvents) {
  const std::string long_note(250, 'n');
  for (bool v2 : {false, true}) {
    SCOPED_TRACE(v2 ? "v2" : "v1");
    const EventType write =
        v2 ? EventType::kMariaWriteRowsCompressed : EventType::kMariaWriteRowsCompressedV1;
    auto ev = Decode(
        write, RowsHead(v2, false) + Record(RowImage(1, long_note) + RowImage(-2, "h\xc3\xa9")));
    ASSERT_TRUE(ev.ok()) << ev.status();
    EXPECT_EQ(ev->header.type, static_cast<uint8_t>(write));
    const auto& w = std::get<RowsEvent>(ev->body);
    EXPECT_EQ(w.kind, RowsKind::kWrite);
    EXPECT_EQ(w.type, v2 ? 30 : 23);
    ASSERT_EQ(w.rows.size(), 2u);
    EXPECT_EQ(RowJson(*w.rows[0].after), "{\"id\":1,\"note\":\"" + long_note + "\"}");
    EXPECT_EQ(RowJson(*w.rows[1].after), "{\"id\":-2,\"note\":\"h\xc3\xa9\"}");

    ev =
        Decode(v2 ? EventType::kMariaUpdateRowsCompressed : EventType::kMariaUpdateRowsCompressedV1,
               RowsHead(v2, true) + Record(RowImage(1, "old") + RowImage(1, long_note)));
    ASSERT_TRUE(ev.ok()) << ev.status();
    const auto& u = std::get<RowsEvent>(ev->body);
    EXPECT_EQ(u.kind, RowsKind::kUpdate);
    ASSERT_EQ(u.rows.size(), 1u);
    EXPECT_EQ(RowJson(*u.rows[0].before), "{\"id\":1,\"note\":\"old\"}");
    EXPECT_EQ(RowJson(*u.rows[0].after), "{\"id\":1,\"note\":\"" + long_note + "\"}");

    ev =
        Decode(v2 ? EventType::kMariaDeleteRowsCompressed : EventType::kMariaDeleteRowsCompressedV1,
               RowsHead(v2, false) + Record(RowImage(3, "gone gone gone")));
    ASSERT_TRUE(ev.ok()) << ev.status();
    const auto& d = std::get<RowsEvent>(ev->body);
    EXPECT_EQ(d.kind, RowsKind::kDelete);
    EXPECT_EQ(RowJson(*d.rows[0].before), "{\"id\":3,\"note\":\"gone gone gone\"}");
  }
}

TEST_F(CompressedTest, RowsErrors) {
  // Bitmaps, then nothing.
  auto ev = Decode(EventType::kMariaWriteRowsCompressedV1, RowsHead(false, false));
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(ev.status().message(),
              HasSubstr("mariadb-bin.000002:417: WRITE_ROWS_COMPRESSED_EVENT_V1: no compressed "
                        "record at offset 10"));
  // A column count whose bitmaps cannot fit.
  std::string body;
  PutLe(body, 7, 6);
  PutLe(body, 1, 2);
  body += std::string("\xfc\xff\xff", 3);
  ev = Decode(EventType::kMariaWriteRowsCompressedV1, body);
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(ev.status().message(), HasSubstr("65535 columns: the column bitmaps at offset 11"));
  // v2 extra-data length below 2.
  body.clear();
  PutLe(body, 7, 6);
  PutLe(body, 1, 2);
  PutLe(body, 1, 2);
  ev = Decode(EventType::kMariaWriteRowsCompressed, body + "\x02\x03" + Record("0123456789"));
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(ev.status().message(), HasSubstr("extra-data length 1 at offset 8"));
  // The inflated rows are checked like any row event.
  ev = Decode(EventType::kMariaWriteRowsCompressedV1,
              RowsHead(false, false) + Record(RowImage(1, "abc").substr(0, 7)));
  ASSERT_FALSE(ev.ok());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ev.status().message(), HasSubstr("WRITE_ROWS_EVENT_V1 (table shop.t): row 0"));
  // An empty end-of-statement event passes through.
  body.clear();
  PutLe(body, 7, 6);
  PutLe(body, 1, 2);
  ev = Decode(EventType::kMariaDeleteRowsCompressedV1, body);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_TRUE(std::get<RowsEvent>(ev->body).rows.empty());
}

TEST_F(CompressedTest, LimitComesFromTheDecoder) {
  decoder_.set_max_payload_size(100);
  auto ev =
      Decode(EventType::kMariaQueryCompressed, QueryHead("shop") + Record(std::string(101, 's')));
  ASSERT_FALSE(ev.ok());
  EXPECT_THAT(ev.status().message(), HasSubstr("uncompressed length 101 at offset 18 exceeds the "
                                               "limit 100"));
}

// A post-header length for the compressed type that differs from the uncompressed one.
TEST(CompressedEventTest, MismatchedPostHeaderLengthsAreDataLoss) {
  FormatDescription fde = DefaultFormatDescription();
  fde.post_header_lengths.assign(171, 0);
  fde.post_header_lengths[23 - 1] = 8;
  fde.post_header_lengths[166 - 1] = 10;
  std::string body = std::string(8, '\0') + "\x01\x01" + Record("0123456789");
  auto out = DecompressEvent(166, AsBytes(body), fde, 1000);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(),
              HasSubstr("WRITE_ROWS_COMPRESSED_EVENT_V1: FORMAT_DESCRIPTION declares post-header "
                        "length 10 for it but 8 for WRITE_ROWS_EVENT_V1"));
}

}  // namespace
}  // namespace sluice::mysql
