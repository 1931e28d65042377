#include "server/service/subscriber_stats.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <utility>

namespace sluice::service {
namespace {

TEST(SubscriberStats, TracksOpenStreamsAndServedEvents) {
  SubscriberStats stats;
  auto a = stats.Open("shop", storage::SourceId(1), LogOffset(1));
  auto b = stats.Open("shop", storage::SourceId(1), LogOffset(40));
  auto c = stats.Open("pg", storage::SourceId(2), LogOffset(7));
  SubscriberStats::Sent(*a, 10, LogOffset(11));
  SubscriberStats::Sent(*c, 3, LogOffset(10));
  auto live = stats.Streams();
  ASSERT_EQ(live.size(), 3u);
  EXPECT_EQ(live[0].source, "shop");
  EXPECT_EQ(live[0].sent_through, 10u);
  EXPECT_EQ(live[1].sent_through, 39u) << "nothing sent yet: everything before the start";
  EXPECT_EQ(live[2].sent_through, 9u);
  EXPECT_NE(live[0].id, live[1].id);
  b.reset();  // the stream ended
  EXPECT_EQ(stats.Streams().size(), 2u);
  auto served = stats.Served();
  EXPECT_EQ(served["shop"], 10u);
  EXPECT_EQ(served["pg"], 3u);
}

TEST(SubscriberStats, CountsServedEventsByTableWhenTheBatchIsSent) {
  SubscriberStats stats;
  auto a = stats.Open("shop", storage::SourceId(1), LogOffset(1));
  auto b = stats.Open("shop", storage::SourceId(1), LogOffset(1));
  auto c = stats.Open("pg", storage::SourceId(2), LogOffset(1));
  for (const char* t : {"db.orders", "db.items", "db.orders"}) SubscriberStats::Count(*a, t);
  EXPECT_TRUE(stats.ServedByTable().at({"shop", "db.orders"}) == 0)
      << "a batch being built is not served yet";
  SubscriberStats::Sent(*a, 3, LogOffset(4));
  SubscriberStats::Count(*b, "db.orders");
  SubscriberStats::Sent(*b, 1, LogOffset(2));
  SubscriberStats::Count(*a, "db.items");
  SubscriberStats::Sent(*a, 1, LogOffset(5));
  SubscriberStats::Sent(*a, 0, LogOffset(6));  // a heartbeat: nothing counted twice
  SubscriberStats::Count(*c, "public.orders");
  SubscriberStats::Sent(*c, 1, LogOffset(2));
  const auto by_table = stats.ServedByTable();
  using Key = std::pair<std::string, std::string>;
  const std::map<Key, uint64_t> want = {{{"shop", "db.orders"}, 3},
                                        {{"shop", "db.items"}, 2},
                                        {{"pg", "public.orders"}, 1}};
  EXPECT_EQ(by_table, want) << "one series per table actually served, summed over streams";
  EXPECT_EQ(stats.Served()["shop"], 5u);
  EXPECT_EQ(stats.Served()["pg"], 1u);
}

TEST(SubscriberStats, ConcurrentSendsAddUpAndHandlesMayOutliveTheStats) {
  std::shared_ptr<SubscriberStats::Stream> survivor;
  {
    SubscriberStats stats;
    auto s = stats.Open("shop", storage::SourceId(1), LogOffset(1));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) SubscriberStats::Sent(*s, 1, LogOffset(2));
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(stats.Served()["shop"], 40000u);
    survivor = stats.Open("shop", storage::SourceId(1), LogOffset(1));
  }
  survivor.reset();  // unregisters from a SubscriberStats that is gone: no crash
}

}  // namespace
}  // namespace sluice::service
