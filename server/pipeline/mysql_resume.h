#pragma once
// How a MySQL/MariaDB source resumes: from the stored checkpoint, the server's kind and
// gtid_mode and the source's mysql_resume option, decide whether the dump starts by file:pos, by
// MariaDB GTID state or by MySQL executed GTID set (COM_BINLOG_DUMP_GTID), and how the MySQL
// executed GTID set of the checkpoints is kept (docs/mysql-source.md, "Resuming by GTID"):
//
//   server   mysql_resume  stored gtid_set               resume by          MySQL set
//   MariaDB  auto|gtid     a GTID state "D-S-N,..."      GTID state         -
//   MariaDB  any           otherwise                     file:pos           -
//   MySQL    gtid          (gtid_mode is not ON)         refused (FailedPrecondition, the fix)
//   MySQL    auto|gtid     a non-empty set, gtid_mode=ON  GTID set           tracked
//   MySQL    any           a set (else)                  file:pos           tracked
//   MySQL    auto|gtid     none or unreadable, ON        file:pos           derived
//   MySQL    any           none (else)                   file:pos           not kept
//
// "Derived": the start file is read from offset 4 to learn the set at the start position
// (mysql::TransactionAssembler::DeriveExecutedGtids). An empty set never resumes by GTID: the
// server would look for the oldest binlog (and cannot send anonymous transactions by GTID),
// while file:pos is exact there.
//
// Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "protocol/mysql/gtid_set.h"
#include "server/config/source_config.h"

namespace sluice::pipeline {

struct MysqlResumePlan {
  enum class By { kPosition, kMariadbGtidState, kMysqlGtidSet };
  By by = By::kPosition;
  // MySQL: the executed GTID set at the stored position (tracked from there), if stored.
  std::optional<mysql::GtidSet> executed;
  // MySQL: no usable set is stored; derive it from the start file.
  bool derive = false;
  // Why a stored MySQL set was not used (unreadable), for a log line; "" otherwise.
  std::string note;
};

// A MariaDB GTID state as sluice stores it: "D-S-N" entries joined by ','. (Checked before it
// is quoted into SQL.)
bool IsMariaGtidState(std::string_view s);

// `gtid_mode`: the server's @@GLOBAL.gtid_mode (any case; "" on MariaDB). `stored_gtid_set`:
// the checkpoint's gtid_set ("" on a first start). FailedPrecondition, naming the source and the
// fix, for mysql_resume=gtid on a MySQL server whose gtid_mode is not ON.
absl::StatusOr<MysqlResumePlan> PlanMysqlResume(config::MysqlResume mode, bool mariadb,
                                                std::string_view gtid_mode,
                                                std::string_view stored_gtid_set,
                                                std::string_view source_name);

}  // namespace sluice::pipeline
