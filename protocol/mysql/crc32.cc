#include "protocol/mysql/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sluice::mysql {
namespace {

// zlib's crc32 over any length.
uint32_t ZlibCrc32(const std::byte* data, size_t size, uint32_t crc) {
  uLong c = crc;
  while (size > 0) {
    const size_t n = std::min<size_t>(size, size_t{1} << 30);  // uInt lengths
    c = ::crc32(c, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n));
    data += n;
    size -= n;
  }
  return static_cast<uint32_t>(c);
}

#if defined(__x86_64__)

// Folding with carry-less multiplication (PCLMULQDQ). The message, with the initial register
// XORed into its first 4 bytes, is congruent modulo the CRC polynomial P to a 128-bit state
// followed by the bytes not folded yet: a block A followed by 128 more bits B is A * x^128 + B,
// and A * x^128 splits into its two 64-bit halves times x^n mod P, products of at most 96 bits.
// CRC-32 (zlib's) is bit-reflected: a 16-byte block loaded little-endian holds the highest
// powers in its low half, and a carry-less product of two reflected numbers comes out one bit
// lower, which the exponents below absorb. At the end the state's 16 bytes and the rest go
// through zlib's crc32 starting from a zero register (initial value ~0), which gives the CRC of
// the whole message. crc32_test checks this against zlib on every length and alignment.
constexpr uint64_t kPolynomial = 0x104C11DB7;  // x^32 + ... + 1, not reflected

// x^n mod P, a polynomial of degree < 32.
constexpr uint64_t XPowModP(int n) {
  uint64_t r = 1;
  for (int i = 0; i < n; ++i) {
    r <<= 1;
    if (r & (uint64_t{1} << 32)) r ^= kPolynomial;
  }
  return r;
}

// The 32 bits of `v` in reverse order.
constexpr uint64_t Reflect32(uint64_t v) {
  uint64_t r = 0;
  for (int i = 0; i < 32; ++i) {
    if ((v >> i) & 1) r |= uint64_t{1} << (31 - i);
  }
  return r;
}

constexpr uint64_t FoldConstant(int n) { return Reflect32(XPowModP(n)); }

// One lane forward by 128 bits: its low half times kFold128Low, its high half times
// kFold128High; by 512 bits (four lanes at a time) likewise.
constexpr uint64_t kFold128Low = FoldConstant(128 + 32 - 1);
constexpr uint64_t kFold128High = FoldConstant(64 + 32 - 1);
constexpr uint64_t kFold512Low = FoldConstant(512 + 32 - 1);
constexpr uint64_t kFold512High = FoldConstant(448 + 32 - 1);

[[gnu::target("pclmul,sse4.1")]] inline __m128i Fold(__m128i lane, __m128i constants) {
  return _mm_xor_si128(_mm_clmulepi64_si128(lane, constants, 0x00),
                       _mm_clmulepi64_si128(lane, constants, 0x11));
}

[[gnu::target("pclmul,sse4.1")]] inline __m128i Load(const std::byte* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Precondition: size >= 16.
[[gnu::target("pclmul,sse4.1")]] uint32_t ClmulCrc32(const std::byte* p, size_t size,
                                                     uint32_t crc) {
  const __m128i fold128 = _mm_set_epi64x(static_cast<long long>(kFold128High),
                                         static_cast<long long>(kFold128Low));
  const __m128i init = _mm_cvtsi32_si128(static_cast<int>(~crc));
  __m128i state;
  if (size >= 64) {
    const __m128i fold512 = _mm_set_epi64x(static_cast<long long>(kFold512High),
                                           static_cast<long long>(kFold512Low));
    __m128i x0 = _mm_xor_si128(Load(p), init);
    __m128i x1 = Load(p + 16);
    __m128i x2 = Load(p + 32);
    __m128i x3 = Load(p + 48);
    p += 64;
    size -= 64;
    while (size >= 64) {
      x0 = _mm_xor_si128(Fold(x0, fold512), Load(p));
      x1 = _mm_xor_si128(Fold(x1, fold512), Load(p + 16));
      x2 = _mm_xor_si128(Fold(x2, fold512), Load(p + 32));
      x3 = _mm_xor_si128(Fold(x3, fold512), Load(p + 48));
      p += 64;
      size -= 64;
    }
    state = _mm_xor_si128(Fold(x0, fold128), x1);
    state = _mm_xor_si128(Fold(state, fold128), x2);
    state = _mm_xor_si128(Fold(state, fold128), x3);
  } else {
    state = _mm_xor_si128(Load(p), init);
    p += 16;
    size -= 16;
  }
  while (size >= 16) {
    state = _mm_xor_si128(Fold(state, fold128), Load(p));
    p += 16;
    size -= 16;
  }
  std::byte folded[16];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(folded), state);
  return ZlibCrc32(p, size, ZlibCrc32(folded, sizeof folded, 0xFFFFFFFFu));
}

bool HasClmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
}

#endif

}  // namespace

uint32_t Crc32(std::span<const std::byte> data, uint32_t crc) {
#if defined(__x86_64__)
  // Below 64 bytes zlib's table is as fast.
  if (data.size() >= 64 && HasClmul()) return ClmulCrc32(data.data(), data.size(), crc);
#endif
  return ZlibCrc32(data.data(), data.size(), crc);
}

uint32_t Crc32(std::string_view data, uint32_t crc) {
  return Crc32(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data.data()), data.size()),
      crc);
}

}  // namespace sluice::mysql
