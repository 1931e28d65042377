#include "storage/subscriptions.h"

#include <gtest/gtest.h>

#include <atomic>

#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

constexpr int kTxnSize = 10;

storagepb::SubscriptionRecord Spec(const std::string& name, const std::string& source = "s") {
  storagepb::SubscriptionRecord r;
  r.set_name(name);
  r.set_source(source);
  return r;
}

class SubscriptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    log_.reset();
    ChangeLogOptions options;
    options.clock = [this] { return now_.load(); };
    log_ = *ChangeLog::Open(dir_.path(), options);
    source_ = *log_->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    auto store = SubscriptionStore::Open(*log_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // `n` transactions of 10 events; transaction t commits at (t + 1) * 1000 micros.
  void Fill(int n) {
    for (int t = 0; t < n; ++t) {
      std::vector<v1::ChangeEvent> txn;
      for (int i = 0; i < kTxnSize; ++i) {
        txn.push_back(MakeEvent("t", t * kTxnSize + i, (t + 1) * 1000));
      }
      ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("cp")).ok());
    }
  }

  TempDir dir_;
  std::atomic<int64_t> now_{1'000'000};
  std::unique_ptr<ChangeLog> log_;
  SourceId source_;
  std::unique_ptr<SubscriptionStore> store_;
};

TEST_F(SubscriptionsTest, CreatedSubscriptionsSurviveAReopen) {
  Fill(3);
  auto spec = Spec("lake-writer");
  spec.add_tables("db.orders");
  spec.add_ops(v1::OP_INSERT);
  auto* p = spec.add_projections();
  p->set_table("db.*");
  p->add_columns("total");
  auto created = store_->Create(spec, LogOffset(11));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->committed_offset(), 10u);
  EXPECT_GT(created->created_ts_micros(), 0);
  ASSERT_TRUE(store_->Create(Spec("b"), LogOffset(31)).ok());  // latest: nothing yet to deliver

  Reopen();
  auto all = store_->List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "b");
  EXPECT_EQ(all[0].committed_offset(), 30u);
  EXPECT_EQ(all[1].name(), "lake-writer");
  EXPECT_EQ(all[1].committed_offset(), 10u);
  EXPECT_EQ(all[1].created_ts_micros(), created->created_ts_micros());
  ASSERT_EQ(all[1].tables_size(), 1);
  EXPECT_EQ(all[1].tables(0), "db.orders");
  ASSERT_EQ(all[1].ops_size(), 1);
  EXPECT_EQ(all[1].ops(0), v1::OP_INSERT);
  ASSERT_EQ(all[1].projections_size(), 1);
  EXPECT_EQ(all[1].projections(0).columns(0), "total");
  EXPECT_EQ(store_->List("s").size(), 2u);
  EXPECT_TRUE(store_->List("other").empty());
}

