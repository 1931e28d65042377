#include "server/service/batch_encoder.h"

#include "proto/base/glob.h"

#include <gtest/gtest.h>

#include "sluice/v1/service.pb.h"

namespace sluice::service {
namespace {

TEST(BatchEncoder, ProducesAParseableSubscribeResponse) {
  BatchEncoder enc;
  std::vector<v1::ChangeEvent> events(3);
  for (int i = 0; i < 3; ++i) {
    events[i].set_offset(100 + i);
    events[i].set_op(v1::OP_INSERT);
    events[i].mutable_source()->set_table(std::string(200, 'a' + i));  // multi-byte length
    enc.AddEvent(events[i].SerializeAsString());
  }
  const std::string& bytes = enc.Finish(103, 5000);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(resp.ParseFromString(bytes));
  ASSERT_EQ(resp.events_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resp.events(i).SerializeAsString(), events[i].SerializeAsString());
  }
  EXPECT_EQ(resp.next_offset(), 103u);
  EXPECT_EQ(resp.last_offset(), 5000u);
  EXPECT_EQ(enc.events(), 3u);
}

TEST(BatchEncoder, EmptyBatchIsAHeartbeat) {
  BatchEncoder enc;
  v1::SubscribeResponse resp;
  ASSERT_TRUE(resp.ParseFromString(enc.Finish(7, 6)));
  EXPECT_EQ(resp.events_size(), 0);
  EXPECT_EQ(resp.next_offset(), 7u);
}

TEST(EventFilter, TablesAndOps) {
  EventFilter all;
  EXPECT_TRUE(all.Matches("shop.orders", v1::OP_INSERT));
  EventFilter f({"shop.*", "billing.invoices"}, {v1::OP_INSERT, v1::OP_DELETE});
  EXPECT_TRUE(f.Matches("shop.orders", v1::OP_INSERT));
  EXPECT_TRUE(f.Matches("billing.invoices", v1::OP_DELETE));
  EXPECT_FALSE(f.Matches("shop.orders", v1::OP_UPDATE));
  EXPECT_FALSE(f.Matches("billing.invoices2", v1::OP_INSERT));
  EXPECT_FALSE(f.Matches("shopx.orders", v1::OP_INSERT));
}

TEST(GlobMatch, Cases) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*.orders", "shop.orders"));
  EXPECT_TRUE(GlobMatch("s*p.*s", "shop.orders"));
  EXPECT_FALSE(GlobMatch("s*p.*x", "shop.orders"));
  EXPECT_TRUE(GlobMatch("**a", "bbba"));
  EXPECT_FALSE(GlobMatch("", "a"));
}

}  // namespace
}  // namespace sluice::service
