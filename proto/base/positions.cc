#include "proto/base/positions.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/base/format_internal.h"

namespace sluice {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";
// Postgres accepts at most 8 hex digits per half (MAXPG_LSNCOMPONENT).
constexpr size_t kMaxLsnHalfDigits = 8;

void AppendHex32(uint32_t v, std::string& out) {
  char buf[8];
  int n = 0;
  do {
    buf[n++] = kUpperHex[v & 0xF];
    v >>= 4;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

bool ParseHexHalf(std::string_view s, uint64_t& value) {
  if (s.empty() || s.size() > kMaxLsnHalfDigits) return false;
  value = 0;
  for (char c : s) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return true;
}

}  // namespace

std::string FormatLsn(Lsn lsn) {
  std::string out;
  out.reserve(17);
  AppendHex32(static_cast<uint32_t>(lsn.value() >> 32), out);
  out.push_back('/');
  AppendHex32(static_cast<uint32_t>(lsn.value()), out);
  return out;
}

absl::StatusOr<Lsn> ParseLsn(std::string_view text) {
  const size_t slash = text.find('/');
  uint64_t high = 0, low = 0;
  if (slash == std::string_view::npos || !ParseHexHalf(text.substr(0, slash), high) ||
      !ParseHexHalf(text.substr(slash + 1), low)) {
    return absl::InvalidArgumentError("invalid LSN " + internal::QuoteForError(text) +
                                      ": expected X/Y with 1 to 8 hex digits each");
  }
  return Lsn((high << 32) | low);
}

}  // namespace sluice
