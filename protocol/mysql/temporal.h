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

#include <cstddef>
#include <cstdint>
#include <string_view>

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

namespace temporal_internal {

// The first n (<= 8) bytes at p, big-endian.
inline uint64_t LoadBe(const char* p, size_t n) {
  uint64_t v = 0;
  if (n >= 4) {  // one load and a byte swap
    const auto* u = reinterpret_cast<const uint8_t*>(p);
    v = uint64_t{u[0]} << 24 | uint64_t{u[1]} << 16 | uint64_t{u[2]} << 8 | u[3];
    p += 4;
    n -= 4;
  }
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  switch (n) {  // the last 0-4 bytes (fractions take 1-3, DATETIME2's fifth byte 1)
    case 0:
      return v;
    case 1:
      return v << 8 | u[0];
    case 2:
      return v << 16 | uint64_t{u[0]} << 8 | u[1];
    case 3:
      return v << 24 | uint64_t{u[0]} << 16 | uint64_t{u[1]} << 8 | u[2];
    default:
      for (size_t i = 0; i < n; ++i) v = (v << 8) | u[i];
      return v;
  }
}

// Reads n (<= 8) bytes big-endian (one bounds check for the whole field); 0 on failure.
inline uint64_t ReadBe(wire::ByteReader& r, size_t n) {
  const std::string_view bytes = r.ReadString(n);
  return r.ok() ? LoadBe(bytes.data(), bytes.size()) : 0;
}

inline size_t FracBytes(int fsp) { return static_cast<size_t>((fsp + 1) / 2); }

inline uint32_t FracToMicros(uint64_t frac, size_t frac_bytes) {
  switch (frac_bytes) {
    case 1:
      return static_cast<uint32_t>(frac * 10000);
    case 2:
      return static_cast<uint32_t>(frac * 100);
    case 3:
      return static_cast<uint32_t>(frac);
    default:
      return 0;
  }
}

inline void SetHms(TimeParts& t, uint64_t hms) {
  t.hours = static_cast<uint32_t>((hms >> 12) & 0x3FF);
  t.minutes = static_cast<uint32_t>((hms >> 6) & 0x3F);
  t.seconds = static_cast<uint32_t>(hms & 0x3F);
}

inline void SetYmdHms(DateTimeParts& dt, uint64_t ymdhms) {
  uint64_t ymd = ymdhms >> 17;
  uint64_t ym = ymd >> 5;
  dt.date.year = static_cast<int32_t>(ym / 13);
  dt.date.month = static_cast<uint32_t>(ym % 13);
  dt.date.day = static_cast<uint32_t>(ymd & 0x1F);
  SetHms(dt.time, ymdhms & 0x1FFFF);
}

}  // namespace temporal_internal

// The values of the encodings above from their loaded bytes: `le` the field read little-endian,
// `be` read big-endian, `frac` the fraction's fb = FracBytes(fsp) bytes big-endian. Used by the
// Read* below and by the flat row decoder, which loads the bytes itself (flat_plan.h).
inline DateParts DateFromLe(uint32_t le) {
  DateParts d;
  d.day = le & 0x1F;
  d.month = (le >> 5) & 0x0F;
  d.year = static_cast<int32_t>(le >> 9);
  return d;
}

inline TimeParts OldTimeFromLe(uint32_t le) {
  int32_t v = static_cast<int32_t>(le << 8) >> 8;  // sign-extend 24 bits
  TimeParts t;
  if (v < 0) {
    t.negative = true;
    v = -v;
  }
  t.hours = static_cast<uint32_t>(v / 10000);
  t.minutes = static_cast<uint32_t>(v / 100 % 100);
  t.seconds = static_cast<uint32_t>(v % 100);
  return t;
}

inline DateTimeParts OldDateTimeFromLe(uint64_t le) {
  uint64_t date = le / 1000000, time = le % 1000000;
  DateTimeParts dt;
  dt.date.year = static_cast<int32_t>(date / 10000);
  dt.date.month = static_cast<uint32_t>(date / 100 % 100);
  dt.date.day = static_cast<uint32_t>(date % 100);
  dt.time.hours = static_cast<uint32_t>(time / 10000);
  dt.time.minutes = static_cast<uint32_t>(time / 100 % 100);
  dt.time.seconds = static_cast<uint32_t>(time % 100);
  return dt;
}

// `be`: all 3 + fb bytes of the TIME2 value.
inline TimeParts Time2FromBe(uint64_t be, size_t fb) {
  using namespace temporal_internal;
  const size_t total = 3 + fb;
  int64_t value = static_cast<int64_t>(be) - (int64_t{1} << (8 * total - 1));
  TimeParts t;
  if (value < 0) {
    t.negative = true;
    value = -value;
  }
  uint64_t mag = static_cast<uint64_t>(value);
  SetHms(t, mag >> (8 * fb));
  t.micros = FracToMicros(mag & ((uint64_t{1} << (8 * fb)) - 1), fb);
  return t;
}

// `be`: the 5 bytes of the integer part.
inline DateTimeParts DateTime2FromBe(uint64_t be, uint64_t frac, size_t fb) {
  using namespace temporal_internal;
  int64_t intpart = static_cast<int64_t>(be) - (int64_t{1} << 39);
  if (intpart < 0) intpart = -intpart;  // negative DATETIME is not produced by MySQL; magnitude
  DateTimeParts dt;
  SetYmdHms(dt, static_cast<uint64_t>(intpart));
  dt.time.micros = FracToMicros(frac, fb);
  return dt;
}

// UTC microseconds since the epoch; `seconds` the 4 bytes big-endian.
inline int64_t Timestamp2MicrosFromBe(uint64_t seconds, uint64_t frac, size_t fb) {
  return static_cast<int64_t>(seconds) * 1000000 + temporal_internal::FracToMicros(frac, fb);
}

// Each Read* consumes exactly its bytes or leaves the reader failed (check r.ok()). Inline: the
// flat row decoder calls them once per value.
inline DateParts ReadDateParts(wire::ByteReader& r) { return DateFromLe(r.ReadU24Le()); }

inline TimeParts ReadOldTimeParts(wire::ByteReader& r) { return OldTimeFromLe(r.ReadU24Le()); }

inline DateTimeParts ReadOldDateTimeParts(wire::ByteReader& r) {
  return OldDateTimeFromLe(r.ReadU64Le());
}

inline TimeParts ReadTime2Parts(wire::ByteReader& r, int fsp) {
  using namespace temporal_internal;
  size_t fb = FracBytes(fsp);
  return Time2FromBe(ReadBe(r, 3 + fb), fb);
}

inline DateTimeParts ReadDateTime2Parts(wire::ByteReader& r, int fsp) {
  using namespace temporal_internal;
  uint64_t raw = ReadBe(r, 5);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  return DateTime2FromBe(raw, frac, fb);
}

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
inline int64_t ReadTimestamp2Micros(wire::ByteReader& r, int fsp) {
  using namespace temporal_internal;
  uint64_t seconds = ReadBe(r, 4);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  return Timestamp2MicrosFromBe(seconds, frac, fb);
}

// Unpacks MySQL's in-memory packed int64 (used by JSON opaque DATE/TIME/DATETIME values).
v1::Time TimeFromPacked(int64_t packed);
v1::DateTime DateTimeFromPacked(int64_t packed);

}  // namespace sluice::mysql
