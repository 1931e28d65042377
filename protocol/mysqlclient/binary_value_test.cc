// AppendBinaryColumnWire stores each binary-protocol value exactly as AppendTextColumnWire
// stores the text the server prints for the same value (FLOAT and DOUBLE only where the text
// is exact), at the edges of every type; sizes that do not fit the type are errors.
#include "protocol/mysqlclient/binary_value.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/text_value.h"

namespace sluice::mysqlclient {
namespace {

using mysql::ColumnType;

ColumnDefinition Column(ColumnType type, uint16_t flags = 0, uint8_t decimals = 0,
                        uint16_t charset = 45) {
  ColumnDefinition c;
  c.name = "c";
  c.type = static_cast<uint8_t>(type);
  c.flags = flags;
  c.decimals = decimals;
  c.charset = charset;
  return c;
}

std::string Binary(const ColumnDefinition& c, std::string_view bytes) {
  std::string out;
  const absl::Status st = AppendBinaryColumnWire(c, bytes, out);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

std::string Text(const ColumnDefinition& c, std::string_view text) {
  std::string out;
  AppendTextColumnWire(c, text, out);
  return out;
}

struct Case {
  ColumnDefinition column;
  std::string bytes;  // the binary field
  std::string text;   // what the server prints for the same value
};

TEST(BinaryValueTest, StoresWhatTheTextProtocolStores) {
  const uint16_t u = kUnsignedFlag;
  const Case cases[] = {
      {Column(ColumnType::kTiny), std::string("\x80", 1), "-128"},
      {Column(ColumnType::kTiny), std::string("\x7F", 1), "127"},
      {Column(ColumnType::kTiny, u), std::string("\xFF", 1), "255"},
      {Column(ColumnType::kShort), std::string("\x00\x80", 2), "-32768"},
      {Column(ColumnType::kShort, u), std::string("\xFF\xFF", 2), "65535"},
      {Column(ColumnType::kInt24), std::string("\x00\x00\x80\xFF", 4), "-8388608"},
      {Column(ColumnType::kInt24, u), std::string("\xFF\xFF\xFF\x00", 4), "16777215"},
      {Column(ColumnType::kLong), std::string("\x00\x00\x00\x80", 4), "-2147483648"},
      {Column(ColumnType::kLong, u), std::string("\xFF\xFF\xFF\xFF", 4), "4294967295"},
      {Column(ColumnType::kLong), std::string("\x00\x00\x00\x00", 4), "0"},
      {Column(ColumnType::kLongLong), std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8),
       "-9223372036854775808"},
      {Column(ColumnType::kLongLong), std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8),
       "9223372036854775807"},
      {Column(ColumnType::kLongLong, u), std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8),
       "18446744073709551615"},
      {Column(ColumnType::kYear, u), std::string("\x6B\x08", 2), "2155"},
      {Column(ColumnType::kYear, u), std::string("\x00\x00", 2), "0000"},
      {Column(ColumnType::kFloat), std::string("\x00\x00\x60\x40", 4), "3.5"},
      {Column(ColumnType::kFloat), std::string("\x00\x00\x80\xBE", 4), "-0.25"},
      {Column(ColumnType::kDouble), std::string("\x00\x00\x00\x00\x00\x00\xE0\x3F", 8), "0.5"},
      {Column(ColumnType::kDouble), std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xEF\x7F", 8),
       "1.7976931348623157e308"},
      {Column(ColumnType::kDate), "", "0000-00-00"},
      {Column(ColumnType::kDate), std::string("\xE8\x07\x02\x1D", 4), "2024-02-29"},
      {Column(ColumnType::kDate), std::string("\x0F\x27\x0C\x1F", 4), "9999-12-31"},
      {Column(ColumnType::kDate), std::string("\xE4\x07\x02\x1E", 4), "2020-02-30"},
      {Column(ColumnType::kDateTime), "", "0000-00-00 00:00:00"},
      {Column(ColumnType::kDateTime), std::string("\xE4\x07\x00\x00", 4), "2020-00-00 00:00:00"},
      {Column(ColumnType::kDateTime), std::string("\xD1\x07\x02\x03\x04\x05\x06", 7),
       "2001-02-03 04:05:06"},
      {Column(ColumnType::kDateTime, 0, 6),
       std::string("\x0F\x27\x0C\x1F\x17\x3B\x3B\x3F\x42\x0F\x00", 11),
       "9999-12-31 23:59:59.999999"},
      {Column(ColumnType::kDateTime, 0, 1),
       std::string("\xE8\x07\x02\x1D\x0C\x22\x38\x60\xAE\x0A\x00", 11), "2024-02-29 12:34:56.7"},
      {Column(ColumnType::kTimestamp), "", "0000-00-00 00:00:00"},
      {Column(ColumnType::kTimestamp), std::string("\xB2\x07\x01\x01\x00\x00\x01", 7),
       "1970-01-01 00:00:01"},
      {Column(ColumnType::kTimestamp, 0, 6),
       std::string("\xF6\x07\x01\x13\x03\x0E\x07\x3F\x42\x0F\x00", 11),
       "2038-01-19 03:14:07.999999"},
      {Column(ColumnType::kTime), "", "00:00:00"},
      {Column(ColumnType::kTime), std::string("\x01\x22\x00\x00\x00\x16\x3B\x3B", 8), "-838:59:59"},
      {Column(ColumnType::kTime), std::string("\x00\x22\x00\x00\x00\x16\x3B\x3B", 8), "838:59:59"},
      {Column(ColumnType::kTime, 0, 6),
       std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00", 12), "-00:00:00.000001"},
      {Column(ColumnType::kTime, 0, 6),
       std::string("\x01\x15\x00\x00\x00\x03\x30\x1B\x40\xE2\x01\x00", 12), "-507:48:27.123456"},
      {Column(ColumnType::kTime), std::string("\x01\x00\x00\x00\x00\x00\x00\x00", 8), "-00:00:00"},
      // Out of the text decoder's range (never sent): raw, as the text protocol gives.
      {Column(ColumnType::kDate), std::string("\xE4\x07\x0D\x01", 4), "2020-13-01"},
      {Column(ColumnType::kDateTime), std::string("\xE4\x07\x01\x01\x00\x3C\x00", 7),
       "2020-01-01 00:60:00"},
      {Column(ColumnType::kTimestamp), std::string("\xE4\x07\x00\x01\x00\x00\x00", 7),
       "2020-00-01 00:00:00"},
      {Column(ColumnType::kTime), std::string("\x00\xC0\x01\x00\x00\x00\x00\x00", 8),
       "10752:00:00"},
      // Sent as strings in both protocols.
      {Column(ColumnType::kNewDecimal), "-12345678901234.567891", "-12345678901234.567891"},
      {Column(ColumnType::kVarString), "caf\xC3\xA9", "caf\xC3\xA9"},
      {Column(ColumnType::kBlob, 0, 0, kBinaryCharset), std::string("\x00\xFF", 2),
       std::string("\x00\xFF", 2)},
      {Column(ColumnType::kBit, u), std::string("\x02\xAA", 2), std::string("\x02\xAA", 2)},
      {Column(ColumnType::kString, kEnumFlag), "b", "b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(Binary(c.column, c.bytes), Text(c.column, c.text));
  }
}

// Rows captured from our test MariaDB 10.11 (mysql_corpus_capture_test, BinaryRows; the seeds
// tests/fuzz/corpus/binary_value_fuzz/seed-numbers_row0 and seed-times_row0), against the text
// the same server prints for them.
TEST(BinaryValueTest, CapturedRows) {
  struct Col {
    uint8_t type;
    uint16_t flags;
    uint8_t decimals;
    std::string text;  // empty: not compared with text (FLOAT: printed rounded)
  };
  const std::vector<Col> numbers = {
      {3, 20483, 0, "1"},
      {1, 0, 0, "-128"},
      {1, 32, 0, "255"},
      {2, 0, 0, "-32768"},
      {9, 32, 0, "16777215"},
      {3, 0, 0, "-2147483648"},
      {8, 0, 0, "-9223372036854775808"},
      {8, 32, 0, "18446744073709551615"},
      {246, 0, 6, "-12345678901234.567891"},
      {246, 0, 0, "99999"},
      {4, 0, 31, ""},
      {5, 0, 31, "2.2250738585072014e-308"},
      {16, 32, 0, "\x15\x55"},
      {13, 96, 0, "2155"},
  };
  const std::vector<Col> times = {
      {3, 20483, 0, "1"},
      {10, 128, 0, "2024-02-29"},
      {11, 128, 3, "-838:59:59.999"},
      {11, 128, 0, "25:00:01"},
      {12, 128, 6, "9999-12-31 23:59:59.999999"},
      {7, 160, 2, "2038-01-19 03:14:07.99"},
  };
  const std::pair<std::vector<Col>, std::string> rows[] = {
      {numbers,
       "0000000100000080ff0080ffffff00000000800000000000000080ffffffffffffffff162d3132333435"
       "3637383930313233342e3536373839310539393939393fed24af00000000000010000215556b08"},
      {times,
       "00000100000004e807021d0c0122000000163b3b583e0f000800010000000100010b0f270c1f173b3b3f"
       "420f000bf6070113030e07301b0f00"},
  };
  for (const auto& [cols, hex] : rows) {
    std::vector<ColumnDefinition> defs;
    for (const Col& c : cols) {
      defs.push_back(Column(static_cast<ColumnType>(c.type), c.flags, c.decimals, kBinaryCharset));
    }
    BinaryRowView values;
    const std::string row = absl::HexStringToBytes(hex);
    ASSERT_TRUE(ParseBinaryRowView(row, defs, values).ok());
    ASSERT_EQ(values.size(), cols.size());
    for (size_t k = 0; k < cols.size(); ++k) {
      ASSERT_TRUE(values[k].has_value());
      if (cols[k].text.empty()) {
        // FLOAT -1.5e-10: the float the server stored.
        v1::Value v;
        ASSERT_TRUE(v.ParseFromString(Binary(defs[k], *values[k])));
        EXPECT_EQ(v.double_(), static_cast<double>(-1.5e-10f));
        continue;
      }
      const std::string& text = cols[k].text;
      EXPECT_EQ(Binary(defs[k], *values[k]), Text(defs[k], text)) << k << " " << cols[k].text;
    }
  }
}

TEST(BinaryValueTest, FloatsAreTheSentBits) {
  // 1.2345678f: the text protocol prints "1.23457", another float.
  const std::string bits("\x51\x06\x9E\x3F", 4);
  std::string wire = Binary(Column(ColumnType::kFloat), bits);
  v1::Value v;
  ASSERT_TRUE(v.ParseFromString(wire));
  EXPECT_EQ(v.double_(), static_cast<double>(1.2345678f));
  EXPECT_NE(wire, Text(Column(ColumnType::kFloat), "1.23457"));
}

TEST(BinaryValueTest, NullAndSizesThatDoNotFit) {
  std::string out;
  ASSERT_TRUE(AppendBinaryColumnWire(Column(ColumnType::kLong), std::nullopt, out).ok());
  v1::Value v;
  ASSERT_TRUE(v.ParseFromString(out));
  EXPECT_TRUE(v.null());
  const std::pair<ColumnType, size_t> bad[] = {
      {ColumnType::kLong, 3},      {ColumnType::kLongLong, 4}, {ColumnType::kTiny, 0},
      {ColumnType::kDouble, 9},    {ColumnType::kDate, 5},     {ColumnType::kDateTime, 12},
      {ColumnType::kTimestamp, 1}, {ColumnType::kTime, 4},     {ColumnType::kTime, 11},
  };
  for (const auto& [type, size] : bad) {
    out.clear();
    const absl::Status st = AppendBinaryColumnWire(Column(type), std::string(size, '\x01'), out);
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << static_cast<int>(type) << " " << size << st;
    EXPECT_TRUE(out.empty());
  }
}

TEST(BinaryValueTest, KeyText) {
  std::string key;
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kLong), std::string("\xFB\xFF\xFF\xFF", 4), key));
  EXPECT_EQ(key, "-5");
  EXPECT_TRUE(
      BinaryKeyText(Column(ColumnType::kLongLong, kUnsignedFlag), std::string(8, '\xFF'), key));
  EXPECT_EQ(key, "18446744073709551615");
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kInt24), std::string("\x00\x00\x80\xFF", 4), key));
  EXPECT_EQ(key, "-8388608");
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kVarString), std::string("a\0'b", 4), key));
  EXPECT_EQ(key, std::string("a\0'b", 4));
  // Floating point: the stored number, every digit it needs (the server's text of a FLOAT has
  // 6 significant digits: 1.23457 here).
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kFloat), std::string("\x4B\x06\x9E\x3F", 4), key));
  EXPECT_EQ(key, "1.2345670461654663");  // FLOAT 1.2345671, widened
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kFloat), std::string("\x01\x00\x00\x00", 4), key));
  EXPECT_EQ(key, "1.401298464324817e-45");
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kFloat), std::string("\x00\x00\x00\x80", 4), key));
  EXPECT_EQ(key, "-0");
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kDouble),
                            std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xEF\xFF", 8), key));
  EXPECT_EQ(key, "-1.7976931348623157e+308");
  EXPECT_FALSE(BinaryKeyText(Column(ColumnType::kDouble), std::string(4, '\0'), key));
  // Temporals: as the server prints them, with the column's fraction digits.
  ColumnDefinition dt6 = Column(ColumnType::kDateTime2);
  dt6.decimals = 6;
  EXPECT_TRUE(BinaryKeyText(dt6, std::string("\xEA\x07\x01\x02\x03\x04\x05\x01\x00\x00\x00", 11),
                            key));
  EXPECT_EQ(key, "2026-01-02 03:04:05.000001");
  EXPECT_TRUE(BinaryKeyText(dt6, std::string(), key));  // the zero datetime
  EXPECT_EQ(key, "0000-00-00 00:00:00.000000");
  EXPECT_TRUE(BinaryKeyText(Column(ColumnType::kDate), std::string("\xEA\x07\x01\x02", 4), key));
  EXPECT_EQ(key, "2026-01-02");
  ColumnDefinition t3 = Column(ColumnType::kTime2);
  t3.decimals = 3;
  EXPECT_TRUE(BinaryKeyText(
      t3, std::string("\x01\x00\x00\x00\x00\x00\x00\x00\xE8\x03\x00\x00", 12), key));
  EXPECT_EQ(key, "-00:00:00.001");
  EXPECT_FALSE(BinaryKeyText(dt6, std::string(5, '\0'), key));  // wrong size
  EXPECT_FALSE(BinaryKeyText(Column(ColumnType::kLong), "abc", key));  // wrong size
}

}  // namespace
}  // namespace sluice::mysqlclient
