#include "protocol/postgres/pg_text_value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {
namespace {

using Kind = v1::Value::KindCase;

void ExpectRaw(uint32_t oid, std::string_view text, std::string_view type_name) {
  v1::Value v = DecodeTextValue(oid, text);
  ASSERT_EQ(v.kind_case(), Kind::kRaw) << oid << " " << text;
  EXPECT_EQ(v.raw().type_name(), type_name);
  EXPECT_EQ(v.raw().text(), text);
}

TEST(PgTextValueTest, Integers) {
  EXPECT_EQ(DecodeTextValue(kInt2Oid, "-32768").int64(), -32768);
  EXPECT_EQ(DecodeTextValue(kInt4Oid, "2147483647").int64(), 2147483647);
  EXPECT_EQ(DecodeTextValue(kInt8Oid, "-9223372036854775808").int64(), INT64_MIN);
  EXPECT_EQ(DecodeTextValue(kInt8Oid, "9223372036854775807").int64(), INT64_MAX);
  EXPECT_EQ(DecodeTextValue(kOidOid, "4294967295").int64(), 4294967295);
  ExpectRaw(kInt8Oid, "9223372036854775808", "int8");
  ExpectRaw(kInt4Oid, "", "int4");
  ExpectRaw(kInt4Oid, "12a", "int4");
  ExpectRaw(kInt4Oid, "+1", "int4");
}

TEST(PgTextValueTest, Numeric) {
  for (const char* s : {"0", "3.10", "-0.000001", "NaN", "Infinity", "-Infinity",
                        "123456789012345678901234567890.123456789"}) {
    v1::Value v = DecodeTextValue(kNumericOid, s);
    ASSERT_EQ(v.kind_case(), Kind::kDecimal) << s;
    EXPECT_EQ(v.decimal(), s);
  }
  for (const char* s : {"", "1e5", "1.", ".5", "--1", "nan", "1,5"})
    ExpectRaw(kNumericOid, s, "numeric");
}

TEST(PgTextValueTest, Floats) {
  EXPECT_EQ(DecodeTextValue(kFloat8Oid, "1.5").double_(), 1.5);
  EXPECT_EQ(DecodeTextValue(kFloat8Oid, "-1.7976931348623157e+308").double_(),
            -1.7976931348623157e+308);
  EXPECT_EQ(DecodeTextValue(kFloat4Oid, "1.17549435e-38").double_(), 1.17549435e-38);
  EXPECT_EQ(DecodeTextValue(kFloat8Oid, "4.9406564584124654e-324").double_(),
            4.9406564584124654e-324);
  EXPECT_TRUE(std::signbit(DecodeTextValue(kFloat8Oid, "-0").double_()));
  EXPECT_TRUE(std::isnan(DecodeTextValue(kFloat8Oid, "NaN").double_()));
  EXPECT_EQ(DecodeTextValue(kFloat4Oid, "Infinity").double_(), INFINITY);
  EXPECT_EQ(DecodeTextValue(kFloat8Oid, "-Infinity").double_(), -INFINITY);
  ExpectRaw(kFloat8Oid, "inf", "float8");
  ExpectRaw(kFloat8Oid, "nan", "float8");
  ExpectRaw(kFloat8Oid, "1.5x", "float8");
  ExpectRaw(kFloat8Oid, "", "float8");
}

TEST(PgTextValueTest, Bool) {
  EXPECT_TRUE(DecodeTextValue(kBoolOid, "t").bool_());
  EXPECT_EQ(DecodeTextValue(kBoolOid, "f").kind_case(), Kind::kBool);
  EXPECT_FALSE(DecodeTextValue(kBoolOid, "f").bool_());
  ExpectRaw(kBoolOid, "true", "bool");
}

TEST(PgTextValueTest, Strings) {
  for (uint32_t oid :
       {kTextOid, kVarcharOid, kBpcharOid, kNameOid, kCharOid, kUuidOid, kInetOid, kCidrOid,
        kMacaddrOid, kMacaddr8Oid, kMoneyOid, kBitOid, kVarbitOid, kXmlOid}) {
    EXPECT_EQ(DecodeTextValue(oid, "x y ✓").string(), "x y ✓") << oid;
    EXPECT_EQ(DecodeTextValue(oid, "").kind_case(), Kind::kString) << oid;
  }
  EXPECT_EQ(DecodeTextValue(kMoneyOid, "-$1,234.56").string(), "-$1,234.56");
}

TEST(PgTextValueTest, Bytea) {
  EXPECT_EQ(DecodeTextValue(kByteaOid, "\\x0a0B00ff").bytes(), std::string("\x0a\x0b\x00\xff", 4));
  EXPECT_EQ(DecodeTextValue(kByteaOid, "\\x").kind_case(), Kind::kBytes);
  EXPECT_EQ(DecodeTextValue(kByteaOid, "\\x").bytes(), "");
  ExpectRaw(kByteaOid, "\\x0", "bytea");
  ExpectRaw(kByteaOid, "\\xzz", "bytea");
  ExpectRaw(kByteaOid, "abc\\000", "bytea");  // escape format is not decoded
}

TEST(PgTextValueTest, Json) {
  EXPECT_EQ(DecodeTextValue(kJsonOid, "{\"a\": [1, 2]}").json(), "{\"a\": [1, 2]}");
  EXPECT_EQ(DecodeTextValue(kJsonbOid, "null").json(), "null");
}

TEST(PgTextValueTest, DateTimes) {
  EXPECT_EQ(DecodeTextValue(kDateOid, "0044-03-15 BC").date().year(), -44);
  EXPECT_EQ(DecodeTextValue(kDateOid, "infinity").date().infinity(), 1);
  EXPECT_EQ(DecodeTextValue(kTimeOid, "04:05:06").time().seconds(), 6u);
  EXPECT_EQ(DecodeTextValue(kTimetzOid, "04:05:06+02").time().utc_offset_seconds(), 7200);
  EXPECT_EQ(DecodeTextValue(kTimestampOid, "2026-01-02 03:04:05.123456").datetime().time().micros(),
            123456u);
  EXPECT_EQ(DecodeTextValue(kTimestamptzOid, "1970-01-01 00:00:01+00").timestamp_micros(), 1000000);
  EXPECT_EQ(DecodeTextValue(kTimestamptzOid, "-infinity").timestamp_micros(), INT64_MIN);
  EXPECT_EQ(DecodeTextValue(kIntervalOid, "1 day").interval().days(), 1);
  ExpectRaw(kDateOid, "2026-02-30", "date");
  ExpectRaw(kTimestamptzOid, "2026-01-02 03:04:05", "timestamptz");
  ExpectRaw(kIntervalOid, "P1D", "interval");
}

TEST(PgTextValueTest, Arrays) {
  v1::Value v = DecodeTextValue(kInt4ArrayOid, "{1,2,NULL}");
  ASSERT_EQ(v.kind_case(), Kind::kArray);
  ASSERT_EQ(v.array().elements_size(), 3);
  EXPECT_EQ(v.array().elements(0).int64(), 1);
  EXPECT_EQ(v.array().elements(1).int64(), 2);
  EXPECT_TRUE(v.array().elements(2).null());

  v = DecodeTextValue(kTextArrayOid, R"({"a b","c\\\"d","NULL",null,"",x})");
  ASSERT_EQ(v.array().elements_size(), 6);
  EXPECT_EQ(v.array().elements(0).string(), "a b");
  EXPECT_EQ(v.array().elements(1).string(), "c\\\"d");
  EXPECT_EQ(v.array().elements(2).string(), "NULL");  // quoted: a string
  EXPECT_TRUE(v.array().elements(3).null());
  EXPECT_EQ(v.array().elements(4).string(), "");
  EXPECT_EQ(v.array().elements(5).string(), "x");

