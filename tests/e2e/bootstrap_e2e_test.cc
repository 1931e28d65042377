// The bootstrap acceptance test (issue 5, compacted table state), against a real MariaDB:
//
//   1. preload two tables (one with a composite key);
//   2. start sluiced with a small per-source retention (retention_max_bytes, checked every
//      second), so the early history, including the initial snapshot's "r" events, is trimmed;
//   3. a writer commits random transactions the whole time: inserts, updates (some to NULL,
//      some changing the primary key), deletes, one kind touching both tables, some rolled back,
//      and now and then a TRUNCATE TABLE;
//   4. once retention removed the early offsets, a new subscriber starts with
//      SNAPSHOT_THEN_STREAM while the writer keeps going: it takes the "r" rows (offset 0,
//      snapshot_offset N) and then the log from N + 1, replaying r/c/u/d and truncates by key;
//   5. the writer stops and writes a marker row; when the subscriber has it, its replay must
//      equal the source tables exactly, column by column;
//   6. `sluicectl table` (json, --key, text) prints the same rows as the source.
//
// The seed is random unless SLUICE_TEST_SEED is set; it is printed, so a failure can be rerun.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/base/value_json.h"
#include "sluice/v1/service.grpc.pb.h"
#include "tests/e2e/replay_rows.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::JsonText;
using e2e::KeyOf;
using e2e::Kind;
using e2e::Normalize;
using e2e::Rows;
using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::SluicedProcess;
using e2e::TableSpec;
using google::protobuf::Struct;
using google::protobuf::Value;
using storage::testing::TempDir;
using testing::TestDatabase;

constexpr int kRows1 = 3000;
constexpr int kRows2 = 1000;

const std::vector<TableSpec>& Tables() {
  static const std::vector<TableSpec> tables = {
      {"boot_t1",
       {"id"},
       {"id", "name", "amount", "created"},
       {Kind::kNumber, Kind::kText, Kind::kText, Kind::kDateTime},
       "SELECT id, name, CAST(amount AS CHAR), DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f') "
       "FROM test.boot_t1"},
      {"boot_t2",
       {"a", "b"},
       {"a", "b", "val"},
       {Kind::kNumber, Kind::kText, Kind::kNumber},
       "SELECT a, b, val FROM test.boot_t2"},
  };
  return tables;
}

// A row rendered as canonical JSON (the shape sluicectl prints), as normalized column texts.
absl::StatusOr<std::vector<std::string>> RowTexts(const TableSpec& t, const std::string& json) {
  Struct s;
  if (!google::protobuf::util::JsonStringToMessage(json, &s).ok()) {
    return absl::InvalidArgumentError("not a JSON object: " + json);
  }
  std::vector<std::string> row;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    auto it = s.fields().find(t.columns[c]);
    if (it == s.fields().end()) return absl::InvalidArgumentError("no " + t.columns[c] + ": " + json);
    row.push_back(Normalize(t.kinds[c], JsonText(it->second)));
  }
  return row;
}

