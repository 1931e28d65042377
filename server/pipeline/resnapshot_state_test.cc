// The stored state of an on-demand re-snapshot (resnapshot_state.h) and the request queue's
// acceptance (watermark_snapshot.h). The restart itself against real servers is
// tests/e2e/resnapshot_restart_e2e_test.
#include "server/pipeline/resnapshot_state.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/match.h"
#include "server/pipeline/watermark_snapshot.h"

namespace sluice::pipeline {
namespace {

storagepb::ResnapshotState Decode(const v1::SourceCheckpoint& cp) {
  storagepb::ConnectorState cs;
  EXPECT_TRUE(cs.ParseFromString(cp.connector_state()));
  return cs.resnapshot();
}

v1::SourceCheckpoint At(const std::string& text) {
  v1::SourceCheckpoint cp;
  cp.set_position_text(text);
  return cp;
}

TEST(ResnapshotCheckpoint, StampsTheProgressOfTheChunksHandedToTheLog) {
  ResnapshotCheckpoint r;
  EXPECT_TRUE(r.Stamp(At("a")).connector_state().empty());
  EXPECT_EQ(r.last().position_text(), "a");

  ResnapshotRequest request{"db.t", "id > 3", "req-1", std::nullopt};
  r.Begin(InitialResnapshotState(request));
  v1::SourceCheckpoint cp = r.Stamp(At("b"));
  storagepb::ResnapshotState s = Decode(cp);
  EXPECT_EQ(s.request_id(), "req-1");
  EXPECT_EQ(s.where(), "id > 3");
  ASSERT_EQ(s.tables_size(), 1);
  EXPECT_EQ(s.tables(0).database(), "db");
  EXPECT_EQ(s.tables(0).table(), "t");
  EXPECT_EQ(s.tables(0).rows_done(), 0u);
  EXPECT_TRUE(r.last().connector_state().empty()) << "last() is kept without the state";

  storagepb::SnapshotTable after;
  after.set_database("db");
  after.set_table("t");
  after.add_key_columns("id");
  AdvanceTable(after, 50, 50, {"57"});
  r.Advance(after);
  s = Decode(r.Stamp(At("c")));
  EXPECT_EQ(s.tables(0).rows_done(), 50u);
  ASSERT_EQ(s.tables(0).last_key_size(), 1);
  EXPECT_EQ(s.tables(0).last_key(0), "57");
  EXPECT_FALSE(s.tables(0).done());

  // A checkpoint taken from elsewhere gets the state but does not become last().
  EXPECT_FALSE(r.Stamp(At("old"), /*remember=*/false).connector_state().empty());
  EXPECT_EQ(r.last().position_text(), "c");

  AdvanceTable(after, 10, 50, {"99"});  // short: the last chunk
  r.Advance(after);
  EXPECT_FALSE(r.running());
  EXPECT_TRUE(r.Stamp(At("d")).connector_state().empty());
}

TEST(ResnapshotCheckpoint, StoredStateComesBackWithOneMoreResume) {
  ResnapshotCheckpoint r;
  r.Begin(InitialResnapshotState({"s.t", "", "req-2", std::nullopt}));
  auto stored = ResnapshotCheckpoint::Stored(r.Stamp(At("x")));
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->request_id(), "req-2");
  EXPECT_EQ((*stored)->resumes(), 1u);
  EXPECT_EQ(ResnapshotTableName(**stored), "s.t");

  auto none = ResnapshotCheckpoint::Stored(At("y"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  v1::SourceCheckpoint bad = At("z");
  bad.set_connector_state("\xff\xff\xff");
  EXPECT_EQ(ResnapshotCheckpoint::Stored(bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ResnapshotCheckpoint, ContinuesAfterTheStoredKeyOnlyWhenTheKeyIsTheSame) {
  storagepb::ResnapshotState state = InitialResnapshotState({"db.t", "", "r", std::nullopt});
  storagepb::SnapshotTable* t = state.mutable_tables(0);
  t->add_key_columns("id");
  AdvanceTable(*t, 100, 50, {"120"});
  ResnapshotRequest resumed{"db.t", "", "r", state};

  storagepb::SnapshotTable listed;
  listed.set_database("db");
  listed.set_table("t");
  listed.add_key_columns("id");
  EXPECT_TRUE(ContinueFromStored(resumed, listed));
  EXPECT_EQ(listed.rows_done(), 100u);
  ASSERT_EQ(listed.last_key_size(), 1);
  EXPECT_EQ(listed.last_key(0), "120");

  storagepb::SnapshotTable rekeyed;
  rekeyed.set_database("db");
  rekeyed.set_table("t");
  rekeyed.add_key_columns("uuid");
  EXPECT_FALSE(ContinueFromStored(resumed, rekeyed));
  EXPECT_TRUE(rekeyed.last_key().empty());
  EXPECT_EQ(rekeyed.rows_done(), 0u);

  storagepb::SnapshotTable fresh = listed;
  fresh.clear_last_key();
  fresh.set_rows_done(0);
  EXPECT_FALSE(ContinueFromStored({"db.t", "", "r", std::nullopt}, fresh));
  EXPECT_TRUE(fresh.last_key().empty());
}

TEST(ResnapshotQueue, AcceptedOnlyOnceTheSessionStoredIt) {
  ResnapshotQueue q;
  // Nobody takes it: not accepted, and taken back out of the queue.
  auto id = q.Push("db.t", "");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(q.Push("db.t", "").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(q.AwaitAccepted(*id, absl::Milliseconds(50), absl::Seconds(5)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(q.Pop().has_value());

  // Taken and stored.
  id = q.Push("db.t", "x = 1");
  ASSERT_TRUE(id.ok());
  std::thread session([&] {
    std::optional<ResnapshotRequest> r;
    while (!(r = q.Pop())) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(r->where, "x = 1");
    q.Accepted(r->id);
  });
  EXPECT_TRUE(q.AwaitAccepted(*id, absl::Seconds(30), absl::Seconds(30)).ok());
  session.join();
  q.Done();

  // Taken, never stored.
  id = q.Push("db.t", "");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(q.Pop().has_value());
  EXPECT_EQ(q.AwaitAccepted(*id, absl::Seconds(5), absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  q.Done();

  // Taken, and the append that stores it failed: the caller hears the cause at once (not a
  // deadline that reads as "it runs"), and the session's error names the dropped re-snapshot.
  id = q.Push("db.t", "");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(q.Pop().has_value());
  absl::Status session_error;
  storage::AppendCallback store = q.StoreCallback(
      *id, "db.t", [&](absl::StatusOr<LogOffset> r) { session_error = r.status(); });
  std::thread writer([&] { std::move(store)(absl::InternalError("disk full")); });
  absl::Status refused = q.AwaitAccepted(*id, absl::Seconds(30), absl::Seconds(30));
  writer.join();
  EXPECT_EQ(refused.code(), absl::StatusCode::kAborted) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "disk full")) << refused;
  EXPECT_TRUE(absl::StartsWith(refused.message(), "the re-snapshot")) << refused;
  EXPECT_EQ(session_error.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::StrContains(session_error.message(), "re-snapshot of db.t was dropped"))
      << session_error;
  EXPECT_TRUE(absl::StrContains(session_error.message(), "disk full")) << session_error;
  q.Done();

  // A resumed request goes first, also ahead of a queued one.
  ASSERT_TRUE(q.Push("db.a", "").ok());
  q.PushResumed({"db.b", "", "stored", std::nullopt});
  auto first = q.Pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, "stored");
}

}  // namespace
}  // namespace sluice::pipeline
