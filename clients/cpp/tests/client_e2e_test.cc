// sluice::client end to end: a real sluiced fed by the test MariaDB.
// - Subscription and Consumer keep streaming across a kill -9 and restart of sluiced, with no
//   event lost and none handed out twice.
// - A consumer process (journal_consumer) killed with kill -9 resumes after its last committed
//   ack: only un-acked events come again.
// - The README's example (sluice_mirror_table) keeps a file equal to the source table after
//   writes, after a kill -9 of itself and after a restart.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "clients/cpp/batch_view.h"
#include "clients/cpp/connection.h"
#include "clients/cpp/consumer.h"
#include "clients/cpp/push_subscription.h"
#include "clients/cpp/subscription.h"
#include "tests/e2e/sluiced_process.h"
#include "tests/testing/test_database.h"

namespace sluice {
namespace {

using e2e::FreePort;
using e2e::SluicedProcess;
using e2e::WaitStreaming;
using storage::testing::TempDir;
using testing::TestDatabase;

// A client program as a child process, killed with SIGKILL at the end of its scope.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0) << args[0];
  }
  ~Child() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Polls `done` every 50 ms for up to two minutes.
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 2400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

class ClientE2E : public ::testing::Test {
 public:
  void SetUp() override {
    auto db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *db;
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS test.cpp_items").ok());
    ASSERT_TRUE(db_->Exec("CREATE TABLE test.cpp_items (id INT PRIMARY KEY, v VARCHAR(20))").ok());
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
                "/?name=my&server_id=9201&tables=test.cpp_items&snapshot=never"};
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Inserts rows from..to (id = the row's offset in the log, as the log holds only this table).
  std::thread Writer(int from, int to) {
    return std::thread([this, from, to] {
      for (int i = from; i <= to; ++i) {
        if (!db_->Exec("INSERT INTO test.cpp_items VALUES (" + std::to_string(i) + ", 'v')").ok()) {
          writer_failed_ = true;
          return;
        }
      }
    });
  }

  TestDatabase* db_ = nullptr;
  TempDir data_;
  TempDir work_;
  int port_ = 0;
  std::atomic<bool> writer_failed_{false};
};

// What one reader saw: offsets and row ids in arrival order.
struct Seen {
  std::mutex mu;
  std::vector<std::pair<uint64_t, int64_t>> events;
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
  void Add(const v1::ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.emplace_back(e.offset(), e.after().fields(0).value().int64());
  }
  // The lazy view: the id column found in the row's bytes (-1 when it cannot be read).
  void Add(const client::EventView& e) {
    auto id = e.After("id");
    int64_t value = -1;
    if (id.ok() && id->has_value() && (*id)->int64().ok()) value = *(*id)->int64();
    std::lock_guard<std::mutex> lock(mu);
    events.emplace_back(e.offset(), value);
  }
};

// Every offset 1..n exactly once, in order, each carrying its own row.
void ExpectExactlyOnce(const Seen& seen, uint64_t n, const std::string& who) {
  ASSERT_EQ(seen.events.size(), n) << who;
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_EQ(seen.events[i].first, i + 1) << who << ": a gap or a repeat at position " << i;
    ASSERT_EQ(seen.events[i].second, static_cast<int64_t>(i + 1)) << who;
  }
}

// A Subscription and a Consumer, reading batches of type B (Batch or BatchView), across a kill -9
// and restart of sluiced: every event exactly once, in order.
template <typename B>
void ReconnectAcrossKillNine(ClientE2E& t);

TEST_F(ClientE2E, SubscriptionAndConsumerReconnectAcrossKillNineOfSluiced) {
  ReconnectAcrossKillNine<client::Batch>(*this);
}

TEST_F(ClientE2E, BatchViewReadersReconnectAcrossKillNineOfSluiced) {
  ReconnectAcrossKillNine<client::BatchView>(*this);
}

template <typename B>
void ReconnectAcrossKillNine(ClientE2E& t) {
  constexpr int kRows = 800;
  auto d = std::make_unique<SluicedProcess>(t.SluicedArgs());
  ASSERT_EQ(d->port(), t.port_);
  WaitStreaming(*d);
  // The first half is written before the kill, the second half while sluiced is down, so the
  // kill always lands mid-stream.
  std::thread writer = t.Writer(1, kRows / 2);

  auto channel = client::MakeChannel(t.address());
  client::SubscribeOptions sub_options;
  sub_options.request.set_source("my");
  sub_options.reconnect.max_delay = std::chrono::milliseconds(300);
  client::Subscription sub(channel, sub_options);
  client::ConsumeOptions con_options;
  con_options.open.set_subscription("cpp-lake");
  con_options.open.set_create_if_missing(true);
  con_options.open.set_source("my");
  con_options.open.set_max_unacked_events(40);  // paced by its acks: the kill lands mid-stream
  con_options.reconnect.max_delay = std::chrono::milliseconds(300);
  std::atomic<int> reconnects{0};
  con_options.reconnect.on_reconnect = [&](const absl::Status&, int, std::chrono::milliseconds) {
    ++reconnects;
  };
  client::Consumer consumer(channel, con_options);

  Seen sub_seen, con_seen;
  absl::Status sub_status, con_status;
  std::thread sub_reader([&] {
    B batch;
    while (sub_seen.size() < kRows && (sub_status = sub.Next(batch)).ok()) {
      for (const auto& e : batch.events()) sub_seen.Add(e);
    }
  });
  std::thread con_reader([&] {
    B batch;
    uint64_t since_ack = 0;
    while (con_seen.size() < kRows && (con_status = consumer.Next(batch)).ok()) {
      for (const auto& e : batch.events()) {
        con_seen.Add(e);
        if (++since_ack % 10 == 0) {
          EXPECT_TRUE(consumer.Ack(LogOffset(e.offset())).ok());
        }
      }
    }
  });
  ASSERT_TRUE(WaitFor([&] { return sub_seen.size() >= 200 && con_seen.size() >= 200; }));
  d->Kill();
  writer.join();
  writer = t.Writer(kRows / 2 + 1, kRows);
  writer.join();
  ASSERT_FALSE(t.writer_failed_);
  d = std::make_unique<SluicedProcess>(t.SluicedArgs());
  ASSERT_EQ(d->port(), t.port_);
  const bool finished =
      WaitFor([&] { return sub_seen.size() >= kRows && con_seen.size() >= kRows; });
  if (!finished) {
    sub.Cancel();
    consumer.Cancel();
  }
  sub_reader.join();
  con_reader.join();
  ASSERT_TRUE(finished) << "subscription: " << sub_seen.size() << " " << sub_status
                        << "; consumer: " << con_seen.size() << " " << con_status << "\n"
                        << d->Log();
  EXPECT_GE(reconnects.load(), 1);
  ExpectExactlyOnce(sub_seen, kRows, "subscription");
  ExpectExactlyOnce(con_seen, kRows, "consumer");
  // The consumer's last ack is committed by Flush.
  ASSERT_TRUE(consumer.Ack(LogOffset(kRows)).ok());
  auto committed = consumer.Flush();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->value(), static_cast<uint64_t>(kRows));
  // An ack beyond what was handed out is refused by the client.
  EXPECT_EQ(consumer.Ack(LogOffset(kRows + 5)).code(), absl::StatusCode::kInvalidArgument);
}

