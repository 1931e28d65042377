#pragma once
// Formatting and parsing of times shared by the renderers and the CLI. Pure functions,
// thread-compatible. The formats are specified in docs/event-format.md.
//
// Calendar: the proleptic Gregorian calendar. CivilDate uses astronomical year numbering
// (year 0 is 1 BC, year -1 is 2 BC); rendered text uses Postgres' convention instead: years
// before 1 AD print as the BC year number followed by " BC" ("0044-03-15T00:00:00Z BC").

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;
// Timestamps that stand for Postgres 'infinity' and '-infinity'.
inline constexpr int64_t kInfinityMicros = INT64_MAX;
inline constexpr int64_t kMinusInfinityMicros = INT64_MIN;

// A proleptic Gregorian date with astronomical year numbering.
struct CivilDate {
  int64_t year = 1970;
  uint32_t month = 1;  // 1..12
  uint32_t day = 1;    // 1..31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
};

// Days since 1970-01-01 of a civil date. Precondition: month 1..12, day 1..31, |year| < 2^40.
int64_t DaysFromCivil(int64_t year, uint32_t month, uint32_t day);
// The civil date `days` after 1970-01-01 (negative: before). Precondition: |days| < 2^50.
CivilDate CivilFromDays(int64_t days);
// 28..31 for month 1..12 of the (astronomical) year; 0 for other months.
uint32_t DaysInMonth(int64_t year, uint32_t month);

// ".123" for 123000 micros, ".000001" for 1, "" for 0: trailing zeros removed, no dot when zero.
// Values of 1000000 and more are not expected; their digits are printed as they are.
std::string FormatFraction(uint32_t micros);
void AppendFraction(uint32_t micros, std::string& out);

// UTC microseconds since the epoch -> "2026-01-02T03:04:05.123Z" (fraction per FormatFraction).
// INT64_MAX renders as "infinity" and INT64_MIN as "-infinity". Times before 1970 work; years
// after 9999 print with more digits; years before 1 AD print as "0044-03-15T10:00:00Z BC".
std::string FormatTimestampMicros(int64_t micros);
void AppendTimestampMicros(int64_t micros, std::string& out);

// Parses an RFC 3339 / ISO 8601 timestamp into UTC microseconds:
//   "2026-01-02T03:04:05Z", "2026-01-02T03:04:05.5+02:00", "2026-01-02 03:04:05" (taken as UTC),
//   "2026-01-02" (midnight UTC). InvalidArgument naming the text otherwise.
// In full: DATE [("T" | "t" | " ") HH ":" MM [":" SS ["." 1-9 digits]] [ZONE]] [" BC"] where
// DATE is YYYY-MM-DD with 4 to 6 year digits (year 0 is rejected: it is written "0001 BC"), ZONE
// is "Z", "z", "+HH", "+HH:MM", "+HHMM" or "+HH:MM:SS" (or "-"), and a missing ZONE means UTC.
// Digits past the sixth of a fraction are truncated. "infinity" and "-infinity" parse to
// INT64_MAX and INT64_MIN, so every output of FormatTimestampMicros parses back to its input.
// A finite time outside the int64 range (or on INT64_MIN/MAX) is InvalidArgument.
absl::StatusOr<int64_t> ParseTimestamp(std::string_view text);

}  // namespace sluice
