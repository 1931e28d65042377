// PostgresSource against a real PostgreSQL 15: committed transactions arrive whole and in order,
// rolled-back ones never, streamed (in-progress) transactions are staged and published at commit,
// the slot's confirmed_flush_lsn follows what is durable, and a restart neither loses nor repeats.
#include "server/pipeline/postgres_source.h"

#include <gtest/gtest.h>

#include <gmock/gmock.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <map>
#include <random>
#include <thread>

#include "storage/test_util.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {
namespace {

using sluice::testing::TestDatabase;

std::string Field(const v1::Row& row, const std::string& name);

class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kPostgres);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS ps_orders; "
                          "DROP TYPE IF EXISTS ps_mood; DROP DOMAIN IF EXISTS ps_posint; "
                          "CREATE TYPE ps_mood AS ENUM ('happy', 'sad'); "
                          "CREATE DOMAIN ps_posint AS int CHECK (VALUE > 0); "
                          "CREATE TABLE ps_orders (id int PRIMARY KEY, name text, "
                          "amount numeric(10,2), tags text[], at timestamptz, mood ps_mood, "
                          "qty ps_posint, moods ps_mood[]); "
                          "DROP PUBLICATION IF EXISTS ps_pub")
                    .ok());
    (void)db_->Exec("SELECT pg_drop_replication_slot('ps_slot')");
    log_ = *storage::ChangeLog::Open(dir_.path());
    id_ = *log_->RegisterSource("pg", v1::SOURCE_KIND_POSTGRES);
    config_.name = "pg";
    config_.kind = v1::SOURCE_KIND_POSTGRES;
    config_.host = db_->host();
    config_.port = static_cast<uint16_t>(db_->port());
    config_.user = db_->user();
    config_.password = db_->password();
    config_.database = db_->database();
    config_.slot = "ps_slot";
    config_.publication = "ps_pub";
    config_.tables = {"public.ps_orders"};
    config_.tls_mode = "disabled";
    config_.snapshot = config::SnapshotMode::kNever;  // SnapshotRows* tests turn it on
    SourceRuntime runtime;
    runtime.name = "pg";
    runtime.kind = v1::SOURCE_KIND_POSTGRES;
    registry_.Upsert(runtime);
  }
  void TearDown() override {
    source_.reset();
    for (int i = 0; i < 50; ++i) {
      if (db_->Exec("SELECT pg_drop_replication_slot('ps_slot')").ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void StartSource() {
    PostgresSourceOptions options;
    options.stage_threshold_events = 1000;
    options.status_interval = std::chrono::milliseconds(200);
    source_ = std::make_unique<PostgresSource>(config_, *log_, id_, registry_, options);
    source_->Start();
    for (int i = 0; i < 300; ++i) {
      auto snap = registry_.Snapshot();
      if (snap[0].state == v1::SOURCE_STATE_STREAMING) return;
      ASSERT_NE(snap[0].state, v1::SOURCE_STATE_ERROR) << snap[0].last_error;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "source did not reach STREAMING";
  }

  std::vector<v1::ChangeEvent> WaitForEvents(uint64_t last) {
    for (int i = 0; i < 600 && log_->Bounds(id_)->last.value() < last; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::vector<v1::ChangeEvent> out;
    EXPECT_TRUE(log_->Read(id_, LogOffset(1),
                           storage::ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
                           [&](const storage::StoredRecord& r) {
                             v1::ChangeEvent e;
                             EXPECT_TRUE(e.ParseFromArray(r.view.event.data(),
                                                          static_cast<int>(r.view.event.size())));
                             out.push_back(std::move(e));
                           })
                    .ok());
    return out;
  }

  // The when_needed recovery tests' common part: 3 rows and an update streamed, then, with
  // sluice stopped, the slot dropped and the table changed (a delete, an insert, an update).
  void StreamThenDropSlotAndChangeTable() {
    ASSERT_TRUE(
        db_->Exec("INSERT INTO ps_orders (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')").ok());
    config_.snapshot = config::SnapshotMode::kWhenNeeded;
    StartSource();
    ASSERT_TRUE(db_->Exec("UPDATE ps_orders SET name = 'a2' WHERE id = 1").ok());
    WaitForEvents(4);
    source_.reset();
    for (int i = 0; i < 50; ++i) {
      if (db_->Exec("SELECT pg_drop_replication_slot('ps_slot')").ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(db_->Exec("DELETE FROM ps_orders WHERE id = 2; INSERT INTO ps_orders (id, name) "
                          "VALUES (4, 'd'); UPDATE ps_orders SET name = 'c2' WHERE id = 3")
                    .ok());
  }

  // After the restart and one more insert: 4 events before, then 1 marker, 3 reads, 1 insert.
  // Replaying them gives the table; the marker's statement must hold `marker_text`.
  void ExpectRecoveredReplay(const std::string& marker_text) {
    ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name) VALUES (5, 'e')").ok());
    std::map<int64_t, std::string> replay;
    bool marker = false;
    for (const v1::ChangeEvent& e : WaitForEvents(9)) {
      if (e.op() == v1::OP_TRUNCATE) {
        marker = true;
        EXPECT_TRUE(e.source().snapshot());
        EXPECT_NE(e.ddl().statement().find(marker_text), std::string::npos) << e.ddl().statement();
        replay.clear();
      } else if (e.op() == v1::OP_DELETE) {
        replay.erase(e.before().fields(0).value().int64());
      } else {
        replay[e.after().fields(0).value().int64()] = Field(e.after(), "name");
      }
    }
    EXPECT_TRUE(marker);
    EXPECT_EQ(replay, (std::map<int64_t, std::string>{{1, "a2"}, {3, "c2"}, {4, "d"}, {5, "e"}}));
  }

  uint64_t ConfirmedFlush() {
    auto rows = db_->Query(
        "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
        "WHERE slot_name = 'ps_slot'");
    return rows.ok() && !rows->empty() ? std::stoull((*rows)[0][0]) : 0;
  }

  TestDatabase* db_ = nullptr;
  storage::testing::TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId id_;
  config::SourceConfig config_;
  SourceRegistry registry_;
  std::unique_ptr<PostgresSource> source_;
};

std::string Field(const v1::Row& row, const std::string& name) {
  for (const auto& f : row.fields()) {
    if (f.name() != name) continue;
    const auto& v = f.value();
    if (v.has_int64()) return std::to_string(v.int64());
    if (v.has_string()) return v.string();
    if (v.has_decimal()) return v.decimal();
    if (v.has_null()) return "NULL";
    return v.ShortDebugString();
  }
  return "<absent>";
}

// Rows read by the initial snapshot (an ordinary session importing the slot's exported
// snapshot) render exactly as the same rows streamed through pgoutput.
TEST_F(PostgresSourceTest, SnapshotRowsRenderExactlyAsStreamedRows) {
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders VALUES "
                        "(1, 'a''b', 3.10, '{x,NULL,\"y z\"}', '2026-01-02 03:04:05.123456+02', "
                        "'happy', 5, '{sad,happy}'), "
                        "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
                        "(3, 'émoji 😀', -0.01, '{}', 'infinity', 'sad', 1, '{}')")
                  .ok());
  config_.snapshot = config::SnapshotMode::kInitial;
  config_.snapshot_chunk_size = 2;
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders SELECT id + 10, name, amount, tags, at, mood, qty, "
                        "moods FROM ps_orders")
                  .ok());
  const std::vector<v1::ChangeEvent> events = WaitForEvents(6);
  std::map<int64_t, const v1::ChangeEvent*> read, streamed;
  for (const auto& e : events) {
    const int64_t id = e.after().fields(0).value().int64();
    if (e.op() == v1::OP_READ) {
      read[id] = &e;
      EXPECT_TRUE(e.source().snapshot());
      EXPECT_EQ(e.source().schema(), "public");
      EXPECT_EQ(e.source().database(), db_->database());
      EXPECT_EQ(e.key_columns_size(), 1);
    } else if (e.op() == v1::OP_INSERT) {
      streamed[id - 10] = &e;
    }
  }
  ASSERT_EQ(read.size(), 3u);
  ASSERT_EQ(streamed.size(), 3u);
  for (int64_t id = 1; id <= 3; ++id) {
    const v1::Row& a = read[id]->after();
    const v1::Row& b = streamed[id]->after();
    ASSERT_EQ(a.fields_size(), b.fields_size());
    for (int c = 1; c < a.fields_size(); ++c) {
      EXPECT_EQ(a.fields(c).name(), b.fields(c).name());
      EXPECT_EQ(a.fields(c).value().ShortDebugString(), b.fields(c).value().ShortDebugString())
          << "row " << id << " column " << a.fields(c).name();
    }
  }
  // The snapshot's progress is visible while it runs and complete afterwards.
  const auto progress = registry_.Snapshot()[0].snapshot_tables;
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].table(), "public.ps_orders");
  EXPECT_EQ(progress[0].rows_done(), 3u);
  EXPECT_TRUE(progress[0].done());
}

