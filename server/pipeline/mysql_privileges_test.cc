// The snapshot-privilege check on SHOW GRANTS lines as MariaDB 10.11 and MySQL 8 print them.
#include "server/pipeline/mysql_privileges.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace sluice::pipeline {
namespace {

const std::string kUser = "'u'@'%'";

absl::Status Check(const std::vector<std::string>& lines, const std::vector<std::string>& patterns,
                   const std::vector<std::string>& databases = {}) {
  return CheckSnapshotScope(ParseSelectGrants(lines), patterns, databases, kUser);
}

TEST(MysqlPrivilegesTest, ParsesGrantLines) {
  SelectGrants g = ParseSelectGrants({
      "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD 'x'",
      "GRANT `r1` TO `u`@`%`",
      "GRANT SELECT, INSERT ON `shop`.* TO `u`@`%`",
      "GRANT SELECT (`a`, `b`) ON `hr`.`pay` TO `u`@`%`",
      "GRANT INSERT ON `hr`.`log` TO `u`@`%`",
      "GRANT SELECT ON `hr`.`people` TO `u`@`%` WITH GRANT OPTION",
      "GRANT ALL PRIVILEGES ON `test\\_%`.* TO `r1`",
      "GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`",
      "GRANT PROXY ON ''@'%' TO 'u'@'%'",
      "GRANT SELECT ON `we``ird`.`t` TO `u`@`%`",
  });
  EXPECT_FALSE(g.global);
  EXPECT_FALSE(g.show_databases);
  EXPECT_EQ(g.databases, (std::vector<std::string>{"shop", "test\\_%"}));
  EXPECT_EQ(g.tables,
            (std::vector<std::pair<std::string, std::string>>{{"hr", "people"}, {"we`ird", "t"}}));
  SelectGrants all =
      ParseSelectGrants({"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
                         "REVOKE SELECT ON `secret`.* FROM `root`@`localhost`"});
  EXPECT_TRUE(all.global);
  EXPECT_TRUE(all.show_databases);
  EXPECT_TRUE(CanReadDatabase(all, "shop"));
  EXPECT_FALSE(CanReadDatabase(all, "secret"));  // MySQL partial revoke
  SelectGrants mysql8 = ParseSelectGrants(
      {"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE ON *.* TO `u`@`%`",
       "GRANT BACKUP_ADMIN,REPLICATION_APPLIER ON *.* TO `u`@`%`"});
  EXPECT_TRUE(mysql8.global);
  EXPECT_TRUE(mysql8.show_databases);
}

TEST(MysqlPrivilegesTest, DatabaseGrantWildcards) {
  EXPECT_TRUE(GrantPatternMatches("test\\_%", "test_a"));
  EXPECT_FALSE(GrantPatternMatches("test\\_%", "testXa"));
  EXPECT_TRUE(GrantPatternMatches("test_%", "testXa"));
  EXPECT_TRUE(GrantPatternMatches("s%p", "shop"));
  EXPECT_TRUE(GrantPatternMatches("shop", "shop"));
  EXPECT_FALSE(GrantPatternMatches("shop", "shops"));
  EXPECT_FALSE(GrantPatternMatches("sh_p", "shp"));
  EXPECT_TRUE(GrantPatternMatches("%", ""));
}

TEST(MysqlPrivilegesTest, GlobalSelectReadsEverything) {
  const std::vector<std::string> lines = {"GRANT SELECT, REPLICATION SLAVE ON *.* TO `u`@`%`"};
  EXPECT_TRUE(Check(lines, {}).ok());
  EXPECT_TRUE(Check(lines, {"shop.*", "s*.orders", "hr.people"}).ok());
}

TEST(MysqlPrivilegesTest, NamedTablesNeedTableOrDatabaseSelect) {
  const std::vector<std::string> lines = {
      "GRANT SELECT ON `shop`.* TO `u`@`%`", "GRANT SELECT ON `hr`.`people` TO `u`@`%`",
      "GRANT SELECT (`a`) ON `hr`.`pay` TO `u`@`%`", "GRANT INSERT ON `hr`.`log` TO `u`@`%`"};
  EXPECT_TRUE(Check(lines, {"shop.orders", "shop.*", "shop.o?ders", "hr.people"}).ok());
  absl::Status st = Check(lines, {"hr.people", "hr.pay", "hr.log"});
  ASSERT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(st.message(), "GRANT SELECT ON `hr`.`pay` TO 'u'@'%'")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "GRANT SELECT ON `hr`.`log` TO 'u'@'%'")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "`hr`.`people`")) << st;
  // System schemas are never snapshotted.
  EXPECT_TRUE(Check(lines, {"mysql.user"}).ok());
}

TEST(MysqlPrivilegesTest, TableGlobNeedsDatabaseSelect) {
  const std::vector<std::string> lines = {"GRANT SELECT ON `hr`.`people` TO `u`@`%`",
                                          "GRANT SELECT ON `hr`.`pay` TO `u`@`%`"};
  absl::Status st = Check(lines, {"hr.*"});
  ASSERT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(st.message(), "tables=hr.*")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "GRANT SELECT ON `hr`.* TO 'u'@'%'")) << st;
  EXPECT_EQ(Check(lines, {"hr.p*"}).code(), absl::StatusCode::kPermissionDenied);
  // A wildcard database grant covers it.
  EXPECT_TRUE(Check({"GRANT SELECT ON `h\\_%`.* TO `u`@`%`"}, {"h_r.*"}).ok());
}

TEST(MysqlPrivilegesTest, DatabaseGlobNeedsGlobalSelectOrEveryListedDatabase) {
  // No filter, no global SELECT, cannot list databases: refused with GRANT ... ON *.*.
  const std::vector<std::string> shop = {"GRANT SELECT ON `shop`.* TO `u`@`%`"};
  absl::Status st = Check(shop, {});
  ASSERT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(st.message(), "every database")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "GRANT SELECT ON *.* TO 'u'@'%'")) << st;
  // With SHOW DATABASES, each database the glob matches is checked.
  std::vector<std::string> listing = shop;
  listing.push_back("GRANT SHOW DATABASES ON *.* TO `u`@`%`");
  const std::vector<std::string> dbs = {"information_schema", "mysql", "shop", "shop_eu", "hr"};
  EXPECT_TRUE(Check(listing, {"shop.*", "sh?p.*"}, dbs).ok());
  st = Check(listing, {"shop*.*"}, dbs);
  ASSERT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(st.message(), "GRANT SELECT ON `shop_eu`.* TO 'u'@'%'")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "`shop`.*")) << st;
  st = Check(listing, {}, dbs);
  EXPECT_TRUE(absl::StrContains(st.message(), "`hr`.*")) << st;
  EXPECT_FALSE(absl::StrContains(st.message(), "mysql")) << st;
}

}  // namespace
}  // namespace sluice::pipeline
