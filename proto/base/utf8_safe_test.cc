#include "proto/base/utf8_safe.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "proto/base/utf8.h"
#include "proto/base/value_wire.h"

namespace sluice {
namespace {

using std::string_literals::operator""s;

TEST(IsValidUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII, longer than eight bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80"));  // é 中文 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));                                    // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("a\0b"s));
}

TEST(IsValidUtf8, RejectsIllFormedText) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));                  // latin1 é
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                 // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));             // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));             // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));         // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));                 // truncated
  EXPECT_FALSE(IsValidUtf8("eight ok\x80"));             // a stray continuation after a word
  EXPECT_FALSE(IsValidUtf8("0123456789abcdef\xF0\x9F\x98"));
}

// Well-formed UTF-8 by the definition (Unicode §3.9, D92): the lead byte's high bits give the
// length, every other byte is 10xxxxxx, and the code point is neither overlong (shorter would
// do), a surrogate nor above U+10FFFF. Byte at a time; independent of utf8.h's table of ranges.
bool ByDefinition(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

bool AllBelow0x80(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void ExpectAsDefined(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  ASSERT_EQ(IsValidUtf8(s), ByDefinition(s)) << absl::BytesToHexString(s);
  ASSERT_EQ(IsAscii(p, s.size()), AllBelow0x80(s)) << absl::BytesToHexString(s);
}

// IsAscii's words (8 at a time, the last overlapping; two 4-byte words; single bytes) and the
// walk after it: a non-ASCII byte or sequence at every position of every length 0..40, cut
// short at the end (truncated sequences), alone and after another one; and every 2-byte input.
TEST(IsValidUtf8, AgreesWithTheDefinitionAtEveryPositionAndLength) {
  const std::vector<std::string> pieces = {
      "\x80", "\xBF", "\xC0", "\xC1", "\xC2", "\xDF", "\xE0", "\xED", "\xEF", "\xF0", "\xF4",
      "\xF5", "\xF8", "\xFF", "\x7F", "\x00"s,
      "\xC3\xA9", "\xDF\xBF", "\xE4\xB8\xAD", "\xE0\xA0\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
      "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",                  // well-formed, 2 to 4 bytes
      "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xE0\x9F\xBF", "\xF0\x80\x80\xAF",
      "\xF0\x8F\xBF\xBF",                                      // overlong
      "\xED\xA0\x80", "\xED\xBF\xBF",                          // surrogates
      "\xF4\x90\x80\x80", "\xF7\xBF\xBF\xBF",                  // above U+10FFFF
      "\xE4\x41\xAD", "\xF0\x9F\x41\x80", "\xC3\xC3\xA9"};     // a continuation missing
  for (size_t n = 0; n <= 40; ++n) {
    ExpectAsDefined(std::string(n, 'a'));
    for (size_t i = 0; i < n; ++i) {
      for (const std::string& piece : pieces) {
        std::string s(n, 'a');
        s.replace(i, std::min(piece.size(), n - i), piece.substr(0, n - i));
        ExpectAsDefined(s);
        for (const std::string& first : {"\xC3\xA9"s, "\x80"s, "\xE4\xB8"s}) {
          if (i < first.size()) continue;
          std::string two = s;
          two.replace(0, first.size(), first);
          ExpectAsDefined(two);
        }
      }
    }
  }
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; ++b) {
      ExpectAsDefined(std::string{static_cast<char>(a), static_cast<char>(b)});
    }
  }
}

// Every 3- and 4-byte input whose lead byte starts a 3- or 4-byte sequence, with every second
// byte and the continuation bytes' edges after it.
TEST(IsValidUtf8, AgreesWithTheDefinitionOnEveryLeadAndSecondByte) {
  const unsigned edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (unsigned lead = 0xE0; lead <= 0xFF; ++lead) {
    for (unsigned second = 0; second < 256; ++second) {
      for (const unsigned third : edges) {
        std::string s{static_cast<char>(lead), static_cast<char>(second),
                      static_cast<char>(third)};
        ExpectAsDefined(s);
        for (const unsigned fourth : edges) ExpectAsDefined(s + static_cast<char>(fourth));
      }
    }
  }
}

TEST(ToValidUtf8, ReplacesEachMaximalIllFormedSubpart) {
  EXPECT_EQ(ToValidUtf8("ok"), "ok");
  EXPECT_EQ(ToValidUtf8("caf\xE9!"), "caf\xEF\xBF\xBD!");
  // A truncated 3-byte sequence is one subpart; then a lone continuation is another.
  EXPECT_EQ(ToValidUtf8("\xE4\xB8\x80\x80"), "\xE4\xB8\x80\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xE4\xB8x"), "\xEF\xBF\xBDx");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xFF\xFE\xC0\xAF\xED\xA0\x80")));
}

