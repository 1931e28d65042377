// Column value decoders: DECIMAL, temporals, JSON binary, charsets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "proto/base/value_json.h"
#include "protocol/mysql/charset.h"
#include "protocol/mysql/decimal.h"
#include "protocol/mysql/json_binary.h"
#include "protocol/mysql/json_diff.h"
#include "protocol/mysql/row_values.h"
#include "protocol/mysql/temporal.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string Be(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

std::string Json(const v1::Value& v) { return ValueToJson(v); }

TEST(DecimalTest, KnownEncodings) {
  // DECIMAL(14,4): 1234567890.1234 and its negation.
  std::string pos = Hex("810DFB38D204D2");
  ByteReader r(pos);
  EXPECT_EQ(*ReadBinaryDecimal(r, 14, 4), "1234567890.1234");
  EXPECT_EQ(r.remaining(), 0u);
  std::string neg = Hex("7EF204C72DFB2D");
  ByteReader rn(neg);
  EXPECT_EQ(*ReadBinaryDecimal(rn, 14, 4), "-1234567890.1234");
  EXPECT_EQ(BinaryDecimalSize(14, 4), 7u);
}

TEST(DecimalTest, ZeroAndScaleKept) {
  // DECIMAL(5,2) 0.00: intg 3 -> 2 bytes, frac 2 -> 1 byte; sign bit set.
  std::string zero = Hex("800000");
  ByteReader r(zero);
  EXPECT_EQ(*ReadBinaryDecimal(r, 5, 2), "0.00");
  // DECIMAL(5,2) 3.10
  std::string v = Hex("80030A");
  ByteReader r2(v);
  EXPECT_EQ(*ReadBinaryDecimal(r2, 5, 2), "3.10");
  // DECIMAL(3,0) -7
  std::string n = Hex("7FF8");
  ByteReader r3(n);
  EXPECT_EQ(*ReadBinaryDecimal(r3, 3, 0), "-7");
}

TEST(DecimalTest, Errors) {
  std::string shortb = Hex("8003");
  ByteReader r(shortb);
  EXPECT_EQ(ReadBinaryDecimal(r, 5, 2).status().code(), absl::StatusCode::kDataLoss);
  std::string bad = Hex("80FFFF");  // 65535 in a 3-digit... lead group of intg 3 -> 2 bytes max 999
  ByteReader r2(bad);
  EXPECT_EQ(ReadBinaryDecimal(r2, 5, 2).status().code(), absl::StatusCode::kDataLoss);
  ByteReader r3(bad);
  EXPECT_FALSE(ReadBinaryDecimal(r3, 0, 0).ok());
  EXPECT_FALSE(ReadBinaryDecimal(r3, 66, 2).ok());
}

uint64_t Hms(uint64_t h, uint64_t m, uint64_t s) { return h << 12 | m << 6 | s; }

TEST(TemporalTest, Time2) {
  std::string b = Be((uint64_t{1} << 23) + Hms(838, 59, 59), 3);
  ByteReader r(b);
  EXPECT_EQ(Json([&] {
              v1::Value v;
              *v.mutable_time() = ReadTime2(r, 0);
              return v;
            }()),
            "\"838:59:59\"");
  // -838:59:59 (fsp 0).
  std::string n = Be((uint64_t{1} << 23) - Hms(838, 59, 59), 3);
  ByteReader rn(n);
  v1::Time t = ReadTime2(rn, 0);
  EXPECT_TRUE(t.negative());
  EXPECT_EQ(t.hours(), 838u);
  EXPECT_EQ(t.seconds(), 59u);
  // -00:00:00.01 (fsp 2): the whole packed value is negated, fraction included.
  std::string f = Be((uint64_t{1} << 31) - 1, 4);
  ByteReader rf(f);
  t = ReadTime2(rf, 2);
  EXPECT_TRUE(t.negative());
  EXPECT_EQ(t.hours() + t.minutes() + t.seconds(), 0u);
  EXPECT_EQ(t.micros(), 10000u);
  // -01:00:00.5 (fsp 1): magnitude (hms << 8 | 50).
  std::string h = Be((uint64_t{1} << 31) - (Hms(1, 0, 0) << 8 | 50), 4);
  ByteReader rh(h);
  t = ReadTime2(rh, 1);
  EXPECT_TRUE(t.negative());
  EXPECT_EQ(t.hours(), 1u);
  EXPECT_EQ(t.micros(), 500000u);
  // 12:34:56.123456 (fsp 6).
  std::string m = Be((uint64_t{1} << 47) + (Hms(12, 34, 56) << 24 | 123456), 6);
  ByteReader rm(m);
  t = ReadTime2(rm, 6);
  EXPECT_FALSE(t.negative());
  EXPECT_EQ(t.micros(), 123456u);
  std::string trunc = Be(0, 5);
  ByteReader rt(trunc);
  ReadTime2(rt, 6);
  EXPECT_FALSE(rt.ok());
}

