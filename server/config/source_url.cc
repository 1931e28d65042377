// ParseSourceUrl and the two URL renderers. The field rules live in source_rules.cc.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "proto/base/units.h"
#include "server/config/password_file.h"
#include "server/config/source_config.h"
#include "server/config/source_rules.h"

namespace sluice::config {
namespace {

using internal::Absl;

const std::vector<std::string_view>& KnownQueryKeys(v1::SourceKind kind) {
  static const std::vector<std::string_view> kMysql = {
      "name",         "server_id",         "tables",
      "snapshot",     "snapshot_chunk_size", "snapshot_keyless",
      "snapshot_pause_ms", "heartbeat_ms",  "retention_max_age",
      "retention_max_bytes", "tls",          "tls_ca",   "table_state",
      "password_file", "mysql_resume"};
  static const std::vector<std::string_view> kPostgres = {
      "name",         "slot",              "publication",       "tables",
      "snapshot",     "snapshot_chunk_size", "snapshot_keyless", "snapshot_pause_ms",
      "heartbeat_ms", "retention_max_age", "retention_max_bytes", "tls",
      "tls_ca",       "table_state",       "password_file"};
  return kind == v1::SOURCE_KIND_MYSQL ? kMysql : kPostgres;
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Applies one decoded query parameter to `s`.
absl::Status ApplyQueryParam(SourceConfig& s, std::string_view key, std::string_view raw_value) {
  if (key == "tables") {
    if (raw_value.empty()) {
      return absl::InvalidArgumentError(
          "tables is empty: list patterns such as tables=shop.orders,shop.* or remove the key");
    }
    // Split before decoding so that %2C stays inside a pattern.
    for (absl::string_view part :
         absl::StrSplit(absl::string_view(raw_value.data(), raw_value.size()), ',')) {
      SLUICE_ASSIGN_OR_RETURN(std::string pattern,
                              internal::PercentDecode({part.data(), part.size()}, "tables"));
      SLUICE_RETURN_IF_ERROR(internal::ValidateTablePattern(pattern, s.kind));
      s.tables.push_back(std::move(pattern));
    }
    return absl::OkStatus();
  }
  SLUICE_ASSIGN_OR_RETURN(std::string value, internal::PercentDecode(raw_value, key));
  if (key == "name") {
    SLUICE_RETURN_IF_ERROR(internal::ValidateName(value));
    s.name = std::move(value);
  } else if (key == "server_id") {
    SLUICE_ASSIGN_OR_RETURN(s.server_id, internal::ParseServerId(value));
  } else if (key == "slot") {
    SLUICE_RETURN_IF_ERROR(internal::ValidateSlot(value));
    s.slot = std::move(value);
  } else if (key == "publication") {
    SLUICE_RETURN_IF_ERROR(internal::ValidatePublication(value));
    s.publication = std::move(value);
  } else if (key == "snapshot") {
    SLUICE_ASSIGN_OR_RETURN(s.snapshot, internal::ParseSnapshotMode(value));
  } else if (key == "snapshot_chunk_size") {
    SLUICE_ASSIGN_OR_RETURN(s.snapshot_chunk_size, internal::ParseSnapshotChunkSize(value));
  } else if (key == "heartbeat_ms") {
    SLUICE_ASSIGN_OR_RETURN(s.heartbeat_ms, internal::ParseHeartbeatMs(value));
  } else if (key == "retention_max_age") {
    SLUICE_ASSIGN_OR_RETURN(s.retention_max_age_micros,
                            internal::ParseRetentionAge(value, "retention_max_age"));
  } else if (key == "retention_max_bytes") {
    SLUICE_ASSIGN_OR_RETURN(s.retention_max_bytes,
                            internal::ParseRetentionBytes(value, "retention_max_bytes"));
  } else if (key == "snapshot_pause_ms") {
    SLUICE_ASSIGN_OR_RETURN(s.snapshot_pause_ms, internal::ParseSnapshotPauseMs(value));
  } else if (key == "snapshot_keyless") {
    SLUICE_ASSIGN_OR_RETURN(s.snapshot_keyless_whole_table, internal::ParseSnapshotKeyless(value));
  } else if (key == "table_state") {
    SLUICE_ASSIGN_OR_RETURN(s.table_state, internal::ParseTableState(value));
  } else if (key == "mysql_resume") {
    SLUICE_ASSIGN_OR_RETURN(s.mysql_resume, internal::ParseMysqlResume(value));
  } else if (key == "tls") {
    SLUICE_RETURN_IF_ERROR(internal::ValidateTlsMode(value));
    s.tls_mode = std::move(value);
  } else if (key == "password_file") {
    if (value.empty()) {
      return absl::InvalidArgumentError(
          "password_file is empty: give the path of a file that holds the password");
    }
    if (!s.password.empty()) {
      return absl::InvalidArgumentError(
          "both a password in the URL and password_file: give only password_file, so that the "
          "password stays out of argv");
    }
    SLUICE_ASSIGN_OR_RETURN(s.password, internal::ReadPasswordFile(value));
  } else if (key == "tls_ca") {
    if (value.empty()) {
      return absl::InvalidArgumentError(
          "tls_ca is empty: give the path of a PEM CA file or remove the key");
    }
    s.tls_ca_file = std::move(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<SourceConfig> ParseUrlUnprefixed(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "missing scheme: write mysql://USER:PASSWORD@HOST:PORT/?name=NAME&server_id=N or "
        "postgres://USER:PASSWORD@HOST:PORT/DATABASE?name=NAME");
  }
  const std::string scheme = absl::AsciiStrToLower(Absl(url.substr(0, sep)));
  const std::optional<v1::SourceKind> kind = internal::ParseKindName(scheme);
  if (!kind) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unknown scheme \"%s\": use mysql:// or postgres://", scheme));
  }
  SourceConfig s;
  s.kind = *kind;