// Many PushSubscriptions on one channel, no thread of ours per stream: each gets every event once
// and in order while rows are written; one resumes at resume_offset() after a cancel; a kill -9 of
// sluiced ends the streams with a transient error instead of hanging.
TEST_F(ClientE2E, PushSubscriptionsGetEveryEventOnceAndStopOnCancelAndOnAKill) {
  constexpr int kStreams = 20;
  constexpr int kRows = 300;
  auto d = std::make_unique<SluicedProcess>(SluicedArgs());
  WaitStreaming(*d);
  auto channel = client::MakeChannel(address());
  std::vector<std::unique_ptr<Seen>> seen;
  std::vector<std::unique_ptr<client::PushSubscription>> subs;
  for (int i = 0; i < kStreams; ++i) {
    seen.push_back(std::make_unique<Seen>());
    v1::SubscribeRequest request;
    request.set_source("my");
    request.mutable_start()->mutable_earliest();
    Seen* mine = seen.back().get();
    subs.push_back(std::make_unique<client::PushSubscription>(
        channel, request, [mine](const client::BatchView& batch) {
          for (const auto& e : batch.events()) mine->Add(e);
        }));
    subs.back()->Start();
  }
  std::thread writer = Writer(1, kRows);
  writer.join();
  ASSERT_FALSE(writer_failed_);
  ASSERT_TRUE(WaitFor([&] {
    for (auto& s : seen) {
      if (s->size() < kRows) return false;
    }
    return true;
  }));
  for (int i = 0; i < kStreams; ++i) {
    ExpectExactlyOnce(*seen[i], kRows, "push subscription " + std::to_string(i));
  }
  // Cancel one: Wait() says CANCELLED; a new one at its resume offset gets only later rows.
  subs[0]->Cancel();
  EXPECT_EQ(subs[0]->Wait().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(subs[0]->resume_offset().value(), static_cast<uint64_t>(kRows + 1));
  Seen resumed;
  v1::SubscribeRequest request;
  request.set_source("my");
  request.mutable_start()->set_offset(subs[0]->resume_offset().value());
  client::PushSubscription next(channel, request, [&resumed](const client::BatchView& batch) {
    for (const auto& e : batch.events()) resumed.Add(e);
  });
  next.Start();
  writer = Writer(kRows + 1, kRows + 10);
  writer.join();
  ASSERT_TRUE(WaitFor([&] { return resumed.size() >= 10 && seen[1]->size() >= kRows + 10; }));
  ASSERT_EQ(resumed.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(resumed.events[i].first, kRows + 1 + i);
    EXPECT_EQ(resumed.events[i].second, static_cast<int64_t>(kRows + 1 + i));
  }
  // A kill -9 ends every open stream with a transient error (no reconnect in this class).
  d->Kill();
  const absl::Status ended = next.Wait();
  EXPECT_TRUE(client::IsTransient(static_cast<grpc::StatusCode>(ended.code()))) << ended;
  for (int i = 1; i < kStreams; ++i) {
    EXPECT_TRUE(client::IsTransient(static_cast<grpc::StatusCode>(subs[i]->Wait().code())));
  }
}

TEST_F(ClientE2E, ConsumerStartsOverAtTheNewPositionAfterAReset) {
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  std::thread writer = Writer(1, 100);
  writer.join();
  ASSERT_FALSE(writer_failed_);
  auto channel = client::MakeChannel(address());
  client::ConsumeOptions options;
  options.open.set_subscription("resettable");
  options.open.set_create_if_missing(true);
  options.open.set_source("my");
  options.reconnect.max_delay = std::chrono::milliseconds(200);
  client::Consumer consumer(channel, options);
  client::Batch batch;
  std::vector<uint64_t> offsets;
  while (offsets.empty() || offsets.back() < 100) {
    ASSERT_TRUE(consumer.Next(batch).ok());
    for (const auto& e : batch.events()) offsets.push_back(e.offset());
  }
  ASSERT_TRUE(consumer.Ack(LogOffset(100)).ok());
  auto committed = consumer.Flush();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->value(), 100u);

  // Reset back to 41: the open stream ends (ABORTED "was reset"), and the consumer hands out
  // 41..100 again although it handed them out before.
  auto stub = v1::Subscriptions::NewStub(channel);
  grpc::ClientContext ctx;
  v1::ResetSubscriptionRequest reset;
  reset.set_name("resettable");
  reset.mutable_start()->set_offset(41);
  v1::SubscriptionInfo info;
  ASSERT_TRUE(stub->ResetSubscription(&ctx, reset, &info).ok());
  EXPECT_EQ(info.committed_offset(), 40u);
  std::vector<uint64_t> again;
  while (again.empty() || again.back() < 100) {
    ASSERT_TRUE(consumer.Next(batch).ok());
    for (const auto& e : batch.events()) again.push_back(e.offset());
  }
  ASSERT_EQ(again.size(), 60u);
  for (size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i], 41 + i);
  // The ack of 100 given before the reset was dropped; acking anew commits again.
  EXPECT_LT(consumer.acked_offset().value(), 100u);
  ASSERT_TRUE(consumer.Ack(LogOffset(70)).ok());
  committed = consumer.Flush();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->value(), 70u);
}

