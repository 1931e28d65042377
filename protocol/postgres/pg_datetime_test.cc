#include "protocol/postgres/pg_datetime.h"

#include <gtest/gtest.h>

#include "proto/base/time_format.h"

namespace sluice::postgres {
namespace {

TEST(PgDateTest, Dates) {
  auto d = ParsePgDate("2026-01-02");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year(), 2026);
  EXPECT_EQ(d->month(), 1u);
  EXPECT_EQ(d->day(), 2u);
  d = ParsePgDate("0044-03-15 BC");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year(), -44);
  EXPECT_EQ(d->month(), 3u);
  EXPECT_EQ(ParsePgDate("4713-01-01 BC")->year(), -4713);
  EXPECT_EQ(ParsePgDate("5874897-12-31")->year(), 5874897);
  EXPECT_EQ(ParsePgDate("2024-02-29")->day(), 29u);
  EXPECT_EQ(ParsePgDate("0001-02-29 BC")->day(), 29u);  // 1 BC is a leap year
  EXPECT_EQ(ParsePgDate("infinity")->infinity(), 1);
  EXPECT_EQ(ParsePgDate("-infinity")->infinity(), -1);
  for (const char* bad : {"", "2026-1-02", "2026-13-01", "2026-00-10", "2026-02-30", "2023-02-29",
                          "0000-01-01", "2026-01-02 AD", "2026-01-02 BCE", "Infinity",
                          "2026-01-02x", "20260102", "9999999999-01-01"}) {
    EXPECT_FALSE(ParsePgDate(bad)) << bad;
  }
}

TEST(PgTimeTest, Times) {
  auto t = ParsePgTime("04:05:06.789");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->hours(), 4u);
  EXPECT_EQ(t->minutes(), 5u);
  EXPECT_EQ(t->seconds(), 6u);
  EXPECT_EQ(t->micros(), 789000u);
  EXPECT_FALSE(t->has_utc_offset_seconds());
  EXPECT_EQ(ParsePgTime("23:59:59.999999")->micros(), 999999u);
  EXPECT_EQ(ParsePgTime("24:00:00")->hours(), 24u);
  EXPECT_EQ(ParsePgTime("00:00:00.000001")->micros(), 1u);
  for (const char* bad : {"", "24:00:01", "12:60:00", "1:02:03", "12:00", "12:00:00.",
                          "12:00:00.1234567", "12:00:00+00", "aa:bb:cc"}) {
    EXPECT_FALSE(ParsePgTime(bad)) << bad;
  }
}

TEST(PgTimeTest, Timetz) {
  auto t = ParsePgTimetz("04:05:06.5+05:30");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->micros(), 500000u);
  EXPECT_EQ(t->utc_offset_seconds(), 19800);
  EXPECT_EQ(ParsePgTimetz("04:05:06-08")->utc_offset_seconds(), -28800);
  EXPECT_EQ(ParsePgTimetz("00:00:00+00")->utc_offset_seconds(), 0);
  EXPECT_EQ(ParsePgTimetz("00:00:00-00:00:30")->utc_offset_seconds(), -30);
  EXPECT_EQ(ParsePgTimetz("23:59:59+15:59")->utc_offset_seconds(), 15 * 3600 + 59 * 60);
  for (const char* bad : {"04:05:06", "04:05:06+5", "04:05:06+05:", "04:05:06 +05", "04:05:06+16",
                          "04:05:06+05:30x"}) {
    EXPECT_FALSE(ParsePgTimetz(bad)) << bad;
  }
}

TEST(PgTimestampTest, Timestamps) {
  auto ts = ParsePgTimestamp("2026-01-02 03:04:05.123456");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->date().year(), 2026);
  EXPECT_EQ(ts->time().hours(), 3u);
  EXPECT_EQ(ts->time().micros(), 123456u);
  ts = ParsePgTimestamp("0044-03-15 12:00:00 BC");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->date().year(), -44);
  EXPECT_EQ(ts->time().hours(), 12u);
  EXPECT_EQ(ParsePgTimestamp("infinity")->date().infinity(), 1);
  EXPECT_EQ(ParsePgTimestamp("-infinity")->date().infinity(), -1);
  EXPECT_EQ(ParsePgTimestamp("294276-12-31 23:59:59.999999")->date().year(), 294276);
  for (const char* bad : {"2026-01-02", "2026-01-02T03:04:05", "2026-01-02 03:04:05+00",
                          "2026-01-02  03:04:05", "2026-02-30 00:00:00"}) {
    EXPECT_FALSE(ParsePgTimestamp(bad)) << bad;
  }
}

