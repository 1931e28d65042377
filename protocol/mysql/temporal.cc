#include "protocol/mysql/temporal.h"

namespace sluice::mysql {

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






v1::Date ReadDate(wire::ByteReader& r) { return ToProto(ReadDateParts(r)); }
v1::Time ReadOldTime(wire::ByteReader& r) { return ToProto(ReadOldTimeParts(r)); }
v1::DateTime ReadOldDateTime(wire::ByteReader& r) { return ToProto(ReadOldDateTimeParts(r)); }
v1::Time ReadTime2(wire::ByteReader& r, int fsp) { return ToProto(ReadTime2Parts(r, fsp)); }
v1::DateTime ReadDateTime2(wire::ByteReader& r, int fsp) {
  return ToProto(ReadDateTime2Parts(r, fsp));
}


v1::Time TimeFromPacked(int64_t packed) {
  TimeParts t;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  t.negative = packed < 0;
  temporal_internal::SetHms(t, mag >> 24);
  t.micros = static_cast<uint32_t>(mag & 0xFFFFFF);
  return ToProto(t);
}

v1::DateTime DateTimeFromPacked(int64_t packed) {
  DateTimeParts dt;
  uint64_t mag = packed < 0 ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  temporal_internal::SetYmdHms(dt, mag >> 24);
  dt.time.micros = static_cast<uint32_t>(mag & 0xFFFFFF);
  return ToProto(dt);
}

}  // namespace sluice::mysql
