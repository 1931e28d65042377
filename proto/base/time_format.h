#pragma once
// Formatting and parsing of times shared by the renderers and the CLI. Pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice {

// ".123" for 123000 micros, ".000001" for 1, "" for 0: trailing zeros removed, no dot when zero.
std::string FormatFraction(uint32_t micros);

// UTC microseconds since the epoch -> "2026-01-02T03:04:05.123Z" (fraction per FormatFraction).
// INT64_MAX renders as "infinity" and INT64_MIN as "-infinity".
std::string FormatTimestampMicros(int64_t micros);

// Parses an RFC 3339 / ISO 8601 timestamp into UTC microseconds:
//   "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5+02:00", "2026-01-02 03:04:05" (taken as UTC),
//   "2026-01-02" (midnight UTC). InvalidArgument naming the text otherwise.
absl::StatusOr<int64_t> ParseTimestamp(std::string_view text);

}  // namespace sluice
