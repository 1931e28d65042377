#include "proto/base/positions.h"

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

// The strong types do not mix with each other or with bare integers.
static_assert(!std::is_convertible_v<Lsn, uint64_t>);
static_assert(!std::is_convertible_v<uint64_t, Lsn>);
static_assert(!std::is_convertible_v<LogOffset, Lsn>);
static_assert(!std::is_convertible_v<Lsn, LogOffset>);
static_assert(!std::is_same_v<Lsn, LogOffset>);

TEST(LsnTest, FormatsLikePostgres) {
  EXPECT_EQ(FormatLsn(Lsn(0)), "0/0");
  EXPECT_EQ(FormatLsn(Lsn(0x16B374D848)), "16/B374D848");
  EXPECT_EQ(FormatLsn(Lsn(0x16B3748)), "0/16B3748");
  EXPECT_EQ(FormatLsn(Lsn(0x100000000)), "1/0");
  EXPECT_EQ(FormatLsn(Lsn(0xABCDEF0000000001)), "ABCDEF00/1");
  EXPECT_EQ(FormatLsn(Lsn(UINT64_MAX)), "FFFFFFFF/FFFFFFFF");
}

TEST(LsnTest, Parses) {
  EXPECT_EQ(ParseLsn("16/B374D848").value(), Lsn(0x16B374D848));
  EXPECT_EQ(ParseLsn("16/b374d848").value(), Lsn(0x16B374D848));
  EXPECT_EQ(ParseLsn("0/0").value(), Lsn(0));
  EXPECT_EQ(ParseLsn("0/16B3748").value(), Lsn(0x16B3748));
  EXPECT_EQ(ParseLsn("00000000/00000001").value(), Lsn(1));
  EXPECT_EQ(ParseLsn("FFFFFFFF/FFFFFFFF").value(), Lsn(UINT64_MAX));
}

TEST(LsnTest, RoundTrips) {
  const uint64_t samples[] = {
      0, 1, 0xFFFFFFFF, 0x100000000, 0x16B374D848, 0x8000000000000000, UINT64_MAX};
  for (uint64_t v : samples) {
    EXPECT_EQ(ParseLsn(FormatLsn(Lsn(v))).value(), Lsn(v)) << v;
  }
}

TEST(LsnTest, RejectsGarbage) {
  const char* bad[] = {"",    "/",    "16",   "16/",  "/1",   "1/2/3", "123456789/0", "0/123456789",
                       "g/0", " 1/2", "1/2 ", "-1/2", "+1/2", "0x1/2", "1:2",         "1/-2"};
  for (const char* text : bad) {
    absl::StatusOr<Lsn> parsed = ParseLsn(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find("\"" + std::string(text) + "\""), std::string::npos)
        << parsed.status();
  }
}

TEST(StrongIntTest, OrderingAndNext) {
  EXPECT_LT(Lsn(1), Lsn(2));
  EXPECT_EQ(LogOffset(7).next(), LogOffset(8));
  EXPECT_EQ(LogOffset().value(), 0u);
}

TEST(BinlogPositionTest, ToStringAndOrder) {
  EXPECT_EQ((BinlogPosition{"binlog.000003", 1234}).ToString(), "binlog.000003:1234");
  EXPECT_LT((BinlogPosition{"binlog.000003", 9999}), (BinlogPosition{"binlog.000004", 4}));
  EXPECT_LT((BinlogPosition{"binlog.000003", 4}), (BinlogPosition{"binlog.000003", 5}));
}

}  // namespace
}  // namespace sluice
