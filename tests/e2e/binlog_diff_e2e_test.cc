// Differential test: the binlog files of a real MariaDB, decoded by
// `mariadb-binlog --verbose --base64-output=decode-rows` and by `sluicectl binlog decode
// --format json`, agree row by row on every value both print (see mariadb_binlog_diff.h for the
// normalisation of each value kind).
//
// The workload covers every column kind listed in ValueKind with edge values (ranges' ends, zero
// dates, negative and > 24 h TIME, fractions, emoji/CJK, latin1 with cp1252 letters, NUL and
// control bytes), random values, NULLs, multi-row statements, multi-statement transactions, a
// rolled-back transaction, a DDL that adds a column, several binlog files and large values.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "proto/base/utf8.h"
#include "tests/e2e/mariadb_binlog_diff.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice::e2e {
namespace {

using sluice::testing::RunSubprocess;
using sluice::testing::TestDatabase;

std::string SluicectlPath() {
  const char* dir = std::getenv("SLUICE_BINARY_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/clients/sluicectl/sluicectl";
}

// ---- value generation -------------------------------------------------------------------------

class Gen {
 public:
  uint64_t Next() { return rng_(); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool Percent(int p) { return Below(100) < static_cast<uint64_t>(p); }

 private:
  std::mt19937_64 rng_{20261122};
};

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}
// A text literal the server reads as utf8mb4 whatever it holds (and converts for latin1 columns).
std::string TextLiteral(std::string_view utf8) {
  return utf8.empty() ? "''" : absl::StrCat("_utf8mb4 X'", HexOf(utf8), "'");
}
std::string BytesLiteral(std::string_view bytes) { return absl::StrCat("X'", HexOf(bytes), "'"); }
std::string Quote(std::string_view s) { return absl::StrCat("'", std::string(s), "'"); }

ColumnSpec Spec(std::string name, std::string sql_type, ValueKind kind,
                std::vector<std::string> members = {}, size_t fixed_length = 0) {
  ColumnSpec c;
  c.fixed_length = fixed_length;
  c.name = std::move(name);
  c.sql_type = std::move(sql_type);
  c.kind = kind;
  c.members = std::move(members);
  return c;
}

// Random UTF-8 text of up to `max_chars` characters: ASCII, Latin, Greek, CJK, Hangul, emoji.
// No backslash is followed by 'x', so mariadb-binlog's "\xNN" escapes stay unambiguous.
std::string RandomUtf8(Gen& g, size_t max_chars) {
  static constexpr std::pair<uint32_t, uint32_t> kRanges[] = {
      {0x20, 0x7E},     {0x20, 0x7E},     {0x20, 0x7E},       {0xA0, 0xFF}, {0x391, 0x3C9},
      {0x4E00, 0x9FA5}, {0xAC00, 0xD7A3}, {0x1F600, 0x1F64F}, {0x1, 0x1F}};
  const size_t n = g.Below(max_chars + 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const auto [lo, hi] = kRanges[g.Below(std::size(kRanges))];
    uint32_t cp = lo + static_cast<uint32_t>(g.Below(hi - lo + 1));
    if (cp == 'x' && !out.empty() && out.back() == '\\') cp = 'y';
    AppendUtf8(cp, out);
  }
  return out;
}

// Characters MariaDB's latin1 (cp1252) can hold; no backslash.
std::string RandomLatin1(Gen& g, size_t max_chars) {
  static const std::vector<uint32_t> kExtra = {0x20AC, 0x2030, 0x2014, 0x201C, 0x201D, 0x160,
                                               0x161,  0x17D,  0x17E,  0x178,  0x152,  0x153};
  const size_t n = g.Below(max_chars + 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    uint32_t cp = 0;
    switch (g.Below(3)) {
      case 0:
        cp = 0x20 + static_cast<uint32_t>(g.Below(0x5F));
        if (cp == '\\') cp = '/';
        break;
      case 1:
        cp = 0xA0 + static_cast<uint32_t>(g.Below(0x60));
        break;
      default:
        cp = kExtra[g.Below(kExtra.size())];
    }
    AppendUtf8(cp, out);
  }
  return out;
}

std::string RandomBytes(Gen& g, size_t max_len, bool fixed = false) {
  const size_t n = fixed ? max_len : g.Below(max_len + 1);
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    char c = static_cast<char>(g.Below(256));
    if (c == 'x' && !out.empty() && out.back() == '\\') c = 'y';
    out.push_back(c);
  }
  return out;
}

std::string Frac(Gen& g, int fsp) {
  if (fsp == 0) return "";
  std::string f = ".";
  for (int i = 0; i < fsp; ++i) f.push_back(static_cast<char>('0' + g.Below(10)));
  return f;
}

struct TestColumn {
  ColumnSpec spec;
  std::vector<std::string> edges;           // SQL literals for the first rows
  std::function<std::string(Gen&)> random;  // a random SQL literal
};

TestColumn IntColumn(const std::string& name, const std::string& type, int bits, bool is_unsigned) {
  TestColumn c{Spec(name, type + (is_unsigned ? " UNSIGNED" : ""),
                    is_unsigned ? ValueKind::kUint : ValueKind::kInt),
               {},
               nullptr};
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  if (is_unsigned) {
    c.edges = {"0", absl::StrCat(mask), "1", absl::StrCat(mask >> 1),
               absl::StrCat((mask >> 1) + 1)};
    c.random = [mask](Gen& g) { return absl::StrCat(g.Next() & mask); };
  } else {
    const int64_t max = static_cast<int64_t>(mask >> 1);
    c.edges = {absl::StrCat(-max - 1), absl::StrCat(max), "0", "-1", "1"};
    c.random = [bits, mask](Gen& g) {
      const uint64_t v = g.Next() & mask;
      const uint64_t sign = uint64_t{1} << (bits - 1);
      return absl::StrCat(static_cast<int64_t>((v ^ sign) - sign));
    };
  }
  return c;
}

TestColumn DecimalColumn(const std::string& name, int precision, int scale) {
  TestColumn c{
      Spec(name, absl::StrCat("DECIMAL(", precision, ",", scale, ")"), ValueKind::kDecimal),
      {},
      nullptr};
  const std::string nines_int(static_cast<size_t>(precision - scale), '9');
  const std::string nines_frac(static_cast<size_t>(scale), '9');
  const std::string max =
      (nines_int.empty() ? "0" : nines_int) + (scale > 0 ? "." + nines_frac : "");
  c.edges = {max, "-" + max, "0",
             scale > 0 ? "-0." + std::string(static_cast<size_t>(scale - 1), '0') + "1" : "-1"};
  c.random = [precision, scale](Gen& g) {
    std::string v = g.Percent(50) ? "-" : "";
    const size_t int_digits = g.Below(static_cast<uint64_t>(precision - scale) + 1);
    for (size_t i = 0; i < int_digits; ++i) v.push_back(static_cast<char>('0' + g.Below(10)));
    if (int_digits == 0) v.push_back('0');
    if (scale > 0) {
      v.push_back('.');
      for (int i = 0; i < scale; ++i) v.push_back(static_cast<char>('0' + g.Below(10)));
    }
    return v;
  };
  return c;
}

TestColumn TextColumn(const std::string& name, const std::string& type, size_t max_chars) {
  TestColumn c{Spec(name, type, ValueKind::kUtf8), {}, nullptr};
  for (const char* s : {"", "a", "héllo wörld", "😀🎉 emoji", "中文字符 CJK", "日本語テキスト",
                        "한국어", "quote ' dq \" back\\slash", "tab\tnl\nctl\x01\x1f del\x7f"}) {
    c.edges.push_back(TextLiteral(s));
  }
  c.random = [max_chars](Gen& g) { return TextLiteral(RandomUtf8(g, max_chars)); };
  return c;
}

TestColumn Latin1Column(const std::string& name, const std::string& type, size_t max_chars) {
  TestColumn c{Spec(name, type + " CHARACTER SET latin1", ValueKind::kLatin1), {}, nullptr};
  for (const char* s : {"", "café", "Ünïcödé ÿ ß", "€uro ‰ — “q” Š", "tab\tx"}) {
    c.edges.push_back(TextLiteral(s));
  }
  c.random = [max_chars](Gen& g) { return TextLiteral(RandomLatin1(g, max_chars)); };
  return c;
}

TestColumn BytesColumn(const std::string& name, const std::string& type, size_t max_len,
                       bool fixed = false) {
  TestColumn c{Spec(name, type, ValueKind::kBytes, {}, fixed ? max_len : 0), {}, nullptr};
  for (std::string_view s :
       {std::string_view(""), std::string_view("\0", 1), std::string_view("\0\x01\xff", 3),
        std::string_view("bin\n"), std::string_view("'\"\\")}) {
    c.edges.push_back(BytesLiteral(s));
  }
  c.random = [max_len, fixed](Gen& g) { return BytesLiteral(RandomBytes(g, max_len, fixed)); };
  return c;
}

TestColumn BitColumn(const std::string& name, int bits) {
  TestColumn c{Spec(name, absl::StrCat("BIT(", bits, ")"), ValueKind::kBit), {}, nullptr};
  c.edges = {"b'0'", absl::StrCat("b'", std::string(static_cast<size_t>(bits), '1'), "'"), "b'1'"};
  c.random = [bits](Gen& g) {
    std::string v = "b'";
    for (int i = 0; i < bits; ++i) v.push_back(g.Percent(50) ? '1' : '0');
    return v + "'";
  };
  return c;
}

TestColumn TimeColumn(const std::string& name, int fsp) {
  TestColumn c{Spec(name, absl::StrCat("TIME(", fsp, ")"), ValueKind::kTime), {}, nullptr};
  c.edges = {Quote("-838:59:59"),      Quote("838:59:59"),    Quote("00:00:00"),
             Quote("25:00:00"),        Quote("-00:00:01.25"), Quote("123:45:06.123456"),
             Quote("-12:34:56.000001")};
  c.random = [fsp](Gen& g) {
    return Quote(absl::StrCat(g.Percent(30) ? "-" : "", g.Below(838), ":",
                              absl::Dec(g.Below(60), absl::kZeroPad2), ":",
                              absl::Dec(g.Below(60), absl::kZeroPad2), Frac(g, fsp)));
  };
  return c;
}

std::string RandomDate(Gen& g) {
  return absl::StrCat(1000 + g.Below(9000), "-", absl::Dec(1 + g.Below(12), absl::kZeroPad2), "-",
                      absl::Dec(1 + g.Below(28), absl::kZeroPad2));
}

TestColumn DateTimeColumn(const std::string& name, int fsp) {
  TestColumn c{Spec(name, absl::StrCat("DATETIME(", fsp, ")"), ValueKind::kDateTime), {}, nullptr};
  c.edges = {Quote("0000-00-00 00:00:00"), Quote("1000-01-01 00:00:00"),
             Quote("9999-12-31 23:59:59.999999"), Quote("2024-02-29 12:34:56.5")};
  c.random = [fsp](Gen& g) {
    return Quote(absl::StrCat(RandomDate(g), " ", absl::Dec(g.Below(24), absl::kZeroPad2), ":",
                              absl::Dec(g.Below(60), absl::kZeroPad2), ":",
                              absl::Dec(g.Below(60), absl::kZeroPad2), Frac(g, fsp)));
  };
  return c;
}

TestColumn TimestampColumn(const std::string& name, int fsp) {
  TestColumn c{
      Spec(name, absl::StrCat("TIMESTAMP(", fsp, ") NULL"), ValueKind::kTimestamp), {}, nullptr};
  c.edges = {Quote("0000-00-00 00:00:00"), "FROM_UNIXTIME(1)", "FROM_UNIXTIME(2147483647.999999)",
             "FROM_UNIXTIME(951782400.5)"};
  c.random = [fsp](Gen& g) {
    return absl::StrCat("FROM_UNIXTIME(", 1 + g.Below(2147483646), Frac(g, fsp), ")");
  };
  return c;
}

std::vector<TestColumn> TypesTable() {
  std::vector<TestColumn> t;
  t.push_back({Spec("id", "INT PRIMARY KEY", ValueKind::kInt), {}, nullptr});
  t.push_back(IntColumn("ti", "TINYINT", 8, false));
  t.push_back(IntColumn("tu", "TINYINT", 8, true));
  t.push_back(IntColumn("si", "SMALLINT", 16, false));
  t.push_back(IntColumn("su", "SMALLINT", 16, true));
  t.push_back(IntColumn("mi", "MEDIUMINT", 24, false));
  t.push_back(IntColumn("mu", "MEDIUMINT", 24, true));
  t.push_back(IntColumn("i", "INT", 32, false));
  t.push_back(IntColumn("iu", "INT", 32, true));
  t.push_back(IntColumn("bi", "BIGINT", 64, false));
  t.push_back(IntColumn("bu", "BIGINT", 64, true));
  t.push_back(DecimalColumn("d", 20, 6));
  t.push_back(DecimalColumn("d0", 5, 0));
  t.push_back(DecimalColumn("d4", 4, 4));
  t.push_back(DecimalColumn("d65", 65, 30));
  {
    TestColumn f{Spec("f", "FLOAT", ValueKind::kFloat),
                 {"0", "1.5", "-3.25", "0.1", "3.40282e38", "-1.17549e-38", "123456.789"},
                 [](Gen& g) {
                   const double m = static_cast<double>(g.Below(1'000'000'000)) / 1e4;
                   const int e = static_cast<int>(g.Below(41)) - 20;
                   char buf[40];
                   std::snprintf(buf, sizeof buf, "%.9g",
                                 (g.Percent(50) ? -1 : 1) * m * std::pow(10.0, e));
                   return std::string(buf);
                 }};
    t.push_back(f);
    TestColumn d{
        Spec("db", "DOUBLE", ValueKind::kDouble),
        {"0", "0.1", "-2.25e100", "1e-300", "1.7976931348623157e308", "2.2250738585072014e-308"},
        [](Gen& g) {
          const double m = static_cast<double>(g.Next() >> 11) / 9007199254740992.0;
          const int e = static_cast<int>(g.Below(601)) - 300;
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", (g.Percent(50) ? -1 : 1) * m * std::pow(10.0, e));
          return std::string(buf);
        }};
    t.push_back(d);
  }
  t.push_back(BitColumn("b1", 1));
  t.push_back(BitColumn("b12", 12));
  t.push_back(BitColumn("b64", 64));
  t.push_back({Spec("y", "YEAR", ValueKind::kYear), {"0", "1901", "2155", "2000"}, [](Gen& g) {
                 return absl::StrCat(1901 + g.Below(255));
               }});
  t.push_back({Spec("dd", "DATE", ValueKind::kDate),
               {Quote("0000-00-00"), Quote("1000-01-01"), Quote("9999-12-31"), Quote("2024-02-29"),
                Quote("2026-00-00")},
               [](Gen& g) { return Quote(RandomDate(g)); }});
  t.push_back(TimeColumn("t0", 0));
  t.push_back(TimeColumn("t3", 3));
  t.push_back(TimeColumn("t6", 6));
  t.push_back(DateTimeColumn("dt0", 0));
  t.push_back(DateTimeColumn("dt3", 3));
  t.push_back(DateTimeColumn("dt6", 6));
  t.push_back(TimestampColumn("ts0", 0));
  t.push_back(TimestampColumn("ts3", 3));
  t.push_back(TimestampColumn("ts6", 6));
  t.push_back(TextColumn("c", "CHAR(20)", 20));
  t.push_back(TextColumn("vc", "VARCHAR(300)", 300));
  t.push_back(TextColumn("tx", "TEXT", 3000));
  t.push_back(TextColumn("mt", "MEDIUMTEXT", 200));
  t.push_back(Latin1Column("l1", "VARCHAR(40)", 40));
  t.push_back(Latin1Column("lc", "CHAR(10)", 10));
  t.push_back(Latin1Column("ltx", "TEXT", 500));
  t.push_back(BytesColumn("bn", "BINARY(8)", 8, true));
  t.push_back(BytesColumn("vb", "VARBINARY(64)", 64));
  t.push_back(BytesColumn("bl", "BLOB", 2000));
  t.push_back(BytesColumn("lb", "LONGBLOB", 300));
  {
    const std::vector<std::string> members = {"a", "b", "c", "ünï", "😀"};
    std::vector<std::string> quoted;
    for (const auto& m : members) quoted.push_back(Quote(m));
    TestColumn e{Spec("e", absl::StrCat("ENUM(", absl::StrJoin(quoted, ","), ")"), ValueKind::kEnum,
                      members),
                 {"0", "1", "5"},
                 [](Gen& g) { return absl::StrCat(g.Below(6)); }};
    t.push_back(e);
    const std::vector<std::string> set_members = {"x", "y", "z", "中"};
    quoted.clear();
    for (const auto& m : set_members) quoted.push_back(Quote(m));
    TestColumn s{Spec("s", absl::StrCat("SET(", absl::StrJoin(quoted, ","), ")"), ValueKind::kSet,
                      set_members),
                 {"0", "15", "1"},
                 [](Gen& g) { return absl::StrCat(g.Below(16)); }};
    t.push_back(s);
  }
  {
    TestColumn j{Spec("j", "JSON", ValueKind::kJsonText), {}, nullptr};
    for (const char* s : {R"({"a": [1, 2.5, "q\"x"], "b": null})", "[]", R"("str")", "123",
                          R"({"emoji": "😀", "cjk": "中文"})"}) {
      j.edges.push_back(TextLiteral(s));
    }
    j.random = [](Gen& g) {
      std::string text;
      for (char ch : RandomUtf8(g, 20)) {
        if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) text.push_back(ch);
      }
      return TextLiteral(absl::StrCat(R"({"k": )", g.Below(1000000), R"(, "s": ")", text,
                                      R"(", "l": [true, false, null]})"));
    };
    t.push_back(j);
  }
  t.push_back({Spec("u", "UUID", ValueKind::kBytes, {}, 16),
               {Quote("00000000-0000-0000-0000-000000000000"),
                Quote("123e4567-e89b-12d3-a456-426655440000")},
               [](Gen& g) {
                 const std::string h = HexOf(RandomBytes(g, 16, true));
                 return Quote(absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-",
                                           h.substr(12, 4), "-", h.substr(16, 4), "-",
                                           h.substr(20)));
               }});
  t.push_back({Spec("i6", "INET6", ValueKind::kBytes, {}, 16),
               {Quote("::"), Quote("::1"), Quote("::ffff:192.0.2.1")},
               [](Gen& g) {
                 std::vector<std::string> groups;
                 for (int i = 0; i < 8; ++i)
                   groups.push_back(absl::StrCat(absl::Hex(g.Below(65536))));
                 return Quote(absl::StrJoin(groups, ":"));
               }});
  return t;
}

