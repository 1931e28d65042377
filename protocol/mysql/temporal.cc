#include "protocol/mysql/temporal.h"

namespace sluice::mysql {
namespace {

// Reads n (<= 8) bytes big-endian.
uint64_t ReadBe(wire::ByteReader& r, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | r.ReadU8();
  return r.ok() ? v : 0;
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

void SetHms(v1::Time& t, uint64_t hms) {
  t.set_hours(static_cast<uint32_t>((hms >> 12) & 0x3FF));
  t.set_minutes(static_cast<uint32_t>((hms >> 6) & 0x3F));
  t.set_seconds(static_cast<uint32_t>(hms & 0x3F));
}

void SetYmdHms(v1::DateTime& dt, uint64_t ymdhms) {
  uint64_t ymd = ymdhms >> 17;
  uint64_t ym = ymd >> 5;
  dt.mutable_date()->set_year(static_cast<int32_t>(ym / 13));
  dt.mutable_date()->set_month(static_cast<uint32_t>(ym % 13));
  dt.mutable_date()->set_day(static_cast<uint32_t>(ymd & 0x1F));
  SetHms(*dt.mutable_time(), ymdhms & 0x1FFFF);
}

}  // namespace

v1::Date ReadDate(wire::ByteReader& r) {
  uint32_t v = r.ReadU24Le();
  v1::Date d;
  d.set_day(v & 0x1F);
  d.set_month((v >> 5) & 0x0F);
  d.set_year(static_cast<int32_t>(v >> 9));
  return d;
}

v1::Time ReadOldTime(wire::ByteReader& r) {
  uint32_t raw = r.ReadU24Le();
  int32_t v = static_cast<int32_t>(raw << 8) >> 8;  // sign-extend 24 bits
  v1::Time t;
  if (v < 0) {
    t.set_negative(true);
    v = -v;
  }
  t.set_hours(static_cast<uint32_t>(v / 10000));
  t.set_minutes(static_cast<uint32_t>(v / 100 % 100));
  t.set_seconds(static_cast<uint32_t>(v % 100));
  return t;
}

v1::DateTime ReadOldDateTime(wire::ByteReader& r) {
  uint64_t v = r.ReadU64Le();
  uint64_t date = v / 1000000, time = v % 1000000;
  v1::DateTime dt;
  dt.mutable_date()->set_year(static_cast<int32_t>(date / 10000));
  dt.mutable_date()->set_month(static_cast<uint32_t>(date / 100 % 100));
  dt.mutable_date()->set_day(static_cast<uint32_t>(date % 100));
  dt.mutable_time()->set_hours(static_cast<uint32_t>(time / 10000));
  dt.mutable_time()->set_minutes(static_cast<uint32_t>(time / 100 % 100));
  dt.mutable_time()->set_seconds(static_cast<uint32_t>(time % 100));
  return dt;
}

v1::Time ReadTime2(wire::ByteReader& r, int fsp) {
  size_t fb = FracBytes(fsp);
  size_t total = 3 + fb;
  uint64_t raw = ReadBe(r, total);
  int64_t value = static_cast<int64_t>(raw) - (int64_t{1} << (8 * total - 1));
  v1::Time t;
  if (value < 0) {
    t.set_negative(true);
    value = -value;
  }
  uint64_t mag = static_cast<uint64_t>(value);
  SetHms(t, mag >> (8 * fb));
  t.set_micros(FracToMicros(mag & ((uint64_t{1} << (8 * fb)) - 1), fb));
  return t;
}

v1::DateTime ReadDateTime2(wire::ByteReader& r, int fsp) {
  uint64_t raw = ReadBe(r, 5);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  int64_t intpart = static_cast<int64_t>(raw) - (int64_t{1} << 39);
  if (intpart < 0)
    intpart = -intpart;  // negative DATETIME is not produced by MySQL; keep magnitude
  v1::DateTime dt;
  SetYmdHms(dt, static_cast<uint64_t>(intpart));
  dt.mutable_time()->set_micros(FracToMicros(frac, fb));
  return dt;
}

int64_t ReadTimestamp2Micros(wire::ByteReader& r, int fsp) {
  uint64_t seconds = ReadBe(r, 4);
  size_t fb = FracBytes(fsp);
  uint64_t frac = ReadBe(r, fb);
  return static_cast<int64_t>(seconds) * 1000000 + FracToMicros(frac, fb);
}

v1::Time TimeFromPacked(int64_t packed) {
  v1::Time t;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  t.set_negative(packed < 0);
  SetHms(t, mag >> 24);
  t.set_micros(static_cast<uint32_t>(mag & 0xFFFFFF));
  return t;
}

v1::DateTime DateTimeFromPacked(int64_t packed) {
  v1::DateTime dt;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  SetYmdHms(dt, mag >> 24);
  dt.mutable_time()->set_micros(static_cast<uint32_t>(mag & 0xFFFFFF));
  return dt;
}

}  // namespace sluice::mysql
