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
  limit_ = at;  // nothing is left to read
  fail_needed_ = needed;
  fail_available_ = available;
}

uint64_t ByteReader::FailFixed(size_t n, const char* op) {
  Fail(Failure::kTruncated, op, pos_, n, data_.size() - pos_);
  return 0;
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

uint64_t ByteReader::ReadLenencIntSlow() {
  constexpr const char* kOp = "length-encoded integer";
  if (!Has(1)) {
    return FailFixed(1, kOp);
  }
  const size_t start = pos_;
  const uint8_t first = static_cast<uint8_t>(data_[pos_]);
  const int extra = LenencExtraBytes(first);
  if (extra < 0) {
    Fail(Failure::kBadLenenc, kOp, start, 1, data_.size() - start);
    fail_value_ = first;
    return 0;
  }
  const size_t width = 1 + static_cast<size_t>(extra);
  if (!Has(width)) {
    return FailFixed(width, kOp);
  }
  ++pos_;
  switch (extra) {
    case 2:
      return TakeLe<2>();
    case 3:
      return TakeLe<3>();
    case 8:
      return TakeLe<8>();
    default:
      return first;
  }
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

}  // namespace sluice::wire