struct JournalLine {
  char kind = 0;
  uint64_t a = 0;
  int64_t b = 0;
};

std::vector<JournalLine> ReadJournal(const std::string& path) {
  std::vector<JournalLine> out;
  std::ifstream in(path);
  for (std::string text; std::getline(in, text);) {
    if (text.empty()) continue;
    JournalLine l;
    l.kind = text[0];
    std::istringstream fields(text.substr(1));
    if (l.kind == 'E') fields >> l.a >> l.b;
    if (l.kind == 'A' || l.kind == 'C') fields >> l.a;
    out.push_back(l);
  }
  return out;
}

TEST_F(ClientE2E, ConsumerProcessKilledResumesAfterItsLastCommittedAck) {
  constexpr int kPhase = 200;
  constexpr int kRows = 4 * kPhase;
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  const std::string journal = work_.path() + "/journal";
  const std::vector<std::string> args = {e2e::BinaryDir() + "/clients/cpp/tests/journal_consumer",
                                         address(),
                                         "my",
                                         "journaled",
                                         journal,
                                         "7"};
  // The highest offset in the journal.
  auto reached = [&] {
    uint64_t top = 0;
    for (const JournalLine& l : ReadJournal(journal)) {
      if (l.kind == 'E') top = std::max(top, l.a);
    }
    return top;
  };
  auto consumer = std::make_unique<Child>(args);
  for (int phase = 0; phase < 4; ++phase) {
    // 200 rows are stored; the consumer is killed halfway through them (it acks every 7
    // events and holds at most 50 unacked, so it cannot have raced far ahead).
    std::thread writer = Writer(phase * kPhase + 1, (phase + 1) * kPhase);
    writer.join();
    ASSERT_FALSE(writer_failed_);
    const uint64_t halfway = static_cast<uint64_t>(phase * kPhase + kPhase / 2);
    ASSERT_TRUE(WaitFor([&] { return reached() >= halfway; })) << "the consumer is stuck";
    if (phase < 3) {
      consumer->Kill();
      consumer = std::make_unique<Child>(args);
    }
  }
  ASSERT_TRUE(WaitFor([&] { return reached() >= static_cast<uint64_t>(kRows); }))
      << "offset " << kRows << " never arrived\n"
      << d.Log();
  consumer->Kill();

  uint64_t confirmed = 0;  // the highest committed offset any run saw confirmed
  uint64_t acked = 0;      // the highest offset any run acked
  uint64_t last = 0;       // the last offset handed out in this run; 0: none yet
  std::set<uint64_t> seen;
  int runs = 0;
  size_t repeated = 0;
  for (const JournalLine& l : ReadJournal(journal)) {
    if (l.kind == 'S') {
      ++runs;
      last = 0;
    } else if (l.kind == 'A') {
      acked = std::max(acked, l.a);
    } else if (l.kind == 'C') {
      ASSERT_LE(l.a, acked) << "the server committed an offset that was never acked";
      confirmed = std::max(confirmed, l.a);
    } else if (l.kind == 'E') {
      if (last == 0) {
        // A new process starts right after the committed offset: not at an event whose ack
        // was confirmed, not past the last ack (nothing skipped).
        ASSERT_GT(l.a, confirmed) << "an event whose ack was committed came again";
        ASSERT_LE(l.a, acked + 1) << "a run started past the last ack: events lost";
      } else {
        ASSERT_EQ(l.a, last + 1) << "a gap or a repeat within one process";
      }
      last = l.a;
      ASSERT_EQ(l.b, static_cast<int64_t>(l.a));
      if (!seen.insert(l.a).second) ++repeated;
    }
  }
  EXPECT_EQ(runs, 4);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(*seen.rbegin(), static_cast<uint64_t>(kRows));
  std::printf("%zu events, %zu repeated after a kill (not acked), %d processes\n", seen.size(),
              repeated, runs);
}

