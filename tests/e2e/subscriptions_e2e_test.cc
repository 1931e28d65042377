// Durable subscriptions end to end: a real sluiced fed by the test MariaDB, a consumer process
// (durable_consumer) and sluicectl. Both the consumer and the server are killed with kill -9
// while rows are written; the consumer's journal then must show every event exactly once
// except redeliveries of events that were not acked, each stream starting right after an
// offset the server had committed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::RunCommand;
using e2e::Sluicectl;
using e2e::FreePort;
using e2e::SluicedProcess;
using e2e::WaitStreaming;
using storage::testing::TempDir;
using testing::TestDatabase;

// The durable_consumer helper as a child process.
class ConsumerProcess {
 public:
  ConsumerProcess(const std::string& server, const std::string& journal) {
    std::vector<std::string> args = {e2e::BinaryDir() + "/tests/e2e/durable_consumer",
                                     "--server",
                                     server,
                                     "--subscription",
                                     "lake",
                                     "--journal",
                                     journal,
                                     "--ack-every",
                                     "7",
                                     "--max-unacked",
                                     "20"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  ~ConsumerProcess() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

struct Line {
  char kind = 0;
  uint64_t a = 0;
  int64_t b = 0;
};

std::vector<Line> ReadJournal(const std::string& path) {
  std::vector<Line> out;
  std::ifstream in(path);
  for (std::string text; std::getline(in, text);) {
    if (text.empty()) continue;
    Line l;
    l.kind = text[0];
    std::istringstream fields(text.substr(1));
    if (l.kind == 'E') fields >> l.a >> l.b;
    if (l.kind == 'A' || l.kind == 'C') fields >> l.a;
    out.push_back(l);
  }
  return out;
}

// The highest offset the journal shows an event of (0: none yet).
uint64_t LastOffsetIn(const std::string& path) {
  uint64_t last = 0;
  for (const Line& l : ReadJournal(path)) {
    if (l.kind == 'E') last = std::max(last, l.a);
  }
  return last;
}

// Inserts rows 1..rows into test.sub_items on its own thread, but only up to the row the test
// allows so far: so the test knows which rows can exist when it kills something. Destruction
// (also when an ASSERT ends the test early) stops the thread and joins it.
class GatedWriter {
 public:
  GatedWriter(TestDatabase* db, int rows)
      : thread_([this, db, rows] {
          for (int i = 1; i <= rows; ++i) {
            {
              std::unique_lock<std::mutex> lock(mu_);
              cv_.wait(lock, [&] { return stop_ || i <= allowed_; });
              if (stop_) return;
            }
            if (!db->Exec("INSERT INTO test.sub_items VALUES (" + std::to_string(i) + ", 'v')")
                     .ok()) {
              std::lock_guard<std::mutex> lock(mu_);
              failed_ = true;
              return;
            }
          }
        }) {}
  ~GatedWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  // Lets the writer go on up to row `row`.
  void Allow(int row) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      allowed_ = row;
    }
    cv_.notify_all();
  }
  // Waits until the thread has written every allowed row or failed; true if it failed.
  bool Join() {
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int allowed_ = 0;
  bool stop_ = false;
  bool failed_ = false;
  std::thread thread_;  // last: it starts after the members it uses
};

class SubscriptionsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.sub_items").ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.sub_items (id INT PRIMARY KEY, v VARCHAR(20))").ok());
    port_ = FreePort();
  }
  std::vector<std::string> SluicedArgs() {
    return {"--data-dir",
            data_.path(),
            "--listen",
            address(),
            "--source",
            "mysql://" + db_->user() + ":" + db_->password() +
                "@127.0.0.1:" + std::to_string(db_->port()) +
                "/?name=my&server_id=9101&tables=test.sub_items&snapshot=never"};
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {Sluicectl(), "--server", address(), "subscriptions"});
    return args;
  }
  // Waits (up to two minutes, then fails) until the journal shows the event at `offset`.
  void WaitForOffset(const std::string& journal, uint64_t offset, const SluicedProcess& d) {
    for (int i = 0; i < 2400 && LastOffsetIn(journal) < offset; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GE(LastOffsetIn(journal), offset)
        << "the consumer stopped receiving events before offset " << offset << "\n"
        << d.Log();
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
  TempDir work_;
  int port_ = 0;
};

TEST_F(SubscriptionsE2E, KillNineOfConsumerAndServerLosesNothingAndRepeatsOnlyUnacked) {
  constexpr int kRows = 1500;
  const std::string journal = work_.path() + "/journal";
  auto d = std::make_unique<SluicedProcess>(SluicedArgs());
  ASSERT_EQ(d->port(), port_);
  WaitStreaming(*d);
  auto created = RunCommand(Ctl({"create", "lake", "--source", "my", "--from", "earliest"}));
  ASSERT_EQ(created.exit_code, 0) << created.stderr_text;

  // Offsets are row ids here (a fresh log of one table). The writer runs ahead of each kill by
  // at most one step, and each wait asks for a row that did not exist at the previous kill,
  // so every kill lands while rows are still to come and every stream after a kill must
  // deliver new events: the test never depends on how fast the writer or the consumer is.
  // The consumer acks every 7 events and may hold at most 20 unacked, so it advances at the
  // pace of committed acks and a kill usually finds unacked events in flight.
  GatedWriter writer(db_, kRows);
  writer.Allow(400);
  auto consumer = std::make_unique<ConsumerProcess>(address(), journal);
  WaitForOffset(journal, 200, *d);
  consumer->Kill();  // the client dies (rows 1..400 exist at most)
  consumer = std::make_unique<ConsumerProcess>(address(), journal);
  writer.Allow(800);
  WaitForOffset(journal, 600, *d);
  d->Kill();  // the server dies (rows 1..800 at most); the consumer reconnects on its own
  d = std::make_unique<SluicedProcess>(SluicedArgs());
  writer.Allow(1200);
  WaitForOffset(journal, 1000, *d);
  consumer->Kill();  // both die (rows 1..1200 at most)
  d->Kill();
  d = std::make_unique<SluicedProcess>(SluicedArgs());
  consumer = std::make_unique<ConsumerProcess>(address(), journal);
  writer.Allow(kRows);
  ASSERT_FALSE(writer.Join()) << "an INSERT failed";
  // Wait until the last row arrived: the fourth consumer must deliver rows 1201..kRows.
  WaitForOffset(journal, kRows, *d);
  consumer->Kill();

  // Replay the journal.
  uint64_t confirmed = 0;    // the highest committed offset the server confirmed so far
  uint64_t acked = 0;        // the highest offset acked so far (confirmed or not)
  uint64_t expect_next = 0;  // within a stream, the offset that must come next; 0: a new stream
  std::set<uint64_t> seen;
  int stream_starts = 0;
  size_t redelivered = 0;
  for (const Line& l : ReadJournal(journal)) {
    switch (l.kind) {
      case 'O':
      case 'S':
        expect_next = 0;
        break;
      case 'A':
        acked = std::max(acked, l.a);
        break;
      case 'C':
        ASSERT_LE(l.a, acked) << "the server committed an offset that was never acked";
        confirmed = std::max(confirmed, l.a);
        break;
      case 'E':
        if (expect_next == 0) {
          // A stream starts right after an offset the server committed: never before a
          // confirmed ack (no duplicate of an acked event), never after the last ack sent (no
          // event skipped).
          ASSERT_GT(l.a, confirmed) << "redelivered an event whose ack was confirmed";
          ASSERT_LE(l.a, acked + 1) << "a stream started past the last ack: events lost";
          ++stream_starts;
        } else {
          ASSERT_EQ(l.a, expect_next) << "a gap or a repeat inside one stream";
        }
        expect_next = l.a + 1;
        ASSERT_EQ(l.b, static_cast<int64_t>(l.a)) << "offset " << l.a << " carries row " << l.b;
        if (!seen.insert(l.a).second) ++redelivered;
        break;
      default:
        break;
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(*seen.begin(), 1u);
  EXPECT_EQ(*seen.rbegin(), static_cast<uint64_t>(kRows));
  // The first consumer, the second, the second after the server restart, the third.
  EXPECT_GE(stream_starts, 4) << "the kills did not interrupt the stream";
  std::printf("%zu events, %zu redelivered (not acked before a kill), %d streams\n", seen.size(),
              redelivered, stream_starts);

  // sluicectl reports the subscription with its lag.
  auto list = RunCommand(Ctl({"list", "--format", "json"}));
  ASSERT_EQ(list.exit_code, 0) << list.stderr_text;
  EXPECT_NE(list.stdout_text.find("\"name\":\"lake\",\"source\":\"my\""), std::string::npos)
      << list.stdout_text;
  EXPECT_NE(list.stdout_text.find("\"last_offset\":" + std::to_string(kRows)), std::string::npos)
      << list.stdout_text;
}

TEST_F(SubscriptionsE2E, SluicectlCreatesListsResetsAndDeletes) {
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(
        db_->Exec("INSERT INTO test.sub_items VALUES (" + std::to_string(i) + ", 'v')").ok());
  }
  // Wait until the five rows are stored.
  e2e::TailJson(d, "my", 5);

  auto created = RunCommand(Ctl({"create", "orders", "--source", "my", "--from", "3", "--table",
                                 "test.*", "--op", "c,u", "--columns", "test.sub_items=v"}));
  ASSERT_EQ(created.exit_code, 0) << created.stderr_text;
  EXPECT_NE(created.stdout_text.find("orders"), std::string::npos) << created.stdout_text;

  auto json = RunCommand(Ctl({"list", "my", "--format", "json"}));
  ASSERT_EQ(json.exit_code, 0) << json.stderr_text;
  EXPECT_NE(json.stdout_text.find(R"("name":"orders","source":"my","committed_offset":2,)"
                                  R"("last_offset":5,"lag_events":3,"unacked_events":0,)"
                                  R"("connected":false,"tables":["test.*"],"ops":["c","u"],)"
                                  R"("projections":[{"table":"test.sub_items","columns":["v"]}])"),
            std::string::npos)
      << json.stdout_text;

  auto text = RunCommand(Ctl({"list"}));
  ASSERT_EQ(text.exit_code, 0) << text.stderr_text;
  EXPECT_NE(text.stdout_text.find("LAG"), std::string::npos) << text.stdout_text;
  EXPECT_NE(text.stdout_text.find("tables=test.* ops=c,u columns=test.sub_items=v"),
            std::string::npos)
      << text.stdout_text;

  auto reset = RunCommand(Ctl({"reset", "orders", "--to", "latest", "--format", "json"}));
  ASSERT_EQ(reset.exit_code, 0) << reset.stderr_text;
  EXPECT_NE(reset.stdout_text.find("\"committed_offset\":5,"), std::string::npos)
      << reset.stdout_text;
  auto earliest = RunCommand(Ctl({"reset", "orders", "--to", "earliest"}));
  ASSERT_EQ(earliest.exit_code, 0) << earliest.stderr_text;

  // Clear errors for bad requests.
  auto dup = RunCommand(Ctl({"create", "orders", "--source", "my"}));
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.stderr_text.find("already exists"), std::string::npos) << dup.stderr_text;
  auto bad_to = RunCommand(Ctl({"reset", "orders", "--to", "yesterday"}));
  EXPECT_EQ(bad_to.exit_code, 2);
  EXPECT_NE(bad_to.stderr_text.find("--to \"yesterday\" is not earliest"), std::string::npos)
      << bad_to.stderr_text;
  auto beyond = RunCommand(Ctl({"reset", "orders", "--to", "99"}));
  EXPECT_EQ(beyond.exit_code, 1);
  EXPECT_NE(beyond.stderr_text.find("outside the stored log"), std::string::npos)
      << beyond.stderr_text;

  auto deleted = RunCommand(Ctl({"delete", "orders", "--format", "json"}));
  ASSERT_EQ(deleted.exit_code, 0) << deleted.stderr_text;
  EXPECT_EQ(deleted.stdout_text, "{\"deleted\":\"orders\"}\n");
  auto again = RunCommand(Ctl({"delete", "orders"}));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.stderr_text.find("no subscription named 'orders'"), std::string::npos);
  auto empty = RunCommand(Ctl({"list", "--format", "json"}));
  EXPECT_EQ(empty.stdout_text, "{\"subscriptions\":[]}\n");
}