class BootstrapE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* seed = std::getenv("SLUICE_TEST_SEED");
    seed_ = seed ? std::strtoull(seed, nullptr, 10) : std::random_device()();
    std::cout << "SLUICE_TEST_SEED=" << seed_ << std::endl;
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.boot_t1, test.boot_t2").ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.boot_t1 (id INT PRIMARY KEY, name VARCHAR(64), "
                          "amount DECIMAL(12,2), created DATETIME(6))")
                    .ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.boot_t2 (a INT, b VARCHAR(16), val BIGINT, "
                          "PRIMARY KEY (a, b))")
                    .ok());
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.boot_t1 SELECT seq, CONCAT('name-', seq), "
                                       "seq / 100, TIMESTAMP('2026-01-01') + INTERVAL seq * 1001 "
                                       "MICROSECOND FROM seq_1_to_",
                                       kRows1))
                    .ok());
    ASSERT_TRUE(db_->Exec(absl::StrCat("INSERT INTO test.boot_t2 SELECT seq DIV 2, "
                                       "CONCAT('b', seq % 2), seq * 1000003 FROM seq_1_to_",
                                       kRows2))
                    .ok());
  }

  std::vector<Rows> SourceRows() { return e2e::SourceRows(*db_, Tables()); }

  std::string StatusJson(const SluicedProcess& d) {
    return RunCommand({Sluicectl(), "--server", d.address(), "status", "--format", "json"})
        .stdout_text;
  }

  static uint64_t Field(const std::string& json, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const size_t at = json.find(key);
    return at == std::string::npos ? 0
                                   : std::strtoull(json.c_str() + at + key.size(), nullptr, 10);
  }

  void WriterLoop(std::atomic<bool>& stop, uint64_t seed) {
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    // MySQL logs a TRUNCATE as a statement under the session's database, and the source keeps
    // statements by that database: it must be the tables' one.
    ASSERT_TRUE((*conn)->Exec("USE test").ok());
    std::mt19937_64 rng(seed);
    int next_id = 1'000'000;
    auto pick1 = [&] { return std::uniform_int_distribution<int>(1, kRows1 + 100)(rng); };
    auto pick2 = [&] { return std::uniform_int_distribution<int>(0, kRows2 / 2 + 50)(rng); };
    while (!stop.load()) {
      if (rng() % 150 == 0) {
        // TRUNCATE is a statement of its own (MariaDB commits around it).
        ASSERT_TRUE((*conn)->Exec("TRUNCATE TABLE boot_t2").ok());
        ++truncates_;
        continue;
      }
      std::vector<std::string> stmts;
      const int n = std::uniform_int_distribution<int>(1, 4)(rng);
      for (int i = 0; i < n; ++i) {
        const int id = pick1();
        const int a = pick2();
        const std::string b = absl::StrCat("'b", rng() % 3, "'");
        switch (rng() % 8) {
          case 0:
            stmts.push_back(absl::StrCat("INSERT INTO test.boot_t1 VALUES (", next_id++, ", 'new-",
                                         rng() % 1000, "', ", rng() % 100000,
                                         ".25, '2026-02-03 04:05:06.789')"));
            break;
          case 1:
            stmts.push_back(absl::StrCat("UPDATE test.boot_t1 SET name = NULL WHERE id = ", id));
            break;
          case 2:
            stmts.push_back(absl::StrCat("UPDATE test.boot_t1 SET name = 'upd-", rng() % 1000,
                                         "', amount = amount + 1 WHERE id = ", id));
            break;
          case 3:
            // A primary key change: the old key disappears.
            stmts.push_back(absl::StrCat("UPDATE IGNORE test.boot_t1 SET id = ", next_id++,
                                         " WHERE id = ", id));
            break;
          case 4:
            stmts.push_back(absl::StrCat("DELETE FROM test.boot_t1 WHERE id = ", id));
            break;
          case 5:
            stmts.push_back(absl::StrCat("DELETE FROM test.boot_t2 WHERE a = ", a));
            break;
          case 6:
            stmts.push_back(absl::StrCat("UPDATE test.boot_t1 SET created = NULL WHERE id = ", id));
            stmts.push_back(absl::StrCat("INSERT IGNORE INTO test.boot_t2 VALUES (", a, ", ", b,
                                         ", ", rng() % 1000, ")"));
            break;
          default:
            stmts.push_back(absl::StrCat("UPDATE test.boot_t2 SET val = NULL WHERE a = ", a,
                                         " AND b = ", b));
        }
      }
      const bool rollback = rng() % 10 == 0;
      std::string sql = "START TRANSACTION; ";
      for (const auto& s : stmts) absl::StrAppend(&sql, s, "; ");
      absl::StrAppend(&sql, rollback ? "ROLLBACK" : "COMMIT");
      absl::Status st = (*conn)->Exec(sql);
      if (!st.ok()) {
        (void)(*conn)->Exec("ROLLBACK");
        ADD_FAILURE() << "writer: " << st << " for " << sql;
        return;
      }
      ++transactions_;
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 6));
    }
    ASSERT_TRUE((*conn)->Exec("INSERT INTO test.boot_t2 VALUES (-1, 'marker', 0)").ok());
  }

  // Applies one bootstrap row or log event to `replay` by key (r/c as upserts, u as delete of
  // the before image and upsert of the after image, d as delete, TRUNCATE as a table clear).
  // Returns true for the writer's marker row.
  static bool Apply(std::vector<Rows>& replay, const v1::ChangeEvent& e) {
    auto row = [&](const v1::Row& image, bool put) {
      size_t ti = 0;
      while (ti < Tables().size() && Tables()[ti].name != e.source().table()) ++ti;
      ASSERT_LT(ti, Tables().size()) << e.ShortDebugString();
      std::string json;
      AppendRowJson(image, json);
      auto texts = RowTexts(Tables()[ti], json);
      ASSERT_TRUE(texts.ok()) << texts.status();
      const std::string key = KeyOf(Tables()[ti], *texts);
      if (put) {
        replay[ti][key] = *texts;
      } else {
        replay[ti].erase(key);
      }
    };
    switch (e.op()) {
      case v1::OP_INSERT:
      case v1::OP_READ:
        row(e.after(), true);
        break;
      case v1::OP_UPDATE:
        row(e.before(), false);
        row(e.after(), true);
        break;
      case v1::OP_DELETE:
        row(e.before(), false);
        break;
      case v1::OP_DDL:
        if (e.ddl().statement() == "TRUNCATE TABLE boot_t2") replay[1].clear();
        break;
      default:
        ADD_FAILURE() << "unexpected event " << e.ShortDebugString();
    }
    return e.source().table() == "boot_t2" && e.op() == v1::OP_INSERT &&
           e.after().fields(1).value().string() == "marker";
  }

  uint64_t seed_ = 0;
  TestDatabase* db_ = nullptr;
  std::atomic<int> transactions_{0};
  std::atomic<int> truncates_{0};
};

