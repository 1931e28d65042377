#include "proto/base/utf8_safe.h"

#include <string>

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
