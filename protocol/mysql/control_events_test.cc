// Handcrafted control events through BinlogDecoder: header, FDE, checksums, ROTATE, QUERY, XID,
// MariaDB GTID / GTID_LIST / BINLOG_CHECKPOINT, unknown and ignorable events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/event_builder_test_util.h"
#include "protocol/mysql/test_util.h"

namespace sluice::mysql {
namespace {

using testing::AsBytes;
using ::testing::HasSubstr;
using testing::MakeEvent;
using testing::MakeFde;
using testing::PutLe;

class ControlEventsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    decoder_.set_file_name("binlog.000007");
    fde_ = MakeFde(crc());
    auto ev = decoder_.Decode(AsBytes(fde_), 4);
    ASSERT_TRUE(ev.ok()) << ev.status();
  }
  bool crc() const { return GetParam(); }
  absl::StatusOr<Event> Decode(uint8_t type, const std::string& body, uint16_t flags = 0) {
    event_ = MakeEvent(type, body, crc(), flags, 77, 1000);
    return decoder_.Decode(AsBytes(event_), 500);
  }
  BinlogDecoder decoder_;
  std::string fde_;
  std::string event_;
};

TEST_P(ControlEventsTest, FormatDescription) {
  const FormatDescription& f = decoder_.format();
  EXPECT_EQ(f.binlog_version, 4);
  EXPECT_EQ(f.server_version, "8.0.40");
  EXPECT_EQ(f.header_length, 19);
  EXPECT_EQ(f.checksum, crc() ? ChecksumAlg::kCrc32 : ChecksumAlg::kOff);
  EXPECT_EQ(f.PostHeaderLength(EventType::kQuery, 0), 13);
  EXPECT_EQ(f.PostHeaderLength(EventType::kWriteRowsV2, 0), 10);
  EXPECT_EQ(f.post_header_lengths.size(), 41u);
}

TEST(LiveDump, FakeRotateBeforeAnyFormatDescriptionUsesTheNegotiatedChecksum) {
  std::string rotate;
  PutLe(rotate, 4, 8);
  rotate += "mariadb-bin.000001";
  const std::string event = MakeEvent(static_cast<uint8_t>(EventType::kRotate), rotate,
                                      /*crc=*/true, kFlagArtificial, 1, 0);
  BinlogDecoder negotiated;
  negotiated.set_initial_checksum(ChecksumAlg::kCrc32);
  auto ev = negotiated.Decode(AsBytes(event), 0);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<Rotate>(ev->body).next_file, "mariadb-bin.000001");
  // Without it the 4 checksum bytes would end up in the file name.
  BinlogDecoder plain;
  auto wrong = plain.Decode(AsBytes(event), 0);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(std::get<Rotate>(wrong->body).next_file.size(),
            std::string("mariadb-bin.000001").size() + 4);
}

TEST_P(ControlEventsTest, RotateQueryXid) {
  std::string rotate;
  PutLe(rotate, 4, 8);
  rotate += "binlog.000008";
  auto ev = Decode(static_cast<uint8_t>(EventType::kRotate), rotate, kFlagArtificial);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& r = std::get<Rotate>(ev->body);
  EXPECT_EQ(r.position, 4u);
  EXPECT_EQ(r.next_file, "binlog.000008");
  EXPECT_EQ(ev->header.flags, kFlagArtificial);
  EXPECT_EQ(ev->header.server_id, 77u);
  EXPECT_EQ(ev->header.log_pos, 1000u);

  std::string q;
  PutLe(q, 42, 4);  // thread id
  PutLe(q, 3, 4);   // exec time
  q.push_back(4);   // db len
  PutLe(q, 0, 2);   // error code
  PutLe(q, 5, 2);   // status vars length
  q += std::string("\x00\x01\x02\x03\x04", 5);
  q += std::string("shop\0", 5);
  q += "ALTER TABLE t ADD c INT";
  ev = Decode(static_cast<uint8_t>(EventType::kQuery), q);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& query = std::get<Query>(ev->body);
  EXPECT_EQ(query.thread_id, 42u);
  EXPECT_EQ(query.exec_time, 3u);
  EXPECT_EQ(query.database, "shop");
  EXPECT_EQ(query.query, "ALTER TABLE t ADD c INT");

  std::string x;
  PutLe(x, 123456789, 8);
  ev = Decode(static_cast<uint8_t>(EventType::kXid), x);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<Xid>(ev->body).xid, 123456789u);
}

