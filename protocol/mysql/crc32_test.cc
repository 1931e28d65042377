#include "protocol/mysql/crc32.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::mysql
