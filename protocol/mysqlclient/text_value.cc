#include "protocol/mysqlclient/text_value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "proto/base/time_format.h"
#include "proto/base/utf8_safe.h"
#include "proto/base/value_wire.h"
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

using DateParts = value_wire::DateParts;
using TimeParts = value_wire::TimeParts;

bool ParseDate(std::string_view s, size_t& pos, DateParts& d) {
  uint32_t y = 0, m = 0, day = 0;
  if (!Digits(s, pos, 4, y) || !Expect(s, pos, '-') || !Digits(s, pos, 2, m) ||
      !Expect(s, pos, '-') || !Digits(s, pos, 2, day) || m > 12 || day > 31) {
    return false;
  }
  d.year = static_cast<int32_t>(y);
  d.month = m;
  d.day = day;
  return true;
}

// "HH:MM:SS[.f]" with exactly two hour digits (DATETIME) or "[-]H+:MM:SS[.f]" (TIME).
bool ParseClock(std::string_view s, size_t& pos, bool duration, TimeParts& t) {
  if (duration && pos < s.size() && s[pos] == '-') {
    t.negative = true;
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
  t.hours = h;
  t.minutes = m;
  t.seconds = sec;
  t.micros = micros;
  // "-00:00:00" is not negative in the binlog either.
  if (h == 0 && m == 0 && sec == 0 && micros == 0) t.negative = false;
  return true;
}

bool ParseDateTime(std::string_view s, DateParts& d, TimeParts& t) {
  size_t pos = 0;
  if (!ParseDate(s, pos, d) || !Expect(s, pos, ' ')) return false;
  return ParseClock(s, pos, false, t);
}

template <typename T>
bool Integer(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// strtod needs a terminated string: short texts are copied to the stack.
bool Double(std::string_view s, double& out) {
  if (s.empty()) return false;
  char small[64];
  std::string large;
  const char* text = small;
  if (s.size() < sizeof(small)) {
    std::memcpy(small, s.data(), s.size());
    small[s.size()] = '\0';
  } else {
    large.assign(s);
    text = large.c_str();
  }
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end == text + s.size();
}

// Where a decoded value goes: a v1::Value message, or its wire bytes.
class MessageSink {
 public:
  explicit MessageSink(v1::Value& v) : v_(v) {}
  void Int64(int64_t v) { v_.set_int64(v); }
  void Uint64(uint64_t v) { v_.set_uint64(v); }
  void Double(double v) { v_.set_double_(v); }
  void Decimal(std::string_view s) { v_.set_decimal(std::string(s)); }
  void String(std::string_view s) { v_.set_string(std::string(s)); }
  void Bytes(std::string_view s) { v_.set_bytes(std::string(s)); }
  void Json(std::string_view s) { v_.set_json(std::string(s)); }
  void Timestamp(int64_t v) { v_.set_timestamp_micros(v); }
  void Date(const DateParts& d) { SetDate(d, *v_.mutable_date()); }
  void Time(const TimeParts& t) { SetTime(t, *v_.mutable_time()); }
  void DateTime(const DateParts& d, const TimeParts& t) {
    SetDate(d, *v_.mutable_datetime()->mutable_date());
    SetTime(t, *v_.mutable_datetime()->mutable_time());
  }

 private:
  static void SetDate(const DateParts& d, v1::Date& out) {
    out.set_year(d.year);
    out.set_month(d.month);
    out.set_day(d.day);
  }
  static void SetTime(const TimeParts& t, v1::Time& out) {
    out.set_negative(t.negative);
    out.set_hours(t.hours);
    out.set_minutes(t.minutes);
    out.set_seconds(t.seconds);
    out.set_micros(t.micros);
  }
  v1::Value& v_;
};

class WireSink {
 public:
  explicit WireSink(std::string& out) : out_(out) {}
  void Int64(int64_t v) { value_wire::AppendInt64(v, out_); }
  void Uint64(uint64_t v) { value_wire::AppendUint64(v, out_); }
  void Double(double v) { value_wire::AppendDouble(v, out_); }
  void Decimal(std::string_view s) { value_wire::AppendDecimal(s, out_); }
  void String(std::string_view s) { value_wire::AppendString(s, out_); }
  void Bytes(std::string_view s) { value_wire::AppendBytes(s, out_); }
  void Json(std::string_view s) { value_wire::AppendJson(s, out_); }
  void Timestamp(int64_t v) { value_wire::AppendTimestampMicros(v, out_); }
  void Date(const DateParts& d) { value_wire::AppendDate(d, out_); }
  void Time(const TimeParts& t) { value_wire::AppendTime(t, out_); }
  void DateTime(const DateParts& d, const TimeParts& t) { value_wire::AppendDateTime(d, t, out_); }

 private:
  std::string& out_;
};

// Decodes `s` into `out`, or returns false having written nothing.
template <typename Sink>
bool Decode(ColumnType type, const ColumnDefinition& c, std::string_view s, Sink& out) {
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
        out.Uint64(v);
      } else {
        int64_t v = 0;
        if (!Integer(s, v)) return false;
        out.Int64(v);
      }
      return true;
    }
    case ColumnType::kYear: {
      int64_t v = 0;
      if (!Integer(s, v)) return false;
      out.Int64(v);
      return true;
    }
    case ColumnType::kFloat:
    case ColumnType::kDouble: {
      double d = 0;
      if (!Double(s, d)) return false;
      out.Double(type == ColumnType::kFloat ? static_cast<double>(static_cast<float>(d)) : d);
      return true;
    }
    case ColumnType::kDecimal:
    case ColumnType::kNewDecimal:
      out.Decimal(s);
      return true;
    case ColumnType::kBit: {
      if (s.size() > 8) return false;
      uint64_t v = 0;
      for (char ch : s) v = (v << 8) | static_cast<uint8_t>(ch);
      out.Uint64(v);
      return true;
    }
    case ColumnType::kDate:
    case ColumnType::kNewDate: {
      size_t pos = 0;
      DateParts d;
      if (!ParseDate(s, pos, d) || pos != s.size()) return false;
      out.Date(d);
      return true;
    }
    case ColumnType::kTime:
    case ColumnType::kTime2: {
      size_t pos = 0;
      TimeParts t;
      if (!ParseClock(s, pos, true, t)) return false;
      out.Time(t);
      return true;
    }
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2: {
      DateParts d;
      TimeParts t;
      if (!ParseDateTime(s, d, t)) return false;
      out.DateTime(d, t);
      return true;
    }
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2: {
      DateParts d;
      TimeParts t;
      if (!ParseDateTime(s, d, t)) return false;
      if (d.year == 0 && d.month == 0 && d.day == 0) {
        out.Timestamp(0);  // the zero timestamp is 0 in the binlog
        return true;
      }
      if (d.month == 0 || d.day == 0) return false;
      const int64_t days = DaysFromCivil(d.year, d.month, d.day);
      const int64_t secs = days * 86'400 + int64_t{t.hours} * 3600 + t.minutes * 60 + t.seconds;
      out.Timestamp(secs * 1'000'000 + t.micros);
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
        out.Bytes(s);
      } else {
        out.String(s);
      }
      return true;
    case ColumnType::kJson:
      out.Json(s);
      return true;
    case ColumnType::kGeometry:
      out.Bytes(s);
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
  MessageSink sink(out);
  if (!Decode(type, column, *text, sink)) {
    v1::RawValue* raw = out.mutable_raw();
    raw->set_type_name(std::string(mysql::ColumnTypeName(type)));
    raw->set_text(*text);
  }
  MakeUtf8Safe(out);  // as value_wire does for AppendTextColumnWire
  return out;
}

void AppendTextColumnWire(const ColumnDefinition& column, std::optional<std::string_view> text,
                          std::string& out) {
  if (!text) {
    value_wire::AppendNull(out);
    return;
  }
  const auto type = static_cast<ColumnType>(column.type);
  WireSink sink(out);
  if (!Decode(type, column, *text, sink)) {
    value_wire::AppendRaw(mysql::ColumnTypeName(type), *text, out);
  }
}

}  // namespace sluice::mysqlclient