TEST(TemporalTest, DateTime2AndTimestamp2AndDate) {
  uint64_t ymd = ((2012 * 13 + 3) << 5) | 18;
  std::string b = Be((uint64_t{1} << 39) + (ymd << 17 | Hms(11, 30, 45)), 5) + Be(1234, 2);
  ByteReader r(b);
  v1::Value v;
  *v.mutable_datetime() = ReadDateTime2(r, 4);
  EXPECT_EQ(Json(v), "\"2012-03-18 11:30:45.1234\"");
  // Zero datetime is legal.
  std::string z = Be(uint64_t{1} << 39, 5);
  ByteReader rz(z);
  *v.mutable_datetime() = ReadDateTime2(rz, 0);
  EXPECT_EQ(v.datetime().date().year(), 0);
  EXPECT_EQ(v.datetime().date().month(), 0u);

  std::string ts = Be(1650493084, 4) + Be(5, 1);
  ByteReader rts(ts);
  EXPECT_EQ(ReadTimestamp2Micros(rts, 2), 1650493084LL * 1000000 + 50000);

  std::string d;
  uint32_t packed = 18 | 3 << 5 | 2012 << 9;
  d.push_back(static_cast<char>(packed & 0xFF));
  d.push_back(static_cast<char>(packed >> 8 & 0xFF));
  d.push_back(static_cast<char>(packed >> 16 & 0xFF));
  ByteReader rd(d);
  *v.mutable_date() = ReadDate(rd);
  EXPECT_EQ(Json(v), "\"2012-03-18\"");
}

std::string Le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

// {"a":1,"b":[true,"xy"]} as a small object.
std::string SampleJson() {
  // Array [true, "xy"]: count 2, size, 2 entries of 3 bytes, then the string.
  std::string arr = Le(2, 2) + Le(0, 2);
  arr += std::string("\x04") + Le(1, 2);   // literal true, inlined
  arr += std::string("\x0c") + Le(10, 2);  // string at offset 10
  arr += std::string("\x02xy");
  arr.replace(2, 2, Le(arr.size(), 2));
  // Object: count 2, size, 2 key entries (4 bytes), 2 value entries (3 bytes), keys, values.
  std::string obj = Le(2, 2) + Le(0, 2);
  size_t keys_at = 4 + 2 * 4 + 2 * 3;
  obj += Le(keys_at, 2) + Le(1, 2);
  obj += Le(keys_at + 1, 2) + Le(1, 2);
  obj += std::string("\x05") + Le(1, 2);            // int16 1, inlined
  obj += std::string("\x02") + Le(keys_at + 2, 2);  // array after the keys
  obj += "ab";
  obj += arr;
  obj.replace(2, 2, Le(obj.size(), 2));
  return std::string("\x00", 1) + obj;
}

TEST(JsonBinaryTest, SmallObjectAndArray) {
  std::string out;
  ASSERT_TRUE(AppendJsonFromBinary(SampleJson(), out).ok());
  EXPECT_EQ(out, "{\"a\":1,\"b\":[true,\"xy\"]}");
  out.clear();
  ASSERT_TRUE(AppendJsonFromBinary("", out).ok());
  EXPECT_EQ(out, "null");
}

