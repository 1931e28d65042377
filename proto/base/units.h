#pragma once
// Durations and byte sizes as operators write them ("7d", "50GiB"), shared by sluiced's flags
// and sluicectl. Pure functions, thread-compatible.
//
//   duration: DIGITS UNIT, UNIT one of ms, s, m, h, d (no unit = seconds)
//   size:     DIGITS UNIT, UNIT one of B, KiB, MiB, GiB, TiB (powers of 2), KB, MB, GB (of 10);
//             no unit = bytes
// Errors are InvalidArgument naming the text and the accepted units.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice {

// "7d", "12h", "30m", "45s", "500ms" -> microseconds.
absl::StatusOr<int64_t> ParseDurationMicros(std::string_view text);
// "50GiB", "10MiB", "512KiB", "1GB", "1000" -> bytes.
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

// The largest unit that states `micros` exactly: 604800000000 -> "7d", 1500000 -> "1500ms".
std::string FormatDurationMicros(int64_t micros);
// The largest power-of-2 unit that states `bytes` exactly: 53687091200 -> "50GiB".
std::string FormatByteSize(uint64_t bytes);

}  // namespace sluice