// The mirror file as key -> row; the offset it holds in `offset`.
std::map<std::string, std::string> ReadMirror(const std::string& path, uint64_t* offset) {
  std::map<std::string, std::string> rows;
  std::ifstream in(path);
  *offset = 0;
  in >> *offset;
  in.ignore();
  for (std::string k, v; std::getline(in, k, '\t') && std::getline(in, v);) rows[k] = v;
  return rows;
}

TEST_F(ClientE2E, MirrorExampleEqualsTheSourceAcrossKillAndRestart) {
  SluicedProcess d(SluicedArgs());
  WaitStreaming(d);
  const std::string file = work_.path() + "/items.mirror";
  const std::vector<std::string> args = {e2e::BinaryDir() + "/clients/cpp/sluice_mirror_table",
                                         address(), "my", "test.cpp_items", file};
  // The source table as the mirror renders it.
  auto source = [&] {
    std::map<std::string, std::string> rows;
    auto result = db_->Query("SELECT id, v FROM test.cpp_items");
    EXPECT_TRUE(result.ok()) << result.status();
    if (result.ok()) {
      for (const auto& r : *result)
        rows[r[0] + ","] = "{\"id\":" + r[0] + ",\"v\":\"" + r[1] + "\"}";
    }
    return rows;
  };
  auto equal = [&] {
    uint64_t offset = 0;
    return ReadMirror(file, &offset) == source();
  };
  // Inserts, updates and deletes, in transactions of several changes.
  auto write = [&](int from, int to) {
    for (int i = from; i <= to; ++i) {
      const std::string id = std::to_string(i);
      std::string sql = "BEGIN; INSERT INTO test.cpp_items VALUES (" + id + ", 'new'); " +
                        "UPDATE test.cpp_items SET v = 'u" + id +
                        "' WHERE id = " + std::to_string(i / 2) + ";";
      if (i % 4 == 0)
        sql += " DELETE FROM test.cpp_items WHERE id = " + std::to_string(i - 5) + ";";
      ASSERT_TRUE(db_->Exec(sql + " COMMIT").ok());
    }
  };
  auto mirror = std::make_unique<Child>(args);
  write(1, 100);
  ASSERT_TRUE(WaitFor(equal)) << "the mirror did not catch up after writes";
  // kill -9 while changes stream in, then a restart picks up where the file is.
  std::thread writer([&] { write(101, 400); });
  uint64_t offset = 0;
  ASSERT_TRUE(WaitFor([&] {
    ReadMirror(file, &offset);
    return offset > 400;
  }));
  mirror->Kill();
  writer.join();
  ReadMirror(file, &offset);
  std::printf("mirror killed at offset %llu, behind the source: %s\n",
              static_cast<unsigned long long>(offset), equal() ? "no" : "yes");
  mirror = std::make_unique<Child>(args);
  ASSERT_TRUE(WaitFor(equal)) << "the mirror did not catch up after its kill -9";
  // Stopped, written to while away, restarted.
  mirror->Kill();
  write(401, 450);
  ASSERT_TRUE(db_->Exec("DELETE FROM test.cpp_items WHERE id < 50").ok());
  mirror = std::make_unique<Child>(args);
  ASSERT_TRUE(WaitFor(equal)) << "the mirror did not catch up after a restart";
  const auto rows = source();
  EXPECT_GT(rows.size(), 250u);
  mirror->Kill();
}

}  // namespace
}  // namespace sluice