  std::string_view rest = url.substr(sep + 3);
  // The userinfo ends at the last '@', so an unencoded '@', '/' or '?' in a password still
  // parses. Nothing below ever quotes the password.
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    SLUICE_ASSIGN_OR_RETURN(s.user, internal::PercentDecode(userinfo.substr(0, colon), "user"));
    if (colon != std::string_view::npos) {
      SLUICE_ASSIGN_OR_RETURN(s.password,
                              internal::PercentDecode(userinfo.substr(colon + 1), "password"));
    }
    rest = rest.substr(at + 1);
  }

  const size_t hostport_end = rest.find_first_of("/?");
  // Decoded first so that an IPv6 zone written as %25 (RFC 6874) comes out as '%'.
  SLUICE_ASSIGN_OR_RETURN(std::string hostport,
                          internal::PercentDecode(rest.substr(0, hostport_end), "host"));
  SLUICE_ASSIGN_OR_RETURN(internal::HostPortText hp, internal::SplitHostPort(hostport));
  s.host = std::move(hp.host);
  if (hp.port) {
    SLUICE_ASSIGN_OR_RETURN(s.port, internal::ParsePort(*hp.port, 1));
  }
  rest = hostport_end == std::string_view::npos ? std::string_view() : rest.substr(hostport_end);

  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!rest.empty()) {  // "/DATABASE" or "/"
    const std::string_view path = rest.substr(1);
    if (path.find('/') != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "path \"%s\" has more than one segment: the path is just the database name, as in "
          "/shop",
          rest));
    }
    SLUICE_ASSIGN_OR_RETURN(s.database, internal::PercentDecode(path, "database"));
  }

  const std::vector<std::string_view>& known = KnownQueryKeys(s.kind);
  const std::vector<std::string_view>& other = KnownQueryKeys(
      s.kind == v1::SOURCE_KIND_MYSQL ? v1::SOURCE_KIND_POSTGRES : v1::SOURCE_KIND_MYSQL);
  std::set<std::string, std::less<>> seen;
  for (absl::string_view param : absl::StrSplit(Absl(query), '&')) {
    if (param.empty()) {
      continue;  // tolerate "?&a=b" and a trailing '&'
    }
    const size_t eq = param.find('=');
    const std::string_view raw_key(param.data(), eq == absl::string_view::npos ? param.size() : eq);
    SLUICE_ASSIGN_OR_RETURN(std::string key, internal::PercentDecode(raw_key, "a query key"));
    if (!Contains(known, key)) {
      if (Contains(other, key)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "query key \"%s\" applies only to %s sources: remove it", key,
            SourceKindName(s.kind == v1::SOURCE_KIND_MYSQL ? v1::SOURCE_KIND_POSTGRES
                                                               : v1::SOURCE_KIND_MYSQL)));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unknown query key \"", key, "\"", internal::KnownKeysHint(key, known)));
    }
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("query key \"%s\" has no value: write %s=VALUE", key, key));
    }
    if (!seen.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("duplicate query key \"%s\": give each key once", key));
    }
    const absl::string_view value = param.substr(eq + 1);
    SLUICE_RETURN_IF_ERROR(ApplyQueryParam(s, key, {value.data(), value.size()}));
  }

  SLUICE_RETURN_IF_ERROR(internal::FinishSourceConfig(s, internal::Syntax::kUrl));
  return s;
}

}  // namespace

