#include "server/pipeline/mysql_privileges.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/glob.h"
#include "proto/base/status_macros.h"

namespace sluice::pipeline {
namespace {

constexpr std::string_view kSystemSchemas[] = {"mysql", "information_schema", "performance_schema",
                                               "sys"};

bool IsSystemSchema(std::string_view db) {
  return std::find(std::begin(kSystemSchemas), std::end(kSystemSchemas), db) !=
         std::end(kSystemSchemas);
}

// (absl's string helpers take absl::string_view, a distinct type in this build.)
std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool StartsWithWord(std::string_view line, std::string_view word) {
  return line.size() >= word.size() &&
         absl::AsciiStrToUpper(std::string(line.substr(0, word.size()))) == word;
}

bool HasGlob(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

// Position of `word` (" ON ", " TO ") at nesting depth 0 and outside quotes, from `from`.
size_t FindOutside(std::string_view line, std::string_view word, size_t from) {
  int depth = 0;
  char quote = 0;
  for (size_t i = from; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '`' || c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth == 0 && line.substr(i, word.size()) == word) {
      return i;
    }
  }
  return std::string_view::npos;
}

// One scope part: `name` (doubled backquotes unescaped), a bare name, or "*". Advances `s`.
std::optional<std::string> ScopePart(std::string_view& s) {
  if (s.empty()) return std::nullopt;
  std::string out;
  if (s[0] == '`') {
    size_t i = 1;
    for (; i < s.size(); ++i) {
      if (s[i] != '`') {
        out.push_back(s[i]);
      } else if (i + 1 < s.size() && s[i + 1] == '`') {
        out.push_back('`');
        ++i;
      } else {
        break;
      }
    }
    if (i >= s.size()) return std::nullopt;
    s.remove_prefix(i + 1);
    return out;
  }
  size_t end = s.find_first_of(". ");
  if (end == std::string_view::npos) end = s.size();
  out = std::string(s.substr(0, end));
  s.remove_prefix(end);
  if (out.empty() || out.find_first_of("'\"") != std::string::npos) return std::nullopt;
  return out;
}

// "db.t" scope of a GRANT/REVOKE; nullopt for routines, PROXY and anything else.
std::optional<std::pair<std::string, std::string>> ParseScope(std::string_view s) {
  s = Strip(s);
  std::optional<std::string> db = ScopePart(s);
  if (!db || s.empty() || s[0] != '.') return std::nullopt;
  s.remove_prefix(1);
  std::optional<std::string> table = ScopePart(s);
  if (!table || !Strip(s).empty()) return std::nullopt;
  return std::make_pair(*db, *table);
}

// The privileges of a GRANT: which of SELECT (whole table) / SHOW DATABASES it gives.
struct Privileges {
  bool select = false;
  bool show_databases = false;
};
Privileges ParsePrivileges(std::string_view list) {
  Privileges p;
  int depth = 0;
  size_t start = 0;
  auto one = [&](std::string_view item) {
    const std::string upper = absl::AsciiStrToUpper(std::string(Strip(item)));
    if (upper == "SELECT" || upper == "ALL" || upper == "ALL PRIVILEGES") p.select = true;
    if (upper == "SHOW DATABASES" || upper == "ALL" || upper == "ALL PRIVILEGES") {
      p.show_databases = true;
    }
  };
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == '(') ++depth;
    if (list[i] == ')') --depth;
    if (list[i] == ',' && depth == 0) {
      one(list.substr(start, i - start));
      start = i + 1;
    }
  }
  one(list.substr(start));
  return p;
}

std::string QuoteIdent(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out.push_back(c);
    if (c == '`') out.push_back('`');
  }
  out.push_back('`');
  return out;
}

}  // namespace

