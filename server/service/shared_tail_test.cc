// SharedTail: a shared batch is exactly what the stream would have read from the log, and
// streams served through it (Subscribe over gRPC, many at once, some slow, some filtered or
// projected, joining and leaving while appends go on) get every offset once and in order.
#include "server/service/shared_tail.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/service/change_stream_service.h"
#include "storage/test_util.h"

namespace sluice::service {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::MakeEvent;
using storage::testing::TempDir;

// What a stream at `from` reads itself (stream_pump's loop): rounds of ChangeLog::Read until a
// round yields an event or the log ends. Returns the message's event bytes and its next offset.
struct Reference {
  std::string events;
  uint64_t next = 0;
  std::vector<uint64_t> offsets;
};
Reference ReadFromLog(const storage::ChangeLog& log, storage::SourceId source, uint64_t from,
                      const EventFilter& filter, const ColumnProjector& projector,
                      const storage::ReadLimits& limits) {
  BatchEncoder encoder;
  Reference ref;
  LogOffset next(from);
  while (encoder.events() == 0) {
    size_t scanned = 0;
    auto r = log.Read(source, next, limits, [&](const storage::StoredRecord& rec) {
      ++scanned;
      if (!filter.Matches(rec.view.table, rec.view.op)) return;
      ref.offsets.push_back(rec.offset.value());
      if (const Projection* p = projector.Match(rec.view.table)) {
        encoder.AddEvent(*ColumnProjector::Apply(*p, rec.view.event));
      } else {
        encoder.AddEvent(rec.view.event);
      }
    });
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) break;
    next = *r;
    if (scanned == 0) break;
  }
  ref.events = encoder.Release();
  ref.next = next.value();
  return ref;
}

std::unique_ptr<storage::ChangeLog> OpenLog(const TempDir& dir) {
  storage::ChangeLogOptions options;
  options.sync = false;
  return *storage::ChangeLog::Open(dir.path(), options);
}

std::string SliceText(const grpc::Slice& s) {
  return std::string(reinterpret_cast<const char*>(s.begin()), s.size());
}

v1::ChangeEvent EventWithNote(const std::string& table, int id, v1::Op op) {
  v1::ChangeEvent e = MakeEvent(table, id, 0, op);
  for (const char* column : {"total", "note"}) {
    auto* f = e.mutable_after()->add_fields();
    f->set_name(column);
    f->mutable_value()->set_string(std::string(column) + std::to_string(id));
  }
  return e;
}

// Transaction t: 1 to 7 events alternating between db.orders and db.items, ops by t.
std::vector<v1::ChangeEvent> Transaction(int t, int* id) {
  std::vector<v1::ChangeEvent> txn;
  const int n = 1 + t % 7;
  for (int i = 0; i < n; ++i) {
    const v1::Op op = (t + i) % 3 == 0 ? v1::OP_DELETE : (t % 2 ? v1::OP_UPDATE : v1::OP_INSERT);
    txn.push_back(EventWithNote((t + i) % 2 ? "orders" : "items", (*id)++, op));
  }
  return txn;
}

struct Case {
  std::vector<std::string> tables;
  std::vector<v1::Op> ops;
  std::vector<Projection> projections;
  storage::ReadLimits limits;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({});
  cases.push_back({{"db.ord*"}, {}, {}, {}});
  cases.push_back({{}, {v1::OP_DELETE}, {}, {}});
  cases.push_back({{"db.items"}, {v1::OP_UPDATE}, {}, {}});  // rare: many empty rounds
  cases.push_back({{}, {}, {Projection{"db.orders", {"note"}}}, {}});
  cases.push_back({{}, {}, {}, {.max_events = 3, .max_bytes = size_t{1} << 20}});
  cases.push_back({{"db.orders"}, {}, {}, {.max_events = 2, .max_bytes = 300}});
  cases.push_back({{}, {}, {}, {.max_events = 1000, .max_bytes = 1}});
  return cases;
}

