#pragma once
// Strong position types. A log offset, a Postgres LSN and a binlog position are different
// things and the compiler keeps them apart: none converts implicitly to another or to an integer.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice {

// A strongly typed integer. Tag makes each instantiation a distinct type.
template <typename Tag, typename T = uint64_t>
class StrongInt {
 public:
  using ValueType = T;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T v) : value_(v) {}
  constexpr T value() const { return value_; }
  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt next() const { return StrongInt(value_ + 1); }

 private:
  T value_{};
};

// A position in sluice's own change log for one source: 1, 2, 3, ...; 0 means "none".
using LogOffset = StrongInt<struct LogOffsetTag>;

// A Postgres write-ahead-log position.
using Lsn = StrongInt<struct LsnTag>;

// Renders an LSN the way Postgres does: "16/B374D848".
std::string FormatLsn(Lsn lsn);
// Parses "X/Y" (hex halves). InvalidArgument on anything else.
absl::StatusOr<Lsn> ParseLsn(std::string_view text);

// A MySQL/MariaDB binlog coordinate: file name plus byte offset of the next event.
struct BinlogPosition {
  std::string file;
  uint64_t offset = 0;
  auto operator<=>(const BinlogPosition&) const = default;
  // "binlog.000003:1234"
  std::string ToString() const { return file + ":" + std::to_string(offset); }
};

}  // namespace sluice
