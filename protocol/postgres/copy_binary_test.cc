// CopyBinaryRow and the binary value decoders (pg_binary_value.h) on bytes captured from our own
// test PostgreSQL 15 (psql \copy (SELECT ...) TO FILE (FORMAT binary), 2026-12-06), each value
// checked against the text decoder's bytes for the text the server prints for it; then
// handcrafted malformed input.
#include "protocol/postgres/copy_binary.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

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
  // A count is signed: 0x8000 is -32768 (not the 32,768 columns expected), on the common-tuple
  // path as on the checked one.
  std::string wide = Bytes().U16(0x8000).str();
  for (int i = 0; i < 32768; ++i) wide += Bytes().U32(0xffffffff).str();
  const absl::Status s = parser.Parse(wide, 32768);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("field count -32768"), std::string_view::npos) << s;
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

// The fast path (binary_internal::AppendBinaryValueWireFast) against the general one: the same
// bytes whenever it takes a value, nothing appended when it does not; and it does take the
// common values (so that a fast path that gives up on everything fails here too).
class FastPathTest : public ::testing::Test {
 protected:
  // Expects the fast path to take `bytes` when `taken`, and the same bytes as the general path.
  void Check(uint32_t oid, const std::string& bytes, bool taken) {
    std::string fast = "prefix", general = "prefix", scratch;
    const bool took = binary_internal::AppendBinaryValueWireFast(oid, bytes, fast);
    const absl::Status s =
        binary_internal::AppendBinaryValueWireGeneral(oid, bytes, nullptr, scratch, general);
    ++checked_;
    if (took != taken) {
      ADD_FAILURE() << "oid " << oid << " " << absl::CHexEscape(bytes) << ": fast path took it "
                    << took << ", expected " << taken;
      return;
    }
    if (!took) {
      EXPECT_EQ(fast, "prefix") << oid << " " << absl::CHexEscape(bytes);
      return;
    }
    ASSERT_TRUE(s.ok()) << s << " oid " << oid << " " << absl::CHexEscape(bytes);
    ASSERT_EQ(absl::CHexEscape(fast), absl::CHexEscape(general))
        << "oid " << oid << " " << absl::CHexEscape(bytes);
  }
  std::mt19937_64 rng_{20261207};
  size_t checked_ = 0;
};

TEST_F(FastPathTest, IntegersBoolFloatUuid) {
  for (int i = 0; i < 2000; ++i) {
    const uint64_t v = rng_() >> (rng_() % 64);
    Check(kInt2Oid, Bytes().U16(static_cast<uint16_t>(v)).str(), true);
    Check(kInt4Oid, Bytes().U32(static_cast<uint32_t>(v)).str(), true);
    Check(kOidOid, Bytes().U32(static_cast<uint32_t>(v)).str(), true);
    Check(kInt8Oid, Bytes().U64(v).str(), true);
    Check(kFloat8Oid, Bytes().U64(v).str(), true);
    Check(kUuidOid, Bytes().U64(v).U64(rng_()).str(), true);
  }
  for (uint64_t bits : {0x7ff8000000000000ULL, 0xfff0000000000001ULL, 0x8000000000000000ULL}) {
    Check(kFloat8Oid, Bytes().U64(bits).str(), true);
  }
  Check(kBoolOid, std::string(1, '\0'), true);
  Check(kBoolOid, "\x01", true);
  Check(kBoolOid, "\x02", false);
  Check(kInt4Oid, "\x01\x02", false);
  Check(kInt8Oid, "1234", false);
  Check(kUuidOid, std::string(17, 'a'), false);
  Check(kInt4Oid + 1000000, "abcd", false);  // a type without a binary decoder
}

TEST_F(FastPathTest, TextTypes) {
  for (uint32_t oid : {kTextOid, kVarcharOid, kBpcharOid, kNameOid, kJsonOid}) {
    Check(oid, "", true);
    Check(oid, "plain", true);
    Check(oid, std::string(200, 'x'), true);
    Check(oid, "caf\xc3\xa9", true);
    Check(oid, "bad \xc3", true);  // not UTF-8: stored as bytes by both
    // Every length around the fast path's fixed-size moves (up to 64 bytes: the first and the
    // last 32, 16, 8 or 4; single bytes below 4), distinct bytes so that a misplaced one shows;
    // well-formed and with an ill-formed byte.
    for (size_t n = 0; n <= 70; ++n) {
      std::string text(n, ' ');
      for (size_t k = 0; k < n; ++k) text[k] = static_cast<char>('!' + k % 90);
      Check(oid, text, true);
      if (n > 0) {
        text[n / 3] = '\xff';
        Check(oid, text, true);
      }
    }
  }
  Check(kJsonbOid, "\x01{\"a\": 1}", true);
  Check(kJsonbOid, "\x01", true);
  Check(kJsonbOid, "", false);
  Check(kJsonbOid, "\x02{}", false);
}

