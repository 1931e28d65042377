#include "server/daemon/health.h"

#include <gtest/gtest.h>

namespace sluice::daemon {
namespace {

pipeline::SourceRuntime Source(std::string name, v1::SourceState state, std::string error = "") {
  pipeline::SourceRuntime s;
  s.name = std::move(name);
  s.state = state;
  s.last_error = std::move(error);
  return s;
}

TEST(Readiness, ReadyWhenEverySourceStreamsOrSnapshots) {
  auto r = Readiness(
      {Source("a", v1::SOURCE_STATE_STREAMING), Source("b", v1::SOURCE_STATE_SNAPSHOTTING)});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready\na: streaming\nb: snapshotting\n");
  EXPECT_EQ(Readiness({}).status, 200) << "no sources: nothing to wait for";
}

TEST(Readiness, NotReadyNamesTheSourcesAndWhy) {
  auto r =
      Readiness({Source("a", v1::SOURCE_STATE_STREAMING),
                 Source("b", v1::SOURCE_STATE_ERROR, "cannot connect to 127.0.0.1:1\nretrying"),
                 Source("c", v1::SOURCE_STATE_CONNECTING), Source("d", v1::SOURCE_STATE_PAUSED)});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "not ready\nb: error: cannot connect to 127.0.0.1:1 retrying\nc: connecting\n"
            "d: paused\n");
}

}  // namespace
}  // namespace sluice::daemon
