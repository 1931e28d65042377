// The flat row renderer (flat_row_json.h) against AppendValueJson / AppendRowJson of the same
// v1::Value / v1::Row: integers at every digit-count boundary, strings of random bytes (quotes,
// backslashes, control characters, valid and broken UTF-8), base64, doubles, whole rows with
// long and escaped column names, and a golden line.
#include "protocol/mysql/flat_row_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "proto/base/value_json.h"

namespace sluice::mysql {
namespace {

// `v` rendered by the flat renderer (both overloads, which must agree) and by AppendValueJson.
void ExpectSameJson(const FlatRow& row, const FlatValue& v) {
  std::string flat;
  AppendFlatValueJson(row, v, flat);
  TextBuffer buffer;
  buffer.Append("x");  // not at the start of the buffer
  AppendFlatValueJson(row, v, buffer);
  EXPECT_EQ(buffer.view().substr(1), flat);
  v1::Value proto;
  FlatValueToProto(row, v, proto);
  ASSERT_EQ(flat, ValueToJson(proto)) << proto.ShortDebugString();
}

TEST(FlatRowJsonTest, IntegersAtEveryDigitCountBoundary) {
  std::vector<uint64_t> values = {0, std::numeric_limits<uint64_t>::max()};
  for (uint64_t p = 1; p <= std::numeric_limits<uint64_t>::max() / 10; p *= 10) {
    values.insert(values.end(), {p - 1, p, p + 1, p * 10 - 1});
  }
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t b = uint64_t{1} << bit;
    values.insert(values.end(), {b - 1, b, b + 1});
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) values.push_back(rng() >> (rng() % 64));
  FlatRow row;
  size_t compared = 0;
  for (const uint64_t u : values) {
    row.Clear();
    FlatValue& a = row.Add(0);
    a.kind = FlatKind::kUint64;
    a.u64 = u;
    ExpectSameJson(row, row.values()[0]);
    for (const int64_t s : {static_cast<int64_t>(u), -static_cast<int64_t>(u / 2) - 1}) {
      row.Clear();
      FlatValue& b = row.Add(0);
      b.kind = FlatKind::kInt64;
      b.i64 = s;
      ExpectSameJson(row, row.values()[0]);
    }
    compared += 3;
  }
  row.Clear();
  FlatValue& min = row.Add(0);
  min.kind = FlatKind::kInt64;
  min.i64 = std::numeric_limits<int64_t>::min();
  ExpectSameJson(row, row.values()[0]);
  EXPECT_GT(compared, 15000u);
}

TEST(FlatRowJsonTest, DoublesIncludingNanInfinityAndNegativeZero) {
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                0.1,
                                1e20,
                                1e-7,
                                0.142857142,
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::denorm_min(),
                                -2.2250738585072014e-308};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    values.push_back(d);
  }
  FlatRow row;
  for (const double d : values) {
    row.Clear();
    FlatValue& v = row.Add(0);
    v.kind = FlatKind::kDouble;
    v.f64 = d;
    ExpectSameJson(row, row.values()[0]);
  }
}

// Random strings from an alphabet that stresses the escaper: plain ASCII in runs (the 8-byte
// copies), '"', '\\', control characters, DEL, valid 2/3/4-byte UTF-8, lone continuation bytes,
// overlong forms, surrogates, truncated sequences and bytes F5..FF.
std::string RandomText(std::mt19937_64& rng) {
  static const char* const kPieces[] = {
      "abcdefgh", "x",        "\"",       "\\",       "\n",     "\t",   "\x01", "\x1f", "\x7f",
      "\xc3\xa9", "\xe4\xb8\xad",         "\xf0\x9f\x98\x80", "\x80", "\xc0\xaf", "\xed\xa0\x80",
      "\xe4\xb8", "\xf0\x9f", "\xf5",     "\xff",     " ",      "0123456789abcdef"};
  std::string s;
  const size_t pieces = rng() % 12;
  for (size_t i = 0; i < pieces; ++i) s += kPieces[rng() % std::size(kPieces)];
  return s;
}

TEST(FlatRowJsonTest, StringsAndBytesOfRandomBytes) {
  std::mt19937_64 rng(3);
  FlatRow row;
  for (int i = 0; i < 20000; ++i) {
    std::string text = RandomText(rng);
    if (rng() % 4 == 0) {
      // Uniformly random bytes too.
      text.resize(rng() % 40);
      for (char& c : text) c = static_cast<char>(rng());
    }
    for (const FlatKind kind : {FlatKind::kString, FlatKind::kBytes}) {
      row.Clear();
      FlatValue& v = row.Add(0);
      row.SetText(v, kind, text);
      ExpectSameJson(row, row.values()[0]);
      // The same text in the arena.
      row.Clear();
      FlatValue& w = row.Add(1);
      row.arena() = "prefix";
      row.arena() += text;
      row.SetArenaText(w, kind, 0);
      ExpectSameJson(row, row.values()[0]);
    }
  }
}

