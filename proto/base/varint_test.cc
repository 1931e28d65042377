#include "proto/base/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace sluice {
namespace {

TEST(Varint, ReadsWhatAppendVarintWrites) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 35, UINT64_MAX}) {
    std::string bytes = "x";
    AppendVarint(v, bytes);
    bytes += "y";
    size_t pos = 1;
    uint64_t got = 0;
    ASSERT_TRUE(ReadVarint(bytes, &pos, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(pos, bytes.size() - 1);  // just past it
  }
}

TEST(Varint, TruncatedOrOverTenBytesIsRefused) {
  std::string bytes;
  AppendVarint(uint64_t{1} << 40, bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    size_t pos = 0;
    uint64_t v = 7;
    EXPECT_FALSE(ReadVarint(bytes.substr(0, cut), &pos, &v)) << cut;
    EXPECT_EQ(v, 7u);
  }
  // Ten bytes read as protobuf does (bits past 64 dropped); an eleventh is refused.
  std::string ten(9, '\xff');
  ten.push_back('\x7f');
  size_t pos = 0;
  uint64_t v = 0;
  ASSERT_TRUE(ReadVarint(ten, &pos, &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_EQ(pos, 10u);
  std::string eleven(10, '\xff');
  eleven.push_back('\x01');
  pos = 0;
  EXPECT_FALSE(ReadVarint(eleven, &pos, &v));
}

}  // namespace
}  // namespace sluice
