#include "clients/cpp/reconnect.h"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::client {
namespace {

TEST(BackoffDelay, DoublesFromTheInitialDelayUpToTheMaximumWithTwentyPercentJitter) {
  ReconnectPolicy policy;
  policy.initial_delay = std::chrono::milliseconds(100);
  policy.max_delay = std::chrono::milliseconds(1000);
  const int64_t expected[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int attempt = 1; attempt <= 7; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      const int64_t d = BackoffDelay(policy, attempt).count();
      EXPECT_GE(d, expected[attempt - 1] * 8 / 10) << "attempt " << attempt;
      EXPECT_LE(d, expected[attempt - 1] * 12 / 10) << "attempt " << attempt;
    }
  }
  // A huge attempt number neither overflows nor exceeds the maximum.
  EXPECT_LE(BackoffDelay(policy, 1'000'000).count(), 1200);
}

TEST(IsTransient, ServerAndNetworkTroubleIsRequestTroubleIsNot) {
  EXPECT_TRUE(IsTransient(grpc::StatusCode::UNAVAILABLE));
  EXPECT_TRUE(IsTransient(grpc::StatusCode::UNKNOWN));
  EXPECT_TRUE(IsTransient(grpc::StatusCode::INTERNAL));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::OUT_OF_RANGE));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::NOT_FOUND));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_FALSE(IsTransient(grpc::StatusCode::ABORTED));
}

TEST(Canceller, CancelEndsASleepAndEverySleepAfterIt) {
  Canceller c;
  EXPECT_TRUE(c.Sleep(std::chrono::milliseconds(1)));
  std::thread t([&] { c.Cancel(); });
  EXPECT_FALSE(c.Sleep(std::chrono::hours(1)));  // returns once Cancel() runs
  t.join();
  EXPECT_TRUE(c.cancelled());
  EXPECT_FALSE(c.Sleep(std::chrono::hours(1)));
}

}  // namespace
}  // namespace sluice::client
