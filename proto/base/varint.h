#pragma once
// Protobuf-style base-128 varint encoding, shared by the storage record format and the
// hand-built wire messages (stored-event prefixes, SubscribeResponse batches). Pure.

#include <cstdint>
#include <string>

namespace sluice {

// Appends `v` as a varint: 7 bits per byte, least significant first, high bit = more follows.
inline void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace sluice
