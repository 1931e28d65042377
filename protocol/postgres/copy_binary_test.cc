// CopyBinaryRow and the binary value decoders (pg_binary_value.h) on bytes captured from our own
// test PostgreSQL 15 (psql \copy (SELECT ...) TO FILE (FORMAT binary), 2026-12-06), each value
// checked against the text decoder's bytes for the text the server prints for it; then
// handcrafted malformed input.
#include "protocol/postgres/copy_binary.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "protocol/postgres/pg_binary_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pg_value_wire.h"
#include "protocol/postgres/test_bytes.h"

namespace sluice::postgres {
namespace {

using testing::Bytes;

// COPY (SELECT 1::int4, E'tab\tx'::text, NULL::int8, 1234.5::numeric(12,2), '-0.000123'::numeric,
// 'NaN'::numeric, true, '2026-01-02 03:04:05.123456'::timestamp, '0044-03-15 12:00:00 BC'::
// timestamp, '2026-01-02 03:04:05+02'::timestamptz, 'a0eebc99-...'::uuid, '{"a": 1}'::jsonb,
// 'NaN'::float8, -2.5::float8, 'ab'::char(4), 4294967295::oid, '-32768'::int2,
// 123456789012.5::numeric) TO STDOUT (FORMAT binary): the header and the row (one CopyData
// message), then the trailer (another).
constexpr const char* kCapturedRowHex =
    "5047434f50590aff0d0a00000000000000000000120000000400000001000000057461620978ffffffff0000000c"
    "000200000000000204d213880000000c0002ffff40000006000108fc0000000800000000c0000000000000010100"
    "0000080002ea5dbb16f58000000008ff1af9e8fb46d000000000080002ea5c0dedcb4000000010a0eebc999c0b4e"
    "f8bb6d6bb9bd380a1100000009017b2261223a20317d000000087ff800000000000000000008c004000000000000"
    "000000046162202000000004ffffffff00000002800000000010000400020000000104d2162e23341388";

struct Expected {
  uint32_t oid;
  const char* text;  // what the output function prints (psql, the pinned session settings)
};
const Expected kExpected[] = {
    {kInt4Oid, "1"},
    {kTextOid, "tab\tx"},
    {kInt8Oid, nullptr},
    {kNumericOid, "1234.50"},
    {kNumericOid, "-0.000123"},
    {kNumericOid, "NaN"},
    {kBoolOid, "t"},
    {kTimestampOid, "2026-01-02 03:04:05.123456"},
    {kTimestampOid, "0044-03-15 12:00:00 BC"},
    {kTimestamptzOid, "2026-01-02 01:04:05+00"},
    {kUuidOid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {kJsonbOid, "{\"a\": 1}"},
    {kFloat8Oid, "NaN"},
    {kFloat8Oid, "-2.5"},
    {kBpcharOid, "ab  "},
    {kOidOid, "4294967295"},
    {kInt2Oid, "-32768"},
    {kNumericOid, "123456789012.5"},
};

std::string Wire(uint32_t oid, std::optional<std::string_view> bytes) {
  std::string out, scratch;
  const absl::Status s = AppendBinaryValueWire(oid, bytes, nullptr, scratch, out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(CopyBinaryTest, CapturedRowDecodesAsItsText) {
  const std::string row = absl::HexStringToBytes(kCapturedRowHex);
  CopyBinaryRow parser;
  parser.Reset();
  ASSERT_TRUE(parser.Parse(row, std::size(kExpected)).ok());
  ASSERT_FALSE(parser.ended());
  ASSERT_EQ(parser.values().size(), std::size(kExpected));
  for (size_t c = 0; c < std::size(kExpected); ++c) {
    SCOPED_TRACE(c);
    const Expected& e = kExpected[c];
    const auto& value = parser.values()[c];
    ASSERT_EQ(value.has_value(), e.text != nullptr);
    ASSERT_TRUE(HasBinaryDecoder(e.oid));
    std::string text_wire;
    AppendTextValueWire(e.oid, e.text ? std::optional<std::string_view>(e.text) : std::nullopt,
                        nullptr, text_wire);
    EXPECT_EQ(absl::CHexEscape(Wire(e.oid, value)), absl::CHexEscape(text_wire));
    if (value && HasBinaryText(e.oid)) {
      std::string text;
      ASSERT_TRUE(AppendBinaryValueText(e.oid, *value, text).ok());
      EXPECT_EQ(text, e.text);
    }
  }
  // The trailer comes as a message of its own; nothing may follow it.
  ASSERT_TRUE(parser.Parse(std::string("\xff\xff", 2), std::size(kExpected)).ok());
  EXPECT_TRUE(parser.ended());
  EXPECT_EQ(parser.Parse(std::string("\xff\xff", 2), 1).code(), absl::StatusCode::kDataLoss);
}

TEST(CopyBinaryTest, NoRowsIsHeaderAndTrailerInOneMessage) {
  // \copy (SELECT 1 WHERE false) TO FILE (FORMAT binary)
  const std::string empty = absl::HexStringToBytes("5047434f50590aff0d0a000000000000000000ffff");
  CopyBinaryRow parser;
  parser.Reset();
  ASSERT_TRUE(parser.Parse(empty, 1).ok());
  EXPECT_TRUE(parser.ended());
}

std::string Header() { return Bytes().Raw(kCopyBinarySignature).U32(0).U32(0).str(); }

TEST(CopyBinaryTest, MalformedMessagesAreDataLoss) {
  const std::string field = Bytes().U16(1).U32(4).U32(7).str();
  struct Case {
    const char* what;
    std::string message;
    bool header;
  };
  const Case cases[] = {
      {"no header", field, true},
      {"bad signature", "PGCOPY\n\xfe\r\n" + std::string(1, '\0') + field, true},
      {"OIDs flag", Bytes().Raw(kCopyBinarySignature).U32(1u << 16).U32(0).str() + field, true},
      {"critical flag", Bytes().Raw(kCopyBinarySignature).U32(1).U32(0).str() + field, true},
      {"extension past the end", Bytes().Raw(kCopyBinarySignature).U32(0).U32(100).str(), true},
      {"truncated header", std::string(kCopyBinarySignature) + "\0\0", true},
      {"empty", "", false},
      {"two fields, one expected", Bytes().U16(2).U32(0).U32(0).str(), false},
      {"negative count", Bytes().U16(0xfffe).str(), false},
      {"length -2", Bytes().U16(1).U32(0xfffffffe).str(), false},
      {"length past the end", Bytes().U16(1).U32(5).U32(7).str(), false},
      {"truncated length", Bytes().U16(1).U16(0).str(), false},
      {"trailing bytes", field + "x", false},
      {"bytes after the trailer", Bytes().U16(0xffff).U8(0).str(), false},
  };
  for (const Case& c : cases) {
    CopyBinaryRow parser;
    parser.Reset();
    if (!c.header) {
      ASSERT_TRUE(parser.Parse(Header() + field, 1).ok()) << c.what;
    }
    const absl::Status s = parser.Parse(c.message, 1);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.what << ": " << s;
  }
  // A header with an extension area (skipped) and NULL fields.
  CopyBinaryRow parser;
  parser.Reset();
  const std::string with_extension = Bytes()
                                         .Raw(kCopyBinarySignature)
                                         .U32(0)
                                         .U32(3)
                                         .Raw("abc")
                                         .U16(2)
                                         .U32(0xffffffff)
                                         .U32(0)
                                         .str();
  ASSERT_TRUE(parser.Parse(with_extension, 2).ok());
  ASSERT_EQ(parser.values().size(), 2u);
  EXPECT_FALSE(parser.values()[0].has_value());
  EXPECT_EQ(parser.values()[1], std::string_view());
}

TEST(PgBinaryValueTest, NumericTextFromItsDigits) {
  // ndigits, weight, sign, dscale, base-10,000 digits
  struct Case {
    std::string bytes;
    const char* text;
  };
  const Case cases[] = {
      {Bytes().U16(0).U16(0).U16(0).U16(0).str(), "0"},
      {Bytes().U16(0).U16(0).U16(0).U16(3).str(), "0.000"},
      {Bytes().U16(1).U16(5).U16(0).U16(0).U16(1).str(), "100000000000000000000"},
      {Bytes().U16(1).U16(0xfffb).U16(0x4000).U16(20).U16(1).str(), "-0.00000000000000000001"},
      {Bytes().U16(2).U16(0).U16(0).U16(2).U16(12).U16(3400).str(), "12.34"},
      {Bytes().U16(2).U16(0).U16(0).U16(1).U16(12).U16(3456).str(), "12.3"},  // cut at dscale
      {Bytes().U16(1).U16(0xffff).U16(0).U16(4).U16(9999).str(), "0.9999"},
      {Bytes().U16(0).U16(0).U16(0xd000).U16(0).str(), "Infinity"},
      {Bytes().U16(0).U16(0).U16(0xf000).U16(0).str(), "-Infinity"},
  };
  for (const Case& c : cases) {
    std::string text;
    ASSERT_TRUE(AppendBinaryValueText(kNumericOid, c.bytes, text).ok()) << c.text;
    EXPECT_EQ(text, c.text);
    std::string want;
    AppendTextValueWire(kNumericOid, std::string_view(c.text), nullptr, want);
    EXPECT_EQ(Wire(kNumericOid, c.bytes), want) << c.text;
  }
}

TEST(PgBinaryValueTest, MalformedValuesAreDataLoss) {
  const std::pair<uint32_t, std::string> cases[] = {
      {kInt4Oid, "\0\0\0"},
      {kInt8Oid, std::string(9, '\0')},
      {kInt2Oid, ""},
      {kBoolOid, "\x02"},
      {kBoolOid, ""},
      {kFloat8Oid, "1234567"},
      {kTimestampOid, "1234"},
      {kTimestamptzOid, std::string(9, '\0')},
      {kUuidOid, std::string(15, 'a')},
      {kJsonbOid, ""},
      {kJsonbOid, "\x02{}"},
      {kNumericOid, "\0\0\0"},
      {kNumericOid, Bytes().U16(1).U16(0).U16(0).U16(0).str()},             // digit missing
      {kNumericOid, Bytes().U16(0).U16(0).U16(0).U16(0).U16(1).str()},      // a digit too many
      {kNumericOid, Bytes().U16(0xffff).U16(0).U16(0).U16(0).str()},        // ndigits < 0
      {kNumericOid, Bytes().U16(1).U16(0).U16(0).U16(0).U16(10000).str()},  // digit >= 10,000
      {kNumericOid, Bytes().U16(0).U16(0).U16(0x8000).U16(0).str()},        // sign
      {kNumericOid, Bytes().U16(0).U16(0).U16(0).U16(0x4000).str()},        // dscale
  };
  for (const auto& [oid, bytes] : cases) {
    std::string out, scratch;
    const absl::Status s = AppendBinaryValueWire(oid, bytes, nullptr, scratch, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << oid << " " << absl::CHexEscape(bytes);
  }
}

TEST(PgBinaryValueTest, TimestampsOutsideTheDirectPathsGoThroughTheirText) {
  // 294276-12-31 23:59:59.999999 is past INT64_MAX as Unix micros: the text decoder keeps the
  // text (raw), and so does the binary one; 10000-01-01 and BC dates take the text path too.
  const std::pair<int64_t, const char*> cases[] = {
      {9223371331199999999, "294276-12-31 23:59:59.999999+00"},
      {252455616000000000, "10000-01-01 00:00:00+00"},
      {-63176976000000000, "0003-01-01 00:00:00+00 BC"},
      {-1, "1999-12-31 23:59:59.999999+00"},
  };
  for (const auto& [micros, text] : cases) {
    const std::string bytes = Bytes().U64(static_cast<uint64_t>(micros)).str();
    std::string want;
    AppendTextValueWire(kTimestamptzOid, std::string_view(text), nullptr, want);
    EXPECT_EQ(absl::CHexEscape(Wire(kTimestamptzOid, bytes)), absl::CHexEscape(want)) << text;
    std::string local(text);
    local.erase(local.find("+00"), 3);
    want.clear();
    AppendTextValueWire(kTimestampOid, std::string_view(local), nullptr, want);
    EXPECT_EQ(absl::CHexEscape(Wire(kTimestampOid, bytes)), absl::CHexEscape(want)) << local;
  }
}

}  // namespace
}  // namespace sluice::postgres
