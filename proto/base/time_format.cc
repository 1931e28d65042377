#include "proto/base/time_format.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/base/format_internal.h"

namespace sluice {

using internal::AppendPaddedDecimal;

int64_t DaysFromCivil(int64_t year, uint32_t month, uint32_t day) {
  // Howard Hinnant's days_from_civil: eras of 400 years starting on March 1st.
  const int64_t y = year - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                       // [0, 399]
  const int64_t mp = month > 2 ? month - 3 : month + 9;                    // [0, 11], March = 0
  const int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(day) - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  CivilDate date;
  date.day = static_cast<uint32_t>(doy - (153 * mp + 2) / 5 + 1);
  date.month = static_cast<uint32_t>(mp < 10 ? mp + 3 : mp - 9);
  date.year = yoe + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

uint32_t DaysInMonth(int64_t year, uint32_t month) {
  static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

void AppendFraction(uint32_t micros, std::string& out) {
  if (micros == 0) return;
  char buf[16];
  const auto result = std::to_chars(buf, buf + sizeof(buf), micros);
  int len = static_cast<int>(result.ptr - buf);
  out.push_back('.');
  if (len < 6) out.append(static_cast<size_t>(6 - len), '0');
  // Out-of-range values (a million and more) keep all their digits, so they stay visible.
  if (len <= 6) {
    while (len > 0 && buf[len - 1] == '0') --len;
  }
  out.append(buf, static_cast<size_t>(len));
}

std::string FormatFraction(uint32_t micros) {
  std::string out;
  AppendFraction(micros, out);
  return out;
}

void AppendTimestampMicros(int64_t micros, std::string& out) {
  if (micros == kInfinityMicros) {
    out += "infinity";
    return;
  }
  if (micros == kMinusInfinityMicros) {
    out += "-infinity";
    return;
  }
  // Floor division, so that times before 1970 get a non-negative time of day.
  int64_t days = micros / kMicrosPerDay;
  int64_t time = micros % kMicrosPerDay;
  if (time < 0) {
    time += kMicrosPerDay;
    --days;
  }
  const CivilDate date = CivilFromDays(days);
  const bool bc = date.year <= 0;
  const uint64_t year = static_cast<uint64_t>(bc ? 1 - date.year : date.year);
  const int64_t seconds = time / kMicrosPerSecond;
  AppendPaddedDecimal(year, 4, out);
  out.push_back('-');
  AppendPaddedDecimal(date.month, 2, out);
  out.push_back('-');
  AppendPaddedDecimal(date.day, 2, out);
  out.push_back('T');
  AppendPaddedDecimal(static_cast<uint64_t>(seconds / 3600), 2, out);
  out.push_back(':');
  AppendPaddedDecimal(static_cast<uint64_t>(seconds / 60 % 60), 2, out);
  out.push_back(':');
  AppendPaddedDecimal(static_cast<uint64_t>(seconds % 60), 2, out);
  AppendFraction(static_cast<uint32_t>(time % kMicrosPerSecond), out);
  out.push_back('Z');
  if (bc) out += " BC";
}

std::string FormatTimestampMicros(int64_t micros) {
  std::string out;
  AppendTimestampMicros(micros, out);
  return out;
}

namespace {

// A forward-only cursor over the timestamp text.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  // Reads between min_digits and max_digits decimal digits (as many as are there).
  bool Digits(int min_digits, int max_digits, int64_t& value, int* count = nullptr) {
    int n = 0;
    value = 0;
    while (n < max_digits && !AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (count != nullptr) *count = n;
    return n >= min_digits;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

absl::Status InvalidTimestamp(std::string_view text, std::string_view what) {
  std::string message = "invalid timestamp ";
  message += internal::QuoteForError(text);
  message += ": ";
  message += what;
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(std::string_view text) {
  if (text == "infinity") return kInfinityMicros;
  if (text == "-infinity") return kMinusInfinityMicros;

  constexpr std::string_view kBcSuffix = " BC";
  const bool bc = text.size() > kBcSuffix.size() && text.ends_with(kBcSuffix);
  Scanner s(bc ? text.substr(0, text.size() - kBcSuffix.size()) : text);
  int64_t year = 0, month = 0, day = 0;
  if (!s.Digits(4, 6, year) || !s.Consume('-') || !s.Digits(2, 2, month) || !s.Consume('-') ||
      !s.Digits(2, 2, day)) {
    return InvalidTimestamp(text, "expected a date YYYY-MM-DD");
  }

  int64_t hour = 0, minute = 0, second = 0, fraction_micros = 0, offset_seconds = 0;
  if (!s.AtEnd() && (s.Consume('T') || s.Consume('t') || s.Consume(' '))) {
    if (!s.Digits(2, 2, hour) || !s.Consume(':') || !s.Digits(2, 2, minute)) {
      return InvalidTimestamp(text, "expected a time HH:MM[:SS[.fraction]]");
    }
    if (s.Consume(':')) {
      if (!s.Digits(2, 2, second)) return InvalidTimestamp(text, "expected seconds SS");
      if (s.Consume('.')) {
        int64_t digits = 0;
        int count = 0;
        if (!s.Digits(1, 9, digits, &count)) {
          return InvalidTimestamp(text, "expected fraction digits after '.'");
        }
        for (int i = count; i < 9; ++i) digits *= 10;
        fraction_micros = digits / 1000;  // nanoseconds -> microseconds, truncating
      }
    }
    if (s.Consume('Z') || s.Consume('z')) {
      // UTC.
    } else if (s.Peek() == '+' || s.Peek() == '-') {
      const int64_t sign = s.Peek() == '-' ? -1 : 1;
      s.Consume(s.Peek());
      int64_t oh = 0, om = 0, os = 0;
      if (!s.Digits(2, 2, oh)) return InvalidTimestamp(text, "expected a zone offset +HH[:MM]");
      if (s.Consume(':')) {
        if (!s.Digits(2, 2, om)) return InvalidTimestamp(text, "expected zone offset minutes");
        if (s.Consume(':') && !s.Digits(2, 2, os)) {
          return InvalidTimestamp(text, "expected zone offset seconds");
        }
      } else if (s.Peek() >= '0' && s.Peek() <= '9') {
        if (!s.Digits(2, 2, om)) return InvalidTimestamp(text, "expected zone offset minutes");
      }
      if (oh > 23 || om > 59 || os > 59) return InvalidTimestamp(text, "zone offset out of range");
      offset_seconds = sign * (oh * 3600 + om * 60 + os);
    }
  }
  if (!s.AtEnd()) return InvalidTimestamp(text, "unexpected trailing characters");

  if (year == 0) return InvalidTimestamp(text, "year 0 does not exist (1 BC is \"0001-... BC\")");
  if (bc) year = 1 - year;  // astronomical numbering
  if (month < 1 || month > 12) return InvalidTimestamp(text, "month out of range");
  if (day < 1 || day > DaysInMonth(year, static_cast<uint32_t>(month))) {
    return InvalidTimestamp(text, "day out of range");
  }
  if (hour > 23 || minute > 59 || second > 59) return InvalidTimestamp(text, "time out of range");

  // Years of at most 6 digits keep every intermediate value far inside int64; only the final
  // sum can leave the representable (finite) range.
  const int64_t days =
      DaysFromCivil(year, static_cast<uint32_t>(month), static_cast<uint32_t>(day));
  const __int128 micros = static_cast<__int128>(days) * kMicrosPerDay +
                          (hour * 3600 + minute * 60 + second - offset_seconds) * kMicrosPerSecond +
                          fraction_micros;
  if (micros <= static_cast<__int128>(INT64_MIN) || micros >= static_cast<__int128>(INT64_MAX)) {
    return InvalidTimestamp(text, "out of the representable range");
  }
  return static_cast<int64_t>(micros);
}

}  // namespace sluice
