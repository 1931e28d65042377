#include "protocol/postgres/pg_value_wire.h"

#include <charconv>

#include "proto/base/value_wire.h"
#include "protocol/postgres/pg_datetime.h"
#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [-] 1*DIGIT [. 1*DIGIT]: what numeric_out prints for a finite value.
bool IsPlainNumeric(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  const size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == int_start) return false;
  if (i < s.size() && s[i] == '.') {
    const size_t frac_start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == frac_start) return false;
  }
  return i == s.size();
}

// Exactly `n` digits at `pos`.
bool Fixed(std::string_view s, size_t pos, size_t n, uint32_t& out) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + static_cast<uint32_t>(s[pos + i] - '0');
  }
  out = v;
  return true;
}

// "YYYY-MM-DD HH:MM:SS[.f{1,6}]" with every field in a range that no calendar check can reject
// (day <= 28); anything else (BC, infinity, year > 9999, day 29-31, leap second, 24:00:00)
// takes the general path.
bool PlainTimestamp(std::string_view s, value_wire::DateParts& d, value_wire::TimeParts& t) {
  if (s.size() < 19 || s.size() == 20 || s.size() > 26) return false;
  uint32_t y = 0, mo = 0, day = 0, h = 0, mi = 0, sec = 0;
  if (!Fixed(s, 0, 4, y) || s[4] != '-' || !Fixed(s, 5, 2, mo) || s[7] != '-' ||
      !Fixed(s, 8, 2, day) || s[10] != ' ' || !Fixed(s, 11, 2, h) || s[13] != ':' ||
      !Fixed(s, 14, 2, mi) || s[16] != ':' || !Fixed(s, 17, 2, sec)) {
    return false;
  }
  if (y == 0 || mo < 1 || mo > 12 || day < 1 || day > 28 || h > 23 || mi > 59 || sec > 59) {
    return false;
  }
  uint32_t micros = 0;
  if (s.size() > 19) {
    if (s[19] != '.') return false;
    const size_t n = s.size() - 20;
    if (!Fixed(s, 20, n, micros)) return false;
    for (size_t i = n; i < 6; ++i) micros *= 10;
  }
  d = {static_cast<int32_t>(y), mo, day};
  t = {false, h, mi, sec, micros};
  return true;
}

// The fast path; false when the general decoder must decide.
bool AppendFast(uint32_t oid, std::string_view text, std::string& out) {
  switch (oid) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t v = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, v);
      if (text.empty() || ec != std::errc() || ptr != end) return false;
      value_wire::AppendInt64(v, out);
      return true;
    }
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kNameOid:
    case kUuidOid:
      value_wire::AppendString(text, out);
      return true;
    case kNumericOid:
      if (!IsPlainNumeric(text)) return false;
      value_wire::AppendDecimal(text, out);
      return true;
    case kBoolOid:
      if (text != "t" && text != "f") return false;
      value_wire::AppendBool(text == "t", out);
      return true;
    case kJsonOid:
    case kJsonbOid:
      value_wire::AppendJson(text, out);
      return true;
    case kTimestampOid: {
      value_wire::DateParts d;
      value_wire::TimeParts t;
      if (!PlainTimestamp(text, d, t)) return false;
      value_wire::AppendDateTime(d, t, out);
      return true;
    }
    case kTimestamptzOid: {
      std::optional<int64_t> micros = ParsePgTimestamptz(text);
      if (!micros) return false;
      value_wire::AppendTimestampMicros(*micros, out);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

void AppendTextValueWire(uint32_t type_oid, std::optional<std::string_view> text,
                         const TypeResolver& resolver, std::string& out) {
  if (!text) {
    value_wire::AppendNull(out);
    return;
  }
  if (AppendFast(type_oid, *text, out)) return;
  DecodeTextValue(type_oid, *text, resolver).AppendToString(&out);
}

}  // namespace sluice::postgres