TEST_F(PostgresSourceTest, StreamsCommittedTransactionsWholeAndInOrder) {
  StartSource();
  ASSERT_TRUE(db_->Exec("BEGIN; INSERT INTO ps_orders VALUES (1, 'a', 3.10, '{x,NULL}', "
                        "'2026-01-02 03:04:05.123+00', 'happy', 5, '{sad,happy}'), "
                        "(2, 'b', NULL, NULL, NULL, NULL, NULL, NULL); COMMIT")
                  .ok());
  ASSERT_TRUE(db_->Exec("BEGIN; INSERT INTO ps_orders VALUES (99, 'rolled back'); ROLLBACK").ok());
  ASSERT_TRUE(db_->Exec("UPDATE ps_orders SET id = 3, name = 'c' WHERE id = 2").ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM ps_orders WHERE id = 1").ok());
  ASSERT_TRUE(db_->Exec("BEGIN; SELECT pg_logical_emit_message(true, 'audit', 'hello'); "
                        "INSERT INTO ps_orders VALUES (4, 'd'); COMMIT")
                  .ok());
  ASSERT_TRUE(db_->Exec("TRUNCATE ps_orders").ok());
  auto events = WaitForEvents(7);
  ASSERT_EQ(events.size(), 7u);
  // txn 1: two inserts
  EXPECT_EQ(events[0].op(), v1::OP_INSERT);
  EXPECT_EQ(Field(events[0].after(), "id"), "1");
  EXPECT_EQ(Field(events[0].after(), "amount"), "3.10");
  EXPECT_EQ(events[0].source().schema(), "public");
  EXPECT_EQ(events[0].source().table(), "ps_orders");
  EXPECT_EQ(events[0].source().commit_ts_micros() > 0, true);
  EXPECT_EQ(events[0].source().txid(), events[1].source().txid());
  EXPECT_FALSE(events[0].last_in_transaction());
  EXPECT_TRUE(events[1].last_in_transaction());
  EXPECT_EQ(Field(events[1].after(), "amount"), "NULL");
  // An enum is its label, a domain decodes as its base type, an enum array as strings.
  EXPECT_EQ(Field(events[0].after(), "mood"), "happy");
  EXPECT_EQ(Field(events[0].after(), "qty"), "5");
  EXPECT_EQ(Field(events[0].after(), "moods"),
            "array { elements { string: \"sad\" } elements { string: \"happy\" } }");
  // update with a key change: the old key is in before
  EXPECT_EQ(events[2].op(), v1::OP_UPDATE);
  EXPECT_EQ(Field(events[2].before(), "id"), "2");
  EXPECT_EQ(Field(events[2].after(), "id"), "3");
  EXPECT_EQ(events[3].op(), v1::OP_DELETE);
  EXPECT_EQ(Field(events[3].before(), "id"), "1");
  // the message and the insert of one transaction
  EXPECT_EQ(events[4].op(), v1::OP_MESSAGE);
  EXPECT_EQ(events[4].message().prefix(), "audit");
  EXPECT_EQ(events[4].message().content(), "hello");
  EXPECT_EQ(events[5].op(), v1::OP_INSERT);
  EXPECT_EQ(events[4].source().txid(), events[5].source().txid());
  EXPECT_EQ(events[6].op(), v1::OP_TRUNCATE);
  for (const auto& e : events) EXPECT_NE(Field(e.after(), "id"), "99") << "rolled back row";

  // The slot's confirmed position reaches the stored checkpoint, never beyond it.
  const uint64_t stored = log_->Checkpoint(id_)->position().pg().lsn();
  ASSERT_GT(stored, 0u);
  uint64_t confirmed = 0;
  for (int i = 0; i < 100 && confirmed < stored; ++i) {
    confirmed = ConfirmedFlush();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(confirmed, stored);
  EXPECT_LE(confirmed, log_->Checkpoint(id_)->position().pg().lsn());

  // Restart: nothing repeats, and new changes continue.
  source_.reset();
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders VALUES (5, 'e')").ok());
  events = WaitForEvents(8);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  events = WaitForEvents(8);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(Field(events[7].after(), "id"), "5");
}

TEST_F(PostgresSourceTest, SchemaChangesAndTruncateOptions) {
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id) VALUES (1)").ok());
  ASSERT_TRUE(db_->Exec("ALTER TABLE ps_orders ADD COLUMN extra int").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, extra) VALUES (2, 42)").ok());
  ASSERT_TRUE(db_->Exec("TRUNCATE ps_orders RESTART IDENTITY CASCADE").ok());
  auto events = WaitForEvents(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].op(), v1::OP_INSERT);
  // The changed Relation becomes a DDL event with the new column list, before the insert.
  ASSERT_EQ(events[1].op(), v1::OP_DDL);
  EXPECT_EQ(events[1].source().table(), "ps_orders");
  ASSERT_GT(events[1].ddl().columns_size(), 0);
  EXPECT_EQ(events[1].ddl().columns(events[1].ddl().columns_size() - 1).name(), "extra");
  EXPECT_EQ(events[1].source().txid(), events[2].source().txid());
  EXPECT_EQ(events[2].op(), v1::OP_INSERT);
  EXPECT_EQ(Field(events[2].after(), "extra"), "42");
  EXPECT_EQ(events[3].op(), v1::OP_TRUNCATE);
  EXPECT_EQ(events[3].ddl().statement(), "TRUNCATE public.ps_orders RESTART IDENTITY CASCADE");
}

