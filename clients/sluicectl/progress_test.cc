// The progress line's texts: exact totals (tail) and server estimates (snapshot), which may be
// missing or too low.
#include "clients/sluicectl/progress.h"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

TEST(ProgressLineTest, ExactTotalShowsRateAndTimeLeft) {
  EXPECT_EQ(ProgressLine::Format("events", 1200, 5000, 800),
            "caught up 1200 of 5000 events  800/s  ETA 4s");
  EXPECT_EQ(ProgressLine::Format("events", 10, 5000, 0), "caught up 10 of 5000 events");
}

TEST(ProgressLineTest, EstimateIsMarkedAsOne) {
  EXPECT_EQ(ProgressLine::FormatEstimate("rows of t", 1200, 5000, 800),
            "read 1200 of ~5000 rows of t  800/s  ETA 4s");
}

TEST(ProgressLineTest, NoEstimateOrPastItShowsTheCountAndRate) {
  // A table never analyzed has no estimate; a stale one can be too low. Neither hides the line.
  EXPECT_EQ(ProgressLine::FormatEstimate("rows of t", 1200, 0, 800), "read 1200 rows of t  800/s");
  EXPECT_EQ(ProgressLine::FormatEstimate("rows of t", 7000, 5000, 800),
            "read 7000 rows of t  800/s");
  EXPECT_EQ(ProgressLine::FormatEstimate("rows of t", 5000, 5000, 0), "read 5000 rows of t");
}

}  // namespace
}  // namespace sluice::cli
