#include "protocol/mysqlclient/text_value.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "protocol/mysql/event_types.h"

namespace sluice::mysqlclient {
namespace {

using mysql::ColumnType;

ColumnDefinition Col(ColumnType type, uint16_t flags = 0, uint16_t charset = 45) {
  ColumnDefinition c;
  c.type = static_cast<uint8_t>(type);
  c.flags = flags;
  c.charset = charset;
  return c;
}

v1::Value D(ColumnType type, const std::string& text, uint16_t flags = 0, uint16_t charset = 45) {
  return DecodeTextColumn(Col(type, flags, charset), text);
}

TEST(TextValueTest, Integers) {
  EXPECT_EQ(D(ColumnType::kLong, "-42").int64(), -42);
  EXPECT_EQ(D(ColumnType::kLongLong, "18446744073709551615", kUnsignedFlag).uint64(),
            18446744073709551615ull);
  EXPECT_EQ(D(ColumnType::kTiny, "255", kUnsignedFlag).kind_case(), v1::Value::kUint64);
  EXPECT_EQ(D(ColumnType::kYear, "0000").int64(), 0);
  EXPECT_EQ(D(ColumnType::kYear, "2024").int64(), 2024);
}

TEST(TextValueTest, FloatIsTheNearestFloatLikeTheBinlog) {
  EXPECT_EQ(D(ColumnType::kFloat, "3.14").double_(), static_cast<double>(3.14f));
  EXPECT_EQ(D(ColumnType::kDouble, "3.14").double_(), 3.14);
  EXPECT_EQ(D(ColumnType::kNewDecimal, "-0.10").decimal(), "-0.10");
}

TEST(TextValueTest, BitIsBigEndian) {
  EXPECT_EQ(D(ColumnType::kBit, std::string("\x01\x02", 2), 0, kBinaryCharset).uint64(), 0x102u);
}

TEST(TextValueTest, Temporal) {
  v1::Value d = D(ColumnType::kDate, "2024-02-29");
  EXPECT_EQ(d.date().year(), 2024);
  EXPECT_EQ(d.date().month(), 2u);
  EXPECT_EQ(d.date().day(), 29u);
  EXPECT_EQ(D(ColumnType::kDate, "0000-00-00").date().year(), 0);

  v1::Value t = D(ColumnType::kTime, "-838:59:59.500000");
  EXPECT_TRUE(t.time().negative());
  EXPECT_EQ(t.time().hours(), 838u);
  EXPECT_EQ(t.time().micros(), 500000u);
  EXPECT_FALSE(D(ColumnType::kTime, "-00:00:00").time().negative());

  v1::Value dt = D(ColumnType::kDateTime, "2024-01-02 03:04:05.12");
  EXPECT_EQ(dt.datetime().time().hours(), 3u);
  EXPECT_EQ(dt.datetime().time().micros(), 120000u);

  EXPECT_EQ(D(ColumnType::kTimestamp, "1970-01-02 00:00:01.000001").timestamp_micros(),
            86'401'000'001);
  EXPECT_EQ(D(ColumnType::kTimestamp, "0000-00-00 00:00:00").timestamp_micros(), 0);
}

TEST(TextValueTest, StringsBytesEnumsJson) {
  EXPECT_EQ(D(ColumnType::kVarString, "héllo").string(), "héllo");
  EXPECT_EQ(D(ColumnType::kString, std::string("ab\0\0", 4), 0, kBinaryCharset).bytes(),
            std::string("ab\0\0", 4));
  EXPECT_EQ(D(ColumnType::kBlob, "xyz", 0, kBinaryCharset).kind_case(), v1::Value::kBytes);
  EXPECT_EQ(D(ColumnType::kBlob, "xyz").kind_case(), v1::Value::kString);
  EXPECT_EQ(D(ColumnType::kString, "a,b", kSetFlag, kBinaryCharset).string(), "a,b");
  EXPECT_EQ(D(ColumnType::kJson, "{\"a\": 1}").json(), "{\"a\": 1}");
  EXPECT_EQ(D(ColumnType::kGeometry, "wkb").bytes(), "wkb");
}

TEST(TextValueTest, NullAndMalformed) {
  EXPECT_TRUE(DecodeTextColumn(Col(ColumnType::kLong), std::nullopt).null());
  v1::Value bad = D(ColumnType::kLong, "12x");
  ASSERT_EQ(bad.kind_case(), v1::Value::kRaw);
  EXPECT_EQ(bad.raw().text(), "12x");
  EXPECT_EQ(D(ColumnType::kDate, "2024-13-01").kind_case(), v1::Value::kRaw);
  EXPECT_EQ(D(ColumnType::kDateTime, "2024-01-01 24:61:00").kind_case(), v1::Value::kRaw);
}

// AppendTextColumnWire writes exactly the bytes of the message DecodeTextColumn builds, for
// every type, well-formed or not (malformed text takes the raw path in both).
TEST(TextValueTest, WireBytesEqualTheMessageBytes) {
  struct Case {
    ColumnType type;
    uint16_t flags;
    uint16_t charset;
    std::vector<std::string> texts;
  };
  const std::string long_text(300, 'x');
  const std::vector<Case> cases = {
      {ColumnType::kTiny, 0, 45, {"0", "-128", "127", "x", ""}},
      {ColumnType::kLong, 0, 45, {"-42", "0", "2147483647", "1.5"}},
      {ColumnType::kLongLong, kUnsignedFlag, 45, {"0", "18446744073709551615", "-1"}},
      {ColumnType::kLongLong, 0, 45, {"-9223372036854775808", "9223372036854775807"}},
      {ColumnType::kYear, 0, 45, {"0000", "2024", "20x4"}},
      {ColumnType::kFloat, 0, 45, {"3.14", "-1e30", "0", "nan?", ""}},
      {ColumnType::kDouble, 0, 45, {"3.14", "-2.5e-300", "0", "1e400"}},
      {ColumnType::kNewDecimal, 0, 45, {"-0.10", "0", "12345678901234567890.123456789", ""}},
      {ColumnType::kBit, 0, kBinaryCharset, {std::string("\x01\x02", 2), "", "123456789"}},
      {ColumnType::kDate, 0, 45, {"2024-02-29", "0000-00-00", "9999-12-31", "2024-13-01", "x"}},
      {ColumnType::kTime, 0, 45,
       {"00:00:00", "-00:00:00", "-838:59:59.000000", "12:34:56.5", "1:2:3", "25:61:00"}},
      {ColumnType::kDateTime2, 0, 45,
       {"2026-01-01 00:00:00", "0000-00-00 00:00:00", "2026-01-01 23:59:59.999999",
        "2026-01-01T00:00:00", "2026-01-01 24:00:00.1234567"}},
      {ColumnType::kTimestamp2, 0, 45,
       {"1970-01-01 00:00:00", "0000-00-00 00:00:00", "2038-01-19 03:14:07.123456",
        "2024-00-10 00:00:00"}},
      {ColumnType::kVarchar, 0, 45, {"", "name-1", "caf\xc3\xa9", long_text}},
      {ColumnType::kBlob, 0, kBinaryCharset, {"", std::string("\0\xff", 2), long_text}},
      {ColumnType::kString, kEnumFlag, kBinaryCharset, {"red"}},
      {ColumnType::kJson, 0, 63, {"{\"a\": [1, 2]}"}},
      {ColumnType::kGeometry, 0, kBinaryCharset, {std::string("\0\0\0\0\x01", 5)}},
      {ColumnType::kNull, 0, 45, {"?"}},
  };
  for (const Case& c : cases) {
    const ColumnDefinition col = Col(c.type, c.flags, c.charset);
    std::vector<std::optional<std::string>> texts(c.texts.begin(), c.texts.end());
    texts.push_back(std::nullopt);
    for (const auto& text : texts) {
      const v1::Value message = DecodeTextColumn(col, text);
      std::string wire = "prefix";
      AppendTextColumnWire(col, text ? std::optional<std::string_view>(*text) : std::nullopt,
                           wire);
      EXPECT_EQ(wire.substr(6), message.SerializeAsString())
          << mysql::ColumnTypeName(c.type) << " " << text.value_or("NULL") << " -> "
          << message.ShortDebugString();
      v1::Value parsed;
      ASSERT_TRUE(parsed.ParseFromString(wire.substr(6)));
      EXPECT_EQ(parsed.SerializeAsString(), message.SerializeAsString());
    }
  }
}

}  // namespace
}  // namespace sluice::mysqlclient
