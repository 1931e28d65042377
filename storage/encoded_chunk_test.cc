#include "storage/encoded_chunk.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::storage {
namespace {

EncodedChunk WithRows(int n) {
  EncodedChunk chunk;
  for (int i = 0; i < n; ++i) {
    chunk.bytes().append("body" + std::to_string(i));
    const size_t body_end = chunk.bytes().size();
    if (i % 2 == 0) chunk.bytes().append("key" + std::to_string(i));  // odd rows: no key
    chunk.EndRow(body_end);
  }
  return chunk;
}

TEST(EncodedChunk, RowsAreTheirBodyThenTheirKey) {
  const EncodedChunk chunk = WithRows(3);
  ASSERT_EQ(chunk.size(), 3u);
  EXPECT_EQ(chunk.body(0), "body0");
  EXPECT_EQ(chunk.row_key(0), "key0");
  EXPECT_EQ(chunk.body(1), "body1");
  EXPECT_EQ(chunk.row_key(1), "");
  EXPECT_EQ(chunk.body(2), "body2");
  EXPECT_EQ(chunk.row_key(2), "key2");
  EXPECT_EQ(chunk.byte_size(), std::string("body0key0body1body2key2").size());
}

TEST(EncodedChunk, ReleaseSlackGivesBackRoomReservedForAFullChunk) {
  EncodedChunk chunk;
  chunk.Reserve(10'000, size_t{1} << 20);  // room for a full chunk
  chunk.bytes().append("body");
  chunk.EndRow(chunk.bytes().size());
  const size_t reserved = chunk.MemoryCost();
  EXPECT_GE(reserved, (size_t{1} << 20) + 10'000 * 16);
  chunk.ReleaseSlack();
  EXPECT_LT(chunk.MemoryCost(), size_t{64} << 10);
  EXPECT_EQ(chunk.body(0), "body");

  EncodedChunk full = WithRows(1000);  // grown as it was written: kept as it is
  const size_t cost = full.MemoryCost();
  full.ReleaseSlack();
  EXPECT_EQ(full.MemoryCost(), cost);
}

}  // namespace
}  // namespace sluice::storage
