#include "protocol/postgres/pg_datetime.h"

#include <limits>

#include "proto/base/time_format.h"

namespace sluice::postgres {
namespace {

// A cursor over ASCII text; every Take* either consumes what it describes or returns false
// leaving the cursor unspecified (callers give up on false).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool TakeLiteral(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  // Between min and max digits, value must fit uint64 without overflow.
  bool TakeDigits(size_t min, size_t max, uint64_t& out) {
    size_t n = 0;
    uint64_t v = 0;
    while (pos_ < s_.size() && n < max && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) return false;
      v = v * 10 + static_cast<uint64_t>(s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min) return false;
    out = v;
    return true;
  }
  bool AtDigit() const { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// "." 1*6DIGIT -> micros, or nothing -> 0.
bool TakeFraction(Cursor& c, uint32_t& micros) {
  micros = 0;
  if (!c.Take('.')) return true;
  uint64_t digits = 0;
  uint32_t scale = 1;
  size_t n = 0;
  while (c.AtDigit()) {
    if (n == 6) return false;
    uint64_t d = 0;
    c.TakeDigits(1, 1, d);
    digits = digits * 10 + d;
    ++n;
  }
  if (n == 0) return false;
  for (size_t i = n; i < 6; ++i) scale *= 10;
  micros = static_cast<uint32_t>(digits * scale);
  return true;
}

// YEAR "-" MM "-" DD, validated later against the era.
struct RawDate {
  uint64_t year = 0, month = 0, day = 0;
};

bool TakeDate(Cursor& c, RawDate& d) {
  return c.TakeDigits(4, 9, d.year) && c.Take('-') && c.TakeDigits(2, 2, d.month) && c.Take('-') &&
         c.TakeDigits(2, 2, d.day);
}

// Checks the date and converts it: BC years become negative (44 BC -> -44).
std::optional<v1::Date> MakeDate(const RawDate& d, bool bc) {
  if (d.year == 0 || d.month < 1 || d.month > 12 || d.day < 1) return std::nullopt;
  const int64_t astronomical = bc ? 1 - static_cast<int64_t>(d.year) : static_cast<int64_t>(d.year);
  if (d.day > DaysInMonth(astronomical, static_cast<uint32_t>(d.month))) return std::nullopt;
  v1::Date out;
  out.set_year(bc ? -static_cast<int32_t>(d.year) : static_cast<int32_t>(d.year));
  out.set_month(static_cast<uint32_t>(d.month));
  out.set_day(static_cast<uint32_t>(d.day));
  return out;
}

bool TakeTime(Cursor& c, v1::Time& t) {
  uint64_t h = 0, m = 0, s = 0;
  uint32_t micros = 0;
  if (!(c.TakeDigits(2, 2, h) && c.Take(':') && c.TakeDigits(2, 2, m) && c.Take(':') &&
        c.TakeDigits(2, 2, s) && TakeFraction(c, micros))) {
    return false;
  }
  if (h > 24 || m > 59 || s > 60) return false;
  if (h == 24 && (m != 0 || s != 0 || micros != 0)) return false;
  t.set_hours(static_cast<uint32_t>(h));
  t.set_minutes(static_cast<uint32_t>(m));
  t.set_seconds(static_cast<uint32_t>(s));
  t.set_micros(micros);
  return true;
}

// ("+" | "-") HH [":" MM [":" SS]] -> seconds east of UTC.
bool TakeZone(Cursor& c, int32_t& offset) {
  int sign = 0;
  if (c.Take('+')) {
    sign = 1;
  } else if (c.Take('-')) {
    sign = -1;
  } else {
    return false;
  }
  uint64_t h = 0, m = 0, s = 0;
  if (!c.TakeDigits(2, 2, h)) return false;
  if (c.Take(':')) {
    if (!c.TakeDigits(2, 2, m)) return false;
    if (c.Take(':') && !c.TakeDigits(2, 2, s)) return false;
  }
  if (h > 15 || m > 59 || s > 59) return false;  // Postgres limits offsets to 15:59:59
  offset = sign * static_cast<int32_t>(h * 3600 + m * 60 + s);
  return true;
}

std::optional<v1::Date> InfiniteDate(std::string_view text) {
  v1::Date d;
  if (text == "infinity") {
    d.set_infinity(1);
    return d;
  }
  if (text == "-infinity") {
    d.set_infinity(-1);
    return d;
  }
  return std::nullopt;
}

bool MulAdd(int64_t a, int64_t mul, int64_t add, int64_t& out) {
  int64_t t = 0;
  return !__builtin_mul_overflow(a, mul, &t) && !__builtin_add_overflow(t, add, &out);
}

}  // namespace

std::optional<v1::Date> ParsePgDate(std::string_view text) {
  if (auto inf = InfiniteDate(text)) return inf;
  Cursor c(text);
  RawDate d;
  if (!TakeDate(c, d)) return std::nullopt;
  const bool bc = c.TakeLiteral(" BC");
  if (!c.done()) return std::nullopt;
  return MakeDate(d, bc);
}

std::optional<v1::Time> ParsePgTime(std::string_view text) {
  Cursor c(text);
  v1::Time t;
  if (!TakeTime(c, t) || !c.done()) return std::nullopt;
  return t;
}

std::optional<v1::Time> ParsePgTimetz(std::string_view text) {
  Cursor c(text);
  v1::Time t;
  int32_t offset = 0;
  if (!TakeTime(c, t) || !TakeZone(c, offset) || !c.done()) return std::nullopt;
  t.set_utc_offset_seconds(offset);
  return t;
}

std::optional<v1::DateTime> ParsePgTimestamp(std::string_view text) {
  v1::DateTime out;
  if (auto inf = InfiniteDate(text)) {
    *out.mutable_date() = *inf;
    return out;
  }
  Cursor c(text);
  RawDate d;
  v1::Time t;
  if (!TakeDate(c, d) || !c.Take(' ') || !TakeTime(c, t)) return std::nullopt;
  const bool bc = c.TakeLiteral(" BC");
  if (!c.done()) return std::nullopt;
  std::optional<v1::Date> date = MakeDate(d, bc);
  if (!date) return std::nullopt;
  *out.mutable_date() = *date;
  *out.mutable_time() = t;
  return out;
}

std::optional<int64_t> ParsePgTimestamptz(std::string_view text) {
  if (text == "infinity") return kInfinityMicros;
  if (text == "-infinity") return kMinusInfinityMicros;
  Cursor c(text);
  RawDate d;
  v1::Time t;
  int32_t offset = 0;
  if (!TakeDate(c, d) || !c.Take(' ') || !TakeTime(c, t) || !TakeZone(c, offset)) {
    return std::nullopt;
  }
  const bool bc = c.TakeLiteral(" BC");
  if (!c.done()) return std::nullopt;
  if (!MakeDate(d, bc)) return std::nullopt;
  if (d.year > 1'000'000) return std::nullopt;  // far outside Postgres' range; keeps math exact
  const int64_t year = bc ? 1 - static_cast<int64_t>(d.year) : static_cast<int64_t>(d.year);
  const int64_t days =
      DaysFromCivil(year, static_cast<uint32_t>(d.month), static_cast<uint32_t>(d.day));
  const int64_t seconds =
      static_cast<int64_t>(t.hours()) * 3600 + t.minutes() * 60 + t.seconds() - offset;
  int64_t micros = 0;
  if (!MulAdd(days, kMicrosPerDay, 0, micros)) return std::nullopt;
  int64_t time_micros = 0;
  if (!MulAdd(seconds, kMicrosPerSecond, t.micros(), time_micros)) return std::nullopt;
  int64_t total = 0;
  if (__builtin_add_overflow(micros, time_micros, &total)) return std::nullopt;
  if (total == kInfinityMicros || total == kMinusInfinityMicros) return std::nullopt;
  return total;
}

std::optional<v1::Interval> ParsePgInterval(std::string_view text) {
  if (text.empty() || text.back() == ' ') return std::nullopt;
  int64_t months = 0, days = 0, micros = 0;
  bool saw_time = false;
  size_t pos = 0;
  auto next_token = [&]() -> std::string_view {
    if (pos >= text.size()) return {};
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view tok = text.substr(pos, end - pos);
    pos = end == text.size() ? end : end + 1;
    return tok;
  };
  while (pos < text.size()) {
    std::string_view tok = next_token();
    if (tok.empty()) return std::nullopt;
    int64_t sign = 1;
    if (tok[0] == '-' || tok[0] == '+') {
      sign = tok[0] == '-' ? -1 : 1;
      tok.remove_prefix(1);
    }
    if (tok.find(':') != std::string_view::npos) {
      if (saw_time) return std::nullopt;
      saw_time = true;
      Cursor c(tok);
      uint64_t h = 0, m = 0, s = 0;
      uint32_t frac = 0;
      if (!(c.TakeDigits(1, 12, h) && c.Take(':') && c.TakeDigits(2, 2, m) && c.Take(':') &&
            c.TakeDigits(2, 2, s) && TakeFraction(c, frac) && c.done())) {
        return std::nullopt;
      }
      if (m > 59 || s > 59) return std::nullopt;
      int64_t value = 0;
      // Signed all the way, so that the most negative interval does not overflow.
      if (!MulAdd(sign * static_cast<int64_t>(h), 3600, sign * static_cast<int64_t>(m * 60 + s),
                  value) ||
          !MulAdd(value, kMicrosPerSecond, sign * static_cast<int64_t>(frac), value) ||
          __builtin_add_overflow(micros, value, &micros)) {
        return std::nullopt;
      }
      continue;
    }
    Cursor c(tok);
    uint64_t n = 0;
    if (!c.TakeDigits(1, 10, n) || !c.done()) return std::nullopt;
    std::string_view unit = next_token();
    const int64_t v = sign * static_cast<int64_t>(n);
    if (unit == "year" || unit == "years") {
      if (!MulAdd(v, 12, months, months)) return std::nullopt;
    } else if (unit == "mon" || unit == "mons") {
      months += v;
    } else if (unit == "day" || unit == "days") {
      days += v;
    } else {
      return std::nullopt;
    }
    if (months > std::numeric_limits<int32_t>::max() ||
        months < std::numeric_limits<int32_t>::min() ||
        days > std::numeric_limits<int32_t>::max() || days < std::numeric_limits<int32_t>::min()) {
      return std::nullopt;
    }
  }
  v1::Interval out;
  out.set_months(static_cast<int32_t>(months));
  out.set_days(static_cast<int32_t>(days));
  out.set_micros(micros);
  return out;
}

}  // namespace sluice::postgres
