#include "proto/base/value_json.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "proto/base/format_internal.h"
#include "proto/base/time_format.h"
#include "proto/base/utf8.h"

namespace sluice {

using internal::AppendDecimal;
using internal::AppendPaddedDecimal;

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
// Utf8Sequence (utf8.h) tells well-formed sequences from the maximal ill-formed subparts.

// True for the ASCII bytes that a JSON string can hold unescaped.
constexpr bool IsPlainAscii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void AppendEscapedAscii(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(escape, sizeof(escape));
      return;
    }
  }
}

// The escape of a control character, '"' or '\\' written at `out`; returns its end.
char* PutEscapedAscii(unsigned char c, char* out) {
  char second = 0;
  switch (c) {
    case '"':
      second = '"';
      break;
    case '\\':
      second = '\\';
      break;
    case '\b':
      second = 'b';
      break;
    case '\f':
      second = 'f';
      break;
    case '\n':
      second = 'n';
      break;
    case '\r':
      second = 'r';
      break;
    case '\t':
      second = 't';
      break;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      std::memcpy(out, escape, sizeof(escape));
      return out + sizeof(escape);
    }
  }
  out[0] = '\\';
  out[1] = second;
  return out + 2;
}

// True when none of the 8 bytes of `x` needs attention in a JSON string: each is printable
// ASCII other than '"' and '\\'. (A byte b < n exists iff (x - n*0x01..) & ~x & 0x80.. != 0,
// for n <= 0x80; a byte equal to c exists iff x ^ c*0x01.. has a zero byte.)
// (The 8-byte words are built and stored in little-endian order.)
static_assert(std::endian::native == std::endian::little);
bool AllPlainAscii(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const uint64_t control = (x - 0x20 * kOnes) & ~x & kHigh;
  return ((x & kHigh) | control | has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes))) ==
         0;
}

// ---------------------------------------------------------------------------------------------
// Strict RFC 8259 validation with whitespace removal, for `json` values.

class JsonMinifier {
 public:
  JsonMinifier(std::string_view in, std::string& out) : in_(in), out_(out) {}

  bool Run() {
    std::string stack;  // '{' or '[' for each open container
    for (;;) {
      // A value is expected here.
      SkipWhitespace();
      if (AtEnd()) return false;
      const char c = in_[pos_];
      if (c == '{' || c == '[') {
        if (stack.size() >= kMaxJsonNestingDepth) return false;
        const char close = c == '{' ? '}' : ']';
        out_.push_back(c);
        ++pos_;
        SkipWhitespace();
        if (!AtEnd() && in_[pos_] == close) {
          out_.push_back(close);
          ++pos_;
        } else {
          stack.push_back(c);
          if (c == '{' && !MemberName()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!String()) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!Number()) return false;
      } else if (!Literal("true") && !Literal("false") && !Literal("null")) {
        return false;
      }
      // A value is complete: close containers until one wants another element.
      for (;;) {
        SkipWhitespace();
        if (stack.empty()) return AtEnd();
        if (AtEnd()) return false;
        const char d = in_[pos_];
        const bool in_object = stack.back() == '{';
        if (d == ',') {
          out_.push_back(',');
          ++pos_;
          if (in_object && !MemberName()) return false;
          break;
        }
        if (d != (in_object ? '}' : ']')) return false;
        out_.push_back(d);
        ++pos_;
        stack.pop_back();
      }
    }
  }

 private:
  bool AtEnd() const { return pos_ >= in_.size(); }

