#include "proto/base/time_format.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

constexpr int64_t kT = 1767323045123000;   // 2026-01-02T03:04:05.123Z
constexpr int64_t kT0 = 1767323045000000;  // 2026-01-02T03:04:05Z
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(CivilDateTest, KnownDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 1, 1), 10957);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);   // 2000 is a leap year
  EXPECT_EQ(DaysFromCivil(1900, 3, 1), -25508);  // 1900 is not
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(0, 3, 1), -719468);
  EXPECT_EQ(CivilFromDays(0), (CivilDate{1970, 1, 1}));
  EXPECT_EQ(CivilFromDays(-1), (CivilDate{1969, 12, 31}));
  EXPECT_EQ(CivilFromDays(11016), (CivilDate{2000, 2, 29}));
  EXPECT_EQ(CivilFromDays(-719163), (CivilDate{0, 12, 31}));
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(2026, 2), 28u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(DaysInMonth(0, 2), 29u);
  EXPECT_EQ(DaysInMonth(2026, 4), 30u);
  EXPECT_EQ(DaysInMonth(2026, 13), 0u);
}

TEST(CivilDateTest, RoundTrip) {
  for (int64_t days = -3'000'000; days <= 3'000'000; days += 997) {
    const CivilDate date = CivilFromDays(days);
    ASSERT_GE(date.month, 1u);
    ASSERT_LE(date.day, DaysInMonth(date.year, date.month));
    ASSERT_EQ(DaysFromCivil(date.year, date.month, date.day), days);
  }
}

TEST(FormatFractionTest, TrimsTrailingZeros) {
  EXPECT_EQ(FormatFraction(0), "");
  EXPECT_EQ(FormatFraction(1), ".000001");
  EXPECT_EQ(FormatFraction(10), ".00001");
  EXPECT_EQ(FormatFraction(100), ".0001");
  EXPECT_EQ(FormatFraction(123000), ".123");
  EXPECT_EQ(FormatFraction(500000), ".5");
  EXPECT_EQ(FormatFraction(999999), ".999999");
  EXPECT_EQ(FormatFraction(120034), ".120034");
  EXPECT_EQ(FormatFraction(1000000), ".1000000");  // out of range: shown, not hidden
}

TEST(FormatTimestampTest, Values) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestampMicros(kT), "2026-01-02T03:04:05.123Z");
  EXPECT_EQ(FormatTimestampMicros(kT0), "2026-01-02T03:04:05Z");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestampMicros(-999999), "1969-12-31T23:59:59.000001Z");
  EXPECT_EQ(FormatTimestampMicros(951782400000000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatTimestampMicros(kMax), "infinity");
  EXPECT_EQ(FormatTimestampMicros(kMin), "-infinity");
  EXPECT_EQ(FormatTimestampMicros(kMax - 1), "294247-01-10T04:00:54.775806Z");
  EXPECT_EQ(FormatTimestampMicros(kMin + 1), "290309-12-21T19:59:05.224193Z BC");
  std::string out = "x=";
  AppendTimestampMicros(kT, out);
  EXPECT_EQ(out, "x=2026-01-02T03:04:05.123Z");
}