TEST_F(BootstrapE2E, SnapshotThenStreamRebuildsTheTablesAfterRetentionTrimmed) {
  TempDir data;
  const std::string url =
      db_->Url() +
      "test?name=boot&server_id=9401&tables=test.boot_t1,test.boot_t2&snapshot_chunk_size=500"
      "&retention_max_bytes=256KiB";
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--retention-interval",
                    "1s", "--source", url});
  e2e::WaitStreaming(d);
  std::atomic<bool> stop{false};
  std::thread writer([&] { WriterLoop(stop, seed_); });
  std::thread stopper;
  // A failed assertion returns early: stop and join the threads (and so sluiced stops) first.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& writer;
    std::thread& stopper;
    ~Joiner() {
      stop = true;
      if (stopper.joinable()) stopper.join();
      if (writer.joinable()) writer.join();
    }
  } joiner{stop, writer, stopper};

  // Wait until retention removed the early history: the initial snapshot's rows and more.
  std::string status;
  for (int i = 0; i < 600; ++i) {
    status = StatusJson(d);
    if (Field(status, "first_offset") > kRows1 + kRows2 + 500) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const uint64_t first_at_start = Field(status, "first_offset");
  ASSERT_GT(first_at_start, static_cast<uint64_t>(kRows1 + kRows2 + 500))
      << "retention did not trim: " << status << d.Log();

  // A new subscriber while the writer runs.
  auto stub = v1::ChangeStream::NewStub(
      grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
  v1::SubscribeRequest req;
  req.set_source("boot");
  req.mutable_start()->mutable_snapshot_then_stream();
  req.set_max_batch_events(500);
  auto reader = stub->Subscribe(&ctx, req);

  std::vector<Rows> replay(Tables().size());
  v1::SubscribeResponse resp;
  uint64_t n = 0;
  size_t bootstrap_rows = 0;
  bool done = false;
  while (!done && reader->Read(&resp)) {
    n = resp.snapshot_offset();
    ASSERT_GE(n, first_at_start) << "the bootstrap is older than what retention kept";
    ASSERT_EQ(resp.next_offset(), n + 1);
    done = resp.snapshot_done();
    for (const auto& e : resp.events()) {
      ASSERT_EQ(e.offset(), 0u);
      ASSERT_EQ(e.op(), v1::OP_READ);
      ASSERT_TRUE(e.source().snapshot());
      Apply(replay, e);
      ++bootstrap_rows;
    }
  }
  ASSERT_TRUE(done) << reader->Finish().error_message();
  // The writer deletes and truncates too; most of the preloaded rows are still there.
  ASSERT_GT(bootstrap_rows, static_cast<size_t>(kRows1 / 10));
  std::cout << "bootstrap: " << bootstrap_rows << " rows at offset " << n
            << " (first stored offset " << first_at_start << ")" << std::endl;

  // Let the stream run alongside the writer for a while, then stop the writer.
  stopper = std::thread([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    stop = true;
  });
  uint64_t expect = n + 1;
  size_t streamed = 0;
  int truncates_seen = 0;
  bool marker = false;
  while (!marker && reader->Read(&resp)) {
    EXPECT_EQ(resp.snapshot_offset(), 0u);
    for (const auto& e : resp.events()) {
      ASSERT_EQ(e.offset(), expect) << "the stream after the bootstrap is not contiguous";
      ++expect;
      ++streamed;
      if (e.op() == v1::OP_DDL && e.ddl().statement() == "TRUNCATE TABLE boot_t2") {
        ++truncates_seen;
      }
      marker = Apply(replay, e) || marker;
    }
  }
  stopper.join();
  writer.join();
  ctx.TryCancel();
  reader->Finish();
  ASSERT_TRUE(marker) << "the subscriber did not reach the marker: " << StatusJson(d) << d.Log();
  std::cout << streamed << " events streamed after the bootstrap, " << transactions_
            << " writer transactions, " << truncates_ << " truncates (" << truncates_seen
            << " after the bootstrap)" << std::endl;

  const std::vector<Rows> source = SourceRows();
  for (size_t ti = 0; ti < Tables().size(); ++ti) {
    e2e::ExpectSameRows(Tables()[ti], source[ti], replay[ti]);
  }

  // sluicectl table: the same rows, one JSON object each.
  for (size_t ti = 0; ti < Tables().size(); ++ti) {
    const TableSpec& t = Tables()[ti];
    auto r = RunCommand({Sluicectl(), "--server", d.address(), "table", "boot", "test." + t.name,
                         "--format", "json", "--limit", "1000000"});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    Rows printed;
    std::istringstream in(r.stdout_text);
    for (std::string line; std::getline(in, line);) {
      auto row = RowTexts(t, line);
      ASSERT_TRUE(row.ok()) << row.status();
      printed[KeyOf(t, *row)] = *row;
    }
    EXPECT_EQ(printed.size(), source[ti].size()) << t.name;
    EXPECT_TRUE(printed == source[ti]) << t.name << ": sluicectl table differs from the source";
  }
  ASSERT_FALSE(source[0].empty());
  const auto& [some_key, some_row] = *source[0].begin();
  auto one = RunCommand({Sluicectl(), "--server", d.address(), "table", "boot", "test.boot_t1",
                         "--key", "id=" + some_key, "--format", "json"});
  ASSERT_EQ(one.exit_code, 0) << one.stderr_text;
  ASSERT_EQ(e2e::Lines(one.stdout_text), 1u) << one.stdout_text;
  auto row = RowTexts(Tables()[0], one.stdout_text.substr(0, one.stdout_text.size() - 1));
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(*row, some_row);
  auto text = RunCommand({Sluicectl(), "--server", d.address(), "table", "boot", "test.boot_t2",
                          "--key", "b=marker"});
  ASSERT_EQ(text.exit_code, 0) << text.stderr_text;
  EXPECT_NE(text.stdout_text.find("val"), std::string::npos) << text.stdout_text;  // the header
  EXPECT_NE(text.stdout_text.find("marker"), std::string::npos) << text.stdout_text;
  EXPECT_NE(text.stderr_text.find("1 row"), std::string::npos) << text.stderr_text;
}

// A durable subscription created with `sluicectl subscriptions create --from snapshot` while
// a writer runs: a stream that ends in the middle of the bootstrap is followed by a whole new
// bootstrap (the consumer starts its copy over); once the consumer acks N it is an ordinary
// durable subscription, which resumes after its committed offset without the state, also
// across a kill -9 of sluiced; the replay equals the source tables.
TEST_F(BootstrapE2E, DurableSubscriptionBootstrapsUntilAckedThenResumesAcrossAKill) {
  TempDir data;
  const std::string url =
      db_->Url() +
      "test?name=boot&server_id=9402&tables=test.boot_t1,test.boot_t2&snapshot_chunk_size=500"
      "&retention_max_bytes=256KiB";
  auto start = [&] {
    return std::make_unique<SluicedProcess>(std::vector<std::string>{
        "--data-dir", data.path(), "--listen", "127.0.0.1:0", "--retention-interval", "1s",
        "--source", url});
  };
  std::unique_ptr<SluicedProcess> d = start();
  e2e::WaitStreaming(*d);
  auto created = RunCommand({Sluicectl(), "--server", d->address(), "subscriptions", "create",
                             "lake", "--source", "boot", "--from", "snapshot"});
  ASSERT_EQ(created.exit_code, 0) << created.stderr_text;

  std::atomic<bool> stop{false};
  std::thread writer([&] { WriterLoop(stop, seed_); });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& writer;
    ~Joiner() {
      stop = true;
      if (writer.joinable()) writer.join();
    }
  } joiner{stop, writer};

  struct Stream {
    std::unique_ptr<v1::Subscriptions::Stub> stub;
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::SubscribeResponse>> rw;
    void Ack(uint64_t offset) {
      v1::ConsumeRequest req;
      req.set_ack(offset);
      ASSERT_TRUE(rw->Write(req));
    }
  };
  auto consume = [](const SluicedProcess& d) {
    auto s = std::make_unique<Stream>();
    s->stub = v1::Subscriptions::NewStub(
        grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials()));
    s->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
    s->rw = s->stub->Consume(&s->ctx);
    v1::ConsumeRequest req;
    req.mutable_open()->set_subscription("lake");
    req.mutable_open()->set_max_batch_events(200);
    EXPECT_TRUE(s->rw->Write(req));
    return s;
  };

  std::vector<Rows> replay(Tables().size());
  v1::SubscribeResponse resp;
  // 1. Two messages of the bootstrap, then the consumer goes away.
  {
    auto s = consume(*d);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(s->rw->Read(&resp));
      ASSERT_GT(resp.snapshot_offset(), 0u);
      ASSERT_FALSE(resp.snapshot_done());
      for (const auto& e : resp.events()) Apply(replay, e);
    }
    s->ctx.TryCancel();
    s->rw->Finish();
  }
  // 2. Not acked: the bootstrap again, at a newer offset. A bootstrap replaces the copy.
  uint64_t expect = 0;
  uint64_t acked = 0;
  {
    auto s = consume(*d);
    for (auto& rows : replay) rows.clear();
    uint64_t n = 0;
    size_t rows = 0;
    bool done = false;
    while (!done && s->rw->Read(&resp)) {
      ASSERT_GT(resp.snapshot_offset(), 0u);
      n = resp.snapshot_offset();
      done = resp.snapshot_done();
      for (const auto& e : resp.events()) {
        ASSERT_EQ(e.offset(), 0u);
        Apply(replay, e);
        ++rows;
      }
    }
    ASSERT_TRUE(done);
    ASSERT_EQ(resp.next_offset(), n + 1);
    ASSERT_GT(rows, static_cast<size_t>(kRows1 / 10));
    s->Ack(n);  // the bootstrap's commit
    // The log from N + 1, contiguous, alongside the writer; acked as it comes.
    expect = n + 1;
    while (expect < n + 300 && s->rw->Read(&resp)) {
      ASSERT_EQ(resp.snapshot_offset(), 0u);
      for (const auto& e : resp.events()) {
        ASSERT_EQ(e.offset(), expect) << "the log after the bootstrap is not contiguous";
        ++expect;
        Apply(replay, e);
      }
      if (resp.next_offset() > acked + 1) {
        acked = resp.next_offset() - 1;
        s->Ack(acked);
      }
    }
    // Wait for a confirmation of the last ack, then kill -9 sluiced under the stream.
    while (resp.committed_offset() < acked && s->rw->Read(&resp)) {
      for (const auto& e : resp.events()) {
        ASSERT_EQ(e.offset(), expect);
        ++expect;
        Apply(replay, e);
      }
    }
    ASSERT_GE(resp.committed_offset(), acked);
    acked = resp.committed_offset();
    EXPECT_EQ(d->Kill(), 128 + SIGKILL);
    s->rw->Finish();
  }
  d = start();
  e2e::WaitStreaming(*d);
  // 3. Acked: no bootstrap; the log resumes right after the committed offset (events after it
  // that this consumer already applied come again and apply the same way).
  stop = true;
  writer.join();
  auto s = consume(*d);
  bool first = true;
  bool marker = false;
  while (!marker && s->rw->Read(&resp)) {
    ASSERT_EQ(resp.snapshot_offset(), 0u) << "a bootstrap after the ack";
    for (const auto& e : resp.events()) {
      if (first) {
        ASSERT_EQ(e.offset(), acked + 1) << "not resumed after the committed offset";
        ASSERT_LE(e.offset(), expect);
        expect = e.offset();
        first = false;
      }
      ASSERT_EQ(e.offset(), expect);
      ++expect;
      marker = Apply(replay, e) || marker;
    }
  }
  s->ctx.TryCancel();
  s->rw->Finish();
  ASSERT_TRUE(marker) << "the consumer did not reach the marker: " << StatusJson(*d) << d->Log();
  const std::vector<Rows> source = SourceRows();
  for (size_t ti = 0; ti < Tables().size(); ++ti) {
    e2e::ExpectSameRows(Tables()[ti], source[ti], replay[ti]);
  }
}

// A source with table_state=false keeps none and refuses SNAPSHOT_THEN_STREAM and table.
TEST_F(BootstrapE2E, TableStateOffIsRefusedWithAClearMessage) {
  TempDir data;
  SluicedProcess d({"--data-dir", data.path(), "--listen", "127.0.0.1:0", "--source",
                    db_->Url() + "test?name=nostate&server_id=9402&tables=test.boot_t2"
                                 "&table_state=false"});
  e2e::WaitStreaming(d);
  auto r = RunCommand({Sluicectl(), "--server", d.address(), "table", "nostate", "test.boot_t2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("table_state: false"), std::string::npos) << r.stderr_text;
  auto stub = v1::ChangeStream::NewStub(
      grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::SubscribeRequest req;
  req.set_source("nostate");
  req.mutable_start()->mutable_snapshot_then_stream();
  auto reader = stub->Subscribe(&ctx, req);
  v1::SubscribeResponse resp;
  EXPECT_FALSE(reader->Read(&resp));
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
}

}  // namespace
}  // namespace sluice
