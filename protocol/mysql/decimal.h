#pragma once
// MySQL's exact binary DECIMAL packing (NEWDECIMAL columns and DECIMAL values inside JSON).
//
// Grammar for DECIMAL(p, s), intg = p - s digits before the point:
//   [lead: intg % 9 digits in dig2bytes bytes] [intg / 9 groups of 9 digits, 4 bytes each]
//   [s / 9 groups of 9 digits, 4 bytes each] [tail: s % 9 digits in dig2bytes bytes]
// all big-endian, dig2bytes = {0,1,1,2,2,3,3,4,4,4}. The top bit of the first byte is the sign,
// stored inverted (1 = non-negative); a negative value has every byte complemented.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {

// Bytes taken by DECIMAL(precision, scale).
size_t BinaryDecimalSize(int precision, int scale);

// Reads one DECIMAL(precision, scale) and returns its text with the scale kept ("-12.30", "0.00",
// "7"). DataLoss if the input is short or a group holds more digits than it may.
absl::StatusOr<std::string> ReadBinaryDecimal(wire::ByteReader& r, int precision, int scale);
// The same text appended to `out` (no allocation beyond `out`'s growth). On error `out` is left
// as it was.
absl::Status AppendBinaryDecimal(wire::ByteReader& r, int precision, int scale, std::string& out);

// The same from the value's bytes already read: `raw` holds exactly BinaryDecimalSize(precision,
// scale) bytes, read at offset `start` (named in the error). Precondition: 0 < precision <= 65
// and 0 <= scale <= precision (AppendBinaryDecimal checks them before it reads). DataLoss if a
// group holds more digits than it may.
absl::Status AppendBinaryDecimalBytes(std::string_view raw, int precision, int scale, size_t start,
                                      std::string& out);

}  // namespace sluice::mysql