std::vector<TestColumn> KvTable() {
  std::vector<TestColumn> t;
  t.push_back(Latin1Column("a", "VARCHAR(30)", 10));
  t.push_back(IntColumn("b", "BIGINT", 64, true));
  t.push_back(TextColumn("v", "VARCHAR(100)", 30));
  t.push_back(DecimalColumn("n", 10, 2));  // added by ALTER TABLE half-way through
  return t;
}

std::string CreateTable(const std::string& name, const std::vector<TestColumn>& columns,
                        size_t count, const std::string& extra) {
  std::vector<std::string> defs;
  for (size_t i = 0; i < count; ++i) {
    defs.push_back(absl::StrCat("`", columns[i].spec.name, "` ", columns[i].spec.sql_type));
  }
  if (!extra.empty()) defs.push_back(extra);
  return absl::StrCat("CREATE TABLE ", name, " (", absl::StrJoin(defs, ", "),
                      ") DEFAULT CHARSET=utf8mb4");
}

// A literal for column `c` in row `row`: the edge values first, then random, sometimes NULL.
std::string ValueFor(Gen& g, const TestColumn& c, size_t row, bool allow_null) {
  if (row < c.edges.size()) return c.edges[row];
  if (allow_null && g.Percent(8)) return "NULL";
  return c.random(g);
}