TEST_P(ControlEventsTest, QueryCarriesTheClientCharset) {
  // Status variables as MariaDB 10.11 writes them for a latin1 client: flags2, sql_mode,
  // catalog_nz "std", auto_increment, charset (client 8 = latin1_swedish_ci, connection 8,
  // server 45), then Q_XID.
  std::string vars;
  vars.push_back(0);
  PutLe(vars, 0, 4);
  vars.push_back(1);
  PutLe(vars, 0x1234, 8);
  vars.push_back(6);
  vars.push_back(3);
  vars += "std";
  vars.push_back(3);
  PutLe(vars, 1, 2);
  PutLe(vars, 1, 2);
  vars.push_back(4);
  PutLe(vars, 8, 2);
  PutLe(vars, 8, 2);
  PutLe(vars, 45, 2);
  vars.push_back(static_cast<char>(129));
  PutLe(vars, 77, 8);
  std::string q;
  PutLe(q, 1, 4);
  PutLe(q, 0, 4);
  q.push_back(4);
  PutLe(q, 0, 2);
  PutLe(q, vars.size(), 2);
  q += vars;
  q += std::string("shop\0", 5);
  q += "ALTER TABLE t COMMENT 'caf\xE9'";
  auto ev = Decode(static_cast<uint8_t>(EventType::kQuery), q);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& query = std::get<Query>(ev->body);
  EXPECT_EQ(query.client_collation, std::optional<uint16_t>(8));
  EXPECT_EQ(query.query, "ALTER TABLE t COMMENT 'caf\xE9'");  // the bytes as logged
}

TEST(FindClientCollationTest, StopsAtUnknownCodesAndShortValues) {
  auto find = [](const std::string& vars) { return FindClientCollation(AsBytes(vars)); };
  EXPECT_EQ(find(std::string("\x04\x21\x00\x21\x00\x08\x00", 7)), std::optional<uint16_t>(33));
  // Q_TIME_ZONE_CODE "UTC" and Q_INVOKER before the charset are skipped by their lengths.
  EXPECT_EQ(find(std::string("\x05\x03UTC\x0b\x01u\x01h\x04\x1c\x00\x08\x00\x08\x00", 17)),
            std::optional<uint16_t>(28));
  // Q_UPDATED_DB_NAMES with two names, then the charset.
  EXPECT_EQ(find(std::string("\x0c\x02" "a\0bc\0\x04\x5f\x00\x08\x00\x08\x00", 14)),
            std::optional<uint16_t>(95));
  EXPECT_EQ(find(""), std::nullopt);
  EXPECT_EQ(find(std::string("\x00\x00\x00\x00\x00", 5)), std::nullopt);  // no charset
  EXPECT_EQ(find(std::string("\x63\x04\x08\x00\x08\x00\x08\x00", 8)), std::nullopt);  // code 99
  EXPECT_EQ(find(std::string("\x04\x08\x00\x08", 4)), std::nullopt);  // cut short
  EXPECT_EQ(find(std::string("\x02\xff", 2)), std::nullopt);  // catalog longer than the vars
}

TEST_P(ControlEventsTest, QueryWithoutNulAfterDatabaseIsAnError) {
  std::string q;
  PutLe(q, 1, 4);
  PutLe(q, 0, 4);
  q.push_back(2);
  PutLe(q, 0, 2);
  PutLe(q, 0, 2);
  q += "dbXBEGIN";
  auto ev = Decode(static_cast<uint8_t>(EventType::kQuery), q);
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ev.status().message(), HasSubstr("binlog.000007:500: QUERY_EVENT"));
}

