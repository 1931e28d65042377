#pragma once
// Can sluice's MySQL/MariaDB user read everything the snapshot must read?
//
// A user with no privilege at all on a table does not see it in information_schema, so the
// snapshot's table list (ListMysqlTables) silently lacks it, while the binlog stream (read with
// REPLICATION SLAVE, which sees every table) still delivers its changes: a consumer's copy would
// lack every row that existed before the cut. So before a fresh snapshot the source checks, for
// every `tables=` pattern (no filter: every database), that the user's SELECT covers the whole
// scope, and refuses with the GRANT to run when it does not (never a silent skip):
//
//   pattern              needs SELECT                                   refusal names
//   db.t  (no globs)     on *.*, on db (a database grant matching it)    GRANT SELECT ON db.t
//                        or on db.t
//   db.t* (table glob)   on *.* or on db (tables it cannot see match)   GRANT SELECT ON db.*
//   d*.t  (database      on *.*; or, when the user has SHOW DATABASES   GRANT SELECT ON *.*, or
//          glob, or no   (so it lists every database), on each listed   ON each such db.*
//          filter)       database the glob matches
//
// System schemas (mysql, information_schema, performance_schema, sys) are never snapshotted and
// never checked.
//
// The grants come from SHOW GRANTS (MariaDB 10.11 and MySQL 5.7-9 both print
// `GRANT <privileges> ON <scope> TO <grantee>`; MariaDB adds the lines of the current role, and
// on MySQL the active roles' privileges come from SHOW GRANTS ... USING them); information_schema's
// *_PRIVILEGES tables would miss privileges held through a role. Database grants match as the
// server matches them: `_` and `%` are wildcards, `\` escapes. MySQL partial revokes
// (`REVOKE SELECT ON db.* FROM ...`) take a database out of a global grant. Column-level SELECT
// is not whole-table SELECT.
//
// Parsing and checking are pure; CheckMysqlSnapshotPrivileges runs the queries.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "protocol/mysqlclient/connection.h"

namespace sluice::pipeline {

// The SELECT privileges that SHOW GRANTS lines give.
struct SelectGrants {
  bool global = false;          // SELECT or ALL ON *.*
  bool show_databases = false;  // SHOW DATABASES or ALL ON *.*: SHOW DATABASES lists them all
  std::vector<std::string> databases;                       // database grants, as patterns
  std::vector<std::pair<std::string, std::string>> tables;  // table grants
  std::vector<std::string> revoked_databases;               // MySQL partial revokes
};

// Reads SHOW GRANTS lines; lines it does not understand (role grants, routines, PROXY) give
// nothing.
SelectGrants ParseSelectGrants(const std::vector<std::string>& lines);

// Whether `grants` allow SELECT on every table of database `db`.
bool CanReadDatabase(const SelectGrants& grants, std::string_view db);

// MySQL's database-grant matching: `%` any run, `_` one character, `\` escapes the next one.
bool GrantPatternMatches(std::string_view pattern, std::string_view db);

// The check in the table above. `patterns`: the source's tables= entries ("db.t" globs; empty
// for every database). `databases`: SHOW DATABASES (used for database globs, when
// grants.show_databases). `grantee`: 'user'@'host' for the GRANT statements. OK, or
// PermissionDenied naming each scope the user cannot read whole and the GRANT to run.
absl::Status CheckSnapshotScope(const SelectGrants& grants,
                                const std::vector<std::string>& patterns,
                                const std::vector<std::string>& databases,
                                const std::string& grantee);

// Runs SHOW GRANTS (and on MySQL, with active roles, SHOW GRANTS FOR CURRENT_USER() USING them),
// SHOW DATABASES when a pattern needs it, and CURRENT_USER(), then CheckSnapshotScope. Server
// errors pass through.
absl::Status CheckMysqlSnapshotPrivileges(mysqlclient::MysqlConnection& conn,
                                          const std::vector<std::string>& patterns, bool mariadb);

}  // namespace sluice::pipeline
