#include "protocol/mysqlclient/text_value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "proto/base/time_format.h"
#include "protocol/mysql/event_types.h"

namespace sluice::mysqlclient {
namespace {

using mysql::ColumnType;

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, uint32_t& out) {
  if (pos + n > s.size()) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// ".ffffff" (1 to 6 digits) or nothing, as microseconds.
bool Fraction(std::string_view s, size_t& pos, uint32_t& micros) {
  micros = 0;
  if (pos == s.size()) return true;
  if (s[pos] != '.') return false;
  ++pos;
  size_t n = 0;
  while (pos < s.size() && n < 6 && s[pos] >= '0' && s[pos] <= '9') {
    micros = micros * 10 + static_cast<uint32_t>(s[pos] - '0');
    ++pos;
    ++n;
  }
  if (n == 0) return false;
  for (; n < 6; ++n) micros *= 10;
  return pos == s.size();
}

bool ParseDate(std::string_view s, size_t& pos, v1::Date& d) {
  uint32_t y = 0, m = 0, day = 0;
  if (!Digits(s, pos, 4, y) || !Expect(s, pos, '-') || !Digits(s, pos, 2, m) ||
      !Expect(s, pos, '-') || !Digits(s, pos, 2, day) || m > 12 || day > 31) {
    return false;
  }
  d.set_year(static_cast<int32_t>(y));
  d.set_month(m);
  d.set_day(day);
  return true;
}

// "HH:MM:SS[.f]" with exactly two hour digits (DATETIME) or "[-]H+:MM:SS[.f]" (TIME).
bool ParseClock(std::string_view s, size_t& pos, bool duration, v1::Time& t) {
  if (duration && pos < s.size() && s[pos] == '-') {
    t.set_negative(true);
    ++pos;
  }
  uint32_t h = 0;
  size_t n = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && n < 4) {
    h = h * 10 + static_cast<uint32_t>(s[pos] - '0');
    ++pos;
    ++n;
  }
  if (n < 2 || (!duration && n != 2)) return false;
  uint32_t m = 0, sec = 0, micros = 0;
  if (!Expect(s, pos, ':') || !Digits(s, pos, 2, m) || !Expect(s, pos, ':') ||
      !Digits(s, pos, 2, sec) || !Fraction(s, pos, micros) || m > 59 || sec > 59) {
    return false;
  }
  t.set_hours(h);
  t.set_minutes(m);
  t.set_seconds(sec);
  t.set_micros(micros);
  // "-00:00:00" is not negative in the binlog either.
  if (h == 0 && m == 0 && sec == 0 && micros == 0) t.set_negative(false);
  return true;
}

bool ParseDateTime(std::string_view s, v1::DateTime& dt) {
  size_t pos = 0;
  if (!ParseDate(s, pos, *dt.mutable_date()) || !Expect(s, pos, ' ')) return false;
  return ParseClock(s, pos, false, *dt.mutable_time());
}

template <typename T>
bool Integer(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool Decode(ColumnType type, const ColumnDefinition& c, const std::string& s, v1::Value& out) {
  const bool is_unsigned = (c.flags & kUnsignedFlag) != 0;
  switch (type) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong: {
      if (is_unsigned) {
        uint64_t v = 0;
        if (!Integer(s, v)) return false;
        out.set_uint64(v);
      } else {
        int64_t v = 0;
        if (!Integer(s, v)) return false;
        out.set_int64(v);
      }
      return true;
    }
    case ColumnType::kYear: {
      int64_t v = 0;
      if (!Integer(s, v)) return false;
      out.set_int64(v);
      return true;
    }
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      if (s.empty()) return false;
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size()) return false;
      out.set_double_(type == ColumnType::kFloat ? static_cast<double>(static_cast<float>(d)) : d);
      return true;
    }
    case ColumnType::kDecimal:
    case ColumnType::kNewDecimal:
      out.set_decimal(s);
      return true;
    case ColumnType::kBit: {
      if (s.size() > 8) return false;
      uint64_t v = 0;
      for (char ch : s) v = (v << 8) | static_cast<uint8_t>(ch);
      out.set_uint64(v);
      return true;
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate: {
      size_t pos = 0;
      return ParseDate(s, pos, *out.mutable_date()) && pos == s.size();
    }
    case ColumnType::kTime:
    case ColumnType::kTime2: {
      size_t pos = 0;
      return ParseClock(s, pos, true, *out.mutable_time());
    }
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
      return ParseDateTime(s, *out.mutable_datetime());
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2: {
      v1::DateTime dt;
      if (!ParseDateTime(s, dt)) return false;
      const v1::Date& d = dt.date();
      if (d.year() == 0 && d.month() == 0 && d.day() == 0) {
        out.set_timestamp_micros(0);  // the zero timestamp is 0 in the binlog
        return true;
      }
      if (d.month() == 0 || d.day() == 0) return false;
      const int64_t days = DaysFromCivil(d.year(), d.month(), d.day());
      const v1::Time& t = dt.time();
      const int64_t secs = days * 86'400 + int64_t{t.hours()} * 3600 + t.minutes() * 60 + t.seconds();
      out.set_timestamp_micros(secs * 1'000'000 + t.micros());
      return true;
    }
    case ColumnType::kVarchar:
    case ColumnType::kVarString:
    case ColumnType::kString:
    case ColumnType::kEnum:
    case ColumnType::kSet:
    case ColumnType::kTinyBlob:
    case ColumnType::kMediumBlob:
    case ColumnType::kLongBlob:
    case ColumnType::kBlob:
      if ((c.flags & (kEnumFlag | kSetFlag)) == 0 && c.charset == kBinaryCharset) {
        out.set_bytes(s);
      } else {
        out.set_string(s);
      }
      return true;
    case ColumnType::kJson:
      out.set_json(s);
      return true;
    case ColumnType::kGeometry:
      out.set_bytes(s);
      return true;
    default:
      return false;
  }
}

}  // namespace

v1::Value DecodeTextColumn(const ColumnDefinition& column, const std::optional<std::string>& text) {
  v1::Value out;
  if (!text) {
    out.set_null(true);
    return out;
  }
  const auto type = static_cast<ColumnType>(column.type);
  if (!Decode(type, column, *text, out)) {
    out.Clear();
    v1::RawValue* raw = out.mutable_raw();
    raw->set_type_name(std::string(mysql::ColumnTypeName(type)));
    raw->set_text(*text);
  }
  return out;
}

}  // namespace sluice::mysqlclient