TEST_F(SubscriptionsE2E, RetentionWaitsForTheSlowestSubscriptionAndStatusSaysSo) {
  // Every stored transaction is over the byte limit: only subscriptions keep anything.
  auto args = SluicedArgs();
  for (std::string flag : {"--retention-max-bytes", "1", "--retention-interval", "100ms"}) {
    args.push_back(flag);
  }
  SluicedProcess d(args);
  WaitStreaming(d);
  auto created = RunCommand(Ctl({"create", "lagging", "--source", "my", "--from", "earliest"}));
  ASSERT_EQ(created.exit_code, 0) << created.stderr_text;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(
        db_->Exec("INSERT INTO test.sub_items VALUES (" + std::to_string(i) + ", 'v')").ok());
  }
  auto status = [&](const std::string& format) {
    return RunCommand({Sluicectl(), "--server", address(), "status", "--format", format})
        .stdout_text;
  };
  // Waits (up to a minute, then fails) until `status --format json` contains `text`.
  auto wait_status = [&](const std::string& text) {
    std::string out;
    for (int i = 0; i < 600; ++i) {
      out = status("json");
      if (out.find(text) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "status never showed " << text << ":\n" << out << "\n" << d.Log();
  };
  wait_status(R"("last_offset":5,)");
  wait_status(
      R"("retention_hold":{"subscription":"lagging","committed_offset":0,"events_held":5})");
  EXPECT_NE(status("json").find(R"("first_offset":1,)"), std::string::npos);
  const std::string text = status("text");
  EXPECT_NE(text.find("warning: subscription 'lagging' holds back retention of 'my': it acked up "
                      "to offset 0, so 5 events"),
            std::string::npos)
      << text;

  // Once the subscription is past them, retention removes them and the warning goes away.
  auto reset = RunCommand(Ctl({"reset", "lagging", "--to", "latest"}));
  ASSERT_EQ(reset.exit_code, 0) << reset.stderr_text;
  wait_status(R"("first_offset":6,)");
  wait_status(R"("retention_hold":null)");
}

}  // namespace
}  // namespace sluice