TEST_F(SubscriptionsTest, BadRequestsAreClearErrors) {
  Fill(1);
  EXPECT_EQ(store_->Create(Spec(""), LogOffset(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad = store_->Create(Spec("a b"), LogOffset(1));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("letters, digits"), std::string::npos) << bad.status();
  EXPECT_EQ(store_->Create(Spec("x", "nope"), LogOffset(1)).status().code(),
            absl::StatusCode::kNotFound);
  auto beyond = store_->Create(Spec("x"), LogOffset(12));
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(beyond.status().message().find("1 to 11"), std::string::npos) << beyond.status();
  ASSERT_TRUE(store_->Create(Spec("x"), LogOffset(1)).ok());
  EXPECT_EQ(store_->Create(Spec("x"), LogOffset(1)).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto missing = store_->Get("y");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("subscriptions list"), std::string::npos);
}

TEST_F(SubscriptionsTest, AcksMoveForwardDurablyAndNeverPastWhatWasSent) {
  Fill(2);
  ASSERT_TRUE(store_->Create(Spec("a"), LogOffset(1)).ok());
  EXPECT_EQ(*store_->Ack("a", LogOffset(5), LogOffset(7)), LogOffset(5));
  // Backwards or repeated: ignored, the committed offset stays.
  EXPECT_EQ(*store_->Ack("a", LogOffset(3), LogOffset(7)), LogOffset(5));
  EXPECT_EQ(*store_->Ack("a", LogOffset(5), LogOffset(7)), LogOffset(5));
  auto beyond = store_->Ack("a", LogOffset(8), LogOffset(7));
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(beyond.status().message().find("beyond the last event delivered (7)"),
            std::string::npos)
      << beyond.status();
  EXPECT_EQ(store_->Get("a")->committed_offset(), 5u);
  EXPECT_GT(store_->Get("a")->acked_ts_micros(), 0);
  EXPECT_EQ(store_->Ack("nope", LogOffset(1), LogOffset(1)).status().code(),
            absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_EQ(store_->Get("a")->committed_offset(), 5u);
}

TEST_F(SubscriptionsTest, AnAckFromBeforeAResetOrARecreationIsRefused) {
  Fill(2);
  ASSERT_TRUE(store_->Create(Spec("a"), LogOffset(1)).ok());
  uint64_t opened = 0;
  ASSERT_TRUE(store_->Get("a", &opened).ok());
  EXPECT_EQ(*store_->Ack("a", LogOffset(5), LogOffset(20), opened), LogOffset(5));
  ASSERT_TRUE(store_->Reset("a", LogOffset(3)).ok());
  auto stale = store_->Ack("a", LogOffset(9), LogOffset(20), opened);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_NE(stale.status().message().find("reset or recreated"), std::string::npos);
  EXPECT_EQ(store_->Get("a")->committed_offset(), 2u);  // the reset stands

  uint64_t after_reset = 0;
  ASSERT_TRUE(store_->Get("a", &after_reset).ok());
  EXPECT_NE(after_reset, opened);
  ASSERT_TRUE(store_->Delete("a").ok());
  ASSERT_TRUE(store_->Create(Spec("a"), LogOffset(1)).ok());
  EXPECT_EQ(store_->Ack("a", LogOffset(4), LogOffset(20), after_reset).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(store_->Get("a")->committed_offset(), 0u);
}

TEST_F(SubscriptionsTest, ResetMovesEitherWayAndDeleteForgets) {
  Fill(2);
  ASSERT_TRUE(store_->Create(Spec("a"), LogOffset(1)).ok());
  ASSERT_TRUE(store_->Ack("a", LogOffset(15), LogOffset(20)).ok());
  EXPECT_EQ(store_->Reset("a", LogOffset(3))->committed_offset(), 2u);
  EXPECT_EQ(store_->Reset("a", LogOffset(21))->committed_offset(), 20u);
  EXPECT_EQ(store_->Reset("a", LogOffset(22)).status().code(), absl::StatusCode::kInvalidArgument);
  Reopen();
  EXPECT_EQ(store_->Get("a")->committed_offset(), 20u);
  ASSERT_TRUE(store_->Delete("a").ok());
  EXPECT_EQ(store_->Delete("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Ack("a", LogOffset(20), LogOffset(20)).status().code(),
            absl::StatusCode::kNotFound);
  Reopen();
  EXPECT_TRUE(store_->List().empty());
  // The name can be used again.
  EXPECT_TRUE(store_->Create(Spec("a"), LogOffset(21)).ok());
}

TEST_F(SubscriptionsTest, RetentionKeepsWhatTheSlowestSubscriptionHasNotAcked) {
  Fill(10);  // offsets 1..100, ten transactions
  ASSERT_TRUE(store_->Create(Spec("slow"), LogOffset(1)).ok());
  ASSERT_TRUE(store_->Create(Spec("fast"), LogOffset(1)).ok());
  ASSERT_TRUE(store_->Ack("slow", LogOffset(35), LogOffset(100)).ok());
  ASSERT_TRUE(store_->Ack("fast", LogOffset(90), LogOffset(100)).ok());
  const RetentionPolicy everything{.max_age_micros = 1};  // every transaction is too old
  auto trim = store_->ApplyRetention(source_, everything, /*force=*/false);
  ASSERT_TRUE(trim.ok()) << trim.status();
  // "slow" resumes at 36, inside the transaction 31..40: that whole transaction stays.
  EXPECT_EQ(log_->Bounds(source_)->first, LogOffset(31));
  EXPECT_EQ(trim->events_held, 70u);
  auto hold = store_->RetentionHoldOf("s");
  ASSERT_TRUE(hold.has_value());
  EXPECT_EQ(hold->subscription, "slow");
  EXPECT_EQ(hold->committed, LogOffset(35));
  EXPECT_EQ(hold->events_held, 70u);

  // Once it acks, retention follows, and nothing holds it back when the log is fully acked.
  ASSERT_TRUE(store_->Ack("slow", LogOffset(100), LogOffset(100)).ok());
  ASSERT_TRUE(store_->ApplyRetention(source_, everything, false).ok());
  EXPECT_EQ(log_->Bounds(source_)->first, LogOffset(91));
  EXPECT_EQ(store_->RetentionHoldOf("s")->subscription, "fast");
  ASSERT_TRUE(store_->Ack("fast", LogOffset(100), LogOffset(100)).ok());
  ASSERT_TRUE(store_->ApplyRetention(source_, everything, false).ok());
  EXPECT_EQ(log_->Bounds(source_)->first, LogOffset(101));
  EXPECT_FALSE(store_->RetentionHoldOf("s").has_value());
}

TEST_F(SubscriptionsTest, ForcedRetentionTrimsPastSubscriptionsWhichThenHoldNothing) {
  Fill(10);
  ASSERT_TRUE(store_->Create(Spec("slow"), LogOffset(1)).ok());
  const RetentionPolicy half{.max_bytes = log_->Bounds(source_)->stored_bytes / 2};
  auto held = store_->ApplyRetention(source_, half, false);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->events_removed, 0u);
  EXPECT_GT(held->events_held, 0u);
  auto forced = store_->ApplyRetention(source_, half, /*force=*/true);
  ASSERT_TRUE(forced.ok()) << forced.status();
  EXPECT_GT(forced->events_removed, 0u);
  EXPECT_FALSE(store_->RetentionHoldOf("s").has_value());
  // "slow" can no longer resume; it does not hold later retention either.
  now_ = 1'000'000'000;
  ASSERT_TRUE(store_->ApplyRetention(source_, {.max_age_micros = 1}, false).ok());
  EXPECT_EQ(log_->Bounds(source_)->first, LogOffset(101));
  // Resetting it to the earliest stored offset makes it usable again.
  EXPECT_EQ(store_->Reset("slow", LogOffset(101))->committed_offset(), 100u);
}

TEST_F(SubscriptionsTest, AnUnparseableRecordIsDataLossNamingTheKey) {
  ASSERT_TRUE(log_->PutSubscriptionRecord("broken", "\xff\xff not a record").ok());
  store_.reset();
  auto store = SubscriptionStore::Open(*log_);
  ASSERT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("sub/broken"), std::string::npos) << store.status();
}

}  // namespace
}  // namespace sluice::storage
