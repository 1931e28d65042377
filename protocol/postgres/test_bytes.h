#pragma once
// Test-only: a builder for handcrafted big-endian protocol bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::postgres::testing {

class Bytes {
 public:
  Bytes& U8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& Ch(char c) {
    s_.push_back(c);
    return *this;
  }
  Bytes& U16(uint16_t v) { return Be(v, 2); }
  Bytes& U32(uint32_t v) { return Be(v, 4); }
  Bytes& U64(uint64_t v) { return Be(v, 8); }
  Bytes& Str(std::string_view v) {  // NUL-terminated
    s_.append(v);
    s_.push_back('\0');
    return *this;
  }
  Bytes& Raw(std::string_view v) {
    s_.append(v);
    return *this;
  }
  // A TupleData 't' column.
  Bytes& Text(std::string_view v) {
    Ch('t').U32(static_cast<uint32_t>(v.size()));
    return Raw(v);
  }
  const std::string& str() const { return s_; }

 private:
  Bytes& Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string s_;
};

}  // namespace sluice::postgres::testing