TEST(JsonBinaryTest, Scalars) {
  auto render = [](const std::string& doc) {
    std::string out;
    absl::Status st = AppendJsonFromBinary(doc, out);
    return st.ok() ? out : std::string(st.message());
  };
  EXPECT_EQ(render(std::string("\x09") + Le(static_cast<uint64_t>(-5), 8)), "-5");
  EXPECT_EQ(render(std::string("\x0a") + Le(UINT64_MAX, 8)), "18446744073709551615");
  double d = 1.5;
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  EXPECT_EQ(render(std::string("\x0b") + Le(bits, 8)), "1.5");
  EXPECT_EQ(render(std::string("\x0c\x03"
                               "a\"b")),
            "\"a\\\"b\"");
  EXPECT_EQ(render(std::string("\x04\x02", 2)), "false");
  // Opaque DATE 2012-03-18 (packed: ymd << 17 << 24).
  uint64_t ymd = ((2012 * 13 + 3) << 5) | 18;
  EXPECT_EQ(render(std::string("\x0f\x0a\x08", 3) + Le(ymd << 17 << 24, 8)), "\"2012-03-18\"");
  // Opaque other type: base64.
  EXPECT_EQ(render(std::string("\x0f\xfc\x01U", 4)), "\"base64:type252:VQ==\"");
}

TEST(JsonBinaryTest, EveryTruncationFailsCleanly) {
  std::string doc = SampleJson();
  for (size_t n = 1; n < doc.size(); ++n) {
    std::string out;
    absl::Status st = AppendJsonFromBinary(doc.substr(0, n), out);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << "prefix " << n;
  }
  // Every single-byte corruption either decodes or fails cleanly.
  for (size_t i = 0; i < doc.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = doc;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      std::string out;
      (void)AppendJsonFromBinary(bad, out);
    }
  }
}

TEST(JsonBinaryTest, DeepNestingIsAnError) {
  // 200 nested single-element small arrays.
  std::string doc;
  std::string value = Le(0, 2) + Le(0, 2);  // innermost empty array
  value.replace(2, 2, Le(4, 2));
  for (int i = 0; i < 200; ++i) {
    std::string outer = Le(1, 2) + Le(0, 2) + std::string("\x02") + Le(7, 2) + value;
    outer.replace(2, 2, Le(outer.size(), 2));
    value = outer;
  }
  doc = std::string("\x02") + value;
  std::string out;
  EXPECT_EQ(AppendJsonFromBinary(doc, out).code(), absl::StatusCode::kDataLoss);
}

std::string Lenenc(const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; }

std::string Diff(JsonDiffOp op, const std::string& path, const std::string& value = "") {
  std::string d(1, static_cast<char>(op));
  d += Lenenc(path);
  if (op != JsonDiffOp::kRemove) d += Lenenc(value);
  return d;
}

std::string ApplyToSample(const std::string& diffs_bytes) {
  auto diffs = DecodeJsonDiffs(diffs_bytes);
  if (!diffs.ok()) return std::string(diffs.status().message());
  auto dom = JsonDomFromBinary(SampleJson());
  if (!dom.ok()) return std::string(dom.status().message());
  absl::Status st = ApplyJsonDiffs(*diffs, *dom);
  if (!st.ok()) return std::string(st.message());
  std::string out;
  AppendJsonDom(*dom, out);
  return out;
}

