#include "protocol/postgres/pg_value_wire.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {
namespace {

// The wire bytes equal DecodeTextValue's message bytes, on the fast path and off it.
TEST(PgValueWireTest, WireBytesEqualTheMessageBytes) {
  struct Case {
    uint32_t oid;
    std::vector<std::string> texts;
  };
  const std::vector<Case> cases = {
      {kInt2Oid, {"0", "-32768", "32767", "", "1.0", "+1"}},
      {kInt4Oid, {"-2147483648", "42", " 42"}},
      {kInt8Oid, {"-9223372036854775808", "9223372036854775807", "9223372036854775808"}},
      {kOidOid, {"4294967295"}},
      {kTextOid, {"", "name-1", "tab\there", std::string(300, 'n')}},
      {kVarcharOid, {"caf\xc3\xa9"}},
      {kBpcharOid, {"ab  "}},
      {kNameOid, {"pg_class"}},
      {kUuidOid, {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
      {kNumericOid,
       {"0", "-0.10", "12345678901234567890.5", "NaN", "Infinity", "-Infinity", "1.", ".5", "-",
        "1e5", ""}},
      {kBoolOid, {"t", "f", "true", ""}},
      {kJsonOid, {"{\"a\": 1}"}},
      {kJsonbOid, {"[1, 2]"}},
      {kTimestampOid,
       {"2026-01-01 00:00:00", "2026-01-01 00:00:01.5", "2026-01-28 23:59:59.999999",
        "2024-02-29 12:00:00", "2023-02-29 12:00:00", "0001-01-01 00:00:00 BC", "infinity",
        "-infinity", "2026-01-01 24:00:00", "2026-01-01 23:59:60", "12026-01-01 00:00:00",
        "2026-01-01 00:00:00.1234567", "2026-01-01 00:00:00.", "2026-13-01 00:00:00",
        "0000-01-01 00:00:00", "2026-01-01T00:00:00"}},
      {kTimestamptzOid,
       {"2026-01-01 00:00:00+00", "2026-01-01 00:00:00.25-07:30", "infinity", "x"}},
      {kDateOid, {"2026-01-01", "infinity"}},
      {kFloat8Oid, {"1.5", "NaN", "-Infinity"}},
      {kByteaOid, {"\\x00ff", "\\x0"}},
      {kIntervalOid, {"1 year 2 mons 3 days 04:05:06.5"}},
      {1007 /* int4[] */, {"{1,NULL,3}", "{{1}}"}},
      {987654, {"opaque"}},
  };
  for (const Case& c : cases) {
    std::vector<std::optional<std::string>> texts(c.texts.begin(), c.texts.end());
    texts.push_back(std::nullopt);
    for (const auto& text : texts) {
      const v1::Value message = text ? DecodeTextValue(c.oid, *text) : NullValue();
      std::string wire = "prefix";
      AppendTextValueWire(c.oid, text ? std::optional<std::string_view>(*text) : std::nullopt,
                          nullptr, wire);
      EXPECT_EQ(wire.substr(6), message.SerializeAsString())
          << c.oid << " " << text.value_or("NULL") << " -> " << message.ShortDebugString();
      v1::Value parsed;
      ASSERT_TRUE(parsed.ParseFromString(wire.substr(6)));
      EXPECT_EQ(parsed.ShortDebugString(), message.ShortDebugString());
    }
  }
}

// Types the fast path leaves alone still see the resolver.
TEST(PgValueWireTest, ResolverReachesTheGeneralPath) {
  TypeResolver resolver = [](uint32_t oid) {
    TypeResolution r;
    if (oid == 90001) {
      r.kind = TypeResolution::Kind::kEnum;
      r.type_name = "mood";
    }
    return r;
  };
  std::string wire;
  AppendTextValueWire(90001, "happy", resolver, wire);
  EXPECT_EQ(wire, DecodeTextValue(90001, "happy", resolver).SerializeAsString());
}

}  // namespace
}  // namespace sluice::postgres