// ---- running both decoders --------------------------------------------------------------------

struct Outputs {
  std::unique_ptr<TestDatabase> db;  // kept running: the position test reads its files again
  absl::Status status;
  DiffSchema schema;
  std::vector<std::string> files;        // full paths, in order
  std::string mariadb;                   // mariadb-binlog -v output over all files
  std::string sluice;                    // sluicectl --format json output over all files
  std::string sluice_text;               // sluicectl --format text
  std::vector<uint64_t> gtid_positions;  // in the first file, for the position test
  size_t workload_rows = 0;              // row changes the workload made
};

absl::Status RunWorkload(TestDatabase& db, const std::vector<TestColumn>& types,
                         const std::vector<TestColumn>& kv, size_t& row_changes) {
  Gen g;
  auto exec = [&db](const std::string& sql) -> absl::Status {
    absl::Status st = db.Exec(sql);
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat(st.message(), " in: ", sql.substr(0, 300)));
    }
    return st;
  };
  absl::Status st = exec("SET SESSION sql_mode = ''; SET SESSION time_zone = '+00:00'");
  if (!st.ok()) return st;
  st = exec(CreateTable("types", types, types.size(), ""));
  if (!st.ok()) return st;
  st = exec(CreateTable("kv", kv, 3, "PRIMARY KEY (a, b)"));
  if (!st.ok()) return st;

  constexpr size_t kRows = 240;
  size_t max_edges = 0;
  for (const auto& c : types) max_edges = std::max(max_edges, c.edges.size());
  auto row_values = [&](size_t row, bool all_null) {
    std::vector<std::string> values = {absl::StrCat(row + 1)};
    for (size_t i = 1; i < types.size(); ++i) {
      values.push_back(all_null ? "NULL" : ValueFor(g, types[i], row, row >= max_edges));
    }
    return absl::StrCat("(", absl::StrJoin(values, ", "), ")");
  };
  size_t kv_rows = 0;
  auto kv_insert = [&](size_t columns) {
    std::vector<std::string> values;
    for (size_t i = 0; i < columns; ++i) {
      values.push_back(i == 1 ? absl::StrCat(kv_rows * 7919 + 1)
                              : ValueFor(g, kv[i], kv_rows, i != 0));
    }
    ++kv_rows;
    ++row_changes;
    return absl::StrCat("INSERT INTO kv VALUES (", absl::StrJoin(values, ", "), ")");
  };

  size_t row = 0;
  int statement = 0;
  bool flushed = false;
  while (row < kRows) {
    const size_t n = std::min<size_t>(1 + g.Below(4), kRows - row);
    std::vector<std::string> tuples;
    for (size_t k = 0; k < n; ++k, ++row) tuples.push_back(row_values(row, row + 1 == kRows));
    std::string sql = absl::StrCat("INSERT INTO types VALUES ", absl::StrJoin(tuples, ", "));
    row_changes += n;
    if (++statement % 7 == 0) {
      // A multi-statement transaction over both tables.
      sql = absl::StrCat("BEGIN; ", sql, "; ", kv_insert(3), "; ", kv_insert(3), "; COMMIT");
    }
    st = exec(sql);
    if (!st.ok()) return st;
    if (!flushed && row >= kRows / 2) {
      flushed = true;
      st = exec("FLUSH BINARY LOGS");
      if (!st.ok()) return st;
    }
  }
  // A rolled-back transaction: in neither output.
  st = exec("BEGIN; INSERT INTO types (id, vc) VALUES (100000, 'rolled back'); ROLLBACK");
  if (!st.ok()) return st;
  st = exec("ALTER TABLE kv ADD COLUMN n DECIMAL(10,2)");
  if (!st.ok()) return st;
  for (int i = 0; i < 10; ++i) {
    st = exec(kv_insert(4));
    if (!st.ok()) return st;
  }
  // Single-row updates of random columns (new values or NULL).
  for (int i = 0; i < 80; ++i) {
    const size_t id = 1 + g.Below(kRows);
    std::vector<std::string> sets;
    const size_t ncols = 1 + g.Below(6);
    for (size_t k = 0; k < ncols; ++k) {
      const TestColumn& c = types[1 + g.Below(types.size() - 1)];
      sets.push_back(absl::StrCat("`", c.spec.name, "` = ", ValueFor(g, c, kRows, true)));
    }
    st = exec(absl::StrCat("UPDATE types SET ", absl::StrJoin(sets, ", "), " WHERE id = ", id));
    if (!st.ok()) return st;
  }
  // Multi-row statements.
  st = exec(
      "UPDATE types SET vc = CONCAT(IFNULL(vc, ''), '✓'), ti = ti DIV 2 "
      "WHERE id BETWEEN 10 AND 40");
  if (!st.ok()) return st;
  st = exec("UPDATE kv SET v = CONCAT(IFNULL(v, ''), ' ü'), n = 12.5 WHERE b % 2 = 1");
  if (!st.ok()) return st;
  st = exec("DELETE FROM types WHERE id % 9 = 4");
  if (!st.ok()) return st;
  st = exec("DELETE FROM kv WHERE b % 3 = 0");
  if (!st.ok()) return st;
  // Large values in one row.
  st = exec(absl::StrCat(
      "INSERT INTO types (id, mt, bl, lb, tx) VALUES (", kRows + 1, ", ",
      TextLiteral(RandomUtf8(g, 60000)), ", ", BytesLiteral(RandomBytes(g, 65535, true)), ", ",
      BytesLiteral(RandomBytes(g, 1 << 20, true)), ", ", TextLiteral(RandomUtf8(g, 16000)), ")"));
  if (!st.ok()) return st;
  return exec("FLUSH BINARY LOGS");
}

