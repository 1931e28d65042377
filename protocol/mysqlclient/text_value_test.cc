#include "protocol/mysqlclient/text_value.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::mysqlclient