TEST_F(PostgresSourceTest, UnchangedToastIsMarkedNeverNull) {
  StartSource();
  // 120 kB of incompressible text is stored out of line (TOAST).
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name) SELECT 1, string_agg(md5(g::text), '') "
                        "FROM generate_series(1, 3750) g")
                  .ok());
  ASSERT_TRUE(db_->Exec("UPDATE ps_orders SET amount = 1 WHERE id = 1").ok());  // DEFAULT
  ASSERT_TRUE(db_->Exec("ALTER TABLE ps_orders REPLICA IDENTITY FULL").ok());
  ASSERT_TRUE(db_->Exec("UPDATE ps_orders SET amount = 2 WHERE id = 1").ok());  // FULL
  auto events = WaitForEvents(4);
  // insert, update, ddl (the replica identity changed which columns form the key), update
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].op(), v1::OP_DDL);
  events.erase(events.begin() + 2);
  const std::string big = Field(events[0].after(), "name");
  ASSERT_EQ(big.size(), 120'000u);
  // REPLICA IDENTITY DEFAULT: the value was not sent; it is marked, not NULL.
  EXPECT_EQ(Field(events[1].after(), "name"), "<absent>");
  EXPECT_EQ(std::vector<std::string>(events[1].unchanged().begin(), events[1].unchanged().end()),
            std::vector<std::string>{"name"});
  EXPECT_EQ(Field(events[1].after(), "amount"), "1.00");
  // REPLICA IDENTITY FULL: filled from the old row.
  EXPECT_EQ(Field(events[2].after(), "name"), big);
  EXPECT_EQ(events[2].unchanged_size(), 0);
  ASSERT_TRUE(db_->Exec("ALTER TABLE ps_orders REPLICA IDENTITY DEFAULT").ok());
}

