#include "protocol/mysql/flat_row.h"

#include <algorithm>
#include <charconv>

#include "proto/base/time_format.h"
#include "proto/base/value_json.h"

namespace sluice::mysql {
namespace {

template <typename Int>
void AppendInt(Int v, std::string& out) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, result.ptr);
}

// The common dates and times are written here directly, in the canonical text of
// proto/base/value_json.h (AppendValueJson) and time_format.h (AppendTimestampMicros); anything
// outside the ranges below (years past 9999, hours past 9999, fractions of a million micros and
// more, times before 1970) goes through those functions instead. flat_row_test and rows_fuzz
// compare both renderings.

// Writes the `width` low decimal digits of `v`.
char* PutDigits(char* p, uint32_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// ".f" with the trailing zeros removed, nothing for 0. Precondition: micros < 1,000,000.
char* PutFraction(char* p, uint32_t micros) {
  if (micros == 0) return p;
  *p++ = '.';
  int digits = 6;
  while (micros % 10 == 0) {
    micros /= 10;
    --digits;
  }
  return PutDigits(p, micros, digits);
}

bool FastDate(const DateParts& d) {
  return d.year >= 0 && d.year <= 9999 && d.month <= 99 && d.day <= 99;
}
bool FastTimeOfDay(const TimeParts& t) {
  return t.hours <= 9999 && t.minutes <= 99 && t.seconds <= 99 && t.micros < 1'000'000;
}

char* PutDate(char* p, const DateParts& d) {
  p = PutDigits(p, static_cast<uint32_t>(d.year), 4);
  *p++ = '-';
  p = PutDigits(p, d.month, 2);
  *p++ = '-';
  return PutDigits(p, d.day, 2);
}

// "HH:MM:SS[.f]", at least two hour digits.
char* PutTimeOfDay(char* p, const TimeParts& t) {
  p = PutDigits(p, t.hours, t.hours < 100 ? 2 : t.hours < 1000 ? 3 : 4);
  *p++ = ':';
  p = PutDigits(p, t.minutes, 2);
  *p++ = ':';
  p = PutDigits(p, t.seconds, 2);
  return PutFraction(p, t.micros);
}

// `"YYYY-MM-DDTHH:MM:SS[.f]Z"` for 1970-01-01 up to the end of 9999; false otherwise. The date of
// the last day rendered is kept (rows of one event are mostly of the same day).
bool PutTimestamp(int64_t micros, std::string& out) {
  constexpr int64_t kLastDay = 2'932'896;  // 9999-12-31
  if (micros < 0 || micros / kMicrosPerDay > kLastDay) return false;
  struct DayCache {
    int64_t day = -1;
    char text[10];
  };
  thread_local DayCache cache;
  const int64_t day = micros / kMicrosPerDay;
  if (day != cache.day) {
    const CivilDate date = CivilFromDays(day);
    DateParts parts;
    parts.year = static_cast<int32_t>(date.year);
    parts.month = date.month;
    parts.day = date.day;
    PutDate(cache.text, parts);
    cache.day = day;
  }
  const int64_t time = micros % kMicrosPerDay;
  const auto seconds = static_cast<uint32_t>(time / kMicrosPerSecond);
  char buf[40];
  char* p = buf;
  *p++ = '"';
  p = std::copy(cache.text, cache.text + 10, p);
  *p++ = 'T';
  p = PutDigits(p, seconds / 3600, 2);
  *p++ = ':';
  p = PutDigits(p, seconds / 60 % 60, 2);
  *p++ = ':';
  p = PutDigits(p, seconds % 60, 2);
  p = PutFraction(p, static_cast<uint32_t>(time % kMicrosPerSecond));
  *p++ = 'Z';
  *p++ = '"';
  out.append(buf, p);
  return true;
}

// Reused protobuf values for the kinds whose canonical text value_json.cc owns (doubles, dates
// and times): their fields are overwritten in place, so rendering allocates nothing once warm.
struct Scratch {
  v1::Value number;
  v1::Value date;
  v1::Value time;
  v1::Value datetime;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

}  // namespace

FlatValue& FlatRow::Add(uint32_t column) {
  if (size_ == values_.size()) values_.emplace_back();
  FlatValue& v = values_[size_++];
  // Only what every kind relies on; the decoder sets the field its kind names.
  v.column = column;
  v.kind = FlatKind::kNull;
  v.in_arena = false;
  return v;
}

v1::Value& FlatRow::SetSlot(FlatValue& v) {
  if (slots_used_ == slots_.size()) slots_.emplace_back();
  v1::Value& slot = slots_[slots_used_];
  slot.Clear();
  v.kind = FlatKind::kValue;
  v.offset = slots_used_++;
  return slot;
}

ColumnKeys::ColumnKeys(const TableMap& table) {
  keys_.reserve(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    std::string key;
    AppendJsonString(table.ColumnName(i), key);
    key.push_back(':');
    keys_.push_back(std::move(key));
  }
}

void AppendFlatValueJson(const FlatRow& row, const FlatValue& v, std::string& out) {
  switch (v.kind) {
    case FlatKind::kNull:
      out += "null";
      return;
    case FlatKind::kInt64:
      AppendInt(v.i64, out);
      return;
    case FlatKind::kUint64:
      AppendInt(v.u64, out);
      return;
    case FlatKind::kDouble: {
      v1::Value& scratch = ThreadScratch().number;
      scratch.set_double_(v.f64);
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kDecimal:
    case FlatKind::kString:
      AppendJsonString(row.text(v), out);
      return;
    case FlatKind::kBytes:
      out.push_back('"');
      AppendBase64(row.text(v), out);
      out.push_back('"');
      return;
    case FlatKind::kDate: {
      if (FastDate(v.date)) {
        char buf[16];
        char* p = buf;
        *p++ = '"';
        p = PutDate(p, v.date);
        *p++ = '"';
        out.append(buf, p);
        return;
      }
      v1::Value& scratch = ThreadScratch().date;
      AssignProto(v.date, *scratch.mutable_date());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kTime: {
      if (FastTimeOfDay(v.time)) {
        const TimeParts& t = v.time;
        char buf[32];
        char* p = buf;
        *p++ = '"';
        if (t.negative && (t.hours != 0 || t.minutes != 0 || t.seconds != 0 || t.micros != 0)) {
          *p++ = '-';
        }
        p = PutTimeOfDay(p, t);
        *p++ = '"';
        out.append(buf, p);
        return;
      }
      v1::Value& scratch = ThreadScratch().time;
      AssignProto(v.time, *scratch.mutable_time());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kDateTime: {
      if (FastDate(v.datetime.date) && FastTimeOfDay(v.datetime.time)) {
        char buf[48];
        char* p = buf;
        *p++ = '"';
        p = PutDate(p, v.datetime.date);
        *p++ = ' ';
        p = PutTimeOfDay(p, v.datetime.time);  // a DATETIME's time has no sign
        *p++ = '"';
        out.append(buf, p);
        return;
      }
      v1::Value& scratch = ThreadScratch().datetime;
      AssignProto(v.datetime, *scratch.mutable_datetime());
      AppendValueJson(scratch, out);
      return;
    }
    case FlatKind::kTimestampMicros:
      if (PutTimestamp(v.i64, out)) return;
      out.push_back('"');
      AppendTimestampMicros(v.i64, out);
      out.push_back('"');
      return;
    case FlatKind::kValue:
      AppendValueJson(row.slot(v), out);
      return;
  }
  out += "null";
}

void AppendFlatRowJson(const FlatRow& row, const ColumnKeys& keys, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const FlatValue& v : row.values()) {
    if (!first) out.push_back(',');
    first = false;
    out.append(keys.key(v.column));
    AppendFlatValueJson(row, v, out);
  }
  out.push_back('}');
}

void FlatValueToProto(const FlatRow& row, const FlatValue& v, v1::Value& out) {
  out.Clear();
  switch (v.kind) {
    case FlatKind::kNull:
      out.set_null(true);
      return;
    case FlatKind::kInt64:
      out.set_int64(v.i64);
      return;
    case FlatKind::kUint64:
      out.set_uint64(v.u64);
      return;
    case FlatKind::kDouble:
      out.set_double_(v.f64);
      return;
    case FlatKind::kDecimal:
      out.set_decimal(std::string(row.text(v)));
      return;
    case FlatKind::kString:
      out.set_string(std::string(row.text(v)));
      return;
    case FlatKind::kBytes:
      out.set_bytes(std::string(row.text(v)));
      return;
    case FlatKind::kDate:
      AssignProto(v.date, *out.mutable_date());
      return;
    case FlatKind::kTime:
      AssignProto(v.time, *out.mutable_time());
      return;
    case FlatKind::kDateTime:
      AssignProto(v.datetime, *out.mutable_datetime());
      return;
    case FlatKind::kTimestampMicros:
      out.set_timestamp_micros(v.i64);
      return;
    case FlatKind::kValue:
      out = row.slot(v);
      return;
  }
}

}  // namespace sluice::mysql
