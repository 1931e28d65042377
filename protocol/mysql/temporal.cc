#include "protocol/mysql/temporal.h"

namespace sluice::mysql {
namespace {

// The first n (<= 8) bytes at p, big-endian.
uint64_t LoadBe(const char* p, size_t n) {
  uint64_t v = 0;
  if (n >= 4) {  // one load and a byte swap
    const auto* u = reinterpret_cast<const uint8_t*>(p);
    v = uint64_t{u[0]} << 24 | uint64_t{u[1]} << 16 | uint64_t{u[2]} << 8 | u[3];
    p += 4;
    n -= 4;
  }
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Reads n (<= 8) bytes big-endian.
uint64_t ReadBe(wire::ByteReader& r, size_t n) {
  const std::string_view bytes = r.ReadString(n);  // one bounds check for the whole field
  return r.ok() ? LoadBe(bytes.data(), bytes.size()) : 0;
}

size_t FracBytes(int fsp) { return static_cast<size_t>((fsp + 1) / 2); }

uint32_t FracToMicros(uint64_t frac, size_t frac_bytes) {
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

void SetHms(TimeParts& t, uint64_t hms) {
  t.hours = static_cast<uint32_t>((hms >> 12) & 0x3FF);
  t.minutes = static_cast<uint32_t>((hms >> 6) & 0x3F);
  t.seconds = static_cast<uint32_t>(hms & 0x3F);
}

void SetYmdHms(DateTimeParts& dt, uint64_t ymdhms) {
  uint64_t ymd = ymdhms >> 17;
  uint64_t ym = ymd >> 5;
  dt.date.year = static_cast<int32_t>(ym / 13);
  dt.date.month = static_cast<uint32_t>(ym % 13);
  dt.date.day = static_cast<uint32_t>(ymd & 0x1F);
  SetHms(dt.time, ymdhms & 0x1FFFF);
}

}  // namespace

void AssignProto(const DateParts& d, v1::Date& out) {
  out.set_year(d.year);
  out.set_month(d.month);
  out.set_day(d.day);
  out.set_infinity(0);
}

void AssignProto(const TimeParts& t, v1::Time& out) {
  out.set_negative(t.negative);
  out.set_hours(t.hours);
  out.set_minutes(t.minutes);
  out.set_seconds(t.seconds);
  out.set_micros(t.micros);
  out.clear_utc_offset_seconds();
}

void AssignProto(const DateTimeParts& dt, v1::DateTime& out) {
  AssignProto(dt.date, *out.mutable_date());
  AssignProto(dt.time, *out.mutable_time());
}

v1::Date ToProto(const DateParts& d) {
  v1::Date out;
  AssignProto(d, out);
  return out;
}

v1::Time ToProto(const TimeParts& t) {
  v1::Time out;
  AssignProto(t, out);
  return out;
}

v1::DateTime ToProto(const DateTimeParts& dt) {
  v1::DateTime out;
  AssignProto(dt, out);
  return out;
}

DateParts ReadDateParts(wire::ByteReader& r) {
  uint32_t v = r.ReadU24Le();
  DateParts d;
  d.day = v & 0x1F;
  d.month = (v >> 5) & 0x0F;
  d.year = static_cast<int32_t>(v >> 9);
  return d;
}

TimeParts ReadOldTimeParts(wire::ByteReader& r) {
  uint32_t raw = r.ReadU24Le();
  int32_t v = static_cast<int32_t>(raw << 8) >> 8;  // sign-extend 24 bits
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

DateTimeParts ReadOldDateTimeParts(wire::ByteReader& r) {
  uint64_t v = r.ReadU64Le();
  uint64_t date = v / 1000000, time = v % 1000000;
  DateTimeParts dt;
  dt.date.year = static_cast<int32_t>(date / 10000);
  dt.date.month = static_cast<uint32_t>(date / 100 % 100);
  dt.date.day = static_cast<uint32_t>(date % 100);
  dt.time.hours = static_cast<uint32_t>(time / 10000);
  dt.time.minutes = static_cast<uint32_t>(time / 100 % 100);
  dt.time.seconds = static_cast<uint32_t>(time % 100);
  return dt;
}

TimeParts ReadTime2Parts(wire::ByteReader& r, int fsp) {
  size_t fb = FracBytes(fsp);
  size_t total = 3 + fb;
  uint64_t raw = ReadBe(r, total);
  int64_t value = static_cast<int64_t>(raw) - (int64_t{1} << (8 * total - 1));
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

DateTimeParts ReadDateTime2Parts(wire::ByteReader& r, int fsp) {
  uint64_t raw = ReadBe(r, 5);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  int64_t intpart = static_cast<int64_t>(raw) - (int64_t{1} << 39);
  if (intpart < 0)
    intpart = -intpart;  // negative DATETIME is not produced by MySQL; keep magnitude
  DateTimeParts dt;
  SetYmdHms(dt, static_cast<uint64_t>(intpart));
  dt.time.micros = FracToMicros(frac, fb);
  return dt;
}

v1::Date ReadDate(wire::ByteReader& r) { return ToProto(ReadDateParts(r)); }
v1::Time ReadOldTime(wire::ByteReader& r) { return ToProto(ReadOldTimeParts(r)); }
v1::DateTime ReadOldDateTime(wire::ByteReader& r) { return ToProto(ReadOldDateTimeParts(r)); }
v1::Time ReadTime2(wire::ByteReader& r, int fsp) { return ToProto(ReadTime2Parts(r, fsp)); }
v1::DateTime ReadDateTime2(wire::ByteReader& r, int fsp) {
  return ToProto(ReadDateTime2Parts(r, fsp));
}

int64_t ReadTimestamp2Micros(wire::ByteReader& r, int fsp) {
  uint64_t seconds = ReadBe(r, 4);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  return static_cast<int64_t>(seconds) * 1000000 + FracToMicros(frac, fb);
}

v1::Time TimeFromPacked(int64_t packed) {
  TimeParts t;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  t.negative = packed < 0;
  SetHms(t, mag >> 24);
  t.micros = static_cast<uint32_t>(mag & 0xFFFFFF);
  return ToProto(t);
}

v1::DateTime DateTimeFromPacked(int64_t packed) {
  DateTimeParts dt;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  SetYmdHms(dt, mag >> 24);
  dt.time.micros = static_cast<uint32_t>(mag & 0xFFFFFF);
  return ToProto(dt);
}

}  // namespace sluice::mysql