  v = DecodeTextValue(kInt8ArrayOid, "{}");
  ASSERT_EQ(v.kind_case(), Kind::kArray);
  EXPECT_EQ(v.array().elements_size(), 0);

  v = DecodeTextValue(kTimestamptzArrayOid, R"({"2026-01-02 03:04:05+00",infinity})");
  EXPECT_EQ(v.array().elements(1).timestamp_micros(), INT64_MAX);
  v = DecodeTextValue(kNumericArrayOid, "{NaN,1.50,-Infinity}");
  EXPECT_EQ(v.array().elements(1).decimal(), "1.50");
  v = DecodeTextValue(kByteaArrayOid, R"({"\\x00ff"})");
  EXPECT_EQ(v.array().elements(0).bytes(), std::string("\x00\xff", 2));
  v = DecodeTextValue(kIntervalArrayOid, R"({"1 day","-00:00:01"})");
  EXPECT_EQ(v.array().elements(1).interval().micros(), -1000000);
  v = DecodeTextValue(kBoolArrayOid, "{t,f,x}");
  EXPECT_EQ(v.array().elements(2).kind_case(), Kind::kRaw);  // only the bad element is raw
  v = DecodeTextValue(kJsonbArrayOid, R"({"{\"a\": 1}"})");
  EXPECT_EQ(v.array().elements(0).json(), "{\"a\": 1}");

  for (const char* bad : {"", "{", "}", "{1,2", "{{1,2},{3,4}}", "[0:1]={1,2}", "{1,}", "{,1}",
                          "{\"a}", "{a\"b}", "{1,2}x", "{\"a\"b}", "{\\"}) {
    ExpectRaw(kInt4ArrayOid, bad, "int4[]");
  }
}

