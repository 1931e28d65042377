#include "server/pipeline/source_head.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "server/logging/log.h"
#include "server/pipeline/source_support.h"
#include "storage/test_util.h"

namespace sluice::pipeline {
namespace {

BinlogPosition At(std::string file, uint64_t offset) {
  return BinlogPosition{std::move(file), offset};
}

const std::vector<BinlogFileSize> kFiles = {
    {"bin.000001", 1000}, {"bin.000002", 2000}, {"bin.000003", 3000}, {"bin.000004", 400}};

TEST(BinlogBytesBehind, SameFileIsTheDifference) {
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 100), At("bin.000004", 400), kFiles), 300u);
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 400), At("bin.000004", 400), kFiles), 0u);
  // A stored position past the head (the head moved back?) is not negative.
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000004", 500), At("bin.000004", 400), kFiles), 0u);
}

TEST(BinlogBytesBehind, AcrossFilesAddsTheRestOfTheFirstTheMiddleAndTheHeadOffset) {
  // 1000-900 in the first, 2000 + 3000 in between, 250 in the head file.
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000001", 900), At("bin.000004", 250), kFiles),
            100u + 2000u + 3000u + 250u);
  EXPECT_EQ(*BinlogBytesBehind(At("bin.000003", 3000), At("bin.000004", 4), kFiles), 4u);
}

TEST(BinlogBytesBehind, PurgedOrUnknownFilesAreErrors) {
  auto purged = BinlogBytesBehind(At("bin.000000", 4), At("bin.000004", 4), kFiles);
  EXPECT_TRUE(absl::IsNotFound(purged.status()));
  EXPECT_NE(purged.status().message().find("bin.000000"), std::string_view::npos);
  EXPECT_TRUE(absl::IsNotFound(
      BinlogBytesBehind(At("bin.000001", 4), At("bin.000009", 4), kFiles).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      BinlogBytesBehind(At("bin.000003", 4), At("bin.000001", 4), kFiles).status()));
}

TEST(WalBytesBehind, IsTheDifferenceAndNeverNegative) {
  EXPECT_EQ(WalBytesBehind(Lsn(0x1000), Lsn(0x1800)), 0x800u);
  EXPECT_EQ(WalBytesBehind(Lsn(0x1800), Lsn(0x1000)), 0u);
}

TEST(IsRowEventType, MysqlAndMariadbNames) {
  for (const char* t : {"Write_rows", "Update_rows", "Delete_rows", "Write_rows_v1",
                        "Update_rows_compressed_v1", "Update_rows_partial"}) {
    EXPECT_TRUE(IsRowEventType(t)) << t;
  }
  for (const char* t : {"Table_map", "Query", "Xid", "Gtid", "Rotate", "Annotate_rows"}) {
    EXPECT_FALSE(IsRowEventType(t)) << t;
  }
}

// The events of tracked appends count as in flight until their callback, failed or not.
TEST(ProbeWait, BacksOffWhileTheLoginIsRefusedUpTo64Intervals) {
  using std::chrono::milliseconds;
  const milliseconds interval(5'000);
  EXPECT_EQ(ProbeWait(interval, 0), interval);  // working, or failing for another reason
  EXPECT_EQ(ProbeWait(interval, 1), interval);
  EXPECT_EQ(ProbeWait(interval, 2), 2 * interval);
  EXPECT_EQ(ProbeWait(interval, 3), 4 * interval);
  EXPECT_EQ(ProbeWait(interval, 7), 64 * interval);
  EXPECT_EQ(ProbeWait(interval, 1'000'000), 64 * interval);
}

TEST(AppendTracker, CountsEventsInFlightUntilDurableOrFailed) {
  SourceRegistry registry;
  std::shared_ptr<std::atomic<int64_t>> in_flight = registry.InFlightEvents("s");
  EXPECT_EQ(registry.InFlightEvents("s"), in_flight) << "one counter per source";
  AppendTracker tracker(in_flight);
  storage::AppendCallback first = tracker.Track({}, 5);
  storage::AppendCallback second = tracker.Track({}, 3);
  storage::AppendCallback checkpoint_only = tracker.Track();
  EXPECT_EQ(in_flight->load(), 8);
  std::move(first)(LogOffset(5));
  EXPECT_EQ(in_flight->load(), 3);
  std::move(second)(absl::UnavailableError("append failed"));
  EXPECT_EQ(in_flight->load(), 0);
  std::move(checkpoint_only)(LogOffset(5));
  EXPECT_EQ(in_flight->load(), 0);
  EXPECT_EQ(tracker.pending(), 0);
  EXPECT_TRUE(absl::IsUnavailable(tracker.error()));
}

// A probe that cannot reach the server: the lag is unknown with the reason, the source's own
// state and error are untouched, and the warning is logged once however often the probe fails.
TEST(SourceHeadProbe, AFailedProbeLeavesTheSourceAloneAndWarnsOnce) {
  storage::testing::TempDir dir;
  auto log = storage::ChangeLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status();
  auto id = (*log)->RegisterSource("down", v1::SOURCE_KIND_MYSQL);
  ASSERT_TRUE(id.ok()) << id.status();
  SourceRegistry registry;
  SourceRuntime runtime;
  runtime.name = "down";
  registry.Upsert(runtime);
  registry.SetState("down", v1::SOURCE_STATE_STREAMING);

  // A port nothing listens on (free a moment ago).
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  config::SourceConfig config;
  config.name = "down";
  config.kind = v1::SOURCE_KIND_MYSQL;
  config.host = "127.0.0.1";
  config.port = ntohs(addr.sin_port);
  config.user = "u";
  config.tls_mode = "disabled";
  SourceHeadProbe probe(config, **log, *id, registry);

  // Nothing stored yet: unknown, which is not a failure.
  SourceLag lag = probe.ProbeOnce();
  EXPECT_FALSE(lag.bytes.has_value());
  EXPECT_EQ(lag.error, "no position stored yet");

  v1::SourceCheckpoint checkpoint;
  checkpoint.mutable_position()->mutable_binlog()->set_file("bin.000001");
  checkpoint.mutable_position()->mutable_binlog()->set_position(4);
  checkpoint.set_position_text("bin.000001:4");
  ASSERT_TRUE((*log)->Append(*id, {}, checkpoint).ok());
  const std::string log_file = dir.path() + "/probe.log";
  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(log_fd, 0);
  logging::Configure(logging::Format::kText, logging::Level::kInfo, log_fd);
  for (int i = 0; i < 3; ++i) {
    lag = probe.ProbeOnce();
    EXPECT_FALSE(lag.bytes.has_value());
    EXPECT_FALSE(lag.events.has_value());
    EXPECT_TRUE(lag.error.starts_with("head probe failed: ")) << lag.error;
    EXPECT_GT(lag.probed_ts_micros, 0);
  }
  logging::Configure(logging::Format::kText, logging::Level::kInfo, 2);
  close(log_fd);
  std::ifstream in(log_file);
  const std::string logged((std::istreambuf_iterator<char>(in)), {});
  size_t warnings = 0;
  for (size_t at = logged.find("WARN"); at != std::string::npos; at = logged.find("WARN", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << logged;
  EXPECT_NE(logged.find("[down] head probe failed"), std::string::npos) << logged;

  const std::vector<SourceRuntime> sources = registry.Snapshot();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].state, v1::SOURCE_STATE_STREAMING);
  EXPECT_EQ(sources[0].last_error, "");
  EXPECT_EQ(sources[0].lag.error, lag.error);
}

}  // namespace
}  // namespace sluice::pipeline