TEST_P(ControlEventsTest, MariaDbEvents) {
  std::string g;
  PutLe(g, 42, 8);
  PutLe(g, 3, 4);
  g.push_back(static_cast<char>(kMariaGtidGroupCommitId | kMariaGtidTransactional));
  PutLe(g, 9, 8);
  auto ev = Decode(static_cast<uint8_t>(EventType::kMariaGtid), g);
  ASSERT_TRUE(ev.ok()) << ev.status();
  const auto& mg = std::get<MariaGtid>(ev->body);
  EXPECT_EQ(mg.ToString(), "3-77-42");
  EXPECT_EQ(mg.commit_id, 9u);
  EXPECT_FALSE(mg.standalone());

  std::string standalone;
  PutLe(standalone, 43, 8);
  PutLe(standalone, 0, 4);
  standalone.push_back(static_cast<char>(kMariaGtidStandalone));
  standalone += std::string(6, '\0');  // padding that real servers write
  ev = Decode(static_cast<uint8_t>(EventType::kMariaGtid), standalone);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_TRUE(std::get<MariaGtid>(ev->body).standalone());
  EXPECT_FALSE(std::get<MariaGtid>(ev->body).commit_id.has_value());

  std::string list;
  PutLe(list, 2, 4);
  PutLe(list, 0, 4);
  PutLe(list, 1, 4);
  PutLe(list, 10, 8);
  PutLe(list, 1, 4);
  PutLe(list, 2, 4);
  PutLe(list, 20, 8);
  ev = Decode(static_cast<uint8_t>(EventType::kMariaGtidList), list);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<MariaGtidList>(ev->body).ToString(), "0-1-10,1-2-20");

  std::string huge;
  PutLe(huge, 0x0FFFFFFF, 4);
  ev = Decode(static_cast<uint8_t>(EventType::kMariaGtidList), huge);
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);

  std::string cp;
  PutLe(cp, 10, 4);
  cp += "mariadb.01";
  ev = Decode(static_cast<uint8_t>(EventType::kMariaBinlogCheckpoint), cp);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<BinlogCheckpoint>(ev->body).file, "mariadb.01");

  ev = Decode(static_cast<uint8_t>(EventType::kMariaAnnotateRows), "INSERT INTO t VALUES (1)");
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<RowsQuery>(ev->body).query, "INSERT INTO t VALUES (1)");

  ev = Decode(static_cast<uint8_t>(EventType::kMariaStartEncryption), std::string(17, 'k'));
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kUnimplemented);
  // Compressed events are decoded (compressed_event_test.cc); garbage is DataLoss.
  ev = Decode(static_cast<uint8_t>(EventType::kMariaWriteRowsCompressedV1), std::string(17, 'k'));
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
}

TEST_P(ControlEventsTest, SkippedAndUnknownEvents) {
  auto ev =
      Decode(static_cast<uint8_t>(EventType::kIntvar), std::string("\x02\x05\0\0\0\0\0\0\0", 9));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<Skipped>(ev->body).type, static_cast<uint8_t>(EventType::kIntvar));
  ev = Decode(100, "aurora padding", kFlagIgnorable);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(std::get<Skipped>(ev->body).type, 100);
  ev = Decode(43, "large trx header", kFlagIgnorable);
  ASSERT_TRUE(ev.ok());
  ev = Decode(100, "no flag");
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ev.status().message(), HasSubstr("binlog.000007:500: unknown event type 100"));
}

TEST_P(ControlEventsTest, SizeMismatchAndShortHeader) {
  std::string e = MakeEvent(static_cast<uint8_t>(EventType::kXid), std::string(8, '\1'), crc());
  auto ev = decoder_.Decode(AsBytes(e).first(e.size() - 1), 9);
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  for (size_t n = 0; n < kEventHeaderLength; ++n) {
    ev = decoder_.Decode(AsBytes(e).first(n), 9);
    EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss) << n;
  }
  // event_size smaller than the header.
  std::string tiny = e;
  tiny[9] = 5;
  tiny[10] = tiny[11] = tiny[12] = 0;
  EXPECT_EQ(decoder_.Decode(AsBytes(tiny), 9).status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Checksum, ControlEventsTest, ::testing::Bool());