TEST(SharedTailTest, ABatchIsWhatTheStreamWouldReadFromTheLog) {
  TempDir dir;
  auto log = OpenLog(dir);
  auto source = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  int id = 0;
  for (int t = 0; t < 40; ++t) {
    ASSERT_TRUE(log->Append(source, Transaction(t, &id), MakeCheckpoint("x")).ok());
  }
  const uint64_t last = log->Bounds(source)->last.value();
  for (const Case& c : Cases()) {
    EventFilter filter(c.tables, c.ops);
    ColumnProjector projector(c.projections);
    const std::string key = EncodingKey(filter, projector, c.limits);
    // A fresh cache per starting offset reads a segment from exactly there; a shared one
    // serves later offsets from the middle of an earlier segment.
    SharedTail shared(*log, {.near_tail_events = 1000});
    for (uint64_t from = 1; from <= last; ++from) {
      SharedTail fresh(*log, {.near_tail_events = 1000});
      for (SharedTail* tail : {&fresh, &shared}) {
        auto batch = tail->Get(source, LogOffset(from), {&filter, &projector, c.limits, key});
        ASSERT_TRUE(batch.ok()) << batch.status();
        ASSERT_NE(*batch, nullptr) << from;
        Reference ref = ReadFromLog(*log, source, from, filter, projector, c.limits);
        EXPECT_EQ((*batch)->from.value(), from);
        ASSERT_EQ((*batch)->next.value(), ref.next) << "from " << from << " key " << key;
        ASSERT_EQ(SliceText((*batch)->events), ref.events) << "from " << from << " key " << key;
        ASSERT_EQ((*batch)->event_count, ref.offsets.size());
        ASSERT_EQ((*batch)->delivered.size(), ref.offsets.size());
        for (size_t i = 0; i < ref.offsets.size(); ++i) {
          EXPECT_EQ((*batch)->delivered[i].first, ref.offsets[i]);
        }
        uint64_t counted = 0;
        for (const auto& run : (*batch)->tables) counted += run.events;
        EXPECT_EQ(counted, ref.offsets.size());
      }
    }
    // Asked again: the same batch object, not a second encoding.
    auto a = shared.Get(source, LogOffset(1), {&filter, &projector, c.limits, key});
    auto b = shared.Get(source, LogOffset(1), {&filter, &projector, c.limits, key});
    EXPECT_EQ(a->get(), b->get());
  }
}

TEST(SharedTailTest, OnlyStreamsNearTheEndReadThroughTheCacheAndItStaysBounded) {
  TempDir dir;
  auto log = OpenLog(dir);
  auto source = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  int id = 0;
  for (int t = 0; t < 40; ++t) {
    ASSERT_TRUE(log->Append(source, Transaction(t, &id), MakeCheckpoint("x")).ok());
  }
  const uint64_t last = log->Bounds(source)->last.value();
  EventFilter filter;
  ColumnProjector projector;
  storage::ReadLimits limits;
  const std::string key = EncodingKey(filter, projector, limits);
  SharedTailOptions options{.near_tail_events = 10, .max_cached_bytes = 4096, .max_segments = 3};
  SharedTail tail(*log, options);
  // Behind: the stream reads the log itself.
  EXPECT_EQ(*tail.Get(source, LogOffset(last - 10), {&filter, &projector, limits, key}), nullptr);
  // Nothing stored at the end yet.
  EXPECT_EQ(*tail.Get(source, LogOffset(last + 1), {&filter, &projector, limits, key}), nullptr);
  auto near = tail.Get(source, LogOffset(last - 9), {&filter, &projector, limits, key});
  ASSERT_NE(*near, nullptr);
  EXPECT_EQ((*near)->next.value(), last + 1);
  // New appends, each read once by the first stream at its offset, then the cache drops the
  // oldest segments: never more than max_segments, and about max_cached_bytes.
  for (int t = 0; t < 50; ++t) {
    const uint64_t from = log->Bounds(source)->last.value() + 1;
    ASSERT_TRUE(log->Append(source, Transaction(t, &id), MakeCheckpoint("x")).ok());
    for (int stream = 0; stream < 5; ++stream) {
      auto batch = tail.Get(source, LogOffset(from), {&filter, &projector, limits, key});
      ASSERT_TRUE(batch.ok());
      ASSERT_NE(*batch, nullptr);
      EXPECT_EQ((*batch)->next, log->Bounds(source)->last.next());
    }
    EXPECT_LE(tail.segments(), options.max_segments);
    EXPECT_LE(tail.cached_bytes(), options.max_cached_bytes + 4096);
  }
  EXPECT_EQ(tail.counters().segments_read, 51u);
  EXPECT_EQ(tail.counters().batches_built, 51u);
  EXPECT_EQ(tail.counters().batches_shared, 251u);
}

