#include "proto/base/value_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace sluice {
namespace {

using v1::Value;

// U+FFFD as UTF-8.
#define FFFD "\xEF\xBF\xBD"

Value Int64(int64_t v) {
  Value value;
  value.set_int64(v);
  return value;
}
Value Uint64(uint64_t v) {
  Value value;
  value.set_uint64(v);
  return value;
}
Value Double(double v) {
  Value value;
  value.set_double_(v);
  return value;
}
Value Decimal(std::string_view v) {
  Value value;
  value.set_decimal(std::string(v));
  return value;
}
Value String(std::string_view v) {
  Value value;
  value.set_string(std::string(v));
  return value;
}
Value Bytes(std::string_view v) {
  Value value;
  value.set_bytes(std::string(v));
  return value;
}
Value Bool(bool v) {
  Value value;
  value.set_bool_(v);
  return value;
}
Value Date(int32_t year, uint32_t month, uint32_t day, int32_t infinity = 0) {
  Value value;
  value.mutable_date()->set_year(year);
  value.mutable_date()->set_month(month);
  value.mutable_date()->set_day(day);
  value.mutable_date()->set_infinity(infinity);
  return value;
}
v1::Time MakeTime(bool negative, uint32_t h, uint32_t m, uint32_t s, uint32_t micros) {
  v1::Time time;
  time.set_negative(negative);
  time.set_hours(h);
  time.set_minutes(m);
  time.set_seconds(s);
  time.set_micros(micros);
  return time;
}
Value Time(bool negative, uint32_t h, uint32_t m, uint32_t s, uint32_t micros = 0) {
  Value value;
  *value.mutable_time() = MakeTime(negative, h, m, s, micros);
  return value;
}
Value TimeTz(uint32_t h, uint32_t m, uint32_t s, uint32_t micros, int32_t offset) {
  Value value = Time(false, h, m, s, micros);
  value.mutable_time()->set_utc_offset_seconds(offset);
  return value;
}
Value DateTime(int32_t year, uint32_t month, uint32_t day, uint32_t h, uint32_t m, uint32_t s,
               uint32_t micros = 0) {
  Value value;
  v1::DateTime* dt = value.mutable_datetime();
  dt->mutable_date()->set_year(year);
  dt->mutable_date()->set_month(month);
  dt->mutable_date()->set_day(day);
  *dt->mutable_time() = MakeTime(false, h, m, s, micros);
  return value;
}
Value Timestamp(int64_t micros) {
  Value value;
  value.set_timestamp_micros(micros);
  return value;
}
Value Json(std::string_view text) {
  Value value;
  value.set_json(std::string(text));
  return value;
}
Value Interval(int32_t months, int32_t days, int64_t micros) {
  Value value;
  value.mutable_interval()->set_months(months);
  value.mutable_interval()->set_days(days);
  value.mutable_interval()->set_micros(micros);
  return value;
}
Value Raw(std::string_view type, std::string_view text) {
  Value value;
  value.mutable_raw()->set_type_name(std::string(type));
  value.mutable_raw()->set_text(std::string(text));
  return value;
}
Value Null() {
  Value value;
  value.set_null(true);
  return value;
}

// True when `text` is one valid JSON text (per our strict validator).
bool IsValidJson(std::string_view text) {
  std::string out;
  return AppendMinifiedJson(text, out);
}

TEST(ValueJsonTest, Int64) {
  EXPECT_EQ(ValueToJson(Int64(0)), "0");
  EXPECT_EQ(ValueToJson(Int64(-1)), "-1");
  EXPECT_EQ(ValueToJson(Int64(42)), "42");
  EXPECT_EQ(ValueToJson(Int64(std::numeric_limits<int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(ValueToJson(Int64(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
}

TEST(ValueJsonTest, Uint64AndBit) {
  EXPECT_EQ(ValueToJson(Uint64(0)), "0");
  EXPECT_EQ(ValueToJson(Uint64(5)), "5");  // MySQL BIT(3) b'101'
  EXPECT_EQ(ValueToJson(Uint64(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
}

TEST(ValueJsonTest, DoubleShortestRoundTrip) {
  EXPECT_EQ(ValueToJson(Double(0.1)), "0.1");
  EXPECT_EQ(ValueToJson(Double(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(ValueToJson(Double(1e300)), "1e+300");
  EXPECT_EQ(ValueToJson(Double(-0.0)), "-0");
  EXPECT_EQ(ValueToJson(Double(0.0)), "0");
  EXPECT_EQ(ValueToJson(Double(1.0)), "1");
  EXPECT_EQ(ValueToJson(Double(-2.5)), "-2.5");
  EXPECT_EQ(ValueToJson(Double(100.0)), "100");
  EXPECT_EQ(ValueToJson(Double(1e20)), "1e+20");
  EXPECT_EQ(ValueToJson(Double(1e16)), "1e+16");
  EXPECT_EQ(ValueToJson(Double(9007199254740992.0)), "9007199254740992");
  EXPECT_EQ(ValueToJson(Double(123456789012.0)), "123456789012");
  EXPECT_EQ(ValueToJson(Double(1e-7)), "1e-07");
  EXPECT_EQ(ValueToJson(Double(5e-324)), "5e-324");
  EXPECT_EQ(ValueToJson(Double(std::numeric_limits<double>::max())), "1.7976931348623157e+308");
  // A MySQL FLOAT widened to double renders the double's exact shortest form.
  EXPECT_EQ(ValueToJson(Double(static_cast<double>(0.1f))), "0.10000000149011612");
}

TEST(ValueJsonTest, DoubleNonFinite) {
  EXPECT_EQ(ValueToJson(Double(std::numeric_limits<double>::quiet_NaN())), "\"NaN\"");
  EXPECT_EQ(ValueToJson(Double(-std::numeric_limits<double>::quiet_NaN())), "\"NaN\"");
  EXPECT_EQ(ValueToJson(Double(std::numeric_limits<double>::infinity())), "\"Infinity\"");
  EXPECT_EQ(ValueToJson(Double(-std::numeric_limits<double>::infinity())), "\"-Infinity\"");
}

TEST(ValueJsonTest, DoubleRoundTripsBitForBit) {
  const double samples[] = {0.1,   -0.0,    1e300,   1e-300,   3.141592653589793,       2.0 / 3.0,
                            1e21,  1e22,    123e-20, 4.9e-324, 2.2250738585072014e-308, 1.5e15,
                            -7e-5, 65504.0, 1e23};
  for (double d : samples) {
    const std::string text = ValueToJson(Double(d));
    EXPECT_TRUE(IsValidJson(text)) << text;
    double back = 0;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(result.ptr, text.data() + text.size()) << text;
    EXPECT_EQ(std::memcmp(&back, &d, sizeof(d)), 0) << text;
  }
}

TEST(ValueJsonTest, DecimalKeepsDigitsAndScale) {
  EXPECT_EQ(ValueToJson(Decimal("3.10")), "\"3.10\"");
  EXPECT_EQ(ValueToJson(Decimal("-0.000")), "\"-0.000\"");
  EXPECT_EQ(ValueToJson(Decimal("12345678901234567890.123456789")),
            "\"12345678901234567890.123456789\"");
  EXPECT_EQ(ValueToJson(Decimal("NaN")), "\"NaN\"");
}

TEST(ValueJsonTest, Bool) {
  EXPECT_EQ(ValueToJson(Bool(true)), "true");
  EXPECT_EQ(ValueToJson(Bool(false)), "false");
}

TEST(ValueJsonTest, TextEnumUuidSet) {
  EXPECT_EQ(ValueToJson(String("hello")), "\"hello\"");
  EXPECT_EQ(ValueToJson(String("")), "\"\"");
  EXPECT_EQ(ValueToJson(String("small")), "\"small\"");  // ENUM
  EXPECT_EQ(ValueToJson(String("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
            "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  EXPECT_EQ(ValueToJson(String("red,green")), "\"red,green\"");  // MySQL SET
}

TEST(ValueJsonTest, StringEscaping) {
  EXPECT_EQ(ValueToJson(String("a\"b\\c/d")), "\"a\\\"b\\\\c/d\"");
  EXPECT_EQ(ValueToJson(String("\b\f\n\r\t")), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(ValueToJson(String(std::string_view("a\0b", 3))), "\"a\\u0000b\"");
  EXPECT_EQ(ValueToJson(String("\x01\x1f\x0b")), "\"\\u0001\\u001f\\u000b\"");
  EXPECT_EQ(ValueToJson(String("\x7f")), "\"\x7f\"");  // DEL needs no escape
  EXPECT_EQ(ValueToJson(String("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80")),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");          // é € 😀 pass through
  EXPECT_EQ(ValueToJson(String("\xE2\x80\xA8")), "\"\xE2\x80\xA8\"");  // U+2028 as is
}

TEST(ValueJsonTest, InvalidUtf8IsReplaced) {
  EXPECT_EQ(ValueToJson(String("\xff")), "\"" FFFD "\"");
  EXPECT_EQ(ValueToJson(String("a\x80z")), "\"a" FFFD "z\"");        // lone continuation byte
  EXPECT_EQ(ValueToJson(String("a\xC3")), "\"a" FFFD "\"");          // truncated at the end
  EXPECT_EQ(ValueToJson(String("\xE2\x82(")), "\"" FFFD "(\"");      // truncated 3-byte sequence
  EXPECT_EQ(ValueToJson(String("\xF0\x9F\x98x")), "\"" FFFD "x\"");  // truncated 4-byte
  EXPECT_EQ(ValueToJson(String("\xC0\xAF")), "\"" FFFD FFFD "\"");   // overlong '/'
  EXPECT_EQ(ValueToJson(String("\xE0\x80\xAF")), "\"" FFFD FFFD FFFD "\"");  // overlong
  EXPECT_EQ(ValueToJson(String("\xED\xA0\x80")), "\"" FFFD FFFD FFFD "\"");  // surrogate D800
  EXPECT_EQ(ValueToJson(String("\xF4\x90\x80\x80")),
            "\"" FFFD FFFD FFFD FFFD "\"");  // above U+10FFFF
  EXPECT_EQ(ValueToJson(String("\xF5\x80")), "\"" FFFD FFFD "\"");
  // Replacement and escaping together.
  EXPECT_EQ(ValueToJson(String("\"\xfe\n")), "\"\\\"" FFFD "\\n\"");
  EXPECT_TRUE(IsValidJson(ValueToJson(String("\xff\xfe\x00\x01\xC3\xA9\xED\xBF\xBF"))));
}

TEST(ValueJsonTest, BytesArePaddedBase64) {
  EXPECT_EQ(ValueToJson(Bytes("")), "\"\"");
  EXPECT_EQ(ValueToJson(Bytes("f")), "\"Zg==\"");
  EXPECT_EQ(ValueToJson(Bytes("fo")), "\"Zm8=\"");
  EXPECT_EQ(ValueToJson(Bytes("foo")), "\"Zm9v\"");
  EXPECT_EQ(ValueToJson(Bytes("foob")), "\"Zm9vYg==\"");
  EXPECT_EQ(ValueToJson(Bytes("fooba")), "\"Zm9vYmE=\"");
  EXPECT_EQ(ValueToJson(Bytes("foobar")), "\"Zm9vYmFy\"");
  EXPECT_EQ(ValueToJson(Bytes(std::string_view("\x00\xff\xfe", 3))), "\"AP/+\"");
  EXPECT_EQ(ValueToJson(Bytes(std::string_view("\xfb\xff", 2))), "\"+/8=\"");
}

TEST(ValueJsonTest, Date) {
  EXPECT_EQ(ValueToJson(Date(2026, 1, 2)), "\"2026-01-02\"");
  EXPECT_EQ(ValueToJson(Date(0, 0, 0)), "\"0000-00-00\"");  // MySQL zero date
  EXPECT_EQ(ValueToJson(Date(2026, 0, 0)), "\"2026-00-00\"");
  EXPECT_EQ(ValueToJson(Date(5, 6, 7)), "\"0005-06-07\"");
  EXPECT_EQ(ValueToJson(Date(12345, 12, 31)), "\"12345-12-31\"");
  EXPECT_EQ(ValueToJson(Date(-44, 3, 15)), "\"0044-03-15 BC\"");  // Postgres BC
  EXPECT_EQ(ValueToJson(Date(-4713, 11, 24)), "\"4713-11-24 BC\"");
  EXPECT_EQ(ValueToJson(Date(0, 0, 0, 1)), "\"infinity\"");
  EXPECT_EQ(ValueToJson(Date(2026, 1, 2, -1)), "\"-infinity\"");
}

TEST(ValueJsonTest, Time) {
  EXPECT_EQ(ValueToJson(Time(false, 10, 5, 3)), "\"10:05:03\"");
  EXPECT_EQ(ValueToJson(Time(false, 0, 0, 0)), "\"00:00:00\"");
  EXPECT_EQ(ValueToJson(Time(true, 838, 59, 59)), "\"-838:59:59\"");
  EXPECT_EQ(ValueToJson(Time(false, 838, 59, 59)), "\"838:59:59\"");
  EXPECT_EQ(ValueToJson(Time(false, 24, 0, 0)), "\"24:00:00\"");
  EXPECT_EQ(ValueToJson(Time(false, 0, 0, 0, 500000)), "\"00:00:00.5\"");
  EXPECT_EQ(ValueToJson(Time(false, 12, 0, 0, 1)), "\"12:00:00.000001\"");
  EXPECT_EQ(ValueToJson(Time(false, 1, 2, 3, 120000)), "\"01:02:03.12\"");
  EXPECT_EQ(ValueToJson(Time(true, 0, 0, 1, 250000)), "\"-00:00:01.25\"");
  EXPECT_EQ(ValueToJson(Time(true, 0, 0, 0, 0)), "\"00:00:00\"");  // no "-0"
}

TEST(ValueJsonTest, TimeWithZone) {
  EXPECT_EQ(ValueToJson(TimeTz(10, 0, 0, 0, 19800)), "\"10:00:00+05:30\"");
  EXPECT_EQ(ValueToJson(TimeTz(10, 0, 0, 0, -28800)), "\"10:00:00-08:00\"");
  EXPECT_EQ(ValueToJson(TimeTz(10, 0, 0, 0, 0)), "\"10:00:00+00:00\"");
  EXPECT_EQ(ValueToJson(TimeTz(23, 59, 59, 999999, 3600)), "\"23:59:59.999999+01:00\"");
  EXPECT_EQ(ValueToJson(TimeTz(1, 0, 0, 0, 20008)), "\"01:00:00+05:33:28\"");
  EXPECT_EQ(ValueToJson(TimeTz(1, 0, 0, 0, -3723)), "\"01:00:00-01:02:03\"");
}

TEST(ValueJsonTest, DateTime) {
  EXPECT_EQ(ValueToJson(DateTime(2026, 1, 2, 3, 4, 5)), "\"2026-01-02 03:04:05\"");
  EXPECT_EQ(ValueToJson(DateTime(2026, 1, 2, 3, 4, 5, 120000)), "\"2026-01-02 03:04:05.12\"");
  EXPECT_EQ(ValueToJson(DateTime(1999, 12, 31, 23, 59, 59, 1)), "\"1999-12-31 23:59:59.000001\"");
  EXPECT_EQ(ValueToJson(DateTime(0, 0, 0, 0, 0, 0)), "\"0000-00-00 00:00:00\"");
  EXPECT_EQ(ValueToJson(DateTime(-44, 3, 15, 10, 0, 0)), "\"0044-03-15 10:00:00 BC\"");
  Value inf = DateTime(0, 0, 0, 0, 0, 0);
  inf.mutable_datetime()->mutable_date()->set_infinity(1);
  EXPECT_EQ(ValueToJson(inf), "\"infinity\"");
  inf.mutable_datetime()->mutable_date()->set_infinity(-1);
  EXPECT_EQ(ValueToJson(inf), "\"-infinity\"");
}

TEST(ValueJsonTest, Timestamp) {
  EXPECT_EQ(ValueToJson(Timestamp(0)), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(1767323045123000)), "\"2026-01-02T03:04:05.123Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(1767323045000001)), "\"2026-01-02T03:04:05.000001Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(1767323045500000)), "\"2026-01-02T03:04:05.5Z\"");
  // Before 1970: floor division, the time of day stays positive.
  EXPECT_EQ(ValueToJson(Timestamp(-1)), "\"1969-12-31T23:59:59.999999Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-1000000)), "\"1969-12-31T23:59:59Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-86400000000)), "\"1969-12-31T00:00:00Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-14182940000000)), "\"1969-07-20T20:17:40Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-2208988800000000)), "\"1900-01-01T00:00:00Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-62135596800000000)), "\"0001-01-01T00:00:00Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(253402300799999999)), "\"9999-12-31T23:59:59.999999Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(253402300800000000)), "\"10000-01-01T00:00:00Z\"");
  EXPECT_EQ(ValueToJson(Timestamp(-62135596800000000 - 86400000000)),
            "\"0001-12-31T00:00:00Z BC\"");
  EXPECT_EQ(ValueToJson(Timestamp(-63517824000000000)), "\"0044-03-15T00:00:00Z BC\"");
  EXPECT_EQ(ValueToJson(Timestamp(std::numeric_limits<int64_t>::max())), "\"infinity\"");
  EXPECT_EQ(ValueToJson(Timestamp(std::numeric_limits<int64_t>::min())), "\"-infinity\"");
}

TEST(ValueJsonTest, JsonIsNestedAndMinified) {
  EXPECT_EQ(ValueToJson(Json("{\"a\": [1, 2.5e3, true, false, null, \"x\\u00e9\\n\"],\n"
                             "  \"b\" : {} , \"c\":[ ]}")),
            "{\"a\":[1,2.5e3,true,false,null,\"x\\u00e9\\n\"],\"b\":{},\"c\":[]}");
  EXPECT_EQ(ValueToJson(Json("42")), "42");
  EXPECT_EQ(ValueToJson(Json(" \"s p\" ")), "\"s p\"");
  EXPECT_EQ(ValueToJson(Json("null")), "null");
  EXPECT_EQ(ValueToJson(Json("[-0, 0.5E-3, 1e+5, -12]")), "[-0,0.5E-3,1e+5,-12]");
  EXPECT_EQ(ValueToJson(Json("{\"k\":{\"k\":{\"k\":[[[]]]}}}")), "{\"k\":{\"k\":{\"k\":[[[]]]}}}");
  EXPECT_EQ(ValueToJson(Json("\"\\ud83d\\ude00 \\/ caf\xC3\xA9\"")),
            "\"\\ud83d\\ude00 \\/ caf\xC3\xA9\"");
  EXPECT_EQ(ValueToJson(Json("{\"a\":1,\"a\":2}")), "{\"a\":1,\"a\":2}");  // duplicates kept
}

TEST(ValueJsonTest, InvalidJsonBecomesAString) {
  EXPECT_EQ(ValueToJson(Json("{\"a\":1,}")), "\"{\\\"a\\\":1,}\"");
  EXPECT_EQ(ValueToJson(Json("")), "\"\"");
  EXPECT_EQ(ValueToJson(Json("   ")), "\"   \"");
  EXPECT_EQ(ValueToJson(Json("{'a':1}")), "\"{'a':1}\"");
  EXPECT_EQ(ValueToJson(Json("[1] x")), "\"[1] x\"");
  EXPECT_EQ(ValueToJson(Json("[1,2")), "\"[1,2\"");
  EXPECT_EQ(ValueToJson(Json("[1\n,]")), "\"[1\\n,]\"");
  EXPECT_EQ(ValueToJson(Json("\"a\tb\"")), "\"\\\"a\\tb\\\"\"");         // raw control char
  EXPECT_EQ(ValueToJson(Json("\"\xff\"")), "\"\\\"" FFFD "\\\"\"");      // invalid UTF-8
  EXPECT_EQ(ValueToJson(Json("\"\\ud800\"")), "\"\\\"\\\\ud800\\\"\"");  // lone surrogate
  const char* invalid[] = {
      "01",
      "1.",
      ".5",
      "-",
      "+1",
      "1e",
      "1e+",
      "0x10",
      "NaN",
      "Infinity",
      "tru",
      "truex",
      "nul",
      "[,1]",
      "[1,,2]",
      "{,}",
      "{\"a\"}",
      "{\"a\" 1}",
      "{1:2}",
      "\"abc",
      "\"\\x\"",
      "\"\\u12\"",
      "]",
      "}",
      "[}",
      "{]",
      "1 2",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\xEF\xBB\xBF{}",
  };
  for (const char* text : invalid) {
    std::string expected;
    AppendJsonString(text, expected);
    EXPECT_EQ(ValueToJson(Json(text)), expected) << text;
    EXPECT_FALSE(IsValidJson(text)) << text;
  }
}

TEST(ValueJsonTest, JsonNestingDepthLimit) {
  const std::string ok =
      std::string(kMaxJsonNestingDepth, '[') + std::string(kMaxJsonNestingDepth, ']');
  EXPECT_EQ(ValueToJson(Json(ok)), ok);
  const std::string deep =
      std::string(kMaxJsonNestingDepth + 1, '[') + std::string(kMaxJsonNestingDepth + 1, ']');
  EXPECT_EQ(ValueToJson(Json(deep)), "\"" + deep + "\"");
  std::string objects;
  for (size_t i = 0; i <= kMaxJsonNestingDepth; ++i) objects += "{\"a\":";
  objects += "1";
  objects += std::string(kMaxJsonNestingDepth + 1, '}');
  EXPECT_FALSE(IsValidJson(objects));
  // Deep garbage does not overflow the stack.
  const std::string huge(1 << 20, '[');
  EXPECT_FALSE(IsValidJson(huge));
}

TEST(ValueJsonTest, Arrays) {
  Value array;
  *array.mutable_array()->add_elements() = Int64(1);
  Value* inner = array.mutable_array()->add_elements();
  *inner->mutable_array()->add_elements() = String("x");
  *inner->mutable_array()->add_elements() = Null();
  inner->mutable_array()->add_elements();  // unset
  *array.mutable_array()->add_elements() = Date(2026, 1, 2);
  EXPECT_EQ(ValueToJson(array), "[1,[\"x\",null,null],\"2026-01-02\"]");

  Value empty;
  empty.mutable_array();
  EXPECT_EQ(ValueToJson(empty), "[]");
}

TEST(ValueJsonTest, IntervalIsPostgresIso8601) {
  constexpr int64_t kSecond = 1000000;
  constexpr int64_t kHour = 3600 * kSecond;
  constexpr int64_t kMinute = 60 * kSecond;
  EXPECT_EQ(ValueToJson(Interval(0, 0, 0)), "\"PT0S\"");
  EXPECT_EQ(ValueToJson(Interval(14, 3, 4 * kHour + 5 * kMinute + 6500000)),
            "\"P1Y2M3DT4H5M6.5S\"");
  // interval '-1 year -2 months +3 days -04:05:06' (the Postgres manual's example)
  EXPECT_EQ(ValueToJson(Interval(-14, 3, -(4 * kHour + 5 * kMinute + 6 * kSecond))),
            "\"P-1Y-2M3DT-4H-5M-6S\"");
  EXPECT_EQ(ValueToJson(Interval(12, 0, 0)), "\"P1Y\"");
  EXPECT_EQ(ValueToJson(Interval(-1, 0, 0)), "\"P-1M\"");
  EXPECT_EQ(ValueToJson(Interval(0, 1, 0)), "\"P1D\"");
  EXPECT_EQ(ValueToJson(Interval(0, -7, 0)), "\"P-7D\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, kHour)), "\"PT1H\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, 61 * kSecond)), "\"PT1M1S\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, 500000)), "\"PT0.5S\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, -500000)), "\"PT-0.5S\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, -1)), "\"PT-0.000001S\"");
  EXPECT_EQ(ValueToJson(Interval(0, 0, -(25 * kHour + kMinute + kSecond + 1))),
            "\"PT-25H-1M-1.000001S\"");
  EXPECT_EQ(ValueToJson(Interval(1, 0, kHour)), "\"P1MT1H\"");
  EXPECT_EQ(ValueToJson(Interval(std::numeric_limits<int32_t>::min(), 0,
                                 std::numeric_limits<int64_t>::min())),
            "\"P-178956970Y-8MT-2562047788H-54.775808S\"");
}

TEST(ValueJsonTest, RawIsItsText) {
  EXPECT_EQ(ValueToJson(Raw("point", "(1,2)")), "\"(1,2)\"");
  EXPECT_EQ(ValueToJson(Raw("tsvector", "'a':1 \"b\"")), "\"'a':1 \\\"b\\\"\"");
}

TEST(ValueJsonTest, NullAndUnset) {
  EXPECT_EQ(ValueToJson(Null()), "null");
  EXPECT_EQ(ValueToJson(Value()), "null");
}

TEST(ValueJsonTest, Row) {
  v1::Row row;
  v1::Field* id = row.add_fields();
  id->set_name("id");
  *id->mutable_value() = Int64(1);
  v1::Field* name = row.add_fields();
  name->set_name("na\"me");
  *name->mutable_value() = String("x");
  row.add_fields()->set_name("missing_value");
  std::string out = "prefix:";
  AppendRowJson(row, out);
  EXPECT_EQ(out, "prefix:{\"id\":1,\"na\\\"me\":\"x\",\"missing_value\":null}");

  std::string empty;
  AppendRowJson(v1::Row(), empty);
  EXPECT_EQ(empty, "{}");
}

TEST(ValueJsonTest, AppendsWithoutClobbering) {
  std::string out = "[";
  AppendValueJson(Int64(1), out);
  out += ",";
  AppendValueJson(Json("{ \"a\" : 1 ,}"), out);  // invalid: the partial output is rolled back
  out += "]";
  EXPECT_EQ(out, "[1,\"{ \\\"a\\\" : 1 ,}\"]");
}

}  // namespace
}  // namespace sluice
