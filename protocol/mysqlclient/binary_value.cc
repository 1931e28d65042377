#include "protocol/mysqlclient/binary_value.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "proto/base/time_format.h"
#include "proto/base/value_wire.h"
#include "protocol/mysql/event_types.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/text_value.h"

namespace sluice::mysqlclient {
namespace {

using mysql::ColumnType;
using value_wire::DateParts;
using value_wire::TimeParts;

uint64_t Le(std::string_view v, size_t at, size_t n) {
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i) x |= uint64_t{static_cast<uint8_t>(v[at + i])} << (8 * i);
  return x;
}

int64_t SignExtend(uint64_t x, size_t bytes) {
  const int shift = 64 - 8 * static_cast<int>(bytes);
  return static_cast<int64_t>(x << shift) >> shift;
}

// Date and clock fields of a DATE/DATETIME/TIMESTAMP field of 0, 4, 7 or 11 bytes.
void ReadDateTime(std::string_view v, DateParts& d, TimeParts& t) {
  if (v.size() >= 4) {
    d.year = static_cast<int32_t>(Le(v, 0, 2));
    d.month = static_cast<uint8_t>(v[2]);
    d.day = static_cast<uint8_t>(v[3]);
  }
  if (v.size() >= 7) {
    t.hours = static_cast<uint8_t>(v[4]);
    t.minutes = static_cast<uint8_t>(v[5]);
    t.seconds = static_cast<uint8_t>(v[6]);
  }
  if (v.size() >= 11) t.micros = static_cast<uint32_t>(Le(v, 7, 4));
}

// A TIME field of 0, 8 or 12 bytes.
void ReadTime(std::string_view v, TimeParts& t) {
  if (v.size() >= 8) {
    t.negative = v[0] != 0;
    t.hours = static_cast<uint32_t>(Le(v, 1, 4));  // days, for now
    const uint32_t hour = static_cast<uint8_t>(v[5]);
    t.hours = t.hours > (UINT32_MAX - hour) / 24 ? UINT32_MAX : t.hours * 24 + hour;
    t.minutes = static_cast<uint8_t>(v[6]);
    t.seconds = static_cast<uint8_t>(v[7]);
  }
  if (v.size() >= 12) t.micros = static_cast<uint32_t>(Le(v, 8, 4));
}

// The ranges in which text_value.cc's parser accepts what the server prints.
bool DateInRange(const DateParts& d) { return d.year <= 9999 && d.month <= 12 && d.day <= 31; }
bool ClockInRange(const TimeParts& t, uint32_t max_hours) {
  return t.hours <= max_hours && t.minutes <= 59 && t.seconds <= 59 && t.micros <= 999'999;
}

void Pad(uint64_t v, int width, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  for (int n = static_cast<int>(end - buf); n < width; ++n) out.push_back('0');
  out.append(buf, end);
}

// What the server prints for these fields (the column's decimals give the fraction digits).
std::string ServerText(const ColumnDefinition& c, bool date, const DateParts& d, bool clock,
                       const TimeParts& t) {
  std::string s;
  if (date) {
    Pad(static_cast<uint64_t>(d.year), 4, s);
    s.push_back('-');
    Pad(d.month, 2, s);
    s.push_back('-');
    Pad(d.day, 2, s);
    if (clock) s.push_back(' ');
  }
  if (clock) {
    if (t.negative) s.push_back('-');
    Pad(t.hours, 2, s);
    s.push_back(':');
    Pad(t.minutes, 2, s);
    s.push_back(':');
    Pad(t.seconds, 2, s);
    const int decimals = c.decimals <= 6 ? c.decimals : 0;
    if (decimals > 0) {
      std::string micros;
      Pad(t.micros, 6, micros);
      s.push_back('.');
      s.append(micros, 0, static_cast<size_t>(decimals));
    }
  }
  return s;
}

// A FLOAT's 4 bytes widened to a double (exactly), and a DOUBLE's 8 bytes.
double FloatBits(uint64_t x) {
  float f;
  const auto bits = static_cast<uint32_t>(x);
  std::memcpy(&f, &bits, sizeof f);
  return static_cast<double>(f);
}
double DoubleBits(uint64_t x) {
  double d;
  std::memcpy(&d, &x, sizeof d);
  return d;
}

absl::Status BadSize(const ColumnDefinition& c, size_t size) {
  return absl::InvalidArgumentError(absl::StrCat("binary value of column '", c.name, "' (type ",
                                                 c.type, "): ", size,
                                                 " bytes do not fit the type"));
}

}  // namespace

