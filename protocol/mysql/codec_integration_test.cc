// protocol/mysql against a real MariaDB 10.11 (tests/testdb): the server's own binlog files,
// read from its data directory with BinlogFileReader.
//   - log_bin_compress=ON: QUERY_COMPRESSED and compressed row events decode to the statements
//     and rows that were written.
//   - CJK charsets: every code that MariaDB converts to UTF-8 (gbk, gb2312, big5, sjis, cp932,
//     ujis, eucjpms, euckr) is written to a column of that charset; the decoded binlog value
//     equals the server's CONVERT(... USING utf8mb4) of the same column, code for code.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "protocol/mysql/test_util.h"
#include "tests/testing/test_database.h"

namespace sluice::mysql {
namespace {

using ::sluice::testing::TestDatabase;
using testing::DecodeAll;
using testing::Decoded;
using testing::ReadFileBytes;

#define ASSERT_EXEC(db, sql)                      \
  do {                                            \
    absl::Status exec_status = (db)->Exec(sql);   \
    ASSERT_TRUE(exec_status.ok()) << exec_status; \
  } while (false)
#define EXPECT_EXEC(db, sql)                      \
  do {                                            \
    absl::Status exec_status = (db)->Exec(sql);   \
    EXPECT_TRUE(exec_status.ok()) << exec_status; \
  } while (false)

TestDatabase* Db() {
  absl::StatusOr<TestDatabase*> db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *db : nullptr;
}

std::string Scalar(TestDatabase* db, const std::string& sql) {
  auto rows = db->Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status();
  if (!rows.ok() || rows->empty() || (*rows)[0].empty()) return "";
  return (*rows)[0][0];
}

// Runs `work` between two FLUSH BINARY LOGS and returns the decoded binlog file it wrote.
struct Binlog {
  std::string bytes;
  Decoded decoded;
};
Binlog Capture(TestDatabase* db, const std::function<void()>& work) {
  Binlog out;
  EXPECT_EXEC(db, "FLUSH BINARY LOGS");
  auto status = db->Query("SHOW MASTER STATUS");
  EXPECT_TRUE(status.ok() && !status->empty());
  if (!status.ok() || status->empty()) return out;
  const std::string file = (*status)[0][0];
  work();
  EXPECT_EXEC(db, "FLUSH BINARY LOGS");
  const std::string path = Scalar(db, "SELECT @@datadir") + "/" + file;
  out.bytes = ReadFileBytes(path);
  out.decoded = DecodeAll(out.bytes, file);
  EXPECT_TRUE(out.decoded.status.ok()) << out.decoded.status;
  return out;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(CompressedBinlogTest, ServerCompressedEventsDecode) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  const std::string old_compress = Scalar(db, "SELECT @@global.log_bin_compress");
  const std::string old_min = Scalar(db, "SELECT @@global.log_bin_compress_min_len");
  struct Restore {
    TestDatabase* db;
    std::string sql;
    ~Restore() { EXPECT_EXEC(db, sql); }
  } restore{db, absl::StrCat("SET GLOBAL log_bin_compress=", old_compress,
                             ", log_bin_compress_min_len=", old_min)};
  ASSERT_EXEC(db, "SET GLOBAL log_bin_compress=ON, log_bin_compress_min_len=10");
  const std::string long_comment(1500, 'c');
  const std::string ddl =
      "CREATE TABLE zc (id INT PRIMARY KEY, note TEXT, n DECIMAL(12,3)) COMMENT='" + long_comment +
      "'";
  Binlog log = Capture(db, [&] {
    ASSERT_EXEC(db, ddl);
    ASSERT_EXEC(db,
                "INSERT INTO zc VALUES (1, REPEAT('abc', 100), 1.5), (2, 'x', NULL), "
                "(3, REPEAT('\xe4\xb8\xad', 5000), -7.125)");
    ASSERT_EXEC(db, "UPDATE zc SET note = REPEAT('y', 40) WHERE id = 2");
    ASSERT_EXEC(db, "DELETE FROM zc WHERE id = 1");
  });
  ASSERT_EXEC(db, "DROP TABLE zc");

  std::set<int> types;
  std::vector<std::string> queries;
  for (const Event& e : log.decoded.events) {
    types.insert(e.header.type);
    if (auto* q = std::get_if<Query>(&e.body)) queries.push_back(q->query);
  }
  EXPECT_TRUE(types.count(165)) << "no QUERY_COMPRESSED_EVENT";
  EXPECT_TRUE(types.count(166)) << "no WRITE_ROWS_COMPRESSED_EVENT_V1";
  EXPECT_TRUE(types.count(167)) << "no UPDATE_ROWS_COMPRESSED_EVENT_V1";
  EXPECT_TRUE(types.count(168)) << "no DELETE_ROWS_COMPRESSED_EVENT_V1";
  EXPECT_THAT(queries, ::testing::Contains(ddl));
  std::string cjk, abc;
  for (int i = 0; i < 5000; ++i) cjk += "\xe4\xb8\xad";
  for (int i = 0; i < 100; ++i) abc += "abc";
  EXPECT_THAT(
      testing::Rows(log.decoded.events),
      ::testing::ElementsAre("I {\"id\":1,\"note\":\"" + abc + "\",\"n\":\"1.500\"}",
                             "I {\"id\":2,\"note\":\"x\",\"n\":null}",
                             "I {\"id\":3,\"note\":\"" + cjk + "\",\"n\":\"-7.125\"}",
                             "U {\"id\":2,\"note\":\"x\",\"n\":null} -> {\"id\":2,\"note\":\"" +
                                 std::string(40, 'y') + "\",\"n\":null}",
                             "D {\"id\":1,\"note\":\"" + abc + "\",\"n\":\"1.500\"}"));
}

// Every 1-, 2- and 3-byte code of the multi-byte charsets' ranges, for the server to sort out.
std::vector<std::string> CandidateCodes() {
  std::vector<std::string> codes;
  for (int a = 0x80; a <= 0xFF; ++a) codes.push_back(std::string(1, static_cast<char>(a)));
  for (int a = 0x81; a <= 0xFE; ++a) {
    for (int b = 0x40; b <= 0xFE; ++b) {
      if (b == 0x7F) continue;
      codes.push_back(std::string{static_cast<char>(a), static_cast<char>(b)});
    }
  }
  for (int b = 0xA1; b <= 0xFE; ++b) {
    for (int c = 0xA1; c <= 0xFE; ++c) {
      codes.push_back(std::string{'\x8f', static_cast<char>(b), static_cast<char>(c)});
    }
  }
  return codes;
}

TEST(CjkBinlogTest, EveryServerCodeDecodesAsTheServerConvertsIt) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  const std::vector<std::string> charsets = {"gbk",   "gb2312", "big5",    "sjis",
                                             "cp932", "ujis",   "eucjpms", "euckr"};
  ASSERT_EXEC(db,
              "DROP TABLE IF EXISTS cjk_codes; CREATE TABLE cjk_codes "
              "(id INT PRIMARY KEY, b VARBINARY(4)) ENGINE=MEMORY");
  const std::vector<std::string> codes = CandidateCodes();
  for (size_t i = 0; i < codes.size(); i += 2000) {
    std::vector<std::string> values;
    for (size_t j = i; j < std::min(codes.size(), i + 2000); ++j) {
      values.push_back(absl::StrCat("(", j, ",X'", Hex(codes[j]), "')"));
    }
    ASSERT_TRUE(
        db->Exec(absl::StrCat("INSERT INTO cjk_codes VALUES ", absl::StrJoin(values, ","))).ok());
  }
  std::string columns;
  for (const std::string& cs : charsets) {
    absl::StrAppend(&columns, ", ", cs, " MEDIUMTEXT CHARACTER SET ", cs);
  }
  ASSERT_EXEC(
      db, "DROP TABLE IF EXISTS cjk_all; CREATE TABLE cjk_all (id INT PRIMARY KEY" + columns + ")");
  // Rows 1..8 hold, per charset, all the codes the server converts to something other than '?'
  // or U+FFFD, concatenated (each code delimits itself, so the text stays valid); row 9 holds
  // text written from UTF-8.
  Binlog log = Capture(db, [&] {
    // Not strict, so that CONVERT in the filter gives '?' for invalid codes instead of failing.
    ASSERT_EXEC(db, "SET SESSION sql_mode = ''");
    for (size_t i = 0; i < charsets.size(); ++i) {
      const std::string& cs = charsets[i];
      std::string conv = "CONVERT(CAST(b AS CHAR CHARACTER SET " + cs + ") USING utf8mb4)";
      ASSERT_EXEC(db, absl::StrCat("INSERT INTO cjk_all (id, ", cs, ") SELECT ", i + 1,
                                   ", CAST(GROUP_CONCAT(b ORDER BY id SEPARATOR '') AS CHAR "
                                   "CHARACTER SET ",
                                   cs, ") FROM cjk_codes WHERE LOCATE('?', ", conv,
                                   ") = 0 AND HEX(", conv, ") NOT LIKE '%EFBFBD%'"));
    }
    ASSERT_EXEC(db,
                "SET SESSION sql_mode = DEFAULT; SET NAMES utf8mb4; INSERT INTO cjk_all VALUES (9, "
                "'中文 abc', '中文', "
                "'中文', '日本語ｱ\\\\~', '日本語ｱ①', '日本語ｱ\\\\~', '日本語', '한국어')");
  });
  std::map<int, std::map<std::string, std::string>> decoded;  // id -> column -> JSON value
  int rows = 0;
  for (const Event& e : log.decoded.events) {
    const auto* r = std::get_if<RowsEvent>(&e.body);
    if (!r || r->table->table != "cjk_all") continue;
    for (const RowChange& c : r->rows) {
      ++rows;
      const v1::Row& row = *c.after;
      int id = static_cast<int>(row.fields(0).value().int64());
      for (int f = 1; f < row.fields_size(); ++f) {
        const v1::Value& v = row.fields(f).value();
        if (v.has_null()) continue;
        EXPECT_EQ(v.kind_case(), v1::Value::kString) << "id " << id << " " << row.fields(f).name()
                                                     << " " << v.ShortDebugString().substr(0, 200);
        decoded[id][row.fields(f).name()] = v.string();
      }
    }
  }
  ASSERT_EQ(rows, 9);
  for (size_t i = 0; i < charsets.size(); ++i) {
    const std::string& cs = charsets[i];
    std::string server = Scalar(db, absl::StrCat("SELECT CONVERT(", cs,
                                                 " USING utf8mb4) FROM "
                                                 "cjk_all WHERE id = ",
                                                 i + 1));
    std::string mine = decoded[static_cast<int>(i) + 1][cs];
    EXPECT_GT(server.size(), 1000u) << cs;
    if (mine != server) {
      size_t at = 0;
      while (at < mine.size() && at < server.size() && mine[at] == server[at]) ++at;
      ADD_FAILURE() << cs << ": decoded text differs from the server's at UTF-8 byte " << at
                    << ": server " << Hex(server.substr(at, 12)) << ", decoded "
                    << Hex(mine.substr(at, 12));
    }
  }
  EXPECT_EQ(decoded[9]["gbk"], "中文 abc");
  EXPECT_EQ(decoded[9]["eucjpms"], "日本語");
  EXPECT_EQ(decoded[9]["sjis"], "日本語ｱ\\~");
  EXPECT_EQ(decoded[9]["cp932"], "日本語ｱ①");
  EXPECT_EQ(decoded[9]["ujis"], "日本語ｱ\\~");
  EXPECT_EQ(decoded[9]["euckr"], "한국어");
  EXPECT_EQ(decoded[9]["big5"], "中文");
  ASSERT_EXEC(db, "DROP TABLE cjk_codes; DROP TABLE cjk_all");
}

}  // namespace
}  // namespace sluice::mysql