// Positions of the GTID events ("# at N" then "... GTID d-s-n") in mariadb-binlog's output.
std::vector<uint64_t> GtidPositions(std::string_view output) {
  std::vector<uint64_t> out;
  uint64_t at = 0;
  while (!output.empty()) {
    const size_t nl = output.find('\n');
    std::string_view line = output.substr(0, nl);
    output.remove_prefix(nl == std::string_view::npos ? output.size() : nl + 1);
    if (line.starts_with("# at ")) {
      at = std::strtoull(std::string(line.substr(5)).c_str(), nullptr, 10);
    } else if (line.find("\tGTID ") != std::string_view::npos) {
      out.push_back(at);
    }
  }
  return out;
}

absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv) {
  auto r = RunSubprocess(argv, {}, std::chrono::seconds(120));
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(argv[0], " exited with ", r->exit_code, ": ", r->stderr_text.substr(0, 2000)));
  }
  return r->stdout_text;
}

std::vector<std::string> MariadbBinlogArgs(const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"mariadb-binlog", "--verbose", "--base64-output=decode-rows"};
  argv.insert(argv.end(), files.begin(), files.end());
  return argv;
}

std::vector<std::string> SluiceArgs(const std::vector<std::string>& files,
                                    const std::string& format) {
  std::vector<std::string> argv = {SluicectlPath(), "binlog", "decode", "--format", format};
  argv.insert(argv.end(), files.begin(), files.end());
  return argv;
}

