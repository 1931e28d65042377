#pragma once
// MySQL's exact binary DECIMAL packing (NEWDECIMAL columns and DECIMAL values inside JSON).
//
// Grammar for DECIMAL(p, s), intg = p - s digits before the point:
//   [lead: intg % 9 digits in dig2bytes bytes] [intg / 9 groups of 9 digits, 4 bytes each]
//   [s / 9 groups of 9 digits, 4 bytes each] [tail: s % 9 digits in dig2bytes bytes]
// all big-endian, dig2bytes = {0,1,1,2,2,3,3,4,4,4}. The top bit of the first byte is the sign,
// stored inverted (1 = non-negative); a negative value has every byte complemented.

#include <cstddef>
#include <cstdint>
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

// A DECIMAL of at most 18 integer and 9 fraction digits as numbers, for callers that write its
// text themselves (the flat row decoder, flat_row.h): DecodeSmallDecimal reads it from the
// value's bytes (raw.size() == BinaryDecimalSize(precision, scale); false, and `out` not to be
// used, when a group holds more digits than it may: AppendBinaryDecimalBytes names that error),
// and PutSmallDecimal writes the text AppendBinaryDecimal would append: "-" when negative (never
// for zero), the integer digits ("0" for 0), and for scale > 0 "." and `scale` fraction digits.
struct SmallDecimal {
  uint64_t integer = 0;   // < 10^18
  uint32_t fraction = 0;  // < 10^scale
  int scale = 0;          // 0..9
  bool negative = false;
};
// What PutSmallDecimal may write: sign, 18 digits, point, 9 digits, and room for its pieces.
inline constexpr size_t kSmallDecimalRoom = 32;
// True for 0 < precision <= 65, 0 <= scale <= precision, precision - scale <= 18, scale <= 9.
bool IsSmallDecimal(int precision, int scale);
bool DecodeSmallDecimal(std::string_view raw, int precision, int scale, SmallDecimal& out);
// Writes at most kSmallDecimalRoom bytes at p; returns the end of the text.
char* PutSmallDecimal(char* p, const SmallDecimal& d);

}  // namespace sluice::mysql