absl::Status AppendBinaryColumnWire(const ColumnDefinition& c,
                                    std::optional<std::string_view> value, std::string& out) {
  if (!value) {
    value_wire::AppendNull(out);
    return absl::OkStatus();
  }
  const std::string_view v = *value;
  const int fixed = BinaryFieldSize(c);
  if (fixed > 0 && v.size() != static_cast<size_t>(fixed)) return BadSize(c, v.size());
  const bool is_unsigned = (c.flags & kUnsignedFlag) != 0;
  const auto type = static_cast<ColumnType>(c.type);
  switch (type) {
    case ColumnType::kTiny:
    case ColumnType::kShort:
    case ColumnType::kInt24:
    case ColumnType::kLong:
    case ColumnType::kLongLong: {
      const uint64_t x = Le(v, 0, v.size());
      if (is_unsigned) {
        value_wire::AppendUint64(x, out);
      } else {
        value_wire::AppendInt64(SignExtend(x, v.size()), out);
      }
      return absl::OkStatus();
    }
    case ColumnType::kYear:
      value_wire::AppendInt64(static_cast<int64_t>(Le(v, 0, 2)), out);
      return absl::OkStatus();
    case ColumnType::kFloat:
      value_wire::AppendDouble(FloatBits(Le(v, 0, 4)), out);
      return absl::OkStatus();
    case ColumnType::kDouble:
      value_wire::AppendDouble(DoubleBits(Le(v, 0, 8)), out);
      return absl::OkStatus();
    case ColumnType::kDate:
    case ColumnType::kNewDate:
    case ColumnType::kDateTime:
    case ColumnType::kDateTime2:
    case ColumnType::kTimestamp:
    case ColumnType::kTimestamp2: {
      if (v.size() != 0 && v.size() != 4 && v.size() != 7 && v.size() != 11) {
        return BadSize(c, v.size());
      }
      DateParts d;
      TimeParts t;
      ReadDateTime(v, d, t);
      const bool date_only = type == ColumnType::kDate || type == ColumnType::kNewDate;
      if (!DateInRange(d) || !ClockInRange(t, 99)) {
        AppendTextColumnWire(c, ServerText(c, true, d, !date_only, t), out);
        return absl::OkStatus();
      }
      if (date_only) {
        value_wire::AppendDate(d, out);
      } else if (type == ColumnType::kDateTime || type == ColumnType::kDateTime2) {
        value_wire::AppendDateTime(d, t, out);
      } else if (d.year == 0 && d.month == 0 && d.day == 0) {
        value_wire::AppendTimestampMicros(0, out);  // the zero timestamp is 0 in the binlog
      } else if (d.month == 0 || d.day == 0) {
        AppendTextColumnWire(c, ServerText(c, true, d, true, t), out);  // raw, as from text
      } else {
        const int64_t days = DaysFromCivil(d.year, d.month, d.day);
        const int64_t secs = days * 86'400 + int64_t{t.hours} * 3600 + t.minutes * 60 + t.seconds;
        value_wire::AppendTimestampMicros(secs * 1'000'000 + t.micros, out);
      }
      return absl::OkStatus();
    }
    case ColumnType::kTime:
    case ColumnType::kTime2: {
      if (v.size() != 0 && v.size() != 8 && v.size() != 12) return BadSize(c, v.size());
      TimeParts t;
      ReadTime(v, t);
      if (!ClockInRange(t, 9999)) {
        AppendTextColumnWire(c, ServerText(c, false, DateParts{}, true, t), out);
        return absl::OkStatus();
      }
      // "-00:00:00" is not negative in the binlog either.
      if (t.hours == 0 && t.minutes == 0 && t.seconds == 0 && t.micros == 0) t.negative = false;
      value_wire::AppendTime(t, out);
      return absl::OkStatus();
    }
    default:
      // Sent as the same string in both protocols.
      AppendTextColumnWire(c, v, out);
      return absl::OkStatus();
  }
}

bool BinaryKeyText(const ColumnDefinition& c, std::string_view v, std::string& out) {
  out.clear();
  const int fixed = BinaryFieldSize(c);
  if (fixed < 0) {
    out.assign(v);
    return true;
  }
  const auto type = static_cast<ColumnType>(c.type);
  if (fixed == 0) {
    // A temporal: the text the server prints for the same value ('2026-01-01 00:00:00.000001',
    // '-00:00:00.001'), which a comparison with the column reads back exactly.
    if (type == ColumnType::kTime || type == ColumnType::kTime2) {
      if (v.size() != 0 && v.size() != 8 && v.size() != 12) return false;
      TimeParts t;
      ReadTime(v, t);
      out = ServerText(c, false, DateParts{}, true, t);
      return true;
    }
    if (v.size() != 0 && v.size() != 4 && v.size() != 7 && v.size() != 11) return false;
    DateParts d;
    TimeParts t;
    ReadDateTime(v, d, t);
    out = ServerText(c, true, d, type != ColumnType::kDate && type != ColumnType::kNewDate, t);
    return true;
  }
  if (v.size() != static_cast<size_t>(fixed)) return false;
  const uint64_t x = Le(v, 0, v.size());
  if (type == ColumnType::kFloat || type == ColumnType::kDouble) {
    ExactDoubleText(type == ColumnType::kFloat ? FloatBits(x) : DoubleBits(x), out);
    return true;
  }
  char buf[24];
  if (type == ColumnType::kYear) {
    // As the server prints it: zero-padded to the display width ("0000", not "0", which a
    // YEAR comparison reads as 2000).
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
    (void)ec;
    const size_t digits = static_cast<size_t>(end - buf);
    const size_t width = std::min<size_t>(c.length == 0 ? 4 : c.length, 4);
    if (digits < width) out.assign(width - digits, '0');
    out.append(buf, end);
    return true;
  }
  const bool is_unsigned = (c.flags & kUnsignedFlag) != 0;
  const auto [end, ec] = is_unsigned
                             ? std::to_chars(buf, buf + sizeof buf, x)
                             : std::to_chars(buf, buf + sizeof buf, SignExtend(x, v.size()));
  (void)ec;
  out.assign(buf, end);
  return true;
}

void ExactDoubleText(double d, std::string& out) {
  char buf[32];  // the shortest round-trip form of a double is at most 24 characters
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  (void)ec;
  out.assign(buf, end);
}

}  // namespace sluice::mysqlclient