absl::Status Prepare(Outputs& out) {
  auto started = TestDatabase::Start(TestDatabase::Kind::kMariaDb);
  if (!started.ok()) return started.status();
  out.db = *std::move(started);
  TestDatabase* db = out.db.get();
  const std::vector<TestColumn> types = TypesTable();
  const std::vector<TestColumn> kv = KvTable();
  for (const auto& c : types) out.schema["sluice_test.types"].push_back(c.spec);
  for (const auto& c : kv) out.schema["sluice_test.kv"].push_back(c.spec);
  absl::Status st = RunWorkload(*db, types, kv, out.workload_rows);
  if (!st.ok()) return st;
  auto datadir = db->Query("SELECT @@datadir");
  if (!datadir.ok()) return datadir.status();
  auto logs = db->Query("SHOW BINARY LOGS");
  if (!logs.ok()) return logs.status();
  std::string dir = (*datadir)[0][0];
  if (!dir.ends_with('/')) dir.push_back('/');
  for (const auto& row : *logs) out.files.push_back(dir + row[0]);
  auto mariadb = RunTool(MariadbBinlogArgs(out.files));
  if (!mariadb.ok()) return mariadb.status();
  out.mariadb = *std::move(mariadb);
  auto sluice = RunTool(SluiceArgs(out.files, "json"));
  if (!sluice.ok()) return sluice.status();
  out.sluice = *std::move(sluice);
  auto text = RunTool(SluiceArgs(out.files, "text"));
  if (!text.ok()) return text.status();
  out.sluice_text = *std::move(text);
  auto first = RunTool(MariadbBinlogArgs({out.files[0]}));
  if (!first.ok()) return first.status();
  out.gtid_positions = GtidPositions(*first);
  return absl::OkStatus();
}

