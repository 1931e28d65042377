// The flat row decoder (flat_row.h, ReadFlatColumnValue, ForEachFlatRow) against the v1::Value
// decoder: the same bytes consumed, the same value, the same JSON, the same errors.
#include "protocol/mysql/flat_row.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>

#include "proto/base/value_json.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/flat_plan.h"
#include "protocol/mysql/flat_row_json.h"
#include "protocol/mysql/row_values.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

std::string Le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

std::string Be(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

ColumnDef Col(ColumnType type) {
  ColumnDef c;
  c.type = type;
  c.binlog_type = type;
  return c;
}

struct Case {
  std::string what;
  ColumnDef column;
  std::string bytes;
};

// Decodes `bytes` both ways and compares everything observable. The flat value is decoded into a
// row that already holds two values, so that reuse of its buffers is exercised as well.
void ExpectSameAsProto(const Case& c) {
  SCOPED_TRACE(c.what);
  ByteReader pr(c.bytes);
  v1::Value proto;
  const absl::Status proto_status = ReadColumnValue(pr, c.column, proto);

  FlatRow row;
  const std::string warm = Le(7, 8) + "\x05hello";
  ByteReader wr(warm);
  ASSERT_TRUE(ReadFlatColumnValue(wr, Col(ColumnType::kLongLong), 0, row).ok());
  ColumnDef text = Col(ColumnType::kVarchar);
  text.max_length = 10;
  ASSERT_TRUE(ReadFlatColumnValue(wr, text, 1, row).ok());
  ByteReader fr(c.bytes);
  const absl::Status flat_status = ReadFlatColumnValue(fr, c.column, 2, row);

  EXPECT_EQ(flat_status, proto_status);
  EXPECT_EQ(fr.ok(), pr.ok());
  EXPECT_EQ(fr.position(), pr.position());
  if (!proto_status.ok() || !flat_status.ok()) return;
  ASSERT_EQ(row.values().size(), 3u);
  const FlatValue& v = row.values()[2];
  EXPECT_EQ(v.column, 2u);
  v1::Value converted;
  FlatValueToProto(row, v, converted);
  EXPECT_EQ(converted.ShortDebugString(), proto.ShortDebugString());
  std::string flat_json;
  AppendFlatValueJson(row, v, flat_json);
  EXPECT_EQ(flat_json, ValueToJson(proto));
  // The warm-up values are intact.
  EXPECT_EQ(row.values()[0].i64, 7);
  EXPECT_EQ(row.text(row.values()[1]), "hello");
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](std::string what, ColumnDef c, std::string bytes) {
    cases.push_back({std::move(what), std::move(c), std::move(bytes)});
  };
  auto numeric = [](ColumnType t, bool is_unsigned) {
    ColumnDef c = Col(t);
    c.is_unsigned = is_unsigned;
    return c;
  };
  for (bool u : {false, true}) {
    add("tiny", numeric(ColumnType::kTiny, u), "\xF0");
    add("short", numeric(ColumnType::kShort, u), Le(0x8001, 2));
    add("int24", numeric(ColumnType::kInt24, u), Le(0x800001, 3));
    add("long", numeric(ColumnType::kLong, u), Le(0xC0888888, 4));
    add("longlong", numeric(ColumnType::kLongLong, u), Le(0x8000000000000001, 8));
  }
  add("year", Col(ColumnType::kYear), "\x7A");
  add("year 0", Col(ColumnType::kYear), std::string(1, '\0'));
  add("float", Col(ColumnType::kFloat), Le(0x3FC00000, 4));
  add("double", Col(ColumnType::kDouble), Le(0x3FB999999999999A, 8));
  add("double nan", Col(ColumnType::kDouble), Le(0x7FF8000000000000, 8));
  ColumnDef dec = Col(ColumnType::kNewDecimal);
  dec.precision = 14;
  dec.scale = 4;
  add("decimal", dec, "\x81\x0D\xFB\x38\xD2\x04\xD2");
  add("decimal negative", dec, "\x7E\xF2\x04\xC7\x2D\xFB\x2D");
  add("decimal bad group", dec, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF");
  ColumnDef big = Col(ColumnType::kNewDecimal);
  big.precision = 65;
  big.scale = 30;
  add("decimal(65,30)", big, std::string("\x80", 1) + std::string(29, '\x01'));
  ColumnDef bad_dec = Col(ColumnType::kNewDecimal);
  bad_dec.precision = 70;
  add("decimal out of range", bad_dec, "\x80");
  ColumnDef bit = Col(ColumnType::kBit);
  bit.bits = 12;
  add("bit", bit, "\x0A\xBC");
  add("date", Col(ColumnType::kDate), Le((2024 << 9) | (2 << 5) | 29, 3));
  add("zero date", Col(ColumnType::kDate), Le(0, 3));
  add("old time negative", Col(ColumnType::kTime),
      Le(static_cast<uint32_t>(-5074827) & 0xFFFFFF, 3));
  ColumnDef time2 = Col(ColumnType::kTime2);
  time2.fsp = 3;
  // -507:48:27.5 and 838:59:59.999
  const int64_t neg = -((((int64_t{507} << 12) | (48 << 6) | 27) << 16) | 5000);
  add("time2 negative", time2, Be(static_cast<uint64_t>(neg + (int64_t{1} << 39)), 5));
  add("time2 big", time2,
      Be(((((uint64_t{838} << 12) | (59 << 6) | 59) << 16) | 9990) + (uint64_t{1} << 39), 5));
  add("old datetime", Col(ColumnType::kDateTime), Le(20240229235958ull, 8));
  ColumnDef dt2 = Col(ColumnType::kDateTime2);
  dt2.fsp = 6;
  const uint64_t ymd = ((uint64_t{2024} * 13 + 2) << 5) | 29;
  const uint64_t hms = (23 << 12) | (59 << 6) | 58;
  add("datetime2", dt2, Be(((ymd << 17) | hms) + (uint64_t{1} << 39), 5) + Be(123456, 3));
  add("datetime2 zero", dt2, Be(uint64_t{1} << 39, 5) + Be(0, 3));
  add("timestamp", Col(ColumnType::kTimestamp), Le(1700000000, 4));
  ColumnDef ts2 = Col(ColumnType::kTimestamp2);
  ts2.fsp = 2;
  add("timestamp2", ts2, Be(1700000000, 4) + Be(42, 1));

  ColumnDef varchar = Col(ColumnType::kVarchar);
  varchar.max_length = 400;
  add("varchar no charset", varchar, Le(5, 2) + "h\xC3\xA9l\"");
  for (uint32_t collation : {45u, 33u, 11u, 8u, 63u, 28u, 35u, 54u, 95u, 51u, 99999u}) {
    ColumnDef c = varchar;
    c.collation = collation;
    add("varchar collation " + std::to_string(collation), c, Le(4, 2) + "\xE9t\xE9\x81");
    add("varchar ascii collation " + std::to_string(collation), c, Le(4, 2) + "ab\nc");
  }
  ColumnDef binary = Col(ColumnType::kString);
  binary.max_length = 8;
  binary.collation = 63;
  add("binary padded", binary,
      std::string("\x03"
                  "a\0b",
                  4));
  add("binary full", binary,
      std::string("\x08"
                  "abcdefgh",
                  9));
  ColumnDef chr = Col(ColumnType::kString);
  chr.max_length = 1020;
  chr.collation = 224;
  add("char utf8mb4 long", chr, Le(3, 2) + "\xF0\x9F\x98");
  for (uint8_t len : {1, 2, 3, 4}) {
    ColumnDef blob = Col(ColumnType::kBlob);
    blob.length_bytes = len;
    add("blob " + std::to_string(len), blob, Le(3, len) + std::string("x\0y", 3));
    blob.collation = 45;
    add("text " + std::to_string(len), blob, Le(3, len) + "xyz");
    blob.collation = 8;
    add("latin1 text " + std::to_string(len), blob, Le(3, len) + "\x80\x9F\xFF");
  }
  ColumnDef geometry = Col(ColumnType::kGeometry);
  geometry.length_bytes = 4;
  add("geometry", geometry, Le(5, 4) + "\x01\x02\x03\x04\x05");
  ColumnDef json = Col(ColumnType::kJson);
  json.length_bytes = 4;
  add("json literal", json, Le(2, 4) + std::string("\x04\x01", 2));
  add("json empty", json, Le(0, 4));
  add("json bad", json, Le(2, 4) + "\x7F\x01");
  ColumnDef vector = Col(ColumnType::kVector);
  vector.length_bytes = 4;
  add("vector", vector, Le(8, 4) + Le(0x3F800000, 4) + Le(0xC0000000, 4));
  add("vector bad length", vector, Le(3, 4) + "abc");
  ColumnDef enumeration = Col(ColumnType::kEnum);
  enumeration.length_bytes = 2;
  add("enum without members", enumeration, Le(3, 2));
  enumeration.enum_values = {"new", "paid", "\"quoted\""};
  add("enum", enumeration, Le(3, 2));
  add("enum 0", enumeration, Le(0, 2));
  add("enum beyond", enumeration, Le(4, 2));
  ColumnDef set = Col(ColumnType::kSet);
  set.length_bytes = 1;
  add("set without members", set, "\x05");
  set.set_values = {"a", "", "c"};
  add("set", set, "\x07");
  add("set empty first", set, "\x06");
  add("set none", set, std::string(1, '\0'));
  add("set beyond", set, "\x09");
  add("null type", Col(ColumnType::kNull), "");
  add("old decimal", Col(ColumnType::kDecimal), "\x01\x02");
  // Every fixed-width type cut short.
  for (ColumnType t :
       {ColumnType::kTiny, ColumnType::kShort, ColumnType::kInt24, ColumnType::kLong,
        ColumnType::kLongLong, ColumnType::kFloat, ColumnType::kDouble, ColumnType::kDate,
        ColumnType::kTime, ColumnType::kDateTime, ColumnType::kTimestamp, ColumnType::kYear}) {
    add("truncated " + std::string(ColumnTypeName(t)), Col(t), "");
  }
  add("truncated time2", time2, std::string("\x80\x00", 2));
  add("truncated datetime2", dt2, Be(uint64_t{1} << 39, 5) + "\x01");
  add("truncated timestamp2", ts2, "\x01\x02\x03\x04");
  add("truncated decimal", dec, "\x81\x0D");
  add("truncated varchar", varchar, Le(9, 2) + "abc");
  add("truncated bit", bit, "\x01");
  add("truncated enum", enumeration, "\x01");
  return cases;
}

TEST(FlatRowTest, EveryColumnTypeDecodesAsTheProtoDecoderDoes) {
  for (const Case& c : Cases()) ExpectSameAsProto(c);
}

// ReadFlatImageValues decodes most values in place from the image's bytes and the rest through
// the ByteReader (flat_plan.h): it must give what ReadFlatColumnValue gives column by column, the
// same values, bytes consumed, reader state, errors and failing column and offset, for every
// column kind next to others, with NULLs, and with the image cut short at every byte.
TEST(FlatRowTest, ImageValuesAsColumnByColumnAtEveryCut) {
  ColumnDef id = Col(ColumnType::kLong);
  ColumnDef name = Col(ColumnType::kVarchar);
  name.max_length = 10;
  name.collation = 45;
  size_t compared = 0;
  size_t failed = 0;
  for (const Case& c : Cases()) {
    // Columns: id, the case's column, name, the case's column again; every image holds all four
    // (or, with `nulls`, the third and fourth are NULL).
    TableMap t;
    t.columns = {id, c.column, name, c.column};
    FlatPlan plan;
    plan.Build(t);
    const std::vector<uint32_t> present = {0, 1, 2, 3};
    for (const bool with_nulls : {false, true}) {
      const std::string null_bits(1, with_nulls ? '\x0C' : '\0');
      std::string bytes = Le(0x01020304, 4) + c.bytes;
      if (!with_nulls) bytes += Le(2, 1) + "ab" + c.bytes;
      for (size_t cut = 0; cut <= bytes.size(); ++cut) {
        SCOPED_TRACE(c.what + (with_nulls ? " with NULLs" : "") + ", cut at " +
                     std::to_string(cut));
        const std::string image = bytes.substr(0, cut) + "tail";  // bytes past the image
        // The reference: column by column through the reader.
        ByteReader want_r(std::string_view(image).substr(0, cut));
        FlatRow want;
        absl::Status want_status;
        FlatImageFailure want_failure;
        for (size_t ordinal = 0; ordinal < present.size(); ++ordinal) {
          if ((null_bits[0] >> ordinal) & 1) {
            want.Add(present[ordinal]);
            continue;
          }
          const size_t at = want_r.position();
          want_status = ReadFlatColumnValue(want_r, t.columns[ordinal], present[ordinal], want);
          if (!want_status.ok()) {
            want_failure = {present[ordinal], at};
            break;
          }
        }
        // In place, into a row that already holds a value (as a reused row does after Clear).
        ByteReader got_r(std::string_view(image).substr(0, cut));
        FlatRow got;
        got.Add(9);
        got.Clear();
        FlatImageFailure got_failure;
        const absl::Status got_status =
            ReadFlatImageValues(got_r, plan, present, null_bits, got, got_failure);

        ASSERT_EQ(got_status, want_status);
        EXPECT_EQ(got_r.ok(), want_r.ok());
        EXPECT_EQ(got_r.position(), want_r.position());
        EXPECT_EQ(got_r.remaining(), want_r.remaining());
        if (!got_r.ok()) {
          EXPECT_EQ(got_r.status("x"), want_r.status("x"));
        }
        if (!want_status.ok()) {
          EXPECT_EQ(got_failure.column, want_failure.column);
          EXPECT_EQ(got_failure.at, want_failure.at);
          ++failed;
        }
        ASSERT_EQ(got.values().size(), want.values().size());
        for (size_t k = 0; k < want.values().size(); ++k) {
          const FlatValue& g = got.values()[k];
          const FlatValue& w = want.values()[k];
          EXPECT_EQ(g.column, w.column);
          if (!want_status.ok() && k + 1 == want.values().size()) continue;  // the failed value
          // A small DECIMAL decoded in place is kept as numbers, the same value as the text.
          const bool small_decimal =
              g.kind == FlatKind::kSmallDecimal && w.kind == FlatKind::kDecimal;
          if (!small_decimal) {
            EXPECT_EQ(g.kind, w.kind);
          }
          v1::Value gv, wv;
          FlatValueToProto(got, g, gv);
          FlatValueToProto(want, w, wv);
          EXPECT_EQ(gv.ShortDebugString(), wv.ShortDebugString());
          std::string gj, wj;
          AppendFlatValueJson(got, g, gj);
          AppendFlatValueJson(want, w, wj);
          EXPECT_EQ(gj, wj);
        }
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 1000u);
  EXPECT_GT(failed, 500u);
}

// Dates and times, rendered directly for the common ranges and through value_json otherwise: the
// same text as AppendValueJson for any field values, in range or not.
TEST(FlatRowTest, TemporalJsonEqualsValueJsonForAnyFields) {
  std::mt19937_64 rng(20261206);
  auto pick = [&](std::initializer_list<uint32_t> edges, uint32_t below) {
    if (rng() % 3 == 0) return *(edges.begin() + rng() % edges.size());
    return static_cast<uint32_t>(rng() % below);
  };
  auto time = [&] {
    TimeParts t;
    t.negative = rng() % 2 == 0;
    t.hours = pick({0, 9, 10, 99, 100, 838, 999, 1000, 1023, 9999, 10000, 4000000000u}, 2000);
    t.minutes = pick({0, 59, 60, 63, 99, 100}, 64);
    t.seconds = pick({0, 59, 60, 63, 99, 100}, 64);
    t.micros = pick({0, 1, 10, 100000, 120000, 999999, 1000000, 2550000}, 1000000);
    return t;
  };
  auto date = [&] {
    DateParts d;
    d.year = static_cast<int32_t>(pick({0, 1, 999, 1000, 9999, 10000, 10082, 32767}, 12000));
    if (rng() % 20 == 0) d.year = -d.year;
    d.month = pick({0, 1, 12, 13, 15, 99, 100}, 16);
    d.day = pick({0, 1, 28, 31, 99, 100}, 32);
    return d;
  };
  FlatRow row;
  size_t compared = 0;
  for (int i = 0; i < 20000; ++i) {
    row.Clear();
    FlatValue& v = row.Add(0);
    switch (i % 4) {
      case 0:
        v.kind = FlatKind::kDate;
        v.date = date();
        break;
      case 1:
        v.kind = FlatKind::kTime;
        v.time = time();
        break;
      case 2:
        v.kind = FlatKind::kDateTime;
        v.datetime.date = date();
        v.datetime.time = time();
        v.datetime.time.negative = false;
        break;
      case 3: {
        v.kind = FlatKind::kTimestampMicros;
        const int64_t edges[] = {0,
                                 1,
                                 86'400'000'000 - 1,
                                 int64_t{4294967295} * 1'000'000 + 999'999,
                                 253'402'300'799'999'999,  // 9999-12-31T23:59:59.999999
                                 253'402'300'800'000'000,
                                 -1,
                                 INT64_MAX,
                                 INT64_MIN};
        v.i64 = rng() % 3 == 0 ? edges[rng() % std::size(edges)]
                               : static_cast<int64_t>(rng() % (uint64_t{1} << 52));
        break;
      }
    }
    std::string flat;
    AppendFlatValueJson(row, row.values()[0], flat);
    v1::Value proto;
    FlatValueToProto(row, row.values()[0], proto);
    ASSERT_EQ(flat, ValueToJson(proto)) << proto.ShortDebugString();
    ++compared;
  }
  EXPECT_EQ(compared, 20000u);
}

TEST(FlatRowTest, ReuseKeepsEarlierTextValid) {
  // Text in the arena is addressed by offset: values added later, which grow the arena, leave
  // the earlier ones readable.
  FlatRow row;
  ColumnDef dec = Col(ColumnType::kNewDecimal);
  dec.precision = 14;
  dec.scale = 4;
  const std::string one = "\x81\x0D\xFB\x38\xD2\x04\xD2";
  std::string bytes;
  for (int i = 0; i < 200; ++i) bytes += one;
  ByteReader r(bytes);
  for (uint32_t i = 0; i < 200; ++i) ASSERT_TRUE(ReadFlatColumnValue(r, dec, i, row).ok());
  for (const FlatValue& v : row.values()) EXPECT_EQ(row.text(v), "1234567890.1234");
  row.Clear();
  EXPECT_TRUE(row.values().empty());
}

// Every row of every fixture: ForEachFlatRow gives the rows, values and JSON of the eager decoder.
TEST(FlatRowTest, SameRowsAsTheEagerDecoderOnEveryFixture) {
  auto dir = testing::FixtureDir();
  if (!dir) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs not found";
  size_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
    const std::string name = entry.path().filename().string();
    if (name == "README.md") continue;
    const std::string bytes = testing::ReadFileBytes(entry.path());
    testing::Decoded eager = testing::DecodeAll(bytes, name);
    const std::vector<std::string> want = testing::Rows(eager.events);

    std::vector<std::string> got;
    BinlogDecoder decoder;
    decoder.set_defer_rows(true);
    auto row_json = [](const RowsEvent& header, const FlatRow& row) {
      std::string json;
      AppendFlatRowJson(row, ColumnKeys(*header.table), json);
      // The same row through FlatValueToProto, rendered by AppendRowJson.
      v1::Row proto;
      for (const FlatValue& v : row.values()) {
        v1::Field* f = proto.add_fields();
        f->set_name(header.table->ColumnName(v.column));
        FlatValueToProto(row, v, *f->mutable_value());
      }
      EXPECT_EQ(json, testing::RowJson(proto));
      return json;
    };
    const FlatRowVisitor visit = [&](const RowsEvent& header, const FlatRowChange& c) {
      switch (header.kind) {
        case RowsKind::kWrite:
          EXPECT_EQ(c.before, nullptr);
          got.push_back("I " + row_json(header, *c.after));
          break;
        case RowsKind::kUpdate:
          got.push_back("U " + row_json(header, *c.before) + " -> " + row_json(header, *c.after));
          break;
        case RowsKind::kDelete:
          EXPECT_EQ(c.after, nullptr);
          got.push_back("D " + row_json(header, *c.before));
          break;
      }
      return absl::OkStatus();
    };
    absl::Status st;
    std::function<absl::Status(const Event&)> walk = [&](const Event& e) -> absl::Status {
      if (const auto* p = std::get_if<TransactionPayload>(&e.body)) {
        for (const Event& inner : p->events) {
          absl::Status s = walk(inner);
          if (!s.ok()) return s;
        }
      }
      if (const auto* rows = std::get_if<RowsEvent>(&e.body)) {
        return ForEachFlatRow(*rows, decoder.format(), visit);
      }
      return absl::OkStatus();
    };
    st = testing::ForEachFileEvent(bytes, decoder,
                                   [&](const Event& e, uint64_t, Bytes) { return walk(e); });
    if (!eager.status.ok()) continue;  // truncated/corrupt fixtures: compared up to the error
    EXPECT_TRUE(st.ok()) << name << ": " << st;
    EXPECT_EQ(got, want) << name;
    total += got.size();
  }
  EXPECT_GT(total, 50u);
}

}  // namespace
}  // namespace sluice::mysql
