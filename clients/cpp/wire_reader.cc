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

bool WireReader::NextFixedOrFail(uint64_t tag) {
  bytes_ = {};
  value_ = 0;
  const uint64_t wire = tag & 7;
  if (wire != 1 && wire != 5) return Fail("a group or an unknown wire type");
  const size_t n = wire == 1 ? 8 : 4;
  type_ = n == 8 ? WireType::kFixed64 : WireType::kFixed32;
  if (data_.size() - pos_ < n) return Fail("a fixed-size value runs past the end");
  for (size_t i = 0; i < n; ++i) {
    value_ |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  }
  pos_ += n;
  return true;
}

}  // namespace sluice::client