// A DECIMAL's text is what AppendBinaryDecimal writes: [-]digits[.digits] (flat_row.h).
TEST(FlatRowJsonTest, DecimalTexts) {
  std::mt19937_64 rng(5);
  FlatRow row;
  for (int i = 0; i < 5000; ++i) {
    std::string text = rng() % 2 == 0 ? "-" : "";
    const size_t int_digits = 1 + rng() % 65;
    for (size_t k = 0; k < int_digits; ++k) text.push_back(static_cast<char>('0' + rng() % 10));
    if (rng() % 3 != 0) {
      text.push_back('.');
      const size_t frac_digits = 1 + rng() % 30;
      for (size_t k = 0; k < frac_digits; ++k) text.push_back(static_cast<char>('0' + rng() % 10));
    }
    row.Clear();
    row.SetText(row.Add(0), FlatKind::kDecimal, text);
    ExpectSameJson(row, row.values()[0]);
    row.Clear();
    FlatValue& w = row.Add(1);
    row.arena() = "12.5";
    row.arena() += text;
    row.SetArenaText(w, FlatKind::kDecimal, 4);
    ExpectSameJson(row, row.values()[0]);
  }
}

TableMap Table(std::vector<std::string> names) {
  TableMap t;
  t.database = "db";
  t.table = "t";
  for (std::string& name : names) {
    ColumnDef c;
    c.name = std::move(name);
    t.columns.push_back(std::move(c));
  }
  return t;
}

// A row of mixed kinds, with every column name shape (short, empty, exactly kKeyPad bytes with
// its quotes, longer, with characters that need escaping), against AppendRowJson.
TEST(FlatRowJsonTest, RowsAgainstAppendRowJsonWithEveryKeyShape) {
  const std::string exact(ColumnKeys::kKeyPad - 3, 'k');  // "kkk...": = kKeyPad bytes
  const TableMap table =
      Table({"id", "", exact, std::string(100, 'L'), "quo\"te\\back", "tab\there", "ü"});
  const ColumnKeys keys(table);
  ASSERT_EQ(keys.size(), table.columns.size());
  EXPECT_EQ(keys.key(2).size(), ColumnKeys::kKeyPad);
  std::mt19937_64 rng(5);
  FlatRow row;
  TextBuffer buffer;
  for (int i = 0; i < 3000; ++i) {
    row.Clear();
    v1::Row expected_row;
    for (uint32_t c = 0; c < table.columns.size(); ++c) {
      if (rng() % 5 == 0) continue;  // a column absent from the image
      FlatValue& v = row.Add(c);
      switch (rng() % 4) {
        case 0:
          break;  // null
        case 1:
          v.kind = FlatKind::kInt64;
          v.i64 = static_cast<int64_t>(rng());
          break;
        case 2: {
          const std::string text = RandomText(rng);
          const size_t begin = row.arena().size();
          row.arena() += text;
          row.SetArenaText(v, FlatKind::kString, begin);
          break;
        }
        case 3:
          v.kind = FlatKind::kDate;
          v.date = {static_cast<int32_t>(rng() % 12000), static_cast<uint32_t>(rng() % 13),
                    static_cast<uint32_t>(rng() % 32)};
          break;
      }
      v1::Field* field = expected_row.add_fields();
      field->set_name(table.ColumnName(c));
      FlatValueToProto(row, row.values().back(), *field->mutable_value());
    }
    buffer.Clear();
    AppendFlatRowJson(row, keys, buffer);
    std::string expected;
    AppendRowJson(expected_row, expected);
    ASSERT_EQ(buffer.view(), expected);
    std::string flat;
    AppendFlatRowJson(row, keys, flat);
    ASSERT_EQ(flat, expected);
  }
}