TEST(PgTextValueTest, ArrayElementOids) {
  EXPECT_EQ(BuiltinArrayElementOid(1007), 23u);
  EXPECT_EQ(BuiltinArrayElementOid(kTimestamptzArrayOid), kTimestamptzOid);
  EXPECT_EQ(BuiltinArrayElementOid(kJsonbArrayOid), kJsonbOid);
  EXPECT_FALSE(BuiltinArrayElementOid(23));
  EXPECT_EQ(BuiltinTypeName(1007), "int4[]");
  EXPECT_EQ(BuiltinTypeName(1184), "timestamptz");
  EXPECT_FALSE(BuiltinTypeName(99999));
}

TEST(PgTextValueTest, ResolverEnumsDomainsAndUnknown) {
  constexpr uint32_t kMood = 70001, kMoodArray = 70002, kPositive = 70003, kLoop = 70004,
                     kGeo = 70009;
  TypeResolver resolver = [](uint32_t oid) {
    TypeResolution r;
    switch (oid) {
      case kMood:
        r.kind = TypeResolution::Kind::kEnum;
        r.type_name = "mood";
        break;
      case kMoodArray:
        r.kind = TypeResolution::Kind::kArray;
        r.oid = kMood;
        r.type_name = "mood[]";
        break;
      case kPositive:
        r.kind = TypeResolution::Kind::kBase;
        r.oid = kInt4Oid;
        break;
      case kLoop:
        r.kind = TypeResolution::Kind::kBase;
        r.oid = kLoop + 1;
        break;
      case kLoop + 1:
        r.kind = TypeResolution::Kind::kBase;
        r.oid = kLoop;
        break;
      case kGeo:
        r.type_name = "public.geometry";
        break;
    }
    return r;
  };
  EXPECT_EQ(DecodeTextValue(kMood, "happy", resolver).string(), "happy");
  v1::Value arr = DecodeTextValue(kMoodArray, "{happy,NULL,\"very sad\"}", resolver);
  ASSERT_EQ(arr.array().elements_size(), 3);
  EXPECT_EQ(arr.array().elements(2).string(), "very sad");
  EXPECT_EQ(DecodeTextValue(kPositive, "5", resolver).int64(), 5);
  EXPECT_EQ(DecodeTextValue(kPositive, "x", resolver).raw().type_name(), "int4");
  EXPECT_EQ(DecodeTextValue(kLoop, "5", resolver).kind_case(), Kind::kRaw);  // cut off
  EXPECT_EQ(DecodeTextValue(kGeo, "0101", resolver).raw().type_name(), "public.geometry");
  EXPECT_EQ(DecodeTextValue(kGeo, "0101").raw().type_name(), "oid:70009");
}

// Malformed text of every kind, for every built-in type and its array: never a crash, and the
// result is either a typed value or RawValue holding the exact text.
TEST(PgTextValueTest, GarbageNeverCrashes) {
  const std::vector<std::string> garbage = {"",
                                            " ",
                                            "{",
                                            "}",
                                            "{}",
                                            "{{}}",
                                            "\\",
                                            "\\x",
                                            "\"",
                                            "{\"",
                                            "{\\",
                                            "-",
                                            "+",
                                            ".",
                                            "e",
                                            "1e",
                                            "99999999999999999999999999",
                                            "-0",
                                            "0000-00-00",
                                            "9999-99-99 99:99:99",
                                            "24:00:00.1",
                                            "00:00:00+99",
                                            "1 years years",
                                            "-",
                                            "--1 day",
                                            "1 day -",
                                            "::",
                                            "1:2:3",
                                            std::string("\0\xff\xfe", 3),
                                            "NULL",
                                            "null",
                                            "{NULL,,}",
                                            "{\"a\"\"b\"}",
                                            "[1:2]={1,2}",
                                            "infinity BC",
                                            "2026-01-02 03:04:05+00 BC BC",
                                            std::string(1000, '9'),
                                            std::string(500, '{') + std::string(500, '}')};
  std::vector<uint32_t> oids;
  for (uint32_t oid = 0; oid < 4000; ++oid) {
    if (IsBuiltinScalarOid(oid) || BuiltinArrayElementOid(oid)) oids.push_back(oid);
  }
  ASSERT_GT(oids.size(), 50u);
  for (uint32_t oid : oids) {
    for (const std::string& text : garbage) {
      v1::Value v = DecodeTextValue(oid, text);
      if (v.kind_case() == Kind::kRaw) {
        EXPECT_EQ(v.raw().text(), text);
      }
      EXPECT_NE(v.kind_case(), Kind::KIND_NOT_SET) << oid << " " << text;
    }
  }
}

}  // namespace
}  // namespace sluice::postgres