TEST_F(PostgresSourceTest, LargeAndStreamedTransactionsArePublishedWhole) {
  ASSERT_TRUE(db_->Exec("ALTER SYSTEM SET logical_decoding_work_mem = '64kB'").ok());
  ASSERT_TRUE(db_->Exec("SELECT pg_reload_conf()").ok());
  StartSource();
  // 20,000 rows in one transaction: Postgres streams it in chunks (work mem 64 kB), and a
  // rolled-back subtransaction inside it must vanish.
  ASSERT_TRUE(
      db_->Exec("BEGIN; "
                "INSERT INTO ps_orders SELECT g, 'row ' || g FROM generate_series(1, 10000) g; "
                "SAVEPOINT s1; "
                "INSERT INTO ps_orders SELECT g, 'gone' FROM generate_series(50001, 52000) g; "
                "ROLLBACK TO SAVEPOINT s1; "
                "INSERT INTO ps_orders SELECT g, 'row ' || g FROM generate_series(10001, 20000) g; "
                "COMMIT")
          .ok());
  auto events = WaitForEvents(20000);
  ASSERT_EQ(events.size(), 20000u);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(Field(events[i].after(), "id"), std::to_string(i + 1));
    ASSERT_EQ(events[i].transaction_index(), i);
    ASSERT_EQ(events[i].last_in_transaction(), i + 1 == events.size());
    ASSERT_GT(events[i].source().commit_ts_micros(), 0);
  }
  // The transaction really was streamed in chunks before its commit.
  std::string streamed = "0";
  for (int i = 0; i < 100 && streamed == "0"; ++i) {
    auto rows =
        db_->Query("SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = 'ps_slot'");
    if (rows.ok() && !rows->empty()) streamed = (*rows)[0][0];
    if (streamed == "0") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(streamed, "0") << "Postgres did not stream the transaction; the test proves nothing";
  ASSERT_TRUE(db_->Exec("ALTER SYSTEM RESET logical_decoding_work_mem").ok());
  ASSERT_TRUE(db_->Exec("SELECT pg_reload_conf()").ok());
}

