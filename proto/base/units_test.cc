#include "proto/base/units.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(UnitsTest, ParsesDurations) {
  EXPECT_EQ(*ParseDurationMicros("500ms"), 500'000);
  EXPECT_EQ(*ParseDurationMicros("45"), 45'000'000);
  EXPECT_EQ(*ParseDurationMicros("2h"), int64_t{7'200'000'000});
  EXPECT_EQ(*ParseDurationMicros("7d"), int64_t{7} * 86'400'000'000);
  EXPECT_EQ(*ParseDurationMicros("0s"), 0);
  EXPECT_EQ(ParseDurationMicros("7 days").status().message(),
            "duration \"7 days\" has an unknown unit or is too long; use ms, s, m, h or d");
  EXPECT_EQ(ParseDurationMicros("d").status().message(),
            "duration \"d\" is not a number with a unit (7d, 12h, 30m, 45s, 500ms)");
  EXPECT_FALSE(ParseDurationMicros("999999999999999999d").ok());
}

TEST(UnitsTest, ParsesSizes) {
  EXPECT_EQ(*ParseByteSize("10MiB"), uint64_t{10} << 20);
  EXPECT_EQ(*ParseByteSize("50GiB"), uint64_t{50} << 30);
  EXPECT_EQ(*ParseByteSize("1GB"), 1'000'000'000u);
  EXPECT_EQ(*ParseByteSize("1000"), 1000u);
  EXPECT_EQ(ParseByteSize("10 parsecs").status().message(),
            "size \"10 parsecs\" has an unknown unit or is too large; use B, KiB, MiB, GiB, TiB");
  EXPECT_FALSE(ParseByteSize("GiB").ok());
  EXPECT_FALSE(ParseByteSize("999999999999999999TiB").ok());
}

TEST(UnitsTest, FormatsRoundTrip) {
  EXPECT_EQ(FormatDurationMicros(int64_t{7} * 86'400'000'000), "7d");
  EXPECT_EQ(FormatDurationMicros(1'500'000), "1500ms");
  EXPECT_EQ(FormatDurationMicros(90 * 60'000'000LL), "90m");
  EXPECT_EQ(FormatDurationMicros(0), "0s");
  EXPECT_EQ(FormatDurationMicros(7), "7us");
  EXPECT_EQ(FormatByteSize(uint64_t{50} << 30), "50GiB");
  EXPECT_EQ(FormatByteSize(1536), "1536B");
  EXPECT_EQ(FormatByteSize(3072), "3KiB");
  EXPECT_EQ(FormatByteSize(1000), "1000B");
  EXPECT_EQ(FormatByteSize(0), "0B");
  for (const char* text : {"7d", "12h", "30m", "45s", "500ms"}) {
    EXPECT_EQ(FormatDurationMicros(*ParseDurationMicros(text)), text);
  }
}

}  // namespace
}  // namespace sluice
