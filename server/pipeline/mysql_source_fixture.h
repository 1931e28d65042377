#pragma once
// The fixture of the MysqlSource tests against a real MariaDB 10.11 (the shared test server):
// a fresh change log per test, a source config for the server's `sluice` user, and helpers to
// start the source and read what it stored.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/pipeline/mysql_source.h"
#include "storage/test_util.h"
#include "tests/testing/test_database.h"

namespace sluice::pipeline {

class MysqlSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using sluice::testing::TestDatabase;
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    UseServer(db_);
  }

  void UseServer(sluice::testing::TestDatabase* db) {
    db_ = db;
    log_.reset();
    ++log_generation_;
    log_ = *storage::ChangeLog::Open(LogDir());
    scanned_ = 1;
    id_ = *log_->RegisterSource("my", v1::SOURCE_KIND_MYSQL);
    config_ = {};
    config_.name = "my";
    config_.kind = v1::SOURCE_KIND_MYSQL;
    config_.host = db_->host();
    config_.port = static_cast<uint16_t>(db_->port());
    config_.user = db_->user();
    config_.password = db_->password();
    config_.server_id = 4242;
    config_.tls_mode = "disabled";
    config_.snapshot = config::SnapshotMode::kNever;  // SnapshotRows* tests turn it on
    SourceRuntime runtime;
    runtime.name = "my";
    runtime.kind = v1::SOURCE_KIND_MYSQL;
    registry_.Upsert(runtime);
  }

  void TearDown() override { source_.reset(); }

  // The directory of the current change log.
  std::string LogDir() const { return dir_.path() + "/" + std::to_string(log_generation_); }

  void StartSource(MysqlSourceOptions options = {}) {
    options.heartbeat_period = std::chrono::milliseconds(500);
    options.idle_checkpoint_interval = std::chrono::milliseconds(100);
    options.max_backoff = std::chrono::milliseconds(1000);
    source_ = std::make_unique<MysqlSource>(config_, *log_, id_, registry_, options);
    source_->Start();
    for (int i = 0; i < 300; ++i) {
      auto snap = registry_.Snapshot();
      if (snap[0].state == v1::SOURCE_STATE_STREAMING) return;
      ASSERT_NE(snap[0].state, v1::SOURCE_STATE_ERROR) << snap[0].last_error;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "source did not reach STREAMING";
  }

  // Waits for the source's ERROR state and returns the message.
  std::string WaitForError() {
    for (int i = 0; i < 300; ++i) {
      auto snap = registry_.Snapshot();
      if (snap[0].state == v1::SOURCE_STATE_ERROR) return snap[0].last_error;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "(no error)";
  }

  // Calls `fn` for every stored event from `from` on, one at a time (without holding them all).
  // Returns the offset after the last one.
  uint64_t ForEach(uint64_t from, const std::function<void(const v1::ChangeEvent&)>& fn) {
    uint64_t next = from;
    EXPECT_TRUE(log_->Read(id_, LogOffset(from),
                           storage::ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
                           [&](const storage::StoredRecord& r) {
                             v1::ChangeEvent e;
                             EXPECT_TRUE(e.ParseFromArray(r.view.event.data(),
                                                          static_cast<int>(r.view.event.size())));
                             next = e.offset() + 1;
                             fn(e);
                           })
                    .ok());
    return next;
  }

  std::vector<v1::ChangeEvent> ReadAll() {
    std::vector<v1::ChangeEvent> out;
    ForEach(1, [&](const v1::ChangeEvent& e) { out.push_back(e); });
    return out;
  }

  // Inserts a marker row and waits until its event is in the log.
  void WaitForMarker() {
    static std::atomic<int> markers{0};
    const int marker = ++markers;
    EXPECT_TRUE(db_->Exec("CREATE TABLE IF NOT EXISTS test.ms_marker (id INT PRIMARY KEY)").ok());
    EXPECT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.ms_marker VALUES (", marker, ")")).ok());
    bool found = false;
    for (int i = 0; i < 1200 && !found; ++i) {
      scanned_ = ForEach(scanned_, [&](const v1::ChangeEvent& e) {
        found = found || (e.source().table() == "ms_marker" && e.op() == v1::OP_INSERT &&
                          e.after().fields(0).value().int64() == marker);
      });
      if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!found) {
      ADD_FAILURE() << "marker " << marker
                    << " never arrived; state: " << registry_.Snapshot()[0].last_error;
    }
  }

  // WaitForMarker, then every event.
  std::vector<v1::ChangeEvent> Sync() {
    WaitForMarker();
    return ReadAll();
  }

  sluice::testing::TestDatabase* db_ = nullptr;
  storage::testing::TempDir dir_;
  int log_generation_ = 0;
  uint64_t scanned_ = 1;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId id_;
  config::SourceConfig config_;
  SourceRegistry registry_;
  std::unique_ptr<MysqlSource> source_;
};

}  // namespace sluice::pipeline
