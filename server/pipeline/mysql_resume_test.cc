#include "server/pipeline/mysql_resume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

using ::testing::HasSubstr;
using By = MysqlResumePlan::By;
using config::MysqlResume;

constexpr const char* kSet = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag:1-2";

MysqlResumePlan Must(MysqlResume mode, bool mariadb, std::string_view gtid_mode,
                     std::string_view stored) {
  absl::StatusOr<MysqlResumePlan> plan = PlanMysqlResume(mode, mariadb, gtid_mode, stored, "shop");
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *std::move(plan) : MysqlResumePlan{};
}

TEST(PlanMysqlResumeTest, MysqlWithGtidModeOnResumesByTheStoredSet) {
  for (MysqlResume mode : {MysqlResume::kAuto, MysqlResume::kGtid}) {
    MysqlResumePlan p = Must(mode, false, "on", kSet);
    EXPECT_EQ(p.by, By::kMysqlGtidSet);
    ASSERT_TRUE(p.executed.has_value());
    EXPECT_EQ(p.executed->ToString(), kSet);
    EXPECT_FALSE(p.derive);
  }
  // Newlines as in SHOW MASTER STATUS's Executed_Gtid_Set.
  MysqlResumePlan p = Must(MysqlResume::kAuto, false, "ON",
                           "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n"
                           "4e11fa47-71ca-11e1-9e33-c80aa9429562:1");
  EXPECT_EQ(p.by, By::kMysqlGtidSet);
}

TEST(PlanMysqlResumeTest, MysqlFallsBackToFilePosAndStillTracksTheSet) {
  // position mode, gtid_mode not ON, or an empty set: file:pos, the set tracked from there.
  for (auto [mode, gtid_mode, stored] :
       {std::tuple{MysqlResume::kPosition, "ON", kSet}, std::tuple{MysqlResume::kAuto, "OFF", kSet},
        std::tuple{MysqlResume::kAuto, "ON_PERMISSIVE", kSet},
        std::tuple{MysqlResume::kAuto, "ON", ""}}) {
    SCOPED_TRACE(std::string(gtid_mode) + " [" + stored + "]");
    MysqlResumePlan p = Must(mode, false, gtid_mode, stored);
    EXPECT_EQ(p.by, By::kPosition);
    EXPECT_EQ(p.executed.has_value(), std::string(stored) != "");
  }
}

TEST(PlanMysqlResumeTest, MysqlDerivesAMissingOrUnreadableSetWhenGtidsAreOn) {
  MysqlResumePlan first = Must(MysqlResume::kAuto, false, "ON", "");
  EXPECT_TRUE(first.derive);
  EXPECT_FALSE(first.executed.has_value());
  MysqlResumePlan bad = Must(MysqlResume::kGtid, false, "ON", "not a set");
  EXPECT_TRUE(bad.derive);
  EXPECT_EQ(bad.by, By::kPosition);
  EXPECT_THAT(bad.note, HasSubstr("expected a uuid"));
  EXPECT_FALSE(Must(MysqlResume::kAuto, false, "OFF", "").derive);
  EXPECT_FALSE(Must(MysqlResume::kPosition, false, "ON", "").derive);
}

TEST(PlanMysqlResumeTest, GtidModeRequiresGtidModeOnAndSaysHow) {
  for (const char* gtid_mode : {"OFF", "ON_PERMISSIVE", ""}) {
    absl::StatusOr<MysqlResumePlan> p =
        PlanMysqlResume(MysqlResume::kGtid, false, gtid_mode, kSet, "shop");
    ASSERT_TRUE(absl::IsFailedPrecondition(p.status())) << p.status();
    EXPECT_THAT(p.status().message(), HasSubstr("source 'shop': mysql_resume=gtid needs"));
    EXPECT_THAT(p.status().message(), HasSubstr("SET GLOBAL enforce_gtid_consistency=ON"));
    EXPECT_THAT(p.status().message(), HasSubstr("mysql_resume=auto"));
  }
}

TEST(PlanMysqlResumeTest, MariadbResumesByItsGtidStateUnlessPosition) {
  EXPECT_EQ(Must(MysqlResume::kAuto, true, "", "0-1-42,1-2-7").by, By::kMariadbGtidState);
  EXPECT_EQ(Must(MysqlResume::kGtid, true, "", "0-1-42").by, By::kMariadbGtidState);
  EXPECT_EQ(Must(MysqlResume::kPosition, true, "", "0-1-42").by, By::kPosition);
  EXPECT_EQ(Must(MysqlResume::kAuto, true, "", "").by, By::kPosition);
  // A MySQL set stored for a server that is now MariaDB is not a GTID state.
  MysqlResumePlan p = Must(MysqlResume::kAuto, true, "", kSet);
  EXPECT_EQ(p.by, By::kPosition);
  EXPECT_FALSE(p.executed.has_value());
  EXPECT_FALSE(p.derive);
}

TEST(PlanMysqlResumeTest, MariaGtidStateShape) {
  EXPECT_TRUE(IsMariaGtidState("0-1-42,1-2-7"));
  EXPECT_FALSE(IsMariaGtidState(""));
  EXPECT_FALSE(IsMariaGtidState("0-1-42'; DROP"));
  EXPECT_FALSE(IsMariaGtidState(kSet));
}

}  // namespace
}  // namespace sluice::pipeline