  void SkipWhitespace() {
    while (!AtEnd()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  // `"name" :` inside an object.
  bool MemberName() {
    SkipWhitespace();
    if (AtEnd() || in_[pos_] != '"' || !String()) return false;
    SkipWhitespace();
    if (AtEnd() || in_[pos_] != ':') return false;
    out_.push_back(':');
    ++pos_;
    return true;
  }

  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    out_.append(word);
    pos_ += word.size();
    return true;
  }

  size_t SkipDigits() {
    const size_t start = pos_;
    while (!AtEnd() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    return pos_ - start;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    const size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    if (AtEnd()) return false;
    if (in_[pos_] == '0') {
      ++pos_;
    } else if (SkipDigits() == 0) {
      return false;
    }
    if (!AtEnd() && in_[pos_] == '.') {
      ++pos_;
      if (SkipDigits() == 0) return false;
    }
    if (!AtEnd() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (!AtEnd() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (SkipDigits() == 0) return false;
    }
    out_.append(in_.substr(start, pos_ - start));
    return true;
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads "uXXXX" at pos_ (just after a backslash).
  bool UnicodeEscape(uint32_t& code) {
    if (pos_ + 5 > in_.size() || in_[pos_] != 'u') return false;
    code = 0;
    for (size_t i = 1; i <= 4; ++i) {
      const int h = HexValue(in_[pos_ + i]);
      if (h < 0) return false;
      code = (code << 4) | static_cast<uint32_t>(h);
    }
    pos_ += 5;
    return true;
  }

  bool String() {
    const size_t start = pos_;
    ++pos_;  // opening quote
    const auto* bytes = reinterpret_cast<const unsigned char*>(in_.data());
    for (;;) {
      if (AtEnd()) return false;
      const unsigned char c = bytes[pos_];
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c < 0x80 && c != '\\') {
        ++pos_;
        continue;
      }
      if (c >= 0x80) {
        const int len = Utf8Sequence(bytes + pos_, in_.size() - pos_);
        if (len < 0) return false;
        pos_ += static_cast<size_t>(len);
        continue;
      }
      ++pos_;  // backslash
      if (AtEnd()) return false;
      switch (in_[pos_]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          ++pos_;
          break;
        case 'u': {
          uint32_t code = 0;
          if (!UnicodeEscape(code)) return false;
          if (code >= 0xDC00 && code <= 0xDFFF) return false;  // unpaired low surrogate
          if (code >= 0xD800 && code <= 0xDBFF) {
            uint32_t low = 0;
            if (AtEnd() || in_[pos_] != '\\') return false;
            ++pos_;
            if (!UnicodeEscape(low) || low < 0xDC00 || low > 0xDFFF) return false;
          }
          break;
        }
        default:
          return false;
      }
    }
    ++pos_;  // closing quote
    out_.append(in_.substr(start, pos_ - start));
    return true;
  }

  std::string_view in_;
  std::string& out_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Dates and times.

// Appends "YYYY-MM-DD" (at least 4 year digits; a negative year as its absolute value) and
// returns whether the year is BC, for the caller to append " BC" at the end.
bool AppendDateDigits(const v1::Date& date, std::string& out) {
  const int64_t year = date.year();
  const bool bc = year < 0;
  AppendPaddedDecimal(static_cast<uint64_t>(bc ? -year : year), 4, out);
  out.push_back('-');
  AppendPaddedDecimal(date.month(), 2, out);
  out.push_back('-');
  AppendPaddedDecimal(date.day(), 2, out);
  return bc;
}

// Appends "HH:MM:SS[.f]" (at least 2 hour digits), without sign or zone.
void AppendTimeOfDay(const v1::Time& time, std::string& out) {
  AppendPaddedDecimal(time.hours(), 2, out);
  out.push_back(':');
  AppendPaddedDecimal(time.minutes(), 2, out);
  out.push_back(':');
  AppendPaddedDecimal(time.seconds(), 2, out);
  AppendFraction(time.micros(), out);
}

// "+05:30", "-08:00", "+00:00"; "+05:53:28" when the offset has seconds.
void AppendUtcOffset(int32_t offset_seconds, std::string& out) {
  const int64_t offset = offset_seconds;
  const uint64_t magnitude = static_cast<uint64_t>(offset < 0 ? -offset : offset);
  out.push_back(offset < 0 ? '-' : '+');
  AppendPaddedDecimal(magnitude / 3600, 2, out);
  out.push_back(':');
  AppendPaddedDecimal(magnitude / 60 % 60, 2, out);
  if (magnitude % 60 != 0) {
    out.push_back(':');
    AppendPaddedDecimal(magnitude % 60, 2, out);
  }
}

void AppendDateJson(const v1::Date& date, std::string& out) {
  if (date.infinity() != 0) {
    out += date.infinity() > 0 ? "\"infinity\"" : "\"-infinity\"";
    return;
  }
  out.push_back('"');
  if (AppendDateDigits(date, out)) out += " BC";
  out.push_back('"');
}

void AppendTimeJson(const v1::Time& time, std::string& out) {
  out.push_back('"');
  if (time.negative() &&
      (time.hours() != 0 || time.minutes() != 0 || time.seconds() != 0 || time.micros() != 0)) {
    out.push_back('-');
  }
  AppendTimeOfDay(time, out);
  if (time.has_utc_offset_seconds()) AppendUtcOffset(time.utc_offset_seconds(), out);
  out.push_back('"');
}

void AppendDateTimeJson(const v1::DateTime& datetime, std::string& out) {
  if (datetime.date().infinity() != 0) {
    out += datetime.date().infinity() > 0 ? "\"infinity\"" : "\"-infinity\"";
    return;
  }
  out.push_back('"');
  const bool bc = AppendDateDigits(datetime.date(), out);
  out.push_back(' ');
  AppendTimeOfDay(datetime.time(), out);  // a DateTime's time has no sign and no zone
  if (bc) out += " BC";
  out.push_back('"');
}

// ISO 8601 with Postgres' IntervalStyle iso_8601 rules (EncodeInterval): the fields are split
// with truncating division, so each carries the sign of what it came from, and zero fields are
// left out.
void AppendIntervalJson(const v1::Interval& interval, std::string& out) {
  const int64_t years = interval.months() / 12;
  const int64_t months = interval.months() % 12;
  const int64_t days = interval.days();
  int64_t rest = interval.micros();
  const int64_t hours = rest / (3600 * kMicrosPerSecond);
  rest -= hours * 3600 * kMicrosPerSecond;
  const int64_t minutes = rest / (60 * kMicrosPerSecond);
  rest -= minutes * 60 * kMicrosPerSecond;
  const int64_t seconds = rest / kMicrosPerSecond;
  const int64_t fraction = rest - seconds * kMicrosPerSecond;

  out += "\"P";
  if (years == 0 && months == 0 && days == 0 && interval.micros() == 0) {
    out += "T0S\"";
    return;
  }
  auto part = [&out](int64_t value, char unit) {
    if (value == 0) return;
    AppendDecimal(value, out);
    out.push_back(unit);
  };
  part(years, 'Y');
  part(months, 'M');
  part(days, 'D');
  if (interval.micros() != 0) out.push_back('T');
  part(hours, 'H');
  part(minutes, 'M');
  if (seconds != 0 || fraction != 0) {
    if (seconds < 0 || fraction < 0) out.push_back('-');
    AppendDecimal(seconds < 0 ? -seconds : seconds, out);
    AppendFraction(static_cast<uint32_t>(fraction < 0 ? -fraction : fraction), out);
    out.push_back('S');
  }
  out.push_back('"');
}

void AppendDoubleJson(double d, std::string& out) {
  char buf[kMaxDoubleJson];
  out.append(buf, PutDoubleJson(buf, d));
}

}  // namespace

void AppendJsonString(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (IsPlainAscii(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const int len = Utf8Sequence(p + i, n - i);
      if (len > 0) {
        i += static_cast<size_t>(len);
        continue;
      }
      out.append(s.data() + run, i - run);
      out.append(kReplacementCharacter);
      i += static_cast<size_t>(-len);
      run = i;
      continue;
    }
    out.append(s.data() + run, i - run);
    AppendEscapedAscii(c, out);
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
}

char* PutDoubleJson(char* out, double d) {
  if (std::isnan(d)) {
    constexpr std::string_view kNaN = "\"NaN\"";
    return std::copy(kNaN.begin(), kNaN.end(), out);
  }
  if (std::isinf(d)) {
    const std::string_view text = d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return std::copy(text.begin(), text.end(), out);
  }
  // Shortest text that reads back as the same double; either fixed or scientific, whichever is
  // shorter: 1, 0.1, 1e+20, 1e-07, -0. All are valid JSON numbers.
  return std::to_chars(out, out + kMaxDoubleJson, d).ptr;
}

char* PutJsonString(char* out, std::string_view s) {
  *out++ = '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t x;
      std::memcpy(&x, p + i, sizeof x);
      if (!AllPlainAscii(x)) break;
      std::memcpy(out, p + i, sizeof x);
      out += sizeof x;
      i += sizeof x;
    }
    if (i == n) break;
    if (n - i < 8) {
      // The last few bytes as one word padded with spaces; when all are plain, one 8-byte
      // store (the padding lands in the room JsonStringRoom leaves) and done.
      uint64_t x = 0x2020202020202020ULL;
      for (size_t k = 0; k < n - i; ++k) {
        x = (x & ~(uint64_t{0xFF} << (8 * k))) | (uint64_t{p[i + k]} << (8 * k));
      }
      if (AllPlainAscii(x)) {
        std::memcpy(out, &x, sizeof x);
        out += n - i;
        break;
      }
    }
    const unsigned char c = p[i];
    if (IsPlainAscii(c)) {
      *out++ = static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const int len = Utf8Sequence(p + i, n - i);
      if (len > 0) {
        std::memcpy(out, p + i, static_cast<size_t>(len));
        out += len;
        i += static_cast<size_t>(len);
      } else {
        std::memcpy(out, kReplacementCharacter.data(), kReplacementCharacter.size());
        out += kReplacementCharacter.size();
        i += static_cast<size_t>(-len);
      }
      continue;
    }
    out = PutEscapedAscii(c, out);
    ++i;
  }
  *out++ = '"';
  return out;
}

void AppendBase64(std::string_view bytes, std::string& out) {
  const size_t start = out.size();
  out.resize(start + (bytes.size() + 2) / 3 * 4);
  PutBase64(out.data() + start, bytes);
}

char* PutBase64(char* dst, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *dst++ = kAlphabet[v >> 18];
    *dst++ = kAlphabet[(v >> 12) & 0x3F];
    *dst++ = kAlphabet[(v >> 6) & 0x3F];
    *dst++ = kAlphabet[v & 0x3F];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    *dst++ = kAlphabet[v >> 18];
    *dst++ = kAlphabet[(v >> 12) & 0x3F];
    *dst++ = '=';
    *dst++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *dst++ = kAlphabet[v >> 18];
    *dst++ = kAlphabet[(v >> 12) & 0x3F];
    *dst++ = kAlphabet[(v >> 6) & 0x3F];
    *dst++ = '=';
  }
  return dst;
}

bool AppendMinifiedJson(std::string_view text, std::string& out) {
  const size_t start = out.size();
  if (JsonMinifier(text, out).Run()) return true;
  out.resize(start);
  return false;
}

void AppendValueJson(const v1::Value& value, std::string& out) {
  switch (value.kind_case()) {
    case v1::Value::kInt64:
      AppendDecimal(value.int64(), out);
      return;
    case v1::Value::kUint64:
      AppendDecimal(value.uint64(), out);
      return;
    case v1::Value::kDouble:
      AppendDoubleJson(value.double_(), out);
      return;
    case v1::Value::kDecimal:
      AppendJsonString(value.decimal(), out);
      return;
    case v1::Value::kString:
      AppendJsonString(value.string(), out);
      return;
    case v1::Value::kBytes:
      out.push_back('"');
      AppendBase64(value.bytes(), out);
      out.push_back('"');
      return;
    case v1::Value::kBool:
      out += value.bool_() ? "true" : "false";
      return;
    case v1::Value::kDate:
      AppendDateJson(value.date(), out);
      return;
    case v1::Value::kTime:
      AppendTimeJson(value.time(), out);
      return;
    case v1::Value::kDatetime:
      AppendDateTimeJson(value.datetime(), out);
      return;
    case v1::Value::kTimestampMicros:
      out.push_back('"');
      AppendTimestampMicros(value.timestamp_micros(), out);
      out.push_back('"');
      return;
    case v1::Value::kJson:
      if (!AppendMinifiedJson(value.json(), out)) AppendJsonString(value.json(), out);
      return;
    case v1::Value::kArray: {
      out.push_back('[');
      bool first = true;
      for (const v1::Value& element : value.array().elements()) {
        if (!first) out.push_back(',');
        first = false;
        AppendValueJson(element, out);
      }
      out.push_back(']');
      return;
    }
    case v1::Value::kRaw:
      AppendJsonString(value.raw().text(), out);
      return;
    case v1::Value::kInterval:
      AppendIntervalJson(value.interval(), out);
      return;
    case v1::Value::kNull:
    case v1::Value::KIND_NOT_SET:
      break;
  }
  out += "null";
}

std::string ValueToJson(const v1::Value& value) {
  std::string out;
  AppendValueJson(value, out);
  return out;
}

void AppendRowJson(const v1::Row& row, std::string& out) {
  out.push_back('{');
  bool first = true;
  for (const v1::Field& field : row.fields()) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(field.name(), out);
    out.push_back(':');
    AppendValueJson(field.value(), out);
  }
  out.push_back('}');
}

}  // namespace sluice