TEST(ParseTimestampTest, Accepts) {
  struct Case {
    const char* text;
    int64_t micros;
  };
  const Case cases[] = {
      {"2026-01-02T03:04:05Z", kT0},
      {"2026-01-02T03:04:05.123Z", kT},
      {"2026-01-02T03:04:05.123000Z", kT},
      {"2026-01-02T03:04:05.123456789Z", kT0 + 123456},  // nanoseconds truncated
      {"2026-01-02t03:04:05z", kT0},
      {"2026-01-02T05:04:05+02:00", kT0},
      {"2026-01-02T05:04:05.123+02:00", kT},
      {"2026-01-01T19:04:05-08:00", kT0},
      {"2026-01-02T08:34:05+0530", kT0},
      {"2026-01-02T05:04:05+02", kT0},
      {"2026-01-02T03:04:05+00:00", kT0},
      {"2026-01-02T03:04:05-00:00", kT0},
      {"2026-01-02T03:04:05+00:00:10", kT0 - 10'000'000},
      {"2026-01-02 03:04:05", kT0},  // no zone: UTC
      {"2026-01-02 03:04:05.123", kT},
      {"2026-01-02T03:04:05", kT0},
      {"2026-01-02T03:04Z", kT0 - 5'000'000},
      {"2026-01-02", kT0 - (3 * 3600 + 4 * 60 + 5) * 1'000'000LL},
      {"1970-01-01T00:00:00Z", 0},
      {"1969-12-31T23:59:59.999999Z", -1},
      {"1900-01-01", -2208988800000000},
      {"2024-02-29T00:00:00Z", 1709164800000000},
      {"0001-01-01T00:00:00Z", -62135596800000000},
      {"0044-03-15T00:00:00Z BC", -63517824000000000},
      {"0044-03-15 BC", -63517824000000000},
      {"10000-01-01T00:00:00Z", 253402300800000000},
      {"infinity", kMax},
      {"-infinity", kMin},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> parsed = ParseTimestamp(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status();
    EXPECT_EQ(*parsed, c.micros) << c.text;
  }
}

TEST(ParseTimestampTest, RejectsGarbage) {
  const char* bad[] = {
      "",
      "garbage",
      "2026",
      "2026-01",
      "2026-1-2",
      "26-01-02",
      "2026/01/02",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-01-32",
      "2026-02-29",
      "2026-04-31",
      "0000-01-01",
      "1234567-01-01",
      " 2026-01-02",
      "2026-01-02 ",
      "2026-01-02T",
      "2026-01-02T03",
      "2026-01-02T3:04:05Z",
      "2026-01-02T24:00:00Z",
      "2026-01-02T23:60:00Z",
      "2026-01-02T23:59:60Z",
      "2026-01-02T03:04:05.Z",
      "2026-01-02T03:04:05.1234567890Z",
      "2026-01-02T03:04:05Zjunk",
      "2026-01-02T03:04:05+24:00",
      "2026-01-02T03:04:05+02:60",
      "2026-01-02T03:04:05+2",
      "2026-01-02T03:04:05+",
      "2026-01-02T03:04:05 +02:00",
      "2026-01-02X03:04:05",
      "2026-01-02T03:04:05Z BC BC",
      " BC",
      "Infinity",
      "294277-01-01",
      "290309-01-01 BC",
  };
  for (const char* text : bad) {
    absl::StatusOr<int64_t> parsed = ParseTimestamp(text);
    ASSERT_FALSE(parsed.ok()) << text << " parsed as " << *parsed;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find("\"" + std::string(text) + "\""), std::string::npos)
        << parsed.status();
  }
}

TEST(ParseTimestampTest, ErrorNamesTheTextSafely) {
  absl::StatusOr<int64_t> parsed = ParseTimestamp("bad\n\"x\"");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "invalid timestamp \"bad\\x0A\\x22x\\x22\": expected a date YYYY-MM-DD");
}

TEST(ParseTimestampTest, RoundTripsFormat) {
  int64_t samples[] = {0,
                       1,
                       -1,
                       kT,
                       kT0,
                       -kT,
                       999999,
                       -999999,
                       1000000,
                       -1000000,
                       kMax - 1,
                       kMin + 1,
                       kMax,
                       kMin,
                       -62135596800000000,
                       -62135596800000001,
                       -63517824000000000,
                       253402300800000000};
  for (int64_t micros : samples) {
    const std::string text = FormatTimestampMicros(micros);
    absl::StatusOr<int64_t> parsed = ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    EXPECT_EQ(*parsed, micros) << text;
  }
  // A deterministic spread over the whole range.
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    int64_t micros = static_cast<int64_t>(state);
    if (i % 2 == 0) micros /= 1000;  // also plenty of values near the present
    if (micros == kMax || micros == kMin) continue;
    const std::string text = FormatTimestampMicros(micros);
    absl::StatusOr<int64_t> parsed = ParseTimestamp(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
    ASSERT_EQ(*parsed, micros) << text;
  }
}

}  // namespace
}  // namespace sluice