// The server and both decoders run once for all the tests below; the server stops at exit.
const Outputs& Shared() {
  static Outputs outputs;
  static const bool prepared = [] {
    outputs.status = Prepare(outputs);
    return true;
  }();
  (void)prepared;
  return outputs;
}

DiffReport Compare(const Outputs& o, std::string_view mariadb, std::string_view sluice) {
  auto m = ParseMariadbBinlogVerbose(mariadb);
  auto s = ParseSluiceJsonLines(sluice);
  DiffReport report;
  if (!m.ok()) report.mismatches.push_back(std::string(m.status().message()));
  if (!s.ok()) report.mismatches.push_back(std::string(s.status().message()));
  if (!m.ok() || !s.ok()) return report;
  return CompareBinlogRows(*m, *s, o.schema);
}

std::string FirstMismatches(const DiffReport& r, size_t n = 25) {
  std::string out;
  for (size_t i = 0; i < r.mismatches.size() && i < n; ++i) {
    absl::StrAppend(&out, "\n  ", r.mismatches[i]);
  }
  if (r.mismatches.size() > n) absl::StrAppend(&out, "\n  ... ", r.mismatches.size() - n, " more");
  return out;
}

TEST(BinlogDiffE2E, SluicectlAgreesWithMariadbBinlogOnEveryValue) {
  const Outputs& o = Shared();
  ASSERT_TRUE(o.status.ok()) << o.status;
  ASSERT_GE(o.files.size(), 3u) << "the workload flushes the binlog twice";
  const DiffReport r = Compare(o, o.mariadb, o.sluice);
  EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.size() << " mismatches:" << FirstMismatches(r);
  // Every insert, plus the updates and deletes (whose counts depend on the random values).
  EXPECT_GT(r.rows, o.workload_rows + 100);
  // Every kind of value was compared, and NULLs too.
  for (const auto& [table, columns] : o.schema) {
    for (const ColumnSpec& c : columns) {
      EXPECT_GT(r.compared.count(c.kind) ? r.compared.at(c.kind) : 0, 0u)
          << "no " << ValueKindName(c.kind) << " value compared";
    }
  }
  EXPECT_GT(r.nulls, 100u);
  std::string kinds;
  for (const auto& [kind, n] : r.compared)
    absl::StrAppend(&kinds, " ", std::string(ValueKindName(kind)), "=", n);
  std::cout << "compared " << r.rows << " row changes in " << o.files.size()
            << " files; non-NULL values by kind:" << kinds << "; NULLs " << r.nulls << "\n";
}