TEST_F(PostgresSourceTest, MillionRowTransactionStaysUnder256MiB) {
  ASSERT_TRUE(db_->Exec("ALTER SYSTEM SET logical_decoding_work_mem = '1MB'").ok());
  ASSERT_TRUE(db_->Exec("SELECT pg_reload_conf()").ok());
  StartSource();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> peak{storage::testing::RssBytes()};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<uint64_t>(peak, storage::testing::RssBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name) "
                        "SELECT g, 'row ' || g FROM generate_series(1, 1000000) g")
                  .ok());
  for (int i = 0; i < 1200 && log_->Bounds(id_)->last.value() < 1'000'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  done = true;
  sampler.join();
  EXPECT_EQ(log_->Bounds(id_)->last.value(), 1'000'000u);
  std::printf("1,000,000-row transaction: peak RSS %.1f MiB\n", peak / 1048576.0);
  EXPECT_LT(peak.load(), uint64_t{256} << 20);
  ASSERT_TRUE(db_->Exec("ALTER SYSTEM RESET logical_decoding_work_mem").ok());
  ASSERT_TRUE(db_->Exec("SELECT pg_reload_conf()").ok());
}

TEST_F(PostgresSourceTest, IdleSourceStillAdvancesTheSlot) {
  // The load runs in another database on the same server: the source sees only keepalives.
  (void)db_->Exec("CREATE DATABASE ps_elsewhere");
  auto psql = [&](const std::string& sql) {
    auto r = sluice::testing::RunSubprocess(
        {"/usr/lib/postgresql/15/bin/psql", "-h", db_->host(), "-p", std::to_string(db_->port()),
         "-U", db_->admin_user(), "-d", "ps_elsewhere", "-v", "ON_ERROR_STOP=1", "-c", sql},
        {{"PGPASSWORD", db_->admin_password()}}, std::chrono::seconds(60));
    return r.ok() && r->exit_code == 0;
  };
  ASSERT_TRUE(psql("DROP TABLE IF EXISTS load; CREATE TABLE load (x int)"));
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id) VALUES (1)").ok());
  WaitForEvents(1);
  const uint64_t commit_lsn = log_->Checkpoint(id_)->position().pg().lsn();
  auto restart_lsn = [&] {
    auto rows = db_->Query(
        "SELECT restart_lsn - '0/0'::pg_lsn FROM pg_replication_slots WHERE slot_name = "
        "'ps_slot'");
    return rows.ok() && !rows->empty() ? std::stoull((*rows)[0][0]) : 0;
  };
  const uint64_t before = restart_lsn();
  uint64_t after = before;
  for (int i = 0; i < 100 && after <= before; ++i) {
    ASSERT_TRUE(psql("INSERT INTO load SELECT g FROM generate_series(1, 2000) g; CHECKPOINT"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    after = restart_lsn();
  }
  EXPECT_GT(after, before) << "restart_lsn did not advance on an idle source";
  // The idle keepalive position was stored and confirmed, past the last commit.
  for (int i = 0; i < 50 && ConfirmedFlush() <= commit_lsn; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(log_->Checkpoint(id_)->position().pg().lsn(), commit_lsn);
  EXPECT_GT(ConfirmedFlush(), commit_lsn);
  EXPECT_EQ(log_->Bounds(id_)->last.value(), 1u) << "nothing was stored for the other database";
  EXPECT_LE(ConfirmedFlush(), log_->Checkpoint(id_)->position().pg().lsn());
}

TEST_F(PostgresSourceTest, DroppedSlotIsAClearErrorAndNotRecreated) {
  StartSource();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders VALUES (1, 'a')").ok());
  WaitForEvents(1);
  source_.reset();
  for (int i = 0; i < 50; ++i) {
    if (db_->Exec("SELECT pg_drop_replication_slot('ps_slot')").ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  PostgresSourceOptions options;
  source_ = std::make_unique<PostgresSource>(config_, *log_, id_, registry_, options);
  source_->Start();
  SourceRuntime state;
  for (int i = 0; i < 200; ++i) {
    state = registry_.Snapshot()[0];
    if (state.state == v1::SOURCE_STATE_ERROR) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(state.state, v1::SOURCE_STATE_ERROR);
  EXPECT_NE(state.last_error.find("replication slot \"ps_slot\" is gone"), std::string::npos)
      << state.last_error;
  EXPECT_NE(state.last_error.find("re-snapshot"), std::string::npos) << state.last_error;
  auto rows = db_->Query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ps_slot'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0][0], "0") << "the slot must not be recreated silently";
}

// snapshot=when_needed: a slot dropped while sluice was down is recreated with a new snapshot,
// opened by a "t" marker; replaying the log gives the table's state, including the row deleted
// while sluice was down.
TEST_F(PostgresSourceTest, DroppedSlotWithWhenNeededResnapshotsToAnEqualState) {
  StreamThenDropSlotAndChangeTable();
  ASSERT_FALSE(HasFatalFailure());
  StartSource();
  ExpectRecoveredReplay("re-snapshot");
}

// The state a kill -9 leaves when it lands inside that recovery after the new slot was created
// and before the new cut was stored: a slot that has confirmed past the stored position. With
// when_needed this recovers the same way (it was a permanent "another consumer used the slot"
// error before), and the replay is equal to the table.
TEST_F(PostgresSourceTest, SlotPastTheStoredPositionWithWhenNeededResnapshots) {
  StreamThenDropSlotAndChangeTable();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(db_->Exec("SELECT pg_create_logical_replication_slot('ps_slot', 'pgoutput')").ok());
  StartSource();
  ExpectRecoveredReplay("past the stored position");
}

// An on-demand re-snapshot while a writer keeps changing the table (watermarks as logical
// decoding messages): replaying the log, which has no initial snapshot (snapshot=never), gives
// exactly the table's final contents, and no watermark is stored.
TEST_F(PostgresSourceTest, ResnapshotWhileStreamingReplaysToTheSourceState) {
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name, amount) SELECT g, 'n' || g, g "
                        "FROM generate_series(1, 3000) g")
                  .ok());
  config_.snapshot_chunk_size = 200;
  StartSource();
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok());
    std::mt19937 rng(11);
    int next = 10'000;
    while (!stop.load()) {
      const int id = static_cast<int>(rng() % 3100) + 1;
      std::string sql;
      switch (rng() % 4) {
        case 0:
          sql = "UPDATE ps_orders SET name = NULL, amount = amount + 1 WHERE id = " +
                std::to_string(id);
          break;
        case 1:
          sql = "DELETE FROM ps_orders WHERE id = " + std::to_string(id);
          break;
        case 2:
          sql = "INSERT INTO ps_orders (id, name) VALUES (" + std::to_string(next++) + ", 'new')";
          break;
        default:
          sql = "UPDATE ps_orders SET name = 'upd' WHERE id = " + std::to_string(id);
      }
      ASSERT_TRUE((*conn)->Exec(sql).ok()) << sql;
      // Paced so that the stream (one durable append per transaction) keeps up: each chunk
      // waits for its high watermark to come through the stream.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  ASSERT_TRUE(source_->RequestSnapshot("public.ps_orders", "").ok());
  std::string outcome = "timed out";
  for (int i = 0; i < 1200; ++i) {
    const auto snap = registry_.Snapshot()[0];
    if (!snap.last_error.empty()) {
      outcome = snap.last_error;
      break;
    }
    if (snap.snapshot_tables.size() == 1 && snap.snapshot_tables[0].done()) {
      outcome = "";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(outcome, "");
  // "done" means durable: every "r" event is readable when the progress says so.
  const uint64_t done_end = log_->Bounds(id_)->last.value();
  stop = true;
  writer.join();
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name) VALUES (-1, 'marker')").ok());
  std::map<int64_t, std::string> replay;
  size_t reads = 0;
  bool marker = false;
  for (int attempt = 0; attempt < 100 && !marker; ++attempt) {
    replay.clear();
    reads = 0;
    for (const auto& e : WaitForEvents(0)) {
      if (e.op() == v1::OP_MESSAGE) ADD_FAILURE() << "a watermark was stored";
      if (e.op() == v1::OP_DELETE) {
        replay.erase(e.before().fields(0).value().int64());
        continue;
      }
      const int64_t id = e.after().fields(0).value().int64();
      marker = marker || id == -1;
      replay[id] = Field(e.after(), "name") + "|" + Field(e.after(), "amount");
      if (e.op() == v1::OP_READ) {
        ++reads;
        EXPECT_LE(e.offset(), done_end) << "a re-snapshot row was stored after \"done\"";
      }
    }
    if (!marker) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(marker);
  EXPECT_GT(reads, 2000u);
  auto rows = db_->QueryNullable("SELECT id, name, amount::text FROM ps_orders");
  ASSERT_TRUE(rows.ok());
  std::map<int64_t, std::string> source;
  for (const auto& r : *rows) {
    source[std::stoll(*r[0])] = (r[1] ? *r[1] : "NULL") + "|" + (r[2] ? *r[2] : "NULL");
  }
  EXPECT_EQ(replay.size(), source.size());
  int diffs = 0;
  for (const auto& [id, row] : source) {
    if (replay[id] != row && diffs++ < 5)
      ADD_FAILURE() << id << ": " << replay[id] << " vs " << row;
  }
  EXPECT_EQ(diffs, 0);
}

// The append that stores a re-snapshot request fails (the log's files may not grow, as on a
// full disk): RequestSnapshot says so with the cause, at once, and the source's error names the
// dropped re-snapshot (as mysql_source_errors_test checks for MySQL). Before, the Postgres
// source dropped the request silently and the caller heard, after its 20 s wait, that it runs.
TEST_F(PostgresSourceTest, ResnapshotRequestThatCannotBeStoredIsRefusedWithTheCause) {
  StartSource();
  // Streamed rows make the WAL file larger than RocksDB's info LOG (WalGrowthLimit).
  ASSERT_TRUE(db_->Exec("INSERT INTO ps_orders (id, name) SELECT g, repeat('x', 500) "
                        "FROM generate_series(1, 4000) g")
                  .ok());
  ASSERT_EQ(WaitForEvents(4000).size(), 4000u);
  std::optional<storage::testing::WalGrowthLimit> full(std::in_place, dir_.path());
  ASSERT_TRUE(full->ok());
  const absl::Status st = source_->RequestSnapshot("public.ps_orders", "");
  std::string source_error;
  for (int i = 0; i < 500 && source_error.empty(); ++i) {
    const std::string e = registry_.Snapshot()[0].last_error;
    if (e.find("re-snapshot") != std::string::npos) source_error = e;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  full.reset();
  source_.reset();
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted) << st;
  EXPECT_THAT(st.message(), ::testing::HasSubstr("storing its request in the change log failed"))
      << st;
  EXPECT_THAT(source_error, ::testing::HasSubstr("the re-snapshot of public.ps_orders was dropped"))
      << registry_.Snapshot()[0].last_error;
}

}  // namespace
}  // namespace sluice::pipeline
