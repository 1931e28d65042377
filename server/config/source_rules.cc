#include "server/config/source_rules.h"

#include <algorithm>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "proto/base/event_json.h"
#include "proto/base/status_macros.h"
#include "proto/base/units.h"

namespace sluice::config::internal {
namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxPgIdentifierLength = 63;  // NAMEDATALEN - 1
constexpr absl::string_view kNameRule = "1 to 64 characters from a-z, 0-9, '_' and '-'";
constexpr absl::string_view kServerIdHint = "a number unique among the server's replicas";

absl::Status Invalid(std::string_view message) { return absl::InvalidArgumentError(Absl(message)); }

bool IsLowerDigitUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Parses a run of decimal digits (no sign, no spaces) that fits in uint64; nullopt otherwise.
std::optional<uint64_t> ParseDigits(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "sluice_<name>" with '-' turned into '_', for slot and publication defaults.
std::string DefaultPgName(std::string_view name) {
  std::string out = absl::StrCat("sluice_", Absl(name));
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string SourceLabel(const SourceConfig& s) {
  std::string label = absl::StrCat(Absl(SourceKindName(s.kind)), " source");
  if (!s.name.empty()) {
    absl::StrAppend(&label, " '", s.name, "'");
  }
  return label;
}

// "add &key=VALUE" / "add key: VALUE".
std::string AddHint(Syntax syntax, std::string_view key, std::string_view value) {
  return syntax == Syntax::kUrl ? absl::StrCat("add &", Absl(key), "=", Absl(value))
                                : absl::StrCat("add ", Absl(key), ": ", Absl(value));
}

}  // namespace

std::optional<v1::SourceKind> ParseKindName(std::string_view text) {
  if (text == "mysql" || text == "mariadb") {
    return v1::SOURCE_KIND_MYSQL;
  }
  if (text == "postgres" || text == "postgresql") {
    return v1::SOURCE_KIND_POSTGRES;
  }
  return std::nullopt;
}

absl::Status ValidateName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= kMaxNameLength &&
                  std::all_of(name.begin(), name.end(),
                              [](char c) { return IsLowerDigitUnderscore(c) || c == '-'; });
  if (ok) {
    return absl::OkStatus();
  }
  return Invalid(absl::StrFormat("name \"%s\" is invalid: use %s", name, kNameRule));
}

absl::StatusOr<uint16_t> ParsePort(std::string_view text, uint16_t min) {
  std::optional<uint64_t> v = ParseDigits(text, 5);
  if (!v || *v < min || *v > std::numeric_limits<uint16_t>::max()) {
    return Invalid(absl::StrFormat("port \"%s\" is not a number between %d and 65535", text, min));
  }
  return static_cast<uint16_t>(*v);
}

absl::StatusOr<uint32_t> ParseServerId(std::string_view text) {
  std::optional<uint64_t> v = ParseDigits(text, 10);
  if (!v || *v == 0 || *v > std::numeric_limits<uint32_t>::max()) {
    return Invalid(absl::StrFormat(
        "server_id \"%s\" is not a number between 1 and 4294967295: use %s", text, kServerIdHint));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<SnapshotMode> ParseSnapshotMode(std::string_view text) {
  for (SnapshotMode m : {SnapshotMode::kInitial, SnapshotMode::kNever, SnapshotMode::kWhenNeeded}) {
    if (text == SnapshotModeName(m)) {
      return m;
    }
  }
  return Invalid(
      absl::StrFormat("snapshot \"%s\" is invalid: use initial, never or when_needed", text));
}

absl::StatusOr<uint32_t> ParseSnapshotChunkSize(std::string_view text) {
  std::optional<uint64_t> v = ParseDigits(text, 7);
  if (!v || *v == 0 || *v > 1'000'000) {
    return Invalid(absl::StrFormat(
        "snapshot_chunk_size \"%s\" is not a number between 1 and 1000000 (rows per chunk; "
        "the default is 10000)",
        text));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<uint32_t> ParseSnapshotPauseMs(std::string_view text) {
  std::optional<uint64_t> v = ParseDigits(text, 5);
  if (!v || *v > 60'000) {
    return Invalid(absl::StrFormat(
        "snapshot_pause_ms \"%s\" is not a number of milliseconds between 0 and 60000 (the "
        "pause after each snapshot chunk)",
        text));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<uint32_t> ParseHeartbeatMs(std::string_view text) {
  std::optional<uint64_t> v = ParseDigits(text, 6);
  if (!v || *v < 100 || *v > 600'000) {
    return Invalid(absl::StrFormat(
        "heartbeat_ms \"%s\" is not a number of milliseconds between 100 and 600000", text));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<int64_t> ParseRetentionAge(std::string_view text, std::string_view field) {
  if (text == "none") return 0;
  absl::StatusOr<int64_t> v = ParseDurationMicros(text);
  if (!v.ok()) {
    return Invalid(absl::StrCat(Absl(field), ": ", v.status().message(), ", or none"));
  }
  return *v;
}

absl::StatusOr<uint64_t> ParseRetentionBytes(std::string_view text, std::string_view field) {
  if (text == "none") return 0;
  absl::StatusOr<uint64_t> v = ParseByteSize(text);
  if (!v.ok()) {
    return Invalid(absl::StrCat(Absl(field), ": ", v.status().message(), ", or none"));
  }
  return *v;
}

absl::StatusOr<bool> ParseSnapshotKeyless(std::string_view text) {
  if (text == "error") return false;
  if (text == "whole_table") return true;
  return Invalid(absl::StrFormat(
      "snapshot_keyless \"%s\" is invalid: use error (refuse tables without a primary key) or "
      "whole_table (read them in one pass)",
      text));
}

absl::StatusOr<MysqlResume> ParseMysqlResume(std::string_view text) {
  for (MysqlResume m : {MysqlResume::kAuto, MysqlResume::kGtid, MysqlResume::kPosition}) {
    if (text == MysqlResumeName(m)) return m;
  }
  return Invalid(absl::StrFormat(
      "mysql_resume \"%s\" is invalid: use auto (by GTID set when gtid_mode=ON), gtid or position",
      text));
}

absl::StatusOr<bool> ParseTableState(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return Invalid(absl::StrFormat(
      "table_state \"%s\" is invalid: use true (keep the latest row per primary key beside the "
      "log, for SNAPSHOT_THEN_STREAM and sluicectl table) or false",
      text));
}

absl::Status ValidateTlsMode(std::string_view mode) {
  for (std::string_view m : {"disabled", "preferred", "required", "verify_ca", "verify_identity"}) {
    if (mode == m) {
      return absl::OkStatus();
    }
  }
  return Invalid(
      absl::StrFormat("tls mode \"%s\" is invalid: use disabled, preferred, required, verify_ca or "
                      "verify_identity",
                      mode));
}

absl::Status ValidateSlot(std::string_view slot) {
  if (!slot.empty() && slot.size() <= kMaxPgIdentifierLength &&
      std::all_of(slot.begin(), slot.end(), IsLowerDigitUnderscore)) {
    return absl::OkStatus();
  }
  return Invalid(absl::StrFormat(
      "slot \"%s\" is invalid: Postgres slot names are 1 to 63 characters from a-z, 0-9 and '_'",
      slot));
}

absl::Status ValidatePublication(std::string_view publication) {
  if (!publication.empty() && publication.size() <= kMaxPgIdentifierLength &&
      std::all_of(publication.begin(), publication.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return absl::OkStatus();
  }
  return Invalid(absl::StrFormat(
      "publication \"%s\" is invalid: use 1 to 63 characters from A-Z, a-z, 0-9 and '_'",
      publication));
}

absl::Status ValidateTablePattern(std::string_view pattern, v1::SourceKind kind) {
  const std::string_view outer = kind == v1::SOURCE_KIND_POSTGRES ? "SCHEMA" : "DATABASE";
  const std::string_view example =
      kind == v1::SOURCE_KIND_POSTGRES ? "public.orders or public.*" : "shop.orders or shop.*";
  auto bad = [&](std::string_view why) {
    return Invalid(absl::StrFormat(
        "table pattern \"%s\" is invalid: %s; write %s.TABLE, where TABLE may use the wildcards "
        "* and ? (for example %s)",
        pattern, why, outer, example));
  };
  if (pattern.empty()) {
    return bad("it is empty");
  }
  for (char c : pattern) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == ',') {
      return bad("it contains a space, a comma or a control character");
    }
  }
  const size_t dot = pattern.find('.');
  if (dot == std::string_view::npos) {
    return bad(absl::StrFormat("it has no '.' between %s and TABLE", outer));
  }
  if (pattern.find('.', dot + 1) != std::string_view::npos) {
    return bad("it has more than one '.'");
  }
  const std::string_view outer_part = pattern.substr(0, dot);
  const std::string_view table_part = pattern.substr(dot + 1);
  if (outer_part.empty() || table_part.empty()) {
    return bad(absl::StrFormat("the %s or TABLE part is empty", outer));
  }
  if (outer_part.find_first_of("*?") != std::string_view::npos) {
    return bad(absl::StrFormat("wildcards are allowed only in the TABLE part, not in %s", outer));
  }
  return absl::OkStatus();
}

absl::Status ValidateHost(std::string_view host) {
  bool ok = !host.empty() && host.size() <= 253;
  if (host.find(':') != std::string_view::npos) {
    // IPv6: hex digits, ':' and '.' (embedded IPv4), then an optional %zone.
    const size_t zone = host.find('%');
    const std::string_view addr = host.substr(0, zone);
    ok = ok && std::all_of(addr.begin(), addr.end(), [](char c) {
           return absl::ascii_isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
    if (zone != std::string_view::npos) {
      const std::string_view id = host.substr(zone + 1);
      ok = ok && !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
             return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                    c == '.' || c == '%';
           });
    }
  } else {
    ok = ok && std::all_of(host.begin(), host.end(), [](char c) {
           return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                  c == '_';
         });
  }
  if (ok) {
    return absl::OkStatus();
  }
  return Invalid(absl::StrFormat(
      "host \"%s\" is invalid: use a host name, an IPv4 address or an IPv6 address in brackets",
      host));
}

absl::StatusOr<HostPortText> SplitHostPort(std::string_view hostport) {
  HostPortText out;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Invalid(absl::StrFormat(
          "host \"%s\" has no closing ']': write an IPv6 address as [::1]:PORT", hostport));
    }
    out.host = std::string(hostport.substr(1, close - 1));
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return Invalid(absl::StrFormat(
            "unexpected \"%s\" after ']': write an IPv6 address as [::1]:PORT", after));
      }
      out.port = std::string(after.substr(1));
    }
    if (out.host.empty()) {
      return Invalid("host \"[]\" is empty: write an address such as [::1]");
    }
    SLUICE_RETURN_IF_ERROR(ValidateHost(out.host));
    return out;
  }
  const size_t colon = hostport.find(':');
  if (colon != std::string_view::npos && hostport.find(':', colon + 1) != std::string_view::npos) {
    return Invalid(absl::StrFormat(
        "host \"%s\" has more than one ':': write an IPv6 address in brackets, as [::1]:PORT",
        hostport));
  }
  out.host = std::string(hostport.substr(0, colon));
  if (colon != std::string_view::npos) {
    out.port = std::string(hostport.substr(colon + 1));
  }
  if (!out.host.empty()) {
    SLUICE_RETURN_IF_ERROR(ValidateHost(out.host));
  }
  return out;
}

absl::Status FinishSourceConfig(SourceConfig& s, Syntax syntax) {
  const bool url = syntax == Syntax::kUrl;
  if (s.kind != v1::SOURCE_KIND_MYSQL && s.kind != v1::SOURCE_KIND_POSTGRES) {
    return Invalid(url ? "unknown scheme: use mysql:// or postgres://"
                       : "kind is required: add kind: mysql or kind: postgres");
  }
  const bool mysql = s.kind == v1::SOURCE_KIND_MYSQL;
  const std::string url_shape = mysql ? "mysql://USER:PASSWORD@HOST:PORT/?name=NAME&server_id=N"
                                      : "postgres://USER:PASSWORD@HOST:PORT/DATABASE?name=NAME";
  if (s.name.empty()) {
    return Invalid(absl::StrCat(SourceLabel(s), ": name is required: ",
                                url ? "add name=NAME to the query string" : "add name: NAME", " (",
                                kNameRule, ")"));
  }
  const std::string label = SourceLabel(s);
  if (s.host.empty()) {
    return Invalid(absl::StrCat(
        label, ": host is required: ", url ? absl::StrCat("write ", url_shape) : "add host: HOST"));
  }
  if (s.user.empty()) {
    return Invalid(absl::StrCat(
        label, ": user is required: ", url ? absl::StrCat("write ", url_shape) : "add user: USER"));
  }
  if (s.port == 0) {
    s.port = mysql ? 3306 : 5432;
  }
  if (mysql) {
    if (s.server_id == 0) {
      return Invalid(absl::StrCat(label, ": server_id is required: ",
                                  AddHint(syntax, "server_id", "N"), ", ", kServerIdHint));
    }
    if (!s.slot.empty() || !s.publication.empty()) {
      return Invalid(absl::StrCat(
          label, ": slot and publication apply only to postgres sources: ", "remove them"));
    }
  } else {
    if (s.server_id != 0) {
      return Invalid(absl::StrCat(label, ": server_id applies only to mysql sources: remove it"));
    }
    if (s.database.empty()) {
      return Invalid(absl::StrCat(label, ": database is required: ",
                                  url ? absl::StrCat("write ", url_shape) : "add database: NAME"));
    }
    if (s.slot.empty()) {
      s.slot = DefaultPgName(s.name);
      if (s.slot.size() > kMaxPgIdentifierLength) {
        return Invalid(
            absl::StrFormat("%s: the default slot name \"%s\" is longer than 63 characters: %s",
                            label, s.slot, AddHint(syntax, "slot", "NAME")));
      }
    }
    if (s.publication.empty()) {
      s.publication = DefaultPgName(s.name);
      if (s.publication.size() > kMaxPgIdentifierLength) {
        return Invalid(absl::StrFormat(
            "%s: the default publication name \"%s\" is longer than 63 characters: %s", label,
            s.publication, AddHint(syntax, "publication", "NAME")));
      }
    }
  }
  if (s.tls_mode.empty()) {
    s.tls_mode = "preferred";
  }
  if (!s.tls_ca_file.empty() && s.tls_mode == "disabled") {
    return Invalid(absl::StrCat(
        label, ": ",
        url ? "tls_ca is set but tls=disabled" : "tls.ca_file is set but tls.mode is disabled",
        ": remove the CA file or choose a tls mode such as verify_identity"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PercentDecode(std::string_view text, std::string_view field) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
      }
      return -1;
    };
    const int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Invalid(absl::StrFormat(
          "%s has an invalid percent-escape: '%%' must be followed by two hex digits (write a "
          "literal '%%' as %%25)",
          field));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' ||
        keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

std::string KnownKeysHint(std::string_view key, const std::vector<std::string_view>& known) {
  std::vector<absl::string_view> names;
  names.reserve(known.size());
  for (std::string_view k : known) {
    names.push_back(Absl(k));
  }
  std::string out = absl::StrCat(" (known keys: ", absl::StrJoin(names, ", "), ")");
  std::string_view best;
  size_t best_distance = 3;  // suggest only within an edit distance of 2
  for (std::string_view k : known) {
    const size_t d = EditDistance(key, k);
    if (d < best_distance && d < k.size()) {
      best = k;
      best_distance = d;
    }
  }
  if (!best.empty()) {
    absl::StrAppend(&out, "; did you mean \"", Absl(best), "\"?");
  }
  return out;
}

}  // namespace sluice::config::internal

namespace sluice::config {

std::string_view MysqlResumeName(MysqlResume mode) {
  switch (mode) {
    case MysqlResume::kAuto:
      return "auto";
    case MysqlResume::kGtid:
      return "gtid";
    case MysqlResume::kPosition:
      return "position";
  }
  return "auto";
}

std::string_view SnapshotModeName(SnapshotMode mode) {
  switch (mode) {
    case SnapshotMode::kInitial:
      return "initial";
    case SnapshotMode::kNever:
      return "never";
    case SnapshotMode::kWhenNeeded:
      return "when_needed";
  }
  return "initial";
}

}  // namespace sluice::config
