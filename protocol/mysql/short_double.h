#pragma once
// PutShortDouble: std::to_chars(double) (the shortest text that reads back as the same double,
// fixed or scientific, whichever is shorter) for the doubles whose shortest form has at most 15
// significant digits and a magnitude in [1e-7, 1e15), which is what most stored DOUBLE values
// are (prices, ratios, measurements). It writes the same bytes as std::to_chars, several times
// faster; for anything else (more digits, other magnitudes, zero, NaN, infinities) it writes
// nothing and returns null, and the caller uses std::to_chars.
//
// Why it is exact: for a double x whose shortest form S has k <= 15 digits, x rounded to 15
// significant digits is S followed by zeros (x is within half an ulp, 2^-53 relative, of S,
// and a 15-digit rounding step is at least 10^-15 relative), and there is only one k-digit
// candidate within an ulp. So x is rounded to 15 digits exactly (its 53-bit mantissa times a
// power of 5 in 128-bit integers), the trailing zeros are dropped, and the candidate is kept
// only if it reads back as x: with at most 15 digits and a power of ten up to 10^22 both the
// candidate and the power are exact doubles, so one multiplication or division rounds it
// correctly (Clinger's fast path). A wrong or too short candidate cannot read back as x.
// short_double_test compares the bytes with std::to_chars on millions of doubles.
//
// Pure; thread-safe.

namespace sluice::mysql {

// `p` must have room for 32 bytes. Returns the end of the text, or null (nothing useful written).
char* PutShortDouble(char* p, double d);

}  // namespace sluice::mysql