bool GrantPatternMatches(std::string_view pattern, std::string_view db) {
  // Backtracking on the last '%' (as GlobMatch does for '*').
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < db.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      const bool escaped = pattern[p] == '\\' && p + 1 < pattern.size();
      const char c = escaped ? pattern[p + 1] : pattern[p];
      if ((!escaped && c == '_') || c == db[t]) {
        p += escaped ? 2 : 1;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

SelectGrants ParseSelectGrants(const std::vector<std::string>& lines) {
  SelectGrants g;
  for (const std::string& raw : lines) {
    std::string_view line = Strip(raw);
    const bool grant = StartsWithWord(line, "GRANT ");
    const bool revoke = StartsWithWord(line, "REVOKE ");
    if (!grant && !revoke) continue;
    const size_t head = grant ? 6 : 7;
    const size_t on = FindOutside(line, " ON ", head);
    if (on == std::string_view::npos) continue;  // a role grant
    const size_t to = FindOutside(line, grant ? " TO " : " FROM ", on + 4);
    if (to == std::string_view::npos) continue;
    const Privileges privs = ParsePrivileges(line.substr(head, on - head));
    const std::optional<std::pair<std::string, std::string>> scope =
        ParseScope(line.substr(on + 4, to - on - 4));
    if (!scope) continue;
    const auto& [db, table] = *scope;
    if (revoke) {
      if (privs.select && table == "*" && db != "*") g.revoked_databases.push_back(db);
      continue;
    }
    if (db == "*" && table == "*") {
      g.global = g.global || privs.select;
      g.show_databases = g.show_databases || privs.show_databases;
    } else if (privs.select && table == "*") {
      g.databases.push_back(db);
    } else if (privs.select && db != "*") {
      g.tables.emplace_back(db, table);
    }
  }
  return g;
}

bool CanReadDatabase(const SelectGrants& grants, std::string_view db) {
  const bool revoked = std::find(grants.revoked_databases.begin(), grants.revoked_databases.end(),
                                 db) != grants.revoked_databases.end();
  if (grants.global && !revoked) return true;
  return std::any_of(grants.databases.begin(), grants.databases.end(),
                     [&](const std::string& pattern) { return GrantPatternMatches(pattern, db); });
}

absl::Status CheckSnapshotScope(const SelectGrants& grants,
                                const std::vector<std::string>& patterns,
                                const std::vector<std::string>& databases,
                                const std::string& grantee) {
  std::vector<std::string> problems;
  std::vector<std::string> fixes;
  auto refuse = [&](std::string problem, const std::string& scope) {
    problems.push_back(std::move(problem));
    std::string fix = absl::StrCat("GRANT SELECT ON ", scope, " TO ", grantee);
    if (std::find(fixes.begin(), fixes.end(), fix) == fixes.end()) fixes.push_back(fix);
  };
  const std::vector<std::string> every = {"*.*"};
  for (const std::string& pattern : patterns.empty() ? every : patterns) {
    const size_t dot = pattern.find('.');
    const std::string db = pattern.substr(0, dot);
    const std::string table = dot == std::string::npos ? "*" : pattern.substr(dot + 1);
    const std::string shown =
        patterns.empty() ? "every database (no tables= filter)" : absl::StrCat("tables=", pattern);
    if (HasGlob(db)) {
      if (grants.global && grants.revoked_databases.empty()) continue;
      if (!grants.show_databases) {
        refuse(absl::StrCat(shown,
                            ": it has no SELECT on *.* and cannot list every database (no SHOW "
                            "DATABASES privilege), so databases it cannot see may match"),
               "*.*");
        continue;
      }
      for (const std::string& name : databases) {
        if (IsSystemSchema(name) || !GlobMatch(db, name)) continue;
        if (!CanReadDatabase(grants, name)) {
          refuse(absl::StrCat(shown, ": no SELECT on database ", name), QuoteIdent(name) + ".*");
        }
      }
      continue;
    }
    if (IsSystemSchema(db) || CanReadDatabase(grants, db)) continue;
    if (HasGlob(table)) {
      refuse(absl::StrCat(shown, ": no SELECT on database ", db,
                          " (tables it has no privilege on are invisible to it, yet match)"),
             QuoteIdent(db) + ".*");
      continue;
    }
    const bool table_grant = std::find(grants.tables.begin(), grants.tables.end(),
                                       std::make_pair(db, table)) != grants.tables.end();
    if (!table_grant) {
      refuse(absl::StrCat(shown, ": no SELECT on ", db, ".", table),
             QuoteIdent(db) + "." + QuoteIdent(table));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "sluice's user ", grantee,
      " cannot read every table the snapshot must read, and a table it has no privilege on would "
      "be streamed but never snapshotted (its rows from before the cut missing): ",
      absl::StrJoin(problems, "; "), ". Run ", absl::StrJoin(fixes, "; ")));
}

absl::Status CheckMysqlSnapshotPrivileges(mysqlclient::MysqlConnection& conn,
                                          const std::vector<std::string>& patterns, bool mariadb) {
  std::vector<std::string> lines;
  auto add_lines = [&](const mysqlclient::ResultSet& rs) {
    for (const auto& row : rs.rows) {
      if (!row.empty() && row[0]) lines.push_back(*row[0]);
    }
  };
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet grants, conn.Query("SHOW GRANTS"));
  add_lines(grants);
  SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet who, conn.Query("SELECT CURRENT_USER()"));
  std::string user = "sluice's user", role;
  if (!who.rows.empty() && !who.rows[0].empty() && who.rows[0][0]) user = *who.rows[0][0];
  // CURRENT_ROLE() exists on MariaDB 10.0.5+ and MySQL 8.0+; older servers have no roles.
  if (absl::StatusOr<mysqlclient::ResultSet> r = conn.Query("SELECT CURRENT_ROLE()");
      r.ok() && !r->rows.empty() && !r->rows[0].empty() && r->rows[0][0]) {
    role = *r->rows[0][0];
  }
  if (!mariadb && !role.empty() && role != "NONE") {
    // MySQL lists the privileges of active roles only with USING; a server that refuses the
    // form leaves the plain grants.
    absl::StatusOr<mysqlclient::ResultSet> with_roles =
        conn.Query(absl::StrCat("SHOW GRANTS FOR CURRENT_USER() USING ", role));
    if (with_roles.ok()) add_lines(*with_roles);
  }
  const SelectGrants parsed = ParseSelectGrants(lines);
  std::vector<std::string> databases;
  const bool globs =
      patterns.empty() || std::any_of(patterns.begin(), patterns.end(), [](const std::string& p) {
        return HasGlob(p.substr(0, p.find('.')));
      });
  if (globs && parsed.show_databases) {
    SLUICE_ASSIGN_OR_RETURN(mysqlclient::ResultSet rs, conn.Query("SHOW DATABASES"));
    for (const auto& row : rs.rows) {
      if (!row.empty() && row[0]) databases.push_back(*row[0]);
    }
  }
  // CURRENT_USER() is user@host; the GRANT wants 'user'@'host'.
  std::string grantee = user;
  if (const size_t at = user.rfind('@'); at != std::string::npos) {
    grantee = absl::StrCat("'", user.substr(0, at), "'@'", user.substr(at + 1), "'");
  }
  return CheckSnapshotScope(parsed, patterns, databases, grantee);
}

}  // namespace sluice::pipeline
