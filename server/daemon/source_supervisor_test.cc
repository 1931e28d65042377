// SourceSupervisor over a real change log. The source points at a closed port, so its runner
// only ever tries to connect; what is tested is the control: states, errors and retention.
#include "server/daemon/source_supervisor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/config/source_config.h"
#include "storage/test_util.h"

namespace sluice::daemon {
namespace {

using storage::testing::TempDir;
using ::testing::HasSubstr;

class SourceSupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *storage::ChangeLog::Open(dir_.path());
    storage::RetentionPolicy defaults;
    defaults.max_age_micros = 3'600'000'000;
    supervisor_ = std::make_unique<SourceSupervisor>(*log_, registry_, defaults,
                                                     [this] { ++retention_changes_; });
    auto source = config::ParseSourceUrl(
        "mysql://u:hunter2@127.0.0.1:1/?name=shop&server_id=7&tables=shop.orders&snapshot=never");
    ASSERT_TRUE(source.ok()) << source.status();
    ASSERT_TRUE(supervisor_->Add(*source).ok());
  }
  void TearDown() override {
    supervisor_.reset();
    log_.reset();
  }
  v1::SourceState State() const {
    for (const auto& r : registry_.Snapshot()) {
      if (r.name == "shop") return r.state;
    }
    return v1::SOURCE_STATE_UNSPECIFIED;
  }

  TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  pipeline::SourceRegistry registry_;
  std::unique_ptr<SourceSupervisor> supervisor_;
  int retention_changes_ = 0;
};

TEST_F(SourceSupervisorTest, ListsSourcesWithoutSecrets) {
  auto list = supervisor_->ListSources();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name(), "shop");
  EXPECT_EQ(list[0].kind(), v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(list[0].url(),
            "mysql://u:***@127.0.0.1:1/?name=shop&server_id=7&tables=shop.orders&snapshot=never");
  ASSERT_EQ(list[0].tables_size(), 1);
  EXPECT_EQ(list[0].tables(0), "shop.orders");
  EXPECT_EQ(list[0].snapshot(), "never");
  EXPECT_EQ(list[0].retention().max_age_micros(), 3'600'000'000);
  EXPECT_EQ(list[0].DebugString().find("hunter2"), std::string::npos);
}

TEST_F(SourceSupervisorTest, PauseAndResume) {
  supervisor_->StartAll();
  ASSERT_TRUE(supervisor_->Pause("shop").ok());
  EXPECT_EQ(State(), v1::SOURCE_STATE_PAUSED);
  EXPECT_EQ(supervisor_->ListSources()[0].state(), v1::SOURCE_STATE_PAUSED);
  absl::Status again = supervisor_->Pause("shop");
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(),
            "source \"shop\" is already paused: resume it with sluicectl resume shop");
  ASSERT_TRUE(supervisor_->Resume("shop").ok());
  EXPECT_NE(State(), v1::SOURCE_STATE_PAUSED);
  absl::Status not_paused = supervisor_->Resume("shop");
  EXPECT_EQ(not_paused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(not_paused.message(), "source \"shop\" is not paused");
  absl::Status unknown = supervisor_->Pause("nope");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "no configured source is named \"nope\" (configured: shop)");
  supervisor_->StopAll();
  EXPECT_EQ(supervisor_->Resume("shop").message(), "sluiced is shutting down");
}

TEST_F(SourceSupervisorTest, RetentionPerSource) {
  auto policy = supervisor_->Retention("shop");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_age_micros, 3'600'000'000);
  EXPECT_EQ(policy->max_bytes, 0u);
  policy = supervisor_->SetRetention("shop", std::nullopt, uint64_t{1} << 30);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_age_micros, 3'600'000'000);  // kept
  EXPECT_EQ(policy->max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(retention_changes_, 1);
  policy = supervisor_->SetRetention("shop", 0, std::nullopt);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(supervisor_->RetentionFor("shop").max_age_micros, 0);
  EXPECT_EQ(supervisor_->RetentionFor("shop").max_bytes, uint64_t{1} << 30);
  // A stored source that is not configured gets the default policy.
  ASSERT_TRUE(log_->RegisterSource("old", v1::SOURCE_KIND_POSTGRES).ok());
  EXPECT_EQ(supervisor_->RetentionFor("old").max_age_micros, 3'600'000'000);
  EXPECT_EQ(supervisor_->Retention("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(supervisor_->SetRetention("nope", 1, 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(retention_changes_, 2);
}

TEST_F(SourceSupervisorTest, RetentionFromTheSourceConfig) {
  auto source = config::ParseSourceUrl(
      "mysql://u:hunter2@127.0.0.1:1/?name=own&server_id=8&snapshot=never"
      "&retention_max_bytes=10GiB&heartbeat_ms=1000");
  ASSERT_TRUE(source.ok()) << source.status();
  ASSERT_TRUE(supervisor_->Add(*source).ok());
  const storage::RetentionPolicy p = supervisor_->RetentionFor("own");
  EXPECT_EQ(p.max_bytes, uint64_t{10} << 30);
  EXPECT_EQ(p.max_age_micros, 3'600'000'000);  // not set for the source: the daemon's
  EXPECT_EQ(supervisor_->RetentionFor("shop").max_bytes, 0u);
}

}  // namespace
}  // namespace sluice::daemon
