// CJK charsets to UTF-8: known byte vectors, MySQL's deviations from glibc, invalid bytes, the
// collation ids (MariaDB NO PAD ones included) and concurrent use from several threads.
#include "protocol/mysql/charset.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "protocol/mysql/change_mapping.h"
#include "protocol/mysql/row_values.h"

namespace sluice::mysql {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

struct Vector {
  const char* charset;
  const char* input_hex;
  const char* utf8;
};

// Encodings of common text (computed independently of glibc) and MySQL's special cases.
constexpr Vector kVectors[] = {
    {"gbk", "d6d0cec4", "中文"},
    {"gb2312", "d6d0cec4", "中文"},
    {"gb18030", "d6d0813081309439fc36", "中\xc2\x80😀"},
    {"big5", "a4a4a4e5", "中文"},
    {"big5", "41a14542",
     "A\xe2\x80\xa2"
     "B"},                              // MySQL: U+2022, glibc: U+2027
    {"big5", "c6a5c7f3a4a4", "ぁ⑴中"},  // ETEN rows (glibc: private use area)
    {"big5", "a244a246a247", "¥¢£"},
    {"sjis", "93fa967b8ceab1", "日本語ｱ"},
    {"sjis", "5c7e815f8160", "\\~\\〜"},  // 0x5C/0x7E are ASCII; 0x815F is U+005C
    {"sjis", "81918192", "¢£"},
    {"cp932", "93fa967b8ceab1", "日本語ｱ"},
    {"cp932", "815f87405c", "＼①\\"},  // cp932 differs from sjis here
    {"ujis", "c6fccbdcb8ec8eb1", "日本語ｱ"},
    {"ujis", "a1c08fa2b7", "\\~"},
    {"ujis", "f5a1fefe8ff5a1", "\xee\x80\x80\xee\x8e\xab\xee\x8e\xac"},  // U+E000, U+E3AB, U+E3AC
    {"eucjpms", "c6fccbdcb8ec8eb1", "日本語ｱ"},
    {"euckr", "c7d1b1b9beee", "한국어"},
    {"euckr", "8141", "갂"},  // the CP949 extension MySQL accepts
    {"gbk", "", ""},
    {"sjis", "616263", "abc"},
};

TEST(MultiByteTest, KnownVectors) {
  for (const Vector& v : kVectors) {
    std::optional<std::string> out = MultiByteToUtf8(Hex(v.input_hex), v.charset);
    ASSERT_TRUE(out.has_value()) << v.charset << " " << v.input_hex;
    EXPECT_EQ(*out, v.utf8) << v.charset << " " << v.input_hex;
  }
}

TEST(MultiByteTest, InvalidBytesGiveNullopt) {
  EXPECT_FALSE(MultiByteToUtf8(Hex("d6"), "gbk"));       // truncated
  EXPECT_FALSE(MultiByteToUtf8(Hex("41a4"), "big5"));    // truncated, framed by hand
  EXPECT_FALSE(MultiByteToUtf8(Hex("a1c08f"), "ujis"));  // truncated 3-byte code
  EXPECT_FALSE(MultiByteToUtf8(Hex("ff"), "sjis"));
  EXPECT_FALSE(MultiByteToUtf8(Hex("a4a4ff41"), "big5"));
  EXPECT_FALSE(MultiByteToUtf8(Hex("c7"), "euckr"));
  EXPECT_FALSE(MultiByteToUtf8("abc", "latin7"));  // not a multi-byte charset
  // After a failure the next conversion on the same thread starts clean.
  EXPECT_EQ(MultiByteToUtf8(Hex("d6d0"), "gbk"), "中");
}

TEST(MultiByteTest, LongTextWithExceptionsInTheMiddle) {
  std::string in, want;
  for (int i = 0; i < 2000; ++i) {
    in += Hex("93fa815f41");
    want += "日\\A";
  }
  EXPECT_EQ(MultiByteToUtf8(in, "sjis"), want);
  std::string kana(5000, static_cast<char>(0xB1));  // 1 byte each, 3 bytes of UTF-8
  std::string kana_utf8;
  for (int i = 0; i < 5000; ++i) kana_utf8 += "ｱ";
  EXPECT_EQ(MultiByteToUtf8(kana, "cp932"), kana_utf8);
}

TEST(MultiByteTest, ThreadsConvertConcurrently) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        const Vector& v = kVectors[(i + t) % (sizeof(kVectors) / sizeof(kVectors[0]))];
        if (MultiByteToUtf8(Hex(v.input_hex), v.charset) != std::string(v.utf8)) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(MultiByteTest, CollationIds) {
  struct Id {
    uint32_t id;
    std::string_view name;
  };
  for (Id id : {Id{1, "big5"},      Id{84, "big5"},    Id{1025, "big5"},    Id{1108, "big5"},
                Id{13, "sjis"},     Id{88, "sjis"},    Id{1037, "sjis"},    Id{1112, "sjis"},
                Id{12, "ujis"},     Id{91, "ujis"},    Id{1115, "ujis"},    Id{19, "euckr"},
                Id{85, "euckr"},    Id{1109, "euckr"}, Id{24, "gb2312"},    Id{86, "gb2312"},
                Id{1110, "gb2312"}, Id{28, "gbk"},     Id{87, "gbk"},       Id{1052, "gbk"},
                Id{1111, "gbk"},    Id{95, "cp932"},   Id{96, "cp932"},     Id{1119, "cp932"},
                Id{97, "eucjpms"},  Id{98, "eucjpms"}, Id{1122, "eucjpms"}, Id{248, "gb18030"},
                Id{249, "gb18030"}, Id{250, "gb18030"}}) {
    CharsetInfo cs = CharsetForCollation(id.id);
    EXPECT_EQ(cs.kind, CharsetKind::kMultiByte) << id.id;
    EXPECT_EQ(cs.name, id.name) << id.id;
  }
  // MariaDB NO PAD collations of the other charsets.
  EXPECT_EQ(CharsetForCollation(1069).name, "utf8mb4");  // utf8mb4_general_nopad_ci
  EXPECT_EQ(CharsetForCollation(1057).kind, CharsetKind::kUtf8);
  EXPECT_EQ(CharsetForCollation(1032).kind, CharsetKind::kLatin1);
  EXPECT_EQ(CharsetForCollation(2047).kind, CharsetKind::kUnknown);
}

TEST(MultiByteTest, ColumnValuesConvertOrStayRaw) {
  ColumnDef c;
  c.type = ColumnType::kVarchar;
  c.max_length = 100;
  c.collation = 87;  // gbk_bin
  v1::Value v;
  std::string good = "\x04" + Hex("d6d0cec4");
  wire::ByteReader r(good);
  ASSERT_TRUE(ReadColumnValue(r, c, v).ok());
  EXPECT_EQ(v.string(), "中文");
  std::string bad = "\x03" + Hex("d6d0ce");
  wire::ByteReader rb(bad);
  ASSERT_TRUE(ReadColumnValue(rb, c, v).ok());
  EXPECT_EQ(v.raw().type_name(), "gbk");
  EXPECT_EQ(v.raw().text(), "base64:1tDO");
}

// A DDL statement is logged in the client's charset (Q_CHARSET_CODE); the ddl event holds it as
// UTF-8.
TEST(StatementUtf8Test, ConvertsFromTheClientCharset) {
  Query q;
  q.query = "ALTER TABLE t COMMENT 'caf\xE9'";
  EXPECT_EQ(StatementUtf8(q), q.query);  // no charset known: the bytes as they are
  q.client_collation = 8;                 // latin1_swedish_ci
  EXPECT_EQ(StatementUtf8(q), "ALTER TABLE t COMMENT 'caf\xC3\xA9'");
  EXPECT_EQ(MapDdl(q).ddl().statement(), "ALTER TABLE t COMMENT 'caf\xC3\xA9'");
  q.client_collation = 28;  // gbk_chinese_ci
  q.query = "COMMENT '" + Hex("d6d0cec4") + "'";
  EXPECT_EQ(StatementUtf8(q), "COMMENT '中文'");
  q.query = "COMMENT '\xff\xff'";  // not GBK: kept as it is
  EXPECT_EQ(StatementUtf8(q), q.query);
  q.client_collation = 45;  // utf8mb4_general_ci
  q.query = "COMMENT '中文'";
  EXPECT_EQ(StatementUtf8(q), q.query);
}

}  // namespace
}  // namespace sluice::mysql
