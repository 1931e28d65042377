#include "protocol/postgres/copy_data.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/postgres/test_bytes.h"

namespace sluice::postgres {
namespace {

using testing::Bytes;

std::span<const std::byte> Span(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(CopyDataTest, DecodesXLogData) {
  const std::string msg =
      Bytes().Ch('w').U64(0x16B374D848).U64(0x16B374D900).U64(12345).Raw("BODY").str();
  auto m = DecodeCopyData(Span(msg));
  ASSERT_TRUE(m.ok()) << m.status();
  const auto& x = std::get<XLogData>(*m);
  EXPECT_EQ(x.wal_start, Lsn(0x16B374D848));
  EXPECT_EQ(x.wal_end, Lsn(0x16B374D900));
  EXPECT_EQ(x.send_time_pg_micros, 12345);
  ASSERT_EQ(x.payload.size(), 4u);
  EXPECT_EQ(std::memcmp(x.payload.data(), "BODY", 4), 0);
}

TEST(CopyDataTest, XLogDataWithEmptyPayload) {
  const std::string msg = Bytes().Ch('w').U64(1).U64(2).U64(3).str();
  auto m = DecodeCopyData(Span(msg));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(std::get<XLogData>(*m).payload.empty());
}

TEST(CopyDataTest, DecodesKeepalive) {
  for (uint8_t reply : {0, 1}) {
    const std::string msg = Bytes().Ch('k').U64(0xABCDEF).U64(-5).U8(reply).str();
    auto m = DecodeCopyData(Span(msg));
    ASSERT_TRUE(m.ok()) << m.status();
    const auto& k = std::get<PrimaryKeepalive>(*m);
    EXPECT_EQ(k.wal_end, Lsn(0xABCDEF));
    EXPECT_EQ(k.send_time_pg_micros, -5);
    EXPECT_EQ(k.reply_requested, reply == 1);
  }
}

TEST(CopyDataTest, TruncatedAtEveryOffsetIsDataLoss) {
  const std::string xlog = Bytes().Ch('w').U64(1).U64(2).U64(3).str();
  const std::string keep = Bytes().Ch('k').U64(1).U64(2).U8(1).str();
  for (const std::string* full : {&xlog, &keep}) {
    for (size_t n = 1; n < full->size(); ++n) {
      auto m = DecodeCopyData(Span(full->substr(0, n)));
      ASSERT_FALSE(m.ok()) << n;
      EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << m.status();
      EXPECT_NE(m.status().message().find("offset"), absl::string_view::npos) << m.status();
    }
  }
}

TEST(CopyDataTest, RejectsBadInput) {
  EXPECT_EQ(DecodeCopyData({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string unknown = Bytes().Ch('x').U64(1).str();
  auto m = DecodeCopyData(Span(unknown));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("0x78"), absl::string_view::npos) << m.status();
  const std::string bad_flag = Bytes().Ch('k').U64(1).U64(2).U8(7).str();
  EXPECT_EQ(DecodeCopyData(Span(bad_flag)).status().code(), absl::StatusCode::kDataLoss);
  const std::string trailing = Bytes().Ch('k').U64(1).U64(2).U8(0).U8(0).str();
  EXPECT_EQ(DecodeCopyData(Span(trailing)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(CopyDataTest, EncodesStandbyStatusUpdate) {
  StandbyStatusUpdate u;
  u.write = Lsn(0x0102030405060708);
  u.flush = Lsn(0x1112131415161718);
  u.apply = Lsn(0x2122232425262728);
  u.clock_pg_micros = 0x3132333435363738;
  u.reply_requested = true;
  const std::string expected = Bytes()
                                   .Ch('r')
                                   .U64(0x0102030405060708)
                                   .U64(0x1112131415161718)
                                   .U64(0x2122232425262728)
                                   .U64(0x3132333435363738)
                                   .U8(1)
                                   .str();
  EXPECT_EQ(EncodeStandbyStatusUpdate(u), expected);
  EXPECT_EQ(EncodeStandbyStatusUpdate(u).size(), kStandbyStatusUpdateSize);
  u.reply_requested = false;
  EXPECT_EQ(EncodeStandbyStatusUpdate(u).back(), '\0');
}

TEST(CopyDataTest, EpochConversion) {
  EXPECT_EQ(UnixMicrosFromPostgres(0), 946684800LL * 1000000);
  EXPECT_EQ(PostgresMicrosFromUnix(946684800LL * 1000000), 0);
  EXPECT_EQ(UnixMicrosFromPostgres(INT64_MAX), INT64_MAX);
  EXPECT_EQ(UnixMicrosFromPostgres(INT64_MIN), INT64_MIN);
  EXPECT_EQ(UnixMicrosFromPostgres(INT64_MAX - 1), INT64_MAX);  // saturates
  EXPECT_EQ(PostgresMicrosFromUnix(INT64_MIN + 1), INT64_MIN);
}

}  // namespace
}  // namespace sluice::postgres