v1::ChangeEvent EventWith(const std::string& bad) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_INSERT);
  e.mutable_source()->set_database("db");
  e.mutable_source()->set_table("t" + bad);
  e.add_key_columns("id");
  v1::Field* f = e.mutable_after()->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(1);
  f = e.mutable_after()->add_fields();
  f->set_name("name" + bad);
  f->mutable_value()->set_string("text " + bad);
  f = e.mutable_after()->add_fields();
  f->set_name("doc");
  f->mutable_value()->set_json("{\"k\":\"" + bad + "\"}");
  f = e.mutable_after()->add_fields();
  f->set_name("tags");
  f->mutable_value()->mutable_array()->add_elements()->set_string(bad);
  f = e.mutable_after()->add_fields();
  f->set_name("odd");
  f->mutable_value()->mutable_raw()->set_type_name("mytype");
  f->mutable_value()->mutable_raw()->set_text(bad);
  return e;
}

TEST(MakeUtf8Safe, WellFormedEventIsUnchanged) {
  v1::ChangeEvent e = EventWith("\xC3\xA9");
  const std::string before = e.SerializeAsString();
  EXPECT_TRUE(IsUtf8Safe(e.source()));
  EXPECT_EQ(MakeUtf8Safe(e), 0);
  EXPECT_EQ(e.SerializeAsString(), before);
}

TEST(MakeUtf8Safe, IllFormedValuesBecomeTheSameBytesAndNamesGetReplacementCharacters) {
  const std::string bad = "\xFF\xE9";
  v1::ChangeEvent e = EventWith(bad);
  EXPECT_FALSE(IsUtf8Safe(e.source()));
  EXPECT_EQ(MakeUtf8Safe(e), 6);
  EXPECT_TRUE(IsUtf8Safe(e.source()));
  const v1::Row& row = e.after();
  EXPECT_EQ(e.source().table(), "t\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(row.fields(1).name(), "name\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(row.fields(1).value().bytes(), "text " + bad);
  EXPECT_EQ(row.fields(2).value().bytes(), "{\"k\":\"" + bad + "\"}");
  EXPECT_EQ(row.fields(3).value().array().elements(0).bytes(), bad);
  EXPECT_EQ(row.fields(4).value().bytes(), bad);
  EXPECT_EQ(row.fields(0).value().int64(), 1);
  // What protobuf refused before now parses, and says the same.
  v1::ChangeEvent parsed;
  ASSERT_TRUE(parsed.ParseFromString(e.SerializeAsString()));
  EXPECT_EQ(parsed.SerializeAsString(), e.SerializeAsString());
}

TEST(MakeUtf8Safe, SourceInfoPositionFields) {
  v1::SourceInfo info;
  info.set_name("shop");
  info.mutable_typed_position()->mutable_binlog()->set_file("binlog.000001");
  EXPECT_TRUE(IsUtf8Safe(info));
  info.mutable_typed_position()->mutable_binlog()->set_gtid_set("x\xFF");
  EXPECT_FALSE(IsUtf8Safe(info));
  EXPECT_EQ(MakeUtf8Safe(info), 1);
  EXPECT_TRUE(IsUtf8Safe(info));
  EXPECT_EQ(info.typed_position().binlog().gtid_set(), "x\xEF\xBF\xBD");
}

TEST(MakeUtf8Safe, DdlStatementAndMessagePrefix) {
  v1::ChangeEvent e;
  e.set_op(v1::OP_DDL);
  e.mutable_ddl()->set_statement("ALTER TABLE t COMMENT 'caf\xE9'");
  e.mutable_message()->set_prefix("p\xFF");
  e.add_unchanged("c\xFF");
  EXPECT_EQ(MakeUtf8Safe(e), 3);
  EXPECT_EQ(e.ddl().statement(), "ALTER TABLE t COMMENT 'caf\xEF\xBF\xBD'");
  v1::ChangeEvent parsed;
  EXPECT_TRUE(parsed.ParseFromString(e.SerializeAsString()));
}

// The wire writers follow the same rule as the message: the bytes equal the mended message's.
TEST(MakeUtf8Safe, ValueWireWritesTheSameBytes) {
  for (const std::string& text : {"plain"s, "\xC3\xA9t\xC3\xA9"s, "\xFF"s, "caf\xE9"s, ""s}) {
    std::string wire;
    v1::Value v;
    value_wire::AppendString(text, wire);
    v.set_string(text);
    MakeUtf8Safe(v);
    EXPECT_EQ(wire, v.SerializeAsString()) << text;

    wire.clear();
    value_wire::AppendJson(text, wire);
    v.set_json(text);
    MakeUtf8Safe(v);
    EXPECT_EQ(wire, v.SerializeAsString()) << text;

    wire.clear();
    value_wire::AppendDecimal(text, wire);
    v.set_decimal(text);
    MakeUtf8Safe(v);
    EXPECT_EQ(wire, v.SerializeAsString()) << text;

    wire.clear();
    value_wire::AppendRaw("t", text, wire);
    v.mutable_raw()->set_type_name("t");
    v.mutable_raw()->set_text(text);
    MakeUtf8Safe(v);
    EXPECT_EQ(wire, v.SerializeAsString()) << text;
  }
}

}  // namespace
}  // namespace sluice