// Many encodings walking the newest segment (each stream with its own batch limit): its cached
// batches are shed once they exceed the budget, and every stream still gets every offset once.
TEST(SharedTailTest, ManyEncodingsOnTheNewestSegmentStayWithinTheBudget) {
  TempDir dir;
  auto log = OpenLog(dir);
  auto source = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  std::vector<v1::ChangeEvent> txn;
  for (int i = 0; i < 400; ++i) {
    v1::ChangeEvent e = MakeEvent("orders", i, 0, v1::OP_INSERT);
    auto* f = e.mutable_after()->add_fields();
    f->set_name("note");
    f->mutable_value()->set_string(std::string(200, 'x'));
    txn.push_back(e);
  }
  ASSERT_TRUE(log->Append(source, txn, MakeCheckpoint("x")).ok());
  const uint64_t last = log->Bounds(source)->last.value();
  SharedTailOptions options{
      .near_tail_events = 1000, .max_cached_bytes = size_t{256} << 10, .max_segments = 4};
  SharedTail tail(*log, options);
  EventFilter filter({"db.*"}, {});  // a filter: each batch is an encoded copy, counted
  ColumnProjector projector;
  size_t peak = 0;
  for (int s = 0; s < 60; ++s) {
    storage::ReadLimits limits{.max_events = static_cast<size_t>(5 + s), .max_bytes = 1 << 20};
    const std::string key = EncodingKey(filter, projector, limits);
    uint64_t from = 1;
    while (from <= last) {
      auto batch = tail.Get(source, LogOffset(from), {&filter, &projector, limits, key});
      ASSERT_TRUE(batch.ok()) << batch.status();
      ASSERT_NE(*batch, nullptr);
      ASSERT_EQ((*batch)->from.value(), from);
      ASSERT_EQ((*batch)->delivered.front().first, from);
      ASSERT_EQ((*batch)->delivered.back().first + 1, (*batch)->next.value());
      from = (*batch)->next.value();
      peak = std::max(peak, tail.cached_bytes());
    }
    ASSERT_EQ(from, last + 1);
  }
  EXPECT_EQ(tail.segments(), 1u);
  EXPECT_LE(peak, options.max_cached_bytes);  // was about 7 MB before batches were shed
}