TEST(PgTimestampTest, Timestamptz) {
  EXPECT_EQ(ParsePgTimestamptz("1970-01-01 00:00:00+00"), 0);
  EXPECT_EQ(ParsePgTimestamptz("2026-01-02 03:04:05.123+00"),
            *ParseTimestamp("2026-01-02T03:04:05.123Z"));
  EXPECT_EQ(ParsePgTimestamptz("2026-01-02 05:04:05.123+02"),
            *ParseTimestamp("2026-01-02T03:04:05.123Z"));
  EXPECT_EQ(ParsePgTimestamptz("2026-01-02 03:04:05-05:30"),
            *ParseTimestamp("2026-01-02T08:34:05Z"));
  EXPECT_EQ(ParsePgTimestamptz("1969-12-31 23:59:59.999999+00"), -1);
  EXPECT_EQ(ParsePgTimestamptz("1900-01-01 00:00:00+00"), -2208988800LL * 1000000);
  EXPECT_EQ(ParsePgTimestamptz("2100-01-01 00:00:00+00"), 4102444800LL * 1000000);
  EXPECT_EQ(ParsePgTimestamptz("0001-01-01 00:00:00+00 BC"),
            *ParseTimestamp("0001-01-01T00:00:00Z BC"));
  EXPECT_EQ(ParsePgTimestamptz("1901-12-13 20:45:52+00:53:28"),
            *ParseTimestamp("1901-12-13T20:45:52+00:53:28"));
  EXPECT_EQ(ParsePgTimestamptz("infinity"), INT64_MAX);
  EXPECT_EQ(ParsePgTimestamptz("-infinity"), INT64_MIN);
  for (const char* bad :
       {"2026-01-02 03:04:05", "2026-01-02 03:04:05Z", "", "now", "999999999-01-01 00:00:00+00"}) {
    EXPECT_FALSE(ParsePgTimestamptz(bad)) << bad;
  }
}

v1::Interval Iv(int32_t months, int32_t days, int64_t micros) {
  v1::Interval i;
  i.set_months(months);
  i.set_days(days);
  i.set_micros(micros);
  return i;
}

void ExpectInterval(std::string_view text, const v1::Interval& want) {
  auto got = ParsePgInterval(text);
  ASSERT_TRUE(got) << text;
  EXPECT_EQ(got->months(), want.months()) << text;
  EXPECT_EQ(got->days(), want.days()) << text;
  EXPECT_EQ(got->micros(), want.micros()) << text;
}

TEST(PgIntervalTest, PostgresStyle) {
  ExpectInterval("1 year 2 mons 3 days 04:05:06.5", Iv(14, 3, 14706500000));
  ExpectInterval("-1 days -02:00:00", Iv(0, -1, -7200000000));
  ExpectInterval("00:00:00", Iv(0, 0, 0));
  ExpectInterval("1 day", Iv(0, 1, 0));
  ExpectInterval("2 years", Iv(24, 0, 0));
  ExpectInterval("1 mon", Iv(1, 0, 0));
  ExpectInterval("-1 years -2 mons +3 days -04:05:06", Iv(-14, 3, -14706000000));
  ExpectInterval("00:00:00.000001", Iv(0, 0, 1));
  ExpectInterval("-00:00:00.5", Iv(0, 0, -500000));
  ExpectInterval("100:00:00", Iv(0, 0, 360000000000));
  ExpectInterval("-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808",
                 Iv(INT32_MIN, INT32_MIN, INT64_MIN));
  ExpectInterval("178956970 years 7 mons 2147483647 days 2562047788:00:54.775807",
                 Iv(INT32_MAX, INT32_MAX, INT64_MAX));
  for (const char* bad :
       {"", "1", "1 fortnight", "1 day 2", "P1Y", "@ 1 day", "1  day", "1 day ", "01:02",
        "01:02:03 04:05:06", "178956971 years", "3000000000:00:00", "1:60:00"}) {
    EXPECT_FALSE(ParsePgInterval(bad)) << bad;
  }
}

}  // namespace
}  // namespace sluice::postgres