absl::StatusOr<SourceConfig> ParseSourceUrl(std::string_view url) {
  absl::StatusOr<SourceConfig> parsed = ParseUrlUnprefixed(url);
  const std::string redacted = RedactSourceUrl(url);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("source URL \"%s\": %s", redacted, parsed.status().message()));
  }
  parsed->url_redacted = redacted;
  return parsed;
}

std::string RedactSourceUrl(std::string_view url) {
  const size_t sep = url.find("://");
  const size_t start = sep == std::string_view::npos ? 0 : sep + 3;
  std::string out(url);
  size_t query_from = start;
  const size_t at = url.rfind('@');
  if (at != std::string_view::npos && at >= start) {
    query_from = at;
    const size_t colon = url.find(':', start);
    if (colon != std::string_view::npos && colon < at) {
      out = absl::StrCat(Absl(url.substr(0, colon + 1)), "***", Absl(url.substr(at)));
      query_from = colon + 4;
    }
  }
  // A password given as a query parameter (libpq accepts ?password=) is redacted too.
  const size_t q = out.find('?', query_from);
  if (q == std::string::npos) {
    return out;
  }
  std::string redacted = out.substr(0, q + 1);
  const std::string query = out.substr(q + 1);
  bool first = true;
  for (absl::string_view param : absl::StrSplit(query, '&')) {
    if (!first) {
      redacted.push_back('&');
    }
    first = false;
    const size_t eq = param.find('=');
    const std::string key = absl::AsciiStrToLower(param.substr(0, eq));
    // password_file names a path, not a secret: it stays readable.
    if (eq != absl::string_view::npos && absl::StrContains(key, "pass") &&
        key != "password_file") {
      absl::StrAppend(&redacted, param.substr(0, eq + 1), "***");
    } else {
      absl::StrAppend(&redacted, param);
    }
  }
  return redacted;
}

std::string FormatRedactedSourceUrl(const SourceConfig& s) {
  using internal::PercentEncode;
  const bool mysql = s.kind == v1::SOURCE_KIND_MYSQL;
  std::string out = absl::StrCat(Absl(SourceKindName(s.kind)), "://", PercentEncode(s.user),
                                 s.password.empty() ? "" : ":***", "@");
  if (s.host.find(':') != std::string::npos) {
    absl::StrAppend(&out, "[", PercentEncode(s.host, ":"), "]");
  } else {
    absl::StrAppend(&out, s.host);
  }
  absl::StrAppend(&out, ":", s.port, "/", PercentEncode(s.database), "?name=", s.name);
  if (mysql) {
    absl::StrAppend(&out, "&server_id=", s.server_id);
  } else {
    absl::StrAppend(&out, "&slot=", s.slot, "&publication=", s.publication);
  }
  if (!s.tables.empty()) {
    std::vector<std::string> tables;
    for (const std::string& t : s.tables) {
      tables.push_back(PercentEncode(t, "*?"));
    }
    absl::StrAppend(&out, "&tables=", absl::StrJoin(tables, ","));
  }
  if (s.snapshot != SnapshotMode::kInitial) {
    absl::StrAppend(&out, "&snapshot=", Absl(SnapshotModeName(s.snapshot)));
  }
  if (s.snapshot_chunk_size != SourceConfig().snapshot_chunk_size) {
    absl::StrAppend(&out, "&snapshot_chunk_size=", s.snapshot_chunk_size);
  }
  if (s.snapshot_keyless_whole_table) absl::StrAppend(&out, "&snapshot_keyless=whole_table");
  if (s.snapshot_pause_ms != 0) absl::StrAppend(&out, "&snapshot_pause_ms=", s.snapshot_pause_ms);
  if (s.heartbeat_ms) absl::StrAppend(&out, "&heartbeat_ms=", *s.heartbeat_ms);
  if (!s.table_state) absl::StrAppend(&out, "&table_state=false");
  if (s.mysql_resume != MysqlResume::kAuto) {
    absl::StrAppend(&out, "&mysql_resume=", Absl(MysqlResumeName(s.mysql_resume)));
  }
  if (s.retention_max_age_micros) {
    absl::StrAppend(&out, "&retention_max_age=",
                    *s.retention_max_age_micros == 0
                        ? std::string("none")
                        : FormatDurationMicros(*s.retention_max_age_micros));
  }
  if (s.retention_max_bytes) {
    absl::StrAppend(&out, "&retention_max_bytes=",
                    *s.retention_max_bytes == 0 ? std::string("none")
                                                : FormatByteSize(*s.retention_max_bytes));
  }
  if (s.tls_mode != "preferred") {
    absl::StrAppend(&out, "&tls=", s.tls_mode);
  }
  if (!s.tls_ca_file.empty()) {
    absl::StrAppend(&out, "&tls_ca=", PercentEncode(s.tls_ca_file, "/"));
  }
  return out;
}

}  // namespace sluice::config