TEST(JsonDiffTest, ApplyReplaceInsertRemove) {
  const std::string seven("\x05\x07\x00", 3);  // int16 7
  EXPECT_EQ(ApplyToSample(""), "{\"a\":1,\"b\":[true,\"xy\"]}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kReplace, "$.a", seven)),
            "{\"a\":7,\"b\":[true,\"xy\"]}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kReplace, "$.b[1]", seven)), "{\"a\":1,\"b\":[true,7]}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kInsert, "$.b[0]", seven)),
            "{\"a\":1,\"b\":[7,true,\"xy\"]}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kInsert, "$.c", seven)),
            "{\"a\":1,\"b\":[true,\"xy\"],\"c\":7}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kInsert, "$.\"long key\"", seven)),
            "{\"a\":1,\"b\":[true,\"xy\"],\"long key\":7}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kRemove, "$.b[0]") + Diff(JsonDiffOp::kRemove, "$.a")),
            "{\"b\":[\"xy\"]}");
  EXPECT_EQ(ApplyToSample(Diff(JsonDiffOp::kReplace, "$", seven)), "7");
  // Errors: missing paths, bad paths, bad ops, truncated diffs.
  EXPECT_THAT(ApplyToSample(Diff(JsonDiffOp::kReplace, "$.zz", seven)),
              ::testing::HasSubstr("does not exist"));
  EXPECT_THAT(ApplyToSample(Diff(JsonDiffOp::kRemove, "$.b[5]")),
              ::testing::HasSubstr("out of range"));
  EXPECT_THAT(ApplyToSample(Diff(JsonDiffOp::kReplace, "$.q.r", seven)),
              ::testing::HasSubstr("does not exist"));
  EXPECT_THAT(ApplyToSample(Diff(JsonDiffOp::kReplace, "a", seven)),
              ::testing::HasSubstr("does not start with $"));
  EXPECT_THAT(ApplyToSample(Diff(JsonDiffOp::kReplace, "$[x]", seven)),
              ::testing::HasSubstr("bad array index"));
  EXPECT_THAT(ApplyToSample(std::string("\x07\x01$", 3)), ::testing::HasSubstr("operation 7"));
  std::string full = Diff(JsonDiffOp::kReplace, "$.a", seven);
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_FALSE(DecodeJsonDiffs(full.substr(0, n)).ok()) << n;
  }
  auto diffs = DecodeJsonDiffs(full + Diff(JsonDiffOp::kRemove, "$.b"));
  ASSERT_TRUE(diffs.ok());
  std::string text;
  ASSERT_TRUE(AppendJsonDiffsText(*diffs, text).ok());
  EXPECT_EQ(
      text,
      "[{\"op\":\"replace\",\"path\":\"$.a\",\"value\":7},{\"op\":\"remove\",\"path\":\"$.b\"}]");
}

