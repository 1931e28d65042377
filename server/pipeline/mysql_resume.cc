#include "server/pipeline/mysql_resume.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sluice::pipeline {

bool IsMariaGtidState(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(c >= '0' && c <= '9') && c != '-' && c != ',') return false;
  }
  return true;
}

absl::StatusOr<MysqlResumePlan> PlanMysqlResume(config::MysqlResume mode, bool mariadb,
                                                std::string_view gtid_mode,
                                                std::string_view stored_gtid_set,
                                                std::string_view source_name) {
  MysqlResumePlan plan;
  const bool by_gtid_allowed = mode != config::MysqlResume::kPosition;
  if (mariadb) {
    if (by_gtid_allowed && IsMariaGtidState(stored_gtid_set)) {
      plan.by = MysqlResumePlan::By::kMariadbGtidState;
    }
    return plan;
  }
  const std::string mode_text = absl::AsciiStrToUpper(std::string(gtid_mode));
  const bool gtid_on = mode_text == "ON";
  if (mode == config::MysqlResume::kGtid && !gtid_on) {
    return absl::FailedPreconditionError(absl::StrCat(
        "source '", std::string(source_name), "': mysql_resume=gtid needs gtid_mode=ON, and the ",
        "server has gtid_mode=", mode_text.empty() ? std::string("(unknown)") : mode_text,
        ": turn GTIDs on (SET GLOBAL enforce_gtid_consistency=ON, then SET GLOBAL gtid_mode= "
        "OFF_PERMISSIVE, ON_PERMISSIVE and ON one step at a time, and add gtid_mode=ON and "
        "enforce_gtid_consistency=ON under [mysqld] in my.cnf), or use mysql_resume=auto to "
        "resume by file:pos"));
  }
  if (!stored_gtid_set.empty()) {
    absl::StatusOr<mysql::GtidSet> set = mysql::GtidSet::Parse(stored_gtid_set);
    if (set.ok()) {
      plan.executed = *std::move(set);
    } else {
      plan.note = std::string(set.status().message());
    }
  }
  if (plan.executed) {
    if (by_gtid_allowed && gtid_on && !plan.executed->empty()) {
      plan.by = MysqlResumePlan::By::kMysqlGtidSet;
    }
  } else {
    plan.derive = by_gtid_allowed && gtid_on;
  }
  return plan;
}

}  // namespace sluice::pipeline