TEST(ChecksumTest, MismatchNamesFileAndPosition) {
  BinlogDecoder d;
  d.set_file_name("binlog.000003");
  std::string fde = MakeFde(true);
  ASSERT_TRUE(d.Decode(AsBytes(fde), 4).ok());
  std::string x = MakeEvent(static_cast<uint8_t>(EventType::kXid), std::string(8, '\1'), true);
  x[20] ^= 1;
  auto ev = d.Decode(AsBytes(x), 1234);
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ev.status().message(), HasSubstr("binlog.000003:1234: XID_EVENT: CRC32 mismatch"));
  // A corrupt FDE checksum.
  std::string bad = fde;
  bad[30] ^= 1;
  EXPECT_EQ(d.Decode(AsBytes(bad), 4).status().code(), absl::StatusCode::kDataLoss);
  // Too short to hold a checksum.
  std::string shortx = MakeEvent(static_cast<uint8_t>(EventType::kStop), "", false);
  EXPECT_EQ(d.Decode(AsBytes(shortx), 4).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ChecksumTest, FdeInUseFlagIsIgnored) {
  // A closed file's FDE has LOG_EVENT_BINLOG_IN_USE_F cleared after its CRC was computed with the
  // flag cleared as well; a live file has the flag set. Both must verify.
  std::string fde = MakeFde(true);
  fde[17] |= 1;
  BinlogDecoder d;
  EXPECT_TRUE(d.Decode(AsBytes(fde), 4).ok());
}

TEST(FormatDescriptionTest, VersionsAndErrors) {
  EXPECT_TRUE(VersionHasChecksumAlg("5.6.1"));
  EXPECT_TRUE(VersionHasChecksumAlg("8.0.40-debug"));
  EXPECT_TRUE(VersionHasChecksumAlg("10.5.15-MariaDB-log"));
  EXPECT_FALSE(VersionHasChecksumAlg("5.6.0"));
  EXPECT_FALSE(VersionHasChecksumAlg("5.1.43-debug-log"));
  EXPECT_FALSE(VersionHasChecksumAlg("garbage"));
  std::string fde = MakeFde(true);
  BinlogDecoder d;
  for (size_t n = kEventHeaderLength; n < fde.size(); ++n) {
    std::string cut = fde.substr(0, n);
    cut[9] = static_cast<char>(n);  // keep event_size consistent (n < 256)
    EXPECT_FALSE(d.Decode(AsBytes(cut), 4).ok()) << n;
  }
}

TEST(BinlogFileReaderTest, MagicAndCleanEnd) {
  std::string file = std::string(kBinlogMagic) + MakeFde(true) +
                     MakeEvent(static_cast<uint8_t>(EventType::kStop), "", true);
  BinlogFileReader reader(AsBytes(file), "f");
  auto e1 = reader.Next();
  ASSERT_TRUE(e1.ok() && e1->has_value());
  EXPECT_EQ((*e1)->position, 4u);
  auto e2 = reader.Next();
  ASSERT_TRUE(e2.ok() && e2->has_value());
  EXPECT_TRUE(std::holds_alternative<Stop>((*e2)->body));
  auto e3 = reader.Next();
  ASSERT_TRUE(e3.ok());
  EXPECT_FALSE(e3->has_value());

  std::string nomagic =
      "\xfe"
      "bim" +
      file.substr(4);
  BinlogFileReader bad(AsBytes(nomagic), "f");
  EXPECT_EQ(bad.Next().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(bad.Next().status().code(), absl::StatusCode::kDataLoss);  // sticky
  BinlogFileReader empty(AsBytes(std::string_view()), "f");
  EXPECT_EQ(empty.Next().status().code(), absl::StatusCode::kDataLoss);
}

TEST(BinlogFileReaderTest, EveryFileTruncationIsCleanError) {
  std::string file = std::string(kBinlogMagic) + MakeFde(true) +
                     MakeEvent(static_cast<uint8_t>(EventType::kXid), std::string(8, '\1'), true);
  for (size_t n = 0; n < file.size(); ++n) {
    std::string cut = file.substr(0, n);
    auto d = testing::DecodeAll(cut, "cut");
    bool boundary = n == 4 || n == 4 + MakeFde(true).size();
    if (boundary) {
      EXPECT_TRUE(d.status.ok()) << n;
    } else {
      EXPECT_EQ(d.status.code(), absl::StatusCode::kDataLoss) << n;
    }
  }
}

}  // namespace
}  // namespace sluice::mysql