TEST_F(FastPathTest, Numerics) {
  auto numeric = [](const std::vector<uint16_t>& digits, int16_t weight, uint16_t sign,
                    uint16_t dscale) {
    Bytes b;
    b.U16(static_cast<uint16_t>(digits.size())).U16(static_cast<uint16_t>(weight)).U16(sign);
    b.U16(dscale);
    for (uint16_t d : digits) b.U16(d);
    return b.str();
  };
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint16_t> digits(rng_() % 8);
    for (uint16_t& d : digits) d = static_cast<uint16_t>(rng_() % 10000);
    const auto weight = static_cast<int16_t>(static_cast<int>(rng_() % 40) - 12);
    const uint16_t sign = rng_() % 2 ? 0x4000 : 0x0000;
    const auto dscale = static_cast<uint16_t>(rng_() % 3 ? rng_() % 12 : rng_() % 120);
    const std::string b = numeric(digits, weight, sign, dscale);
    // The fast path takes what fits 127 characters (the bound PutNumericText writes in).
    const size_t bound = 1 + (weight < 0 ? 1 : 4 * (static_cast<size_t>(weight) + 1)) +
                         (dscale > 0 ? 1 + static_cast<size_t>(dscale) + 3 : 0);
    Check(kNumericOid, b, bound <= 127);
  }
  Check(kNumericOid, numeric({}, 0, 0, 0), true);                // 0
  Check(kNumericOid, numeric({1234, 5600}, 0, 0, 2), true);      // 1234.56
  Check(kNumericOid, numeric({5}, 0, 0x4000, 0), true);          // -5
  Check(kNumericOid, numeric({}, 0, 0xC000, 0), false);          // NaN
  Check(kNumericOid, numeric({}, 0, 0xD000, 0), false);          // Infinity
  Check(kNumericOid, numeric({10000}, 0, 0, 0), false);          // digit >= 10,000
  Check(kNumericOid, numeric({1}, 0, 0x8000, 0), false);         // sign
  Check(kNumericOid, numeric({1}, 0, 0, 0x4000), false);         // dscale
  Check(kNumericOid, numeric({1}, 0, 0, 0).substr(0, 9), false);  // a digit cut short
}

TEST_F(FastPathTest, TimestampsOfEveryDayOfYears1To9999) {
  // 0001-01-01 and 10000-01-01 as Postgres-epoch days.
  constexpr int64_t kFirstDay = -730'119, kEndDay = 2'921'940;
  constexpr int64_t kDay = 86'400'000'000;
  for (int64_t day = kFirstDay - 3; day < kEndDay + 3; ++day) {
    const bool plain = day >= kFirstDay && day < kEndDay;
    const int64_t time = day % 7 == 0 ? 0 : static_cast<int64_t>(rng_() % kDay);
    Check(kTimestampOid, Bytes().U64(static_cast<uint64_t>(day * kDay + time)).str(), plain);
  }
  for (int64_t edge : {kFirstDay * kDay, kFirstDay * kDay - 1, kEndDay * kDay - 1, kEndDay * kDay}) {
    const bool plain = edge >= kFirstDay * kDay && edge < kEndDay * kDay;
    Check(kTimestampOid, Bytes().U64(static_cast<uint64_t>(edge)).str(), plain);
  }
  Check(kTimestampOid, Bytes().U64(INT64_MAX).str(), false);
  Check(kTimestampOid, Bytes().U64(static_cast<uint64_t>(INT64_MIN)).str(), false);
  Check(kTimestampOid, "1234567", false);
  EXPECT_GT(checked_, size_t{3'650'000});
}

TEST_F(FastPathTest, Timestamptz) {
  for (int i = 0; i < 20000; ++i) {
    Check(kTimestamptzOid, Bytes().U64(rng_() >> 8).str(), true);
    Check(kTimestamptzOid, Bytes().U64(-(rng_() >> 8)).str(), true);
  }
  constexpr uint64_t kEpoch = 946'684'800'000'000;  // 2000-01-01 as Unix micros
  Check(kTimestamptzOid, Bytes().U64(INT64_MAX).str(), false);
  Check(kTimestamptzOid, Bytes().U64(static_cast<uint64_t>(INT64_MIN)).str(), false);
  Check(kTimestamptzOid, Bytes().U64(INT64_MAX - kEpoch).str(), false);   // Unix infinity
  Check(kTimestamptzOid, Bytes().U64(INT64_MAX - kEpoch + 1).str(), false);  // overflows
  Check(kTimestamptzOid, Bytes().U64(INT64_MAX - kEpoch - 1).str(), true);
}

}  // namespace
}  // namespace sluice::postgres
