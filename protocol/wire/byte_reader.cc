#include "protocol/wire/byte_reader.h"

#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/str_format.h"

namespace sluice::wire {
namespace {

// First bytes of a MySQL length-encoded integer.
constexpr uint8_t kLenencNull = 0xFB;  // NULL marker in text result rows
constexpr uint8_t kLenenc2 = 0xFC;     // followed by 2 bytes
constexpr uint8_t kLenenc3 = 0xFD;     // followed by 3 bytes
constexpr uint8_t kLenenc8 = 0xFE;     // followed by 8 bytes
constexpr uint8_t kLenencErr = 0xFF;   // never valid (an ERR packet header)

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

}  // namespace

absl::Status ByteReader::status(std::string_view what) const {
  if (ok()) {
    return absl::OkStatus();
  }
  const std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  switch (failure_) {
    case Failure::kTruncated:
      return absl::DataLossError(absl::StrFormat(
          "%struncated input at offset %d reading %s: needed %d bytes, %d available", prefix, pos_,
          fail_op_, fail_needed_, fail_available_));
    case Failure::kBadLenenc:
      return absl::DataLossError(absl::StrFormat(
          "%sinvalid length-encoded integer prefix 0x%02x at offset %d reading %s: needed a "
          "prefix below 0xfb or one of 0xfc, 0xfd, 0xfe (%d bytes available)",
          prefix, fail_value_, pos_, fail_op_, fail_available_));
    case Failure::kLengthTooLong:
      return absl::DataLossError(absl::StrFormat(
          "%sdeclared length %d exceeds the input at offset %d reading %s: needed %d bytes, %d "
          "available",
          prefix, fail_value_, pos_, fail_op_, fail_needed_, fail_available_));
    case Failure::kNoTerminator:
      return absl::DataLossError(absl::StrFormat(
          "%smissing NUL terminator at offset %d reading %s: needed at least %d bytes, %d "
          "available",
          prefix, pos_, fail_op_, fail_needed_, fail_available_));
    case Failure::kNone:
      break;
  }
  return absl::OkStatus();
}

void ByteReader::Fail(Failure f, const char* op, size_t at, uint64_t needed, size_t available) {
  if (!ok()) {
    return;
  }
  failure_ = f;
  fail_op_ = op;
  pos_ = at;
  fail_needed_ = needed;
  fail_available_ = available;
}

bool ByteReader::Require(size_t n, const char* op) {
  if (!ok()) {
    return false;
  }
  const size_t left = data_.size() - pos_;
  if (n > left) {
    Fail(Failure::kTruncated, op, pos_, n, left);
    return false;
  }
  return true;
}

uint64_t ByteReader::TakeLe(size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  }
  pos_ += n;
  return v;
}

uint64_t ByteReader::TakeBe(size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    v = (v << 8) | static_cast<uint64_t>(data_[pos_ + i]);
  }
  pos_ += n;
  return v;
}

uint8_t ByteReader::ReadU8() { return Require(1, "u8") ? static_cast<uint8_t>(TakeLe(1)) : 0; }
uint16_t ByteReader::ReadU16Le() {
  return Require(2, "u16le") ? static_cast<uint16_t>(TakeLe(2)) : 0;
}
uint32_t ByteReader::ReadU24Le() {
  return Require(3, "u24le") ? static_cast<uint32_t>(TakeLe(3)) : 0;
}
uint32_t ByteReader::ReadU32Le() {
  return Require(4, "u32le") ? static_cast<uint32_t>(TakeLe(4)) : 0;
}
uint64_t ByteReader::ReadU48Le() { return Require(6, "u48le") ? TakeLe(6) : 0; }
uint64_t ByteReader::ReadU64Le() { return Require(8, "u64le") ? TakeLe(8) : 0; }

