#include "protocol/mysql/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace sluice::mysql {
namespace {

TEST(Crc32Test, KnownVectors) {
  EXPECT_EQ(Crc32(std::string_view("")), 0u);
  EXPECT_EQ(Crc32(std::string_view("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32(std::string_view("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

TEST(Crc32Test, Incremental) {
  std::string_view all = "hello, binlog world";
  uint32_t part = Crc32(all.substr(0, 7));
  EXPECT_EQ(Crc32(all.substr(7), part), Crc32(all));
}

// The folding path (64 bytes and more, on CPUs with PCLMULQDQ) against zlib's crc32 at every
// length up to 1 KiB and every alignment, from random starting values, and on a large buffer.
TEST(Crc32Test, SameAsZlibAtEveryLengthAndAlignment) {
  std::mt19937_64 rng(11);
  std::string buffer(4096 + 64, '\0');
  for (char& c : buffer) c = static_cast<char>(rng());
  for (size_t length = 0; length <= 1024; ++length) {
    for (size_t align = 0; align < 16; ++align) {
      const std::string_view data(buffer.data() + align, length);
      const uint32_t start = static_cast<uint32_t>(rng());
      const uint32_t want = static_cast<uint32_t>(
          ::crc32(start, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(length)));
      ASSERT_EQ(Crc32(data, start), want) << "length " << length << " align " << align;
    }
  }
  std::string large(3'000'017, '\0');
  for (char& c : large) c = static_cast<char>(rng());
  EXPECT_EQ(Crc32(large),
            ::crc32(0, reinterpret_cast<const Bytef*>(large.data()), static_cast<uInt>(large.size())));
  // All-zero and all-one blocks (no carry-less product may be lost).
  for (const char fill : {'\0', '\xff'}) {
    const std::string same(1000, fill);
    EXPECT_EQ(Crc32(same),
              ::crc32(0, reinterpret_cast<const Bytef*>(same.data()), static_cast<uInt>(same.size())));
  }
}

}  // namespace
}  // namespace sluice::mysql
