#pragma once
// Protobuf-style base-128 varint encoding, shared by the storage record format and the
// hand-built wire messages (stored-event prefixes, SubscribeResponse batches). Pure.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Appends `v` as a varint: 7 bits per byte, least significant first, high bit = more follows.
inline void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads the varint at bytes[*pos, ...) as protobuf does (at most 10 bytes, bits past 64 dropped)
// into `*v` and moves `*pos` past it. False when it runs past the end or over 10 bytes (then
// `*pos` is somewhere inside it and `*v` is untouched). For stored or received bytes.
inline bool ReadVarint(std::string_view bytes, size_t* pos, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 70 && *pos < bytes.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(bytes[(*pos)++]);
    r |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

}  // namespace sluice
