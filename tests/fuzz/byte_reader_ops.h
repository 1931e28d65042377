#pragma once
// The opcodes of byte_reader_fuzz's input program, shared with the corpus generator.
//
// Input layout:
//   byte 0       program length K (low 7 bits); bit 7 picks the std::span constructor
//   bytes 1..K   the program: one opcode byte (taken modulo kOpCount) per call; kString, kBytes
//                and kSkip are followed by a length selector byte (see NextLength), selectors
//                6 and 7 by one or two more length bytes
//   the rest     the bytes the reader reads

#include <cstdint>

namespace sluice::fuzz {

enum ByteReaderOp : uint8_t {
  kU8,
  kU16Le,
  kU24Le,
  kU32Le,
  kU48Le,
  kU64Le,
  kU16Be,
  kU32Be,
  kU64Be,
  kI16Be,
  kI32Be,
  kI64Be,
  kPeekU8,
  kLenencInt,
  kLenencString,
  kNulString,
  kString,
  kBytes,
  kSkip,
  kRestString,
  kRestBytes,
  kStatus,
  kOpCount,
};

// Length selectors.
enum ByteReaderLength : uint8_t {
  kLenZero,
  kLenRemaining,
  kLenRemainingPlusOne,
  kLenSizeMax,
  kLenWrapsPosition,
  kLenRemainingMinusOne,
  kLenNextByte,
  kLenNextTwoBytes,
};

}  // namespace sluice::fuzz