TEST(BinlogDiffE2E, TextFormatHasOneLinePerChangeWithItsPosition) {
  const Outputs& o = Shared();
  ASSERT_TRUE(o.status.ok()) << o.status;
  auto count = [](std::string_view s) { return std::count(s.begin(), s.end(), '\n'); };
  EXPECT_EQ(count(o.sluice_text), count(o.sluice));
  const std::string first_file = o.files[0].substr(o.files[0].rfind('/') + 1);
  EXPECT_TRUE(o.sluice_text.starts_with(first_file + ":")) << o.sluice_text.substr(0, 200);
}

TEST(BinlogDiffE2E, StartAndStopPositionsSelectTheSameEventsAsMariadbBinlog) {
  const Outputs& o = Shared();
  ASSERT_TRUE(o.status.ok()) << o.status;
  ASSERT_GE(o.gtid_positions.size(), 20u);
  const std::string start = absl::StrCat(o.gtid_positions[5]);
  const std::string stop = absl::StrCat(o.gtid_positions[15]);
  auto mariadb = RunTool({"mariadb-binlog", "--verbose", "--base64-output=decode-rows",
                          "--start-position=" + start, "--stop-position=" + stop, o.files[0]});
  ASSERT_TRUE(mariadb.ok()) << mariadb.status();
  auto sluice = RunTool({SluicectlPath(), "binlog", "decode", "--format", "json",
                         "--start-position", start, "--stop-position", stop, o.files[0]});
  ASSERT_TRUE(sluice.ok()) << sluice.status();
  const DiffReport r = Compare(o, *mariadb, *sluice);
  EXPECT_TRUE(r.mismatches.empty()) << FirstMismatches(r);
  EXPECT_GE(r.rows, 10u);
}

