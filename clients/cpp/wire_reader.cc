#include "clients/cpp/wire_reader.h"

#include <string>

namespace sluice::client {

bool WireReader::Fail(const char* what) {
  status_ = absl::DataLossError("protobuf wire bytes: " + std::string(what) + " at byte " +
                                std::to_string(pos_) + " of " + std::to_string(data_.size()));
  data_ = {};
  pos_ = 0;
  return false;
}

bool WireReader::ReadVarintSlow(uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Fail("a varint runs past the end");
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return Fail("a varint is longer than 10 bytes");
}

bool WireReader::Next() {
  if (!status_.ok() || pos_ >= data_.size()) return false;
  uint64_t tag = 0;
  if (!ReadVarint(tag)) return false;
  if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff) return Fail("a field number out of range");
  field_ = static_cast<uint32_t>(tag >> 3);
  bytes_ = {};
  value_ = 0;
  switch (tag & 7) {
    case 0:
      type_ = WireType::kVarint;
      return ReadVarint(value_);
    case 1:
    case 5: {
      const size_t n = (tag & 7) == 1 ? 8 : 4;
      type_ = n == 8 ? WireType::kFixed64 : WireType::kFixed32;
      if (data_.size() - pos_ < n) return Fail("a fixed-size value runs past the end");
      for (size_t i = 0; i < n; ++i) {
        value_ |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
      }
      pos_ += n;
      return true;
    }
    case 2: {
      type_ = WireType::kLen;
      uint64_t len = 0;
      if (!ReadVarint(len)) return false;
      if (len > data_.size() - pos_) return Fail("a length-delimited field runs past the end");
      bytes_ = data_.substr(pos_, static_cast<size_t>(len));
      pos_ += static_cast<size_t>(len);
      return true;
    }
    default:
      return Fail("a group or an unknown wire type");
  }
}

}  // namespace sluice::client