// Many Subscribe streams while a writer appends: every stream gets exactly the offsets its
// filter matches from where it started, each once and in order, with the stored (or projected)
// bytes; slow streams fall behind and catch up, some join late and some leave early.
TEST(SharedTailTest, ManySubscribersGetEveryOffsetOnceInOrderWhileAppending) {
  TempDir dir;
  auto log = OpenLog(dir);
  auto source = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  ChangeStreamService service(*log);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = v1::ChangeStream::NewStub(channel);

  constexpr int kTransactions = 400;
  std::atomic<uint64_t> final_last{UINT64_MAX};
  std::atomic<int> appended{0};
  int id = 0;
  std::thread writer([&] {
    for (int t = 0; t < kTransactions; ++t) {
      ASSERT_TRUE(log->Append(source, Transaction(t, &id), MakeCheckpoint("x")).ok());
      appended = t + 1;
      if (t % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    final_last = log->Bounds(source)->last.value();
  });

  struct Received {
    uint64_t start = 0;
    uint64_t leave_after = 0;  // events; 0: stays to the end
    std::vector<uint64_t> offsets;
    std::vector<std::string> events;
    std::string error;
  };
  const std::vector<Case> cases = Cases();
  constexpr int kStreams = 40;
  std::vector<Received> got(kStreams);
  std::vector<std::thread> readers;
  for (int i = 0; i < kStreams; ++i) {
    readers.emplace_back([&, i] {
      Received& r = got[i];
      const Case& c = cases[i % cases.size()];
      const bool slow = i % 5 == 1;
      const bool late = i % 4 == 2;
      if (i % 6 == 3) r.leave_after = 50 + i;
      if (late) {
        while (appended < kTransactions / 2)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      v1::SubscribeRequest req;
      req.set_source("shop");
      r.start = late ? log->Bounds(source)->last.value() + 1 : 1;
      req.mutable_start()->set_offset(r.start);
      for (const auto& t : c.tables) req.add_tables(t);
      for (v1::Op op : c.ops) req.add_ops(op);
      for (const auto& p : c.projections) {
        auto* out = req.add_projections();
        out->set_table(p.table_glob);
        for (const auto& col : p.columns) out->add_columns(col);
      }
      if (c.limits.max_events != storage::ReadLimits().max_events) {
        req.set_max_batch_events(c.limits.max_events);
        req.set_max_batch_bytes(c.limits.max_bytes);
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      auto reader = stub->Subscribe(&ctx, req);
      v1::SubscribeResponse resp;
      while (reader->Read(&resp)) {
        for (const auto& e : resp.events()) {
          r.offsets.push_back(e.offset());
          r.events.push_back(e.SerializeAsString());
        }
        if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(3));
        if (r.leave_after != 0 && r.offsets.size() >= r.leave_after) break;
        if (resp.next_offset() > final_last.load()) break;
      }
      ctx.TryCancel();
      grpc::Status st = reader->Finish();
      if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED) r.error = st.error_message();
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  const uint64_t last = final_last.load();
  ASSERT_EQ(last, log->Bounds(source)->last.value());

  for (int i = 0; i < kStreams; ++i) {
    const Received& r = got[i];
    const Case& c = cases[i % cases.size()];
    EXPECT_EQ(r.error, "") << "stream " << i;
    EventFilter filter(c.tables, c.ops);
    ColumnProjector projector(c.projections);
    std::vector<uint64_t> want_offsets;
    std::vector<std::string> want_events;
    auto read = log->Read(source, LogOffset(r.start), {.max_events = 1 << 20, .max_bytes = 1 << 30},
                          [&](const storage::StoredRecord& rec) {
                            if (!filter.Matches(rec.view.table, rec.view.op)) return;
                            want_offsets.push_back(rec.offset.value());
                            const Projection* p = projector.Match(rec.view.table);
                            want_events.push_back(p ? *ColumnProjector::Apply(*p, rec.view.event)
                                                    : std::string(rec.view.event));
                          });
    ASSERT_TRUE(read.ok());
    if (r.leave_after != 0 && r.offsets.size() < want_offsets.size()) {
      ASSERT_GE(r.offsets.size(), r.leave_after) << "stream " << i;
      want_offsets.resize(r.offsets.size());
      want_events.resize(r.offsets.size());
    }
    ASSERT_EQ(r.offsets, want_offsets) << "stream " << i;
    for (size_t k = 0; k < want_events.size(); ++k) {
      v1::ChangeEvent want;
      ASSERT_TRUE(want.ParseFromString(want_events[k]));
      ASSERT_EQ(r.events[k], want.SerializeAsString()) << "stream " << i << " event " << k;
    }
  }
  server->Shutdown();
}

}  // namespace
}  // namespace sluice::service