TEST(CharsetTest, Latin1AndLookup) {
  EXPECT_EQ(Latin1ToUtf8("caf\xe9 \x80"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(CharsetForCollation(255).kind, CharsetKind::kUtf8);
  EXPECT_EQ(CharsetForCollation(45).name, "utf8mb4");
  EXPECT_EQ(CharsetForCollation(33).name, "utf8mb3");
  EXPECT_EQ(CharsetForCollation(8).kind, CharsetKind::kLatin1);
  EXPECT_EQ(CharsetForCollation(63).kind, CharsetKind::kBinary);
  EXPECT_EQ(CharsetForCollation(28).name, "gbk");
  EXPECT_EQ(CharsetForCollation(9999).kind, CharsetKind::kUnknown);
  EXPECT_EQ(CharsetForCollation(35).kind, CharsetKind::kUcs2);
  EXPECT_EQ(CharsetForCollation(56).kind, CharsetKind::kUtf16Le);
}

TEST(CharsetTest, WideCharsets) {
  using std::string;
  EXPECT_EQ(WideToUtf8(string("\x00"
                              "A"
                              "\x00\xe9",
                              4),
                       CharsetKind::kUcs2),
            "A\xc3\xa9");
  // U+1F600 as a UTF-16 surrogate pair, big- and little-endian, and as UTF-32.
  EXPECT_EQ(WideToUtf8(string("\xd8\x3d\xde\x00", 4), CharsetKind::kUtf16), "\xf0\x9f\x98\x80");
  EXPECT_EQ(WideToUtf8(string("\x3d\xd8\x00\xde", 4), CharsetKind::kUtf16Le), "\xf0\x9f\x98\x80");
  EXPECT_EQ(WideToUtf8(string("\x00\x01\xf6\x00", 4), CharsetKind::kUtf32), "\xf0\x9f\x98\x80");
  EXPECT_FALSE(WideToUtf8(string("\xd8\x3d\xde\x00", 4), CharsetKind::kUcs2));   // no surrogates
  EXPECT_FALSE(WideToUtf8(string("\xd8\x3d", 2), CharsetKind::kUtf16));          // unpaired
  EXPECT_FALSE(WideToUtf8(string("\x00\x41\x00", 3), CharsetKind::kUtf16));      // odd length
  EXPECT_FALSE(WideToUtf8(string("\x00\x11\x00\x00", 4), CharsetKind::kUtf32));  // > U+10FFFF
  EXPECT_FALSE(WideToUtf8("ab", CharsetKind::kOther));

  ColumnDef c;
  c.type = ColumnType::kVarchar;
  c.max_length = 40;
  c.collation = 35;  // ucs2
  std::string b = string(
      "\x04\x00"
      "A"
      "\x00"
      "B",
      5);
  ByteReader r(b);
  v1::Value v;
  ASSERT_TRUE(ReadColumnValue(r, c, v).ok());
  EXPECT_EQ(v.string(), "AB");
  std::string odd = string(
      "\x03\x00"
      "A"
      "\x00",
      4);
  ByteReader r2(odd);
  ASSERT_TRUE(ReadColumnValue(r2, c, v).ok());
  EXPECT_EQ(v.raw().type_name(), "ucs2");
}

TEST(RowValuesTest, IntegersStringsEnumSet) {
  ColumnDef c;
  c.type = ColumnType::kLong;
  std::string b = Le(0xC0888888, 4);
  ByteReader r(b);
  v1::Value v;
  ASSERT_TRUE(ReadColumnValue(r, c, v).ok());
  EXPECT_EQ(v.int64(), static_cast<int32_t>(0xC0888888));
  c.is_unsigned = true;
  ByteReader r2(b);
  ASSERT_TRUE(ReadColumnValue(r2, c, v).ok());
  EXPECT_EQ(v.uint64(), 0xC0888888u);

  ColumnDef s;
  s.type = ColumnType::kVarchar;
  s.max_length = 40;
  s.collation = 8;  // latin1
  std::string sb = std::string(
      "\x03"
      "\xe9t\xe9");
  ByteReader rs(sb);
  ASSERT_TRUE(ReadColumnValue(rs, s, v).ok());
  EXPECT_EQ(v.string(), "\xc3\xa9t\xc3\xa9");
  s.collation = 63;
  ByteReader rb(sb);
  ASSERT_TRUE(ReadColumnValue(rb, s, v).ok());
  EXPECT_EQ(v.kind_case(), v1::Value::kBytes);
  s.collation = 28;
  ByteReader rg(sb);
  ASSERT_TRUE(ReadColumnValue(rg, s, v).ok());
  EXPECT_EQ(v.raw().type_name(), "gbk");

  ColumnDef e;
  e.type = ColumnType::kEnum;
  e.length_bytes = 1;
  e.enum_values = {"a", "b"};
  std::string eb = "\x02";
  ByteReader re(eb);
  ASSERT_TRUE(ReadColumnValue(re, e, v).ok());
  EXPECT_EQ(v.string(), "b");
  std::string e0("\x00", 1);
  ByteReader re0(e0);
  ASSERT_TRUE(ReadColumnValue(re0, e, v).ok());
  EXPECT_EQ(v.string(), "");
  std::string e3 = "\x03";
  ByteReader re3(e3);
  EXPECT_EQ(ReadColumnValue(re3, e, v).code(), absl::StatusCode::kDataLoss);

  ColumnDef st;
  st.type = ColumnType::kSet;
  st.length_bytes = 1;
  st.set_values = {"one", "two", "three"};
  std::string sbits = "\x05";
  ByteReader rset(sbits);
  ASSERT_TRUE(ReadColumnValue(rset, st, v).ok());
  EXPECT_EQ(v.string(), "one,three");
  std::string sbad = "\x08";
  ByteReader rsb(sbad);
  EXPECT_EQ(ReadColumnValue(rsb, st, v).code(), absl::StatusCode::kDataLoss);
}

TEST(RowValuesTest, TruncatedValuesFail) {
  ColumnDef c;
  c.type = ColumnType::kBlob;
  c.length_bytes = 2;
  std::string b = Le(100, 2) + "abc";
  ByteReader r(b);
  v1::Value v;
  EXPECT_EQ(ReadColumnValue(r, c, v).code(), absl::StatusCode::kDataLoss);
  ColumnDef old;
  old.type = ColumnType::kDecimal;
  ByteReader r2(b);
  EXPECT_EQ(ReadColumnValue(r2, old, v).code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace sluice::mysql
