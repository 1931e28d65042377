#include "protocol/pgclient/sql_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace sluice::pgclient {
namespace {

constexpr char kSqlStatePayload[] = "sluice/pg-sqlstate";
constexpr char kPermanentPayload[] = "sluice/pg-permanent";

// The object after `prefix` in a message such as "permission denied for table orders", or "".
std::string_view After(std::string_view message, std::string_view prefix) {
  const size_t at = message.find(prefix);
  if (at == std::string_view::npos) return {};
  std::string_view rest = message.substr(at + prefix.size());
  return rest.substr(0, rest.find(' '));
}

// What to do about a permanent error, by SQLSTATE.
std::string Fix(std::string_view sqlstate, std::string_view message, std::string_view user) {
  const std::string who = user.empty() ? std::string("sluice's user") : std::string(user);
  if (sqlstate == "42501") {
    // Postgres names the object but not its schema; "relation" before PostgreSQL 15.
    for (std::string_view kind : {"table ", "relation ", "view ", "materialized view "}) {
      const std::string_view table = After(message, absl::StrCat("permission denied for ", std::string(kind)));
      if (!table.empty()) {
        return absl::StrCat("sluice reads every table of the publication: as the table's owner or "
                            "a superuser, run GRANT SELECT ON ",
                            std::string(table), " TO ", who,
                            " (schema-qualify the table if it is not on your search_path)");
      }
    }
    const std::string_view schema = After(message, "permission denied for schema ");
    if (!schema.empty()) {
      return absl::StrCat("as the schema's owner or a superuser, run GRANT USAGE ON SCHEMA ",
                          std::string(schema), " TO ", who);
    }
    return absl::StrCat("grant ", who, " the privilege the statement needs");
  }
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42704") {
    return "a table, column or type was dropped or renamed: restore it, or leave the table out of "
           "the publication";
  }
  if (sqlstate == "0A000") return "the server cannot do this for the table's definition";
  if (sqlstate.substr(0, 2) == "22") return "a stored value cannot be read as requested";
  return "the server refuses the statement until the database changes";
}

absl::StatusCode PermanentCode(std::string_view sqlstate) {
  if (sqlstate == "42501" || sqlstate.substr(0, 2) == "28") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42704") {
    return absl::StatusCode::kNotFound;
  }
  if (sqlstate == "0A000") return absl::StatusCode::kUnimplemented;
  if (sqlstate.substr(0, 2) == "22") return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kFailedPrecondition;
}

}  // namespace

bool IsRetryableSqlState(std::string_view s) {
  if (s.size() != 5) return true;  // not a server's SQLSTATE: nothing says it is permanent
  const std::string_view cls = s.substr(0, 2);
  return cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58" ||
         s == "XX000" || s == "55P03" || s == "55006";
}

absl::Status WithSqlState(absl::Status status, std::string_view sqlstate) {
  if (!status.ok() && !sqlstate.empty()) {
    status.SetPayload(kSqlStatePayload, absl::Cord(std::string(sqlstate)));
  }
  return status;
}

absl::Status SqlErrorStatus(std::string_view where, std::string_view sqlstate,
                            std::string_view message, std::string_view user) {
  if (IsRetryableSqlState(sqlstate)) {
    return WithSqlState(
        absl::UnavailableError(absl::StrCat(std::string(where), ": ", std::string(message),
                                            " (SQLSTATE ", std::string(sqlstate), "; retrying)")),
        sqlstate);
  }
  absl::Status st(PermanentCode(sqlstate),
                  absl::StrCat(std::string(where), ": ", std::string(message), " (SQLSTATE ",
                               std::string(sqlstate), "; not retried: ",
                               Fix(sqlstate, message, user), ")"));
  st.SetPayload(kPermanentPayload, absl::Cord("1"));
  return WithSqlState(std::move(st), sqlstate);
}

std::optional<std::string> SqlStateOf(const absl::Status& status) {
  const auto p = status.GetPayload(kSqlStatePayload);
  if (!p) return std::nullopt;
  return std::string(*p);
}

bool IsPermanentSqlError(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kPermanentPayload).has_value();
}

}  // namespace sluice::pgclient
