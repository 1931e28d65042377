#pragma once
// Internal to server/config: the field rules shared by the URL parser and the YAML loader, so
// both forms accept exactly the same values and say the same things about bad ones.
//
// Every function returns InvalidArgument with a one-line message that names the field, the bad
// value and the fix, without any location prefix; callers add `source URL "...": ` or
// `file:line:col: `. None of them is ever handed a password.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/source_config.h"

namespace sluice::config::internal {

// Which syntax the user wrote, so hints can say "add &server_id=N" or "add server_id: N".
enum class Syntax { kUrl, kYaml };

// absl in this tree is built with its own absl::string_view; this bridges std::string_view.
inline absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view Message(const absl::Status& s) {
  return std::string_view(s.message().data(), s.message().size());
}

// "mysql", "postgres" (and the aliases "mariadb", "postgresql") -> kind.
std::optional<v1::SourceKind> ParseKindName(std::string_view text);

absl::Status ValidateName(std::string_view name);
// port "x" is not a number between `min` and 65535.
absl::StatusOr<uint16_t> ParsePort(std::string_view text, uint16_t min);
absl::StatusOr<uint32_t> ParseServerId(std::string_view text);
absl::StatusOr<SnapshotMode> ParseSnapshotMode(std::string_view text);
absl::StatusOr<uint32_t> ParseSnapshotChunkSize(std::string_view text);
absl::StatusOr<uint32_t> ParseSnapshotPauseMs(std::string_view text);
absl::StatusOr<uint32_t> ParseHeartbeatMs(std::string_view text);
// "7d" etc. (proto/base/units.h) or "none" (0: no limit), named `field` in errors.
absl::StatusOr<int64_t> ParseRetentionAge(std::string_view text, std::string_view field);
absl::StatusOr<uint64_t> ParseRetentionBytes(std::string_view text, std::string_view field);
// "error" -> false, "whole_table" -> true.
absl::StatusOr<bool> ParseSnapshotKeyless(std::string_view text);
// table_state: "true" / "false".
absl::StatusOr<bool> ParseTableState(std::string_view text);
// mysql_resume: "auto" / "gtid" / "position".
absl::StatusOr<MysqlResume> ParseMysqlResume(std::string_view text);
absl::Status ValidateTlsMode(std::string_view mode);
absl::Status ValidateSlot(std::string_view slot);
absl::Status ValidatePublication(std::string_view publication);
absl::Status ValidateTablePattern(std::string_view pattern, v1::SourceKind kind);
// A host name, an IPv4 address or an IPv6 address (without brackets).
absl::Status ValidateHost(std::string_view host);

// "host", "host:port", "[v6]" or "[v6]:port", split; the host is validated unless empty and
// has no brackets. port is nullopt when there is no ':'.
struct HostPortText {
  std::string host;
  std::optional<std::string> port;
};
absl::StatusOr<HostPortText> SplitHostPort(std::string_view hostport);

// Applies defaults (port, slot, publication) and checks that required fields are present and
// the fields agree with each other. Field values were already checked by the functions above.
absl::Status FinishSourceConfig(SourceConfig& source, Syntax syntax);

// Percent-decoding; InvalidArgument naming `field` on a bad escape (never echoes the value).
absl::StatusOr<std::string> PercentDecode(std::string_view text, std::string_view field);
// Percent-encodes everything except unreserved characters and those in `keep`.
std::string PercentEncode(std::string_view text, std::string_view keep = "");

// " (known keys: a, b, c)" plus "; did you mean "x"?" when one of them is close to `key`.
std::string KnownKeysHint(std::string_view key, const std::vector<std::string_view>& known);

}  // namespace sluice::config::internal
