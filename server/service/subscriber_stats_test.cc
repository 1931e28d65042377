#include "server/service/subscriber_stats.h"

#include <gtest/gtest.h>

#include <thread>

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
