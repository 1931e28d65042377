#pragma once
// WireReader: the one bounds-checked reader of protobuf wire bytes in the client library, for
// reading messages without parsing them into objects (BatchView, EventView). Pure: no I/O, no
// allocation.
//
//   WireReader r(bytes);
//   while (r.Next()) {
//     if (r.field() == 1 && r.wire_type() == WireType::kLen) ... r.bytes() ...
//   }
//   if (!r.status().ok()) ... // truncated or malformed
//
// Next() reads one field: its tag and its value (a varint, a fixed 64- or 32-bit value, or the
// bytes of a length-delimited field, which stay inside the input). Unknown fields are read the
// same way, so a caller skips them by ignoring them. Groups (deprecated, never written by
// proto3) are an error. Once the reader fails it stays failed; status() says where and why.
// Values are read with no copying: bytes() views the input, which must outlive the reader.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sluice::client {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : data_(bytes) {}
  // The reader views its bytes: a temporary string would be gone before the first Next().
  explicit WireReader(std::string&&) = delete;

  // Reads the next field. False at the end of the input or on an error (see status()).
  // Inline: a BatchView reads a few of these per event of every message.
  bool Next() {
    if (pos_ >= data_.size()) return false;  // also when failed: Fail() empties the input
    uint64_t tag = 0;
    if (!ReadVarint(tag)) return false;
    if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff) return Fail("a field number out of range");
    field_ = static_cast<uint32_t>(tag >> 3);
    switch (tag & 7) {
      case 0:
        type_ = WireType::kVarint;
        bytes_ = {};
        return ReadVarint(value_);
      case 2: {
        type_ = WireType::kLen;
        value_ = 0;
        uint64_t len = 0;
        if (!ReadVarint(len)) return false;
        if (len > data_.size() - pos_) return Fail("a length-delimited field runs past the end");
        bytes_ = std::string_view(data_.data() + pos_, static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        return true;
      }
      default:
        return NextFixedOrFail(tag);
    }
  }

  uint32_t field() const { return field_; }
  WireType wire_type() const { return type_; }
  // The value of a varint or fixed field (for fixed32, the low 32 bits).
  uint64_t value() const { return value_; }
  // The payload of a length-delimited field (string, bytes, sub-message, packed repeated).
  std::string_view bytes() const { return bytes_; }

  // OK, or DataLoss naming the byte position and what was expected there.
  const absl::Status& status() const { return status_; }

 private:
  // Most varints here (tags, lengths of events and rows, small values) are one or two bytes:
  // read those inline and leave the rest to ReadVarintSlow.
  bool ReadVarint(uint64_t& out) {
    const size_t left = data_.size() - pos_;
    if (left > 0) {
      const auto b0 = static_cast<uint8_t>(data_[pos_]);
      if (b0 < 0x80) {
        out = b0;
        pos_ += 1;
        return true;
      }
      if (left > 1) {
        const auto b1 = static_cast<uint8_t>(data_[pos_ + 1]);
        if (b1 < 0x80) {
          out = static_cast<uint64_t>(b0 & 0x7f) | (static_cast<uint64_t>(b1) << 7);
          pos_ += 2;
          return true;
        }
      }
    }
    return ReadVarintSlow(out);
  }
  bool ReadVarintSlow(uint64_t& out);
  // The rest of Next() for a fixed 64- or 32-bit value; other wire types fail.
  bool NextFixedOrFail(uint64_t tag);
  bool Fail(const char* what);

  std::string_view data_;
  size_t pos_ = 0;
  uint32_t field_ = 0;
  WireType type_ = WireType::kVarint;
  uint64_t value_ = 0;
  std::string_view bytes_;
  absl::Status status_;
};

}  // namespace sluice::client