uint16_t ByteReader::ReadU16Be() {
  return Require(2, "u16be") ? static_cast<uint16_t>(TakeBe(2)) : 0;
}
uint32_t ByteReader::ReadU32Be() {
  return Require(4, "u32be") ? static_cast<uint32_t>(TakeBe(4)) : 0;
}
uint64_t ByteReader::ReadU64Be() { return Require(8, "u64be") ? TakeBe(8) : 0; }
// Unsigned-to-signed conversion is modular (two's complement) since C++20.
int16_t ByteReader::ReadI16Be() {
  return Require(2, "i16be") ? static_cast<int16_t>(TakeBe(2)) : 0;
}
int32_t ByteReader::ReadI32Be() {
  return Require(4, "i32be") ? static_cast<int32_t>(TakeBe(4)) : 0;
}
int64_t ByteReader::ReadI64Be() {
  return Require(8, "i64be") ? static_cast<int64_t>(TakeBe(8)) : 0;
}

uint8_t ByteReader::PeekU8() {
  return Require(1, "u8 (peek)") ? static_cast<uint8_t>(data_[pos_]) : 0;
}

namespace {

// Bytes that follow a length-encoded integer's first byte, or -1 if the byte is invalid.
int LenencExtraBytes(uint8_t first) {
  switch (first) {
    case kLenenc2:
      return 2;
    case kLenenc3:
      return 3;
    case kLenenc8:
      return 8;
    case kLenencNull:
    case kLenencErr:
      return -1;
    default:
      return 0;
  }
}

}  // namespace

uint64_t ByteReader::ReadLenencInt() {
  if (!Require(1, "length-encoded integer")) {
    return 0;
  }
  const size_t start = pos_;
  const uint8_t first = static_cast<uint8_t>(data_[pos_]);
  const int extra = LenencExtraBytes(first);
  if (extra < 0) {
    Fail(Failure::kBadLenenc, "length-encoded integer", start, 1, data_.size() - start);
    fail_value_ = first;
    return 0;
  }
  if (!Require(1 + static_cast<size_t>(extra), "length-encoded integer")) {
    return 0;
  }
  ++pos_;
  return extra == 0 ? first : TakeLe(static_cast<size_t>(extra));
}

std::string_view ByteReader::ReadLenencString() {
  constexpr const char* kOp = "length-encoded string";
  if (!ok()) {
    return {};
  }
  const size_t start = pos_;
  const size_t available = data_.size() - start;
  const uint64_t length = ReadLenencInt();
  if (!ok()) {
    // Re-label the prefix failure as part of the string read; offset and counts still apply.
    fail_op_ = kOp;
    return {};
  }
  const size_t prefix = pos_ - start;
  if (length > data_.size() - pos_) {
    Fail(Failure::kLengthTooLong, kOp, start, SaturatingAdd(prefix, length), available);
    fail_value_ = length;
    return {};
  }
  std::string_view out(reinterpret_cast<const char*>(data_.data() + pos_),
                       static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return out;
}

std::string_view ByteReader::ReadNulString() {
  if (!ok()) {
    return {};
  }
  const size_t left = data_.size() - pos_;
  const void* nul = left == 0 ? nullptr : std::memchr(data_.data() + pos_, 0, left);
  if (nul != nullptr) {
    const size_t len =
        static_cast<size_t>(static_cast<const std::byte*>(nul) - (data_.data() + pos_));
    std::string_view out(reinterpret_cast<const char*>(data_.data() + pos_), len);
    pos_ += len + 1;
    return out;
  }
  Fail(Failure::kNoTerminator, "NUL-terminated string", pos_, SaturatingAdd(left, 1), left);
  return {};
}

std::string_view ByteReader::ReadString(size_t n) {
  if (!Require(n, "fixed-length string")) {
    return {};
  }
  std::string_view out(reinterpret_cast<const char*>(data_.data() + pos_), n);
  pos_ += n;
  return out;
}

std::span<const std::byte> ByteReader::ReadBytes(size_t n) {
  if (!Require(n, "fixed-length bytes")) {
    return {};
  }
  std::span<const std::byte> out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

std::string_view ByteReader::ReadRestString() {
  return ok() ? ReadString(data_.size() - pos_) : std::string_view();
}

std::span<const std::byte> ByteReader::ReadRestBytes() {
  return ok() ? ReadBytes(data_.size() - pos_) : std::span<const std::byte>();
}

void ByteReader::Skip(size_t n) {
  if (Require(n, "skipped bytes")) {
    pos_ += n;
  }
}

}  // namespace sluice::wire
