#include "proto/base/units.h"

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

// Splits "N<unit>" into the number and the unit.
bool SplitNumber(std::string_view text, uint64_t& number, std::string_view& unit) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0 || i > 18) return false;
  number = std::stoull(std::string(text.substr(0, i)));
  unit = text.substr(i);
  return true;
}

struct Unit {
  std::string_view name;
  uint64_t scale;
};

constexpr Unit kDurationUnits[] = {{"d", 86'400'000'000},
                                   {"h", 3'600'000'000},
                                   {"m", 60'000'000},
                                   {"s", 1'000'000},
                                   {"ms", 1'000}};
constexpr Unit kSizeUnits[] = {{"TiB", uint64_t{1} << 40},
                               {"GiB", uint64_t{1} << 30},
                               {"MiB", uint64_t{1} << 20},
                               {"KiB", uint64_t{1} << 10},
                               {"B", 1},
                               {"KB", 1000},
                               {"MB", 1000 * 1000},
                               {"GB", 1000 * 1000 * 1000}};

}  // namespace

absl::StatusOr<int64_t> ParseDurationMicros(std::string_view text) {
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, n, unit)) {
    return absl::InvalidArgumentError(absl::StrCat("duration \"", std::string(text),
                                                   "\" is not a number with a unit (7d, 12h, "
                                                   "30m, 45s, 500ms)"));
  }
  if (unit.empty()) unit = "s";
  for (const Unit& u : kDurationUnits) {
    if (u.name != unit) continue;
    if (n > static_cast<uint64_t>(INT64_MAX) / u.scale) break;
    return static_cast<int64_t>(n * u.scale);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("duration \"", std::string(text),
                   "\" has an unknown unit or is too long; use ms, s, m, h or d"));
}

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  uint64_t n = 0;
  std::string_view unit;
  if (!SplitNumber(text, n, unit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "size \"", std::string(text), "\" is not a number with a unit (50GiB, 10MiB, 1000)"));
  }
  if (unit.empty()) unit = "B";
  for (const Unit& u : kSizeUnits) {
    if (u.name != unit) continue;
    if (n > UINT64_MAX / u.scale) break;
    return n * u.scale;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("size \"", std::string(text),
                   "\" has an unknown unit or is too large; use B, KiB, MiB, GiB, TiB"));
}

std::string FormatDurationMicros(int64_t micros) {
  if (micros <= 0) return "0s";
  for (const Unit& u : kDurationUnits) {
    if (static_cast<uint64_t>(micros) % u.scale == 0) {
      return absl::StrCat(static_cast<uint64_t>(micros) / u.scale, std::string(u.name));
    }
  }
  return absl::StrCat(micros, "us");
}

std::string FormatByteSize(uint64_t bytes) {
  for (const Unit& u : kSizeUnits) {
    if (u.name == "B") break;
    if (bytes != 0 && bytes % u.scale == 0) {
      return absl::StrCat(bytes / u.scale, std::string(u.name));
    }
  }
  return absl::StrCat(bytes, "B");
}

}  // namespace sluice