// The key object: each key column from the after image, else the before image, else left out;
// columns past the table's are left out. Checked against the value-by-value composition.
TEST(FlatRowJsonTest, KeyFromAfterElseBeforeImage) {
  const TableMap table = Table({"id", "", std::string(40, 'L'), "quo\"te", "d"});
  const ColumnKeys keys(table);
  std::mt19937_64 rng(11);
  FlatRow images[2];
  TextBuffer buffer;
  for (int i = 0; i < 5000; ++i) {
    for (FlatRow& row : images) {
      row.Clear();
      for (uint32_t c = 0; c < table.columns.size(); ++c) {
        if (rng() % 3 == 0) continue;  // a column absent from the image
        FlatValue& v = row.Add(c);
        switch (rng() % 4) {
          case 0:
            break;  // null
          case 1:
            v.kind = FlatKind::kInt64;
            v.i64 = static_cast<int64_t>(rng());
            break;
          case 2: {
            const std::string text = RandomText(rng);
            const size_t begin = row.arena().size();
            row.arena() += text;
            row.SetArenaText(v, FlatKind::kString, begin);
            break;
          }
          case 3:  // past year 9999 now and then: the slow path
            v.kind = FlatKind::kDate;
            v.date = {static_cast<int32_t>(rng() % 12000), static_cast<uint32_t>(rng() % 13),
                      static_cast<uint32_t>(rng() % 32)};
            break;
        }
      }
    }
    std::vector<uint32_t> columns(rng() % 4);
    for (uint32_t& c : columns) c = static_cast<uint32_t>(rng() % (table.columns.size() + 2));
    const FlatRow* after = rng() % 4 == 0 ? nullptr : &images[0];
    const FlatRow* before = rng() % 4 == 0 ? nullptr : &images[1];
    std::string expected = "{";
    bool first = true;
    for (uint32_t c : columns) {
      if (c >= table.columns.size()) continue;
      const FlatRow* image = nullptr;
      const FlatValue* value = nullptr;
      for (const FlatRow* candidate : {after, before}) {
        if (candidate == nullptr || value != nullptr) continue;
        for (const FlatValue& v : candidate->values()) {
          if (v.column == c) {
            image = candidate;
            value = &v;
          }
        }
      }
      if (value == nullptr) continue;
      if (!first) expected += ',';
      first = false;
      expected += keys.key(c);
      AppendFlatValueJson(*image, *value, expected);
    }
    expected += '}';
    buffer.Clear();
    buffer.Append("x");  // not at the start of the buffer
    AppendFlatKeyJson(after, before, columns, keys, buffer);
    ASSERT_EQ(buffer.view().substr(1), expected);
  }
}

TEST(FlatRowJsonTest, Golden) {
  const TableMap table = Table({"id", "name", "d", "dt", "ts", "t", "note", "f", "b"});
  const ColumnKeys keys(table);
  FlatRow row;
  FlatValue* v = &row.Add(0);
  v->kind = FlatKind::kInt64;
  v->i64 = -42;
  row.SetText(row.Add(1), FlatKind::kString, "caf\xc3\xa9 \"x\"\n\xff");
  row.SetText(row.Add(2), FlatKind::kDecimal, "-249.99");
  v = &row.Add(3);
  v->kind = FlatKind::kDateTime;
  v->datetime = {{2023, 11, 14}, {false, 22, 13, 21, 500}};
  v = &row.Add(4);
  v->kind = FlatKind::kTimestampMicros;
  v->i64 = 1'700'000'001'001'000;
  v = &row.Add(5);
  v->kind = FlatKind::kTime;
  v->time = {true, 507, 48, 27, 0};
  row.Add(6);  // null
  v = &row.Add(7);
  v->kind = FlatKind::kDouble;
  v->f64 = 0.1;
  row.SetText(row.Add(8), FlatKind::kBytes, std::string_view("\x00\xff\x10", 3));
  TextBuffer out;
  AppendFlatRowJson(row, keys, out);
  EXPECT_EQ(out.view(),
            "{\"id\":-42,\"name\":\"caf\xc3\xa9 \\\"x\\\"\\n\xef\xbf\xbd\",\"d\":\"-249.99\","
            "\"dt\":\"2023-11-14 22:13:21.0005\",\"ts\":\"2023-11-14T22:13:21.001Z\","
            "\"t\":\"-507:48:27\",\"note\":null,\"f\":0.1,\"b\":\"AP8Q\"}");
}

TEST(FlatRowJsonTest, SlowPathValuesInsideARow) {
  // A date past 9999 and a slot value (JSON) go through AppendValueJson, between fast values.
  const TableMap table = Table({"a", "big", "j", "z"});
  const ColumnKeys keys(table);
  FlatRow row;
  FlatValue* v = &row.Add(0);
  v->kind = FlatKind::kUint64;
  v->u64 = 7;
  v = &row.Add(1);
  v->kind = FlatKind::kDate;
  v->date = {12345, 1, 2};
  row.SetSlot(row.Add(2)).set_json("{ \"k\" : [1, 2] }");
  row.Add(3);
  TextBuffer out;
  AppendFlatRowJson(row, keys, out);
  EXPECT_EQ(out.view(), "{\"a\":7,\"big\":\"12345-01-02\",\"j\":{\"k\":[1,2]},\"z\":null}");
}

}  // namespace
}  // namespace sluice::mysql
