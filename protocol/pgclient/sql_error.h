#pragma once
// How a PostgreSQL server's error (its SQLSTATE and message) becomes an absl::Status, and
// whether running the statement again can succeed.
//
// Retryable: classes 08 (connection), 40 (serialization failure, deadlock), 53 (insufficient
// resources), 57 (operator intervention: query cancelled, admin shutdown, ...), 58 (system
// error, e.g. an I/O error) and XX000 (internal error, e.g. a catalog lookup racing with DDL);
// 55P03 (lock not available) and 55006 (object in use: a replication slot still held by the
// previous session's walsender). These become Unavailable, which a source retries with backoff.
//
// Permanent, every other SQLSTATE: the same statement fails again until someone changes the
// database, e.g. 42501 insufficient privilege (PermissionDenied, with the GRANT to run),
// 42P01 undefined table / 42703 undefined column (NotFound), 0A000 feature not supported
// (Unimplemented), 22xxx data exception (InvalidArgument), anything else FailedPrecondition.
// Such a status carries the SQLSTATE (SqlStateOf) and is marked permanent
// (IsPermanentSqlError); its message names the SQLSTATE and a fix.
//
// Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sluice::pgclient {

// Whether a statement that failed with `sqlstate` (five characters) may succeed when run again.
bool IsRetryableSqlState(std::string_view sqlstate);

// The status for a server error: `where` says what was run, `message` is the server's message
// (one line), `user` the session's user (for a GRANT hint). Retryable states give Unavailable;
// permanent ones the codes above, marked permanent. Both carry the SQLSTATE.
absl::Status SqlErrorStatus(std::string_view where, std::string_view sqlstate,
                            std::string_view message, std::string_view user);

// Adds the SQLSTATE to `status` (for statuses made some other way from a server error).
absl::Status WithSqlState(absl::Status status, std::string_view sqlstate);

// The SQLSTATE a status from a server error carries; nullopt for other statuses (a failed
// connection attempt has none).
std::optional<std::string> SqlStateOf(const absl::Status& status);

// True for a server error that running the statement again meets again (see the top).
bool IsPermanentSqlError(const absl::Status& status);

}  // namespace sluice::pgclient