// The comparison is not vacuous: one changed value on either side is reported, and only it.
TEST(BinlogDiffE2E, OneChangedValueIsAMismatch) {
  const Outputs& o = Shared();
  ASSERT_TRUE(o.status.ok()) << o.status;
  // sluice side: the first row's BIGINT UNSIGNED maximum, minus one.
  const std::string from = "\"bu\":18446744073709551615";
  const size_t at = o.sluice.find(from);
  ASSERT_NE(at, std::string::npos);
  std::string sluice = o.sluice;
  sluice.replace(at, from.size(), "\"bu\":18446744073709551614");
  DiffReport r = Compare(o, o.mariadb, sluice);
  ASSERT_EQ(r.mismatches.size(), 1u) << FirstMismatches(r);
  EXPECT_NE(r.mismatches[0].find("`bu`"), std::string::npos) << r.mismatches[0];

  // mariadb-binlog side: the first row's leap day, a day earlier.
  const std::string day = "'2024:02:29'";
  const size_t day_at = o.mariadb.find(day);
  ASSERT_NE(day_at, std::string::npos);
  std::string mariadb = o.mariadb;
  mariadb.replace(day_at, day.size(), "'2024:02:28'");
  r = Compare(o, mariadb, o.sluice);
  ASSERT_EQ(r.mismatches.size(), 1u) << FirstMismatches(r);
  EXPECT_NE(r.mismatches[0].find("`dd`"), std::string::npos) << r.mismatches[0];
}

}  // namespace
}  // namespace sluice::e2e
