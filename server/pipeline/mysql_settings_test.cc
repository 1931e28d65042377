#include "server/pipeline/mysql_settings.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

std::map<std::string, std::string> Good() {
  return {
      {"version", "10.11.6-MariaDB"}, {"server_id", "1"},           {"log_bin", "ON"},
      {"binlog_format", "ROW"},       {"binlog_row_image", "FULL"}, {"binlog_row_metadata", "FULL"},
      {"binlog_checksum", "CRC32"}};
}

TEST(MysqlSettingsTest, AcceptsRowFullFull) {
  EXPECT_TRUE(CheckMysqlSettings(Good(), 77, "shop").ok());
  auto lower = Good();
  lower["binlog_format"] = "row";
  EXPECT_TRUE(CheckMysqlSettings(lower, 77, "shop").ok());
}

TEST(MysqlSettingsTest, NamesEveryProblemAndItsFix) {
  auto vars = Good();
  vars["binlog_format"] = "MIXED";
  vars["binlog_row_image"] = "MINIMAL";
  const absl::Status st = CheckMysqlSettings(vars, 77, "shop");
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  const std::string m(st.message());
  EXPECT_EQ(m.find("source 'shop': "), 0u) << m;
  EXPECT_NE(m.find("binlog_format=MIXED but sluice needs ROW: run SET GLOBAL binlog_format='ROW' "
                   "and add binlog_format=ROW under [mysqld] in my.cnf"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("SET GLOBAL binlog_row_image='FULL'"), std::string::npos) << m;
  EXPECT_EQ(m.find("binlog_row_metadata"), std::string::npos) << m;
}

TEST(MysqlSettingsTest, BinlogOffMissingMetadataAndServerIdClash) {
  auto vars = Good();
  vars["log_bin"] = "OFF";
  vars.erase("binlog_row_metadata");
  const std::string m(CheckMysqlSettings(vars, 1, "shop").message());
  EXPECT_NE(m.find("the binary log is off (log_bin=OFF): add log_bin=mysql-bin"), std::string::npos)
      << m;
  EXPECT_NE(m.find("binlog_row_metadata is not available on this server (10.11.6-MARIADB)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("server_id=1 is the server's own server_id"), std::string::npos) << m;
}

}  // namespace
}  // namespace sluice::pipeline
