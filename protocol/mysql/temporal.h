#pragma once
// MySQL date and time encodings in row events and in JSON opaque values.
//
//   DATE       3 bytes LE: day(5) | month(4) << 5 | year << 9
//   TIME (old) 3 bytes LE signed: ±(HH*10000 + MM*100 + SS)
//   DATETIME   8 bytes LE: YYYYMMDDhhmmss as a decimal number
//   TIMESTAMP  4 bytes LE: UTC seconds
//   TIME2      3 + (fsp+1)/2 bytes BE, minus 2^(bits-1): a signed value whose magnitude is
//              hms << (8 * frac_bytes) | frac, hms = hour(10) << 12 | minute(6) << 6 | second(6).
//              A negative TIME is the two's complement of the whole packed value, fraction too.
//   DATETIME2  5 bytes BE minus 2^39: ymd(17+) << 17 | hms, ymd = (year*13 + month) << 5 | day,
//              then (fsp+1)/2 bytes BE of fraction
//   TIMESTAMP2 4 bytes BE UTC seconds, then (fsp+1)/2 bytes BE of fraction
//   fraction   1 byte: hundredths; 2 bytes: 1/10000 s; 3 bytes: microseconds
//   packed     (JSON opaque) i64le: sign, then |v| = (ymdhms or hms) << 24 | microseconds
//
// Zero dates and zero months/days are legal and kept as they are.

#include <cstdint>

#include "absl/status/statusor.h"
#include "protocol/wire/byte_reader.h"
#include "sluice/v1/event.pb.h"

namespace sluice::mysql {

// A date, a time of day or duration, and both, as plain values (no protobuf): what the flat row
// decoder (flat_row.h) keeps per value. Fields mean what they mean in v1::Date / v1::Time.
struct DateParts {
  int32_t year = 0;
  uint32_t month = 0;
  uint32_t day = 0;
};
struct TimeParts {
  bool negative = false;
  uint32_t hours = 0;
  uint32_t minutes = 0;
  uint32_t seconds = 0;
  uint32_t micros = 0;
};
struct DateTimeParts {
  DateParts date;
  TimeParts time;  // never negative
};

// Each Read* consumes exactly its bytes or leaves the reader failed (check r.ok()).
DateParts ReadDateParts(wire::ByteReader& r);
TimeParts ReadOldTimeParts(wire::ByteReader& r);
DateTimeParts ReadOldDateTimeParts(wire::ByteReader& r);
TimeParts ReadTime2Parts(wire::ByteReader& r, int fsp);
DateTimeParts ReadDateTime2Parts(wire::ByteReader& r, int fsp);

// The same values as protobuf messages.
v1::Date ToProto(const DateParts& d);
v1::Time ToProto(const TimeParts& t);
v1::DateTime ToProto(const DateTimeParts& dt);
// Overwrites every field of `out` (no allocation when `out` already has its submessages).
void AssignProto(const DateParts& d, v1::Date& out);
void AssignProto(const TimeParts& t, v1::Time& out);
void AssignProto(const DateTimeParts& dt, v1::DateTime& out);

v1::Date ReadDate(wire::ByteReader& r);
v1::Time ReadOldTime(wire::ByteReader& r);
v1::DateTime ReadOldDateTime(wire::ByteReader& r);
v1::Time ReadTime2(wire::ByteReader& r, int fsp);
v1::DateTime ReadDateTime2(wire::ByteReader& r, int fsp);
// UTC microseconds since the epoch.
int64_t ReadTimestamp2Micros(wire::ByteReader& r, int fsp);

// Unpacks MySQL's in-memory packed int64 (used by JSON opaque DATE/TIME/DATETIME values).
v1::Time TimeFromPacked(int64_t packed);
v1::DateTime DateTimeFromPacked(int64_t packed);

}  // namespace sluice::mysql
