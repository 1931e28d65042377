// COM_BINLOG_DUMP_GTID for a GTID set with tagged GTIDs (MySQL 8.3+), byte by byte against the
// layout documented in messages.h and protocol/mysql/gtid_set.h.

#include <gtest/gtest.h>

#include <string>

#include "protocol/mysql/gtid_set.h"
#include "protocol/mysqlclient/messages.h"

namespace sluice::mysqlclient {
namespace {

std::string S(const char* bytes, size_t n) { return std::string(bytes, n); }
std::string Le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

TEST(BinlogDumpGtidRequestTest, TaggedSetMatchesTheDocumentedLayout) {
  // Two uuids; the second sorts first (0x1e < 0x3e). Tags lowercased and ordered after the
  // untagged intervals of their uuid.
  absl::StatusOr<mysql::GtidSet> set = mysql::GtidSet::Parse(
      "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:Blue:1-3,"
      "1e11fa47-71ca-11e1-9e33-c80aa9429562:alpha:10");
  ASSERT_TRUE(set.ok()) << set.status();
  const std::string uuid_3e =
      S("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16);
  const std::string uuid_1e =
      S("\x1e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16);
  const std::string body =
      // n_sids in the tagged format: (1 << 56) | (3 entries << 8) | 1
      S("\x01\x03\x00\x00\x00\x00\x00\x01", 8) +
      // 1e...:alpha: tag length 5 as a varlen (5 << 1), [10, 11)
      uuid_1e + S("\x0a", 1) + "alpha" + Le64(1) + Le64(10) + Le64(11) +
      // 3e... untagged: tag length 0, [1, 6) and [7, 8)
      uuid_3e + S("\x00", 1) + Le64(2) + Le64(1) + Le64(6) + Le64(7) + Le64(8) +
      // 3e...:blue: [1, 4)
      uuid_3e + S("\x08", 1) + "blue" + Le64(1) + Le64(1) + Le64(4);
  ASSERT_EQ(set->Encode(), body);
  const std::string request = EncodeBinlogDumpGtid(set->Encode(), 4242);
  const std::string want = S("\x1e", 1) +                    // COM_BINLOG_DUMP_GTID
                           S("\x04\x00", 2) +                // flags: BINLOG_THROUGH_GTID
                           S("\x92\x10\x00\x00", 4) +        // server_id 4242
                           S("\x00\x00\x00\x00", 4) +        // file name length 0, no name
                           Le64(4) +                         // position 4
                           S("\x9c\x00\x00\x00", 4) + body;  // data length 156, the set
  ASSERT_EQ(body.size(), 156u);
  EXPECT_EQ(request, want);
}

TEST(BinlogDumpGtidRequestTest, UntaggedSetsKeepTheOldFormat) {
  // Servers before 8.3 reject the tagged format: a set without tags is sent as before.
  absl::StatusOr<mysql::GtidSet> set =
      mysql::GtidSet::Parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  ASSERT_TRUE(set.ok());
  const std::string body =
      Le64(1) + S("\x3e\x11\xfa\x47\x71\xca\x11\xe1\x9e\x33\xc8\x0a\xa9\x42\x95\x62", 16) +
      Le64(1) + Le64(1) + Le64(6);
  EXPECT_EQ(set->Encode(), body);
  EXPECT_EQ(EncodeBinlogDumpGtid(set->Encode(), 1).substr(19, 4), S("\x30\x00\x00\x00", 4));
}

}  // namespace
}  // namespace sluice::mysqlclient
