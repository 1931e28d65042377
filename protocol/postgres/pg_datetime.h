#pragma once
// Parsers for the text output of Postgres date/time types under the session settings sluice pins
// on its replication connection: DateStyle=ISO, IntervalStyle=postgres, TimeZone=UTC. Grammar:
//
//   date        = "infinity" | "-infinity" | YEAR "-" MM "-" DD [" BC"]
//   time        = HH ":" MM ":" SS ["." 1*6DIGIT]                (HH 00..24)
//   timetz      = time ZONE
//   timestamp   = "infinity" | "-infinity" | YEAR "-" MM "-" DD " " time [" BC"]
//   timestamptz = "infinity" | "-infinity" | YEAR "-" MM "-" DD " " time ZONE [" BC"]
//   ZONE        = ("+" | "-") HH [":" MM [":" SS]]                (east of UTC is "+")
//   YEAR        = 4*DIGIT                                        (years > 9999 have more digits)
//   interval    = "00:00:00" | part *(" " part)
//   part        = SIGNED " " ("year" | "years" | "mon" | "mons" | "day" | "days")
//               | ["+" | "-"] H+ ":" MM ":" SS ["." 1*6DIGIT]
//
// BC years: Date.year is negative, -44 meaning 44 BC (the renderer's convention; there is no
// year 0). Every parser returns nullopt on text outside its grammar or out of range (month 13,
// day 32, an interval whose months overflow int32); the caller then keeps the raw text.
//
// Pure, thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice::postgres {

std::optional<v1::Date> ParsePgDate(std::string_view text);
std::optional<v1::Time> ParsePgTime(std::string_view text);
std::optional<v1::Time> ParsePgTimetz(std::string_view text);
std::optional<v1::DateTime> ParsePgTimestamp(std::string_view text);
// UTC microseconds since the Unix epoch; infinity -> INT64_MAX, -infinity -> INT64_MIN.
std::optional<int64_t> ParsePgTimestamptz(std::string_view text);
std::optional<v1::Interval> ParsePgInterval(std::string_view text);

}  // namespace sluice::postgres
