// Subscribe(start = snapshot_then_stream) and Admin.ReadTable over a real change log whose early
// history retention removed: the table state streams as "r" rows consistent at one offset N,
// then the log follows from N + 1. The same for a durable subscription (Consume) created with
// snapshot_then_stream: it bootstraps on every stream until its consumer acks N, then resumes
// after its committed offset.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "server/pipeline/source_registry.h"
#include "server/service/admin_service.h"
#include "server/service/change_stream_service.h"
#include "server/service/subscriptions_service.h"
#include "storage/test_util.h"

namespace sluice::service {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::TempDir;

v1::ChangeEvent RowEvent(const std::string& table, v1::Op op, int64_t id,
                         const std::string& payload) {
  v1::ChangeEvent e;
  e.set_op(op);
  e.mutable_source()->set_name("shop");
  e.mutable_source()->set_database("db");
  e.mutable_source()->set_table(table);
  e.add_key_columns("id");
  v1::Row* row = op == v1::OP_DELETE ? e.mutable_before() : e.mutable_after();
  auto* f = row->add_fields();
  f->set_name("id");
  f->mutable_value()->set_int64(id);
  f = row->add_fields();
  f->set_name("payload");
  f->mutable_value()->set_string(payload);
  return e;
}

// The history both bootstrap fixtures start from: orders 0..999 inserted, then 0..99 deleted
// and 100..199 updated, items 0..9 inserted; then retention trims the early history.
void WriteTrimmedHistory(storage::ChangeLog& log, storage::SourceId source) {
  auto append = [&](std::vector<v1::ChangeEvent> txn) {
    ASSERT_TRUE(log.Append(source, std::move(txn), MakeCheckpoint("x")).ok());
  };
  for (int t = 0; t < 10; ++t) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < 100; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, t * 100 + i, "new"));
    append(std::move(txn));
  }
  std::vector<v1::ChangeEvent> txn;
  for (int i = 0; i < 100; ++i) txn.push_back(RowEvent("orders", v1::OP_DELETE, i, ""));
  for (int i = 100; i < 200; ++i) txn.push_back(RowEvent("orders", v1::OP_UPDATE, i, "upd"));
  for (int i = 0; i < 10; ++i) txn.push_back(RowEvent("items", v1::OP_INSERT, i, "item"));
  append(std::move(txn));
  auto trimmed = log.ApplyRetention(source, storage::RetentionPolicy{.max_bytes = 1});
  ASSERT_TRUE(trimmed.ok());
  ASSERT_GT(trimmed->events_removed, 900u);  // early history is gone
}

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *storage::ChangeLog::Open(dir_.path());
    source_ = *log_->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
    service_ = std::make_unique<ChangeStreamService>(*log_);
    admin_ = std::make_unique<AdminService>(*log_, registry_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ChangeStream::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                          grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    admin_.reset();
    log_.reset();
  }
  void Append(std::vector<v1::ChangeEvent> txn) {
    ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("x")).ok());
  }

  TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId source_;
  pipeline::SourceRegistry registry_;
  std::unique_ptr<ChangeStreamService> service_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::ChangeStream::Stub> stub_;
};

TEST_F(BootstrapTest, StreamsTheStateAtOneOffsetThenTheLogAfterIt) {
  WriteTrimmedHistory(*log_, source_);
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t n = log_->Bounds(source_)->last.value();

  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_snapshot_then_stream();
  req.add_tables("db.orders");
  req.set_max_batch_events(64);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = stub_->Subscribe(&ctx, req);
  std::map<int64_t, std::string> rows;
  v1::SubscribeResponse resp;
  int bootstrap_messages = 0;
  bool done = false;
  while (!done && reader->Read(&resp)) {
    ++bootstrap_messages;
    EXPECT_EQ(resp.snapshot_offset(), n);
    EXPECT_EQ(resp.next_offset(), n + 1);
    done = resp.snapshot_done();
    for (const auto& e : resp.events()) {
      EXPECT_EQ(e.offset(), 0u);
      EXPECT_EQ(e.op(), v1::OP_READ);
      EXPECT_TRUE(e.source().snapshot());
      EXPECT_EQ(e.source().table(), "orders");
      EXPECT_FALSE(e.has_before());
      int64_t id = e.after().fields(0).value().int64();
      EXPECT_TRUE(rows.emplace(id, e.after().fields(1).value().string()).second) << id;
    }
  }
  ASSERT_TRUE(done);
  EXPECT_GE(bootstrap_messages, 900 / 64);
  ASSERT_EQ(rows.size(), 900u);
  EXPECT_EQ(rows.begin()->first, 100);
  EXPECT_EQ(rows[150], "upd");
  EXPECT_EQ(rows[999], "new");

  // Then the log, from n + 1 exactly.
  Append({RowEvent("orders", v1::OP_DELETE, 500, ""), RowEvent("items", v1::OP_DELETE, 1, "")});
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.snapshot_offset(), 0u);
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).offset(), n + 1);
  EXPECT_EQ(resp.events(0).op(), v1::OP_DELETE);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(BootstrapTest, OpsFilterAndProjectionApplyToStateRows) {
  Append({RowEvent("orders", v1::OP_INSERT, 1, "one"), RowEvent("orders", v1::OP_INSERT, 2, "two")});
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_snapshot_then_stream();
  auto* p = req.add_projections();
  p->set_table("db.*");
  p->add_columns("id");
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = stub_->Subscribe(&ctx, req);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_TRUE(resp.snapshot_done());
  ASSERT_EQ(resp.events_size(), 2);
  EXPECT_EQ(resp.events(1).after().fields_size(), 1);  // payload projected away
  ctx.TryCancel();
  reader->Finish();

  req.add_ops(v1::OP_DELETE);  // no "r": the bootstrap sends no rows, only its end
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader2 = stub_->Subscribe(&ctx2, req);
  ASSERT_TRUE(reader2->Read(&resp));
  EXPECT_TRUE(resp.snapshot_done());
  EXPECT_EQ(resp.snapshot_offset(), 2u);
  EXPECT_EQ(resp.events_size(), 0);
  ctx2.TryCancel();
  reader2->Finish();
}

TEST_F(BootstrapTest, RefusedWhenTheSourceKeepsNoTableState) {
  Append({RowEvent("orders", v1::OP_INSERT, 1, "one")});
  ASSERT_TRUE(log_->SetTableState(source_, false).ok());
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_snapshot_then_stream();
  grpc::ClientContext ctx;
  auto reader = stub_->Subscribe(&ctx, req);
  v1::SubscribeResponse resp;
  EXPECT_FALSE(reader->Read(&resp));
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("table_state"), std::string::npos) << st.error_message();
}

TEST_F(BootstrapTest, ReadTablePagesAndFiltersByColumn) {
  std::vector<v1::ChangeEvent> txn;
  for (int i = 0; i < 25; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, i, "p" + std::to_string(i % 5)));
  txn.push_back(RowEvent("items", v1::OP_INSERT, 1, "item"));
  Append(std::move(txn));
  Append({RowEvent("orders", v1::OP_DELETE, 3, "")});
  v1::ReadTableRequest req;
  req.set_source("shop");
  req.set_table("db.orders");
  req.set_limit(10);
  std::vector<int64_t> ids;
  do {
    auto resp = admin_->BuildReadTable(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->offset(), 27u);
    for (const auto& e : resp->rows()) ids.push_back(e.after().fields(0).value().int64());
    req.set_cursor(resp->next_cursor());
  } while (!req.cursor().empty());
  ASSERT_EQ(ids.size(), 24u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));

  req.set_limit(0);
  auto* w = req.add_where();
  w->set_column("id");
  w->set_value("7");
  auto one = admin_->BuildReadTable(req);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->rows_size(), 1);
  EXPECT_EQ(one->rows(0).after().fields(1).value().string(), "p2");
  w->set_column("payload");
  w->set_value("p3");  // ids 8, 13, 18, 23 (3 was deleted)
  auto some = admin_->BuildReadTable(req);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(some->rows_size(), 4);

  req.set_source("nope");
  EXPECT_EQ(admin_->BuildReadTable(req).status().code(), absl::StatusCode::kNotFound);
}

// Durable subscriptions created with snapshot_then_stream, over the same kind of log.
class DurableBootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *storage::ChangeLog::Open(dir_.path());
    source_ = *log_->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
    store_ = *storage::SubscriptionStore::Open(*log_);
    service_ = std::make_unique<SubscriptionsService>(*log_, *store_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Subscriptions::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    store_.reset();
    log_.reset();
  }
  void Append(std::vector<v1::ChangeEvent> txn) {
    ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("x")).ok());
  }
  uint64_t Last() { return log_->Bounds(source_)->last.value(); }

  struct Stream {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::SubscribeResponse>> rw;
    void Ack(uint64_t offset) {
      v1::ConsumeRequest req;
      req.set_ack(offset);
      ASSERT_TRUE(rw->Write(req));
    }
    grpc::Status End() {
      ctx.TryCancel();
      return rw->Finish();
    }
  };
  std::unique_ptr<Stream> Consume(const v1::ConsumeRequest::Open& open) {
    auto s = std::make_unique<Stream>();
    s->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    s->rw = stub_->Consume(&s->ctx);
    v1::ConsumeRequest req;
    *req.mutable_open() = open;
    EXPECT_TRUE(s->rw->Write(req));
    return s;
  }
  static v1::ConsumeRequest::Open SnapshotOpen(const std::string& name) {
    v1::ConsumeRequest::Open open;
    open.set_subscription(name);
    open.set_create_if_missing(true);
    open.set_source("shop");
    open.mutable_start()->mutable_snapshot_then_stream();
    return open;
  }

  // What a bootstrap delivered: its rows by id (payload, or "" when projected away), the
  // messages and the last one's next_offset.
  struct Bootstrap {
    std::map<int64_t, std::string> rows;
    int messages = 0;
    size_t largest_message = 0;
    uint64_t next_offset = 0;
  };
  // Reads a whole bootstrap, checking each message: rows are "r" events with offset 0 of
  // `table`, every message carries snapshot_offset `n` and next_offset `committed` + 1 (the last:
  // n + 1) and the committed offset.
  static Bootstrap ReadBootstrap(Stream& s, uint64_t n, uint64_t committed,
                                 const std::string& table) {
    Bootstrap b;
    v1::SubscribeResponse resp;
    bool done = false;
    while (!done && s.rw->Read(&resp)) {
      ++b.messages;
      done = resp.snapshot_done();
      EXPECT_EQ(resp.snapshot_offset(), n);
      EXPECT_EQ(resp.next_offset(), done ? n + 1 : committed + 1);
      EXPECT_EQ(resp.committed_offset(), committed);
      b.largest_message = std::max<size_t>(b.largest_message, resp.events_size());
      b.next_offset = resp.next_offset();
      for (const auto& e : resp.events()) {
        EXPECT_EQ(e.offset(), 0u);
        EXPECT_EQ(e.op(), v1::OP_READ);
        EXPECT_TRUE(e.source().snapshot());
        EXPECT_EQ(e.source().table(), table);
        const int64_t id = e.after().fields(0).value().int64();
        const std::string payload =
            e.after().fields_size() > 1 ? e.after().fields(1).value().string() : "";
        EXPECT_TRUE(b.rows.emplace(id, payload).second) << "row " << id << " twice";
      }
    }
    EXPECT_TRUE(done) << "the bootstrap did not finish";
    return b;
  }
  // Reads log messages until `count` events arrived (none of them state rows).
  static std::vector<v1::ChangeEvent> ReadEvents(Stream& s, size_t count) {
    std::vector<v1::ChangeEvent> out;
    v1::SubscribeResponse resp;
    while (out.size() < count && s.rw->Read(&resp)) {
      EXPECT_EQ(resp.snapshot_offset(), 0u);
      EXPECT_FALSE(resp.snapshot_done());
      for (auto& e : *resp.mutable_events()) out.push_back(std::move(e));
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId source_;
  std::unique_ptr<storage::SubscriptionStore> store_;
  std::unique_ptr<SubscriptionsService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::Subscriptions::Stub> stub_;
};

TEST_F(DurableBootstrapTest, BootstrapsUntilTheConsumerAcksNThenResumesAfterItsAck) {
  WriteTrimmedHistory(*log_, source_);
  ASSERT_FALSE(HasFatalFailure());
  const uint64_t n = Last();

  v1::ConsumeRequest::Open open = SnapshotOpen("lake");
  open.add_tables("db.orders");
  open.set_max_batch_events(64);
  // Created at N: committed N - 1, so that acking N is an ack; but retention removed the whole
  // log here, and a subscription cannot start before the first stored offset: committed N.
  const uint64_t created = log_->Bounds(source_)->first.value() > n ? n : n - 1;
  {
    auto s = Consume(open);
    Bootstrap b = ReadBootstrap(*s, n, created, "orders");
    ASSERT_EQ(b.rows.size(), 900u);
    EXPECT_EQ(b.rows.begin()->first, 100);
    EXPECT_EQ(b.rows[150], "upd");
    EXPECT_EQ(b.rows[999], "new");
    EXPECT_GE(b.messages, 900 / 64);
    // Then the log from N + 1, and the stream goes away before N is acked.
    Append({RowEvent("orders", v1::OP_DELETE, 500, ""), RowEvent("items", v1::OP_DELETE, 1, "")});
    auto events = ReadEvents(*s, 1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].offset(), n + 1);
    EXPECT_EQ(events[0].op(), v1::OP_DELETE);
    s->End();
  }
  EXPECT_EQ(store_->Get("lake")->committed_offset(), created);
  // Not acked: the next stream bootstraps again, from the state at the new last offset.
  const uint64_t n2 = Last();
  ASSERT_EQ(n2, n + 2);
  {
    open.clear_create_if_missing();  // it exists; its stored filters apply
    auto s = Consume(open);
    Bootstrap b = ReadBootstrap(*s, n2, created, "orders");
    ASSERT_EQ(b.rows.size(), 899u);
    EXPECT_EQ(b.rows.count(500), 0u);
    EXPECT_EQ(b.next_offset, n2 + 1);
    s->Ack(n2);
    v1::SubscribeResponse resp;
    ASSERT_TRUE(s->rw->Read(&resp));  // the confirmation
    EXPECT_EQ(resp.committed_offset(), n2);
    EXPECT_EQ(resp.events_size(), 0);
    s->End();
  }
  // Acked: an ordinary durable subscription from now on, resuming after its committed offset.
  Append({RowEvent("orders", v1::OP_INSERT, 2000, "late"), RowEvent("items", v1::OP_INSERT, 99, "")});
  auto s = Consume(open);
  auto events = ReadEvents(*s, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].offset(), n2 + 1);
  EXPECT_EQ(events[0].after().fields(0).value().int64(), 2000);
  s->End();
}

TEST_F(DurableBootstrapTest, WhenNIsTheCommittedOffsetAnAckOfNStillEndsTheBootstrap) {
  Append({RowEvent("orders", v1::OP_INSERT, 1, "one"), RowEvent("orders", v1::OP_INSERT, 2, "")});
  const uint64_t n = Last();
  // Nothing appended after the creation: the bootstrap's N is the committed offset.
  v1::CreateSubscriptionRequest create;
  create.set_name("quiet");
  create.set_source("shop");
  create.mutable_start()->mutable_snapshot_then_stream();
  ASSERT_TRUE(service_->Create(create).ok());
  // Retention removes the whole log: the committed offset is N, the subscription's first event
  // will be N + 1.
  ASSERT_TRUE(log_->ApplyRetention(source_, storage::RetentionPolicy{.max_bytes = 1}).ok());
  ASSERT_EQ(store_->Get("quiet")->committed_offset(), n - 1);
  v1::ConsumeRequest::Open open;
  open.set_subscription("quiet");
  {
    auto s = Consume(open);
    Bootstrap b = ReadBootstrap(*s, n, n - 1, "orders");
    ASSERT_EQ(b.rows.size(), 2u);
    s->Ack(n);
    ASSERT_TRUE(s->rw->Read(&*std::make_unique<v1::SubscribeResponse>()));  // confirmation
    s->End();
  }
  ASSERT_EQ(store_->Get("quiet")->committed_offset(), n);
  v1::CreateSubscriptionRequest trimmed = create;
  trimmed.set_name("trimmed");
  ASSERT_TRUE(service_->Create(trimmed).ok());
  EXPECT_EQ(store_->Get("trimmed")->committed_offset(), n);  // N: nothing before N + 1 is left
  open.set_subscription("trimmed");
  {
    auto s = Consume(open);
    Bootstrap b = ReadBootstrap(*s, n, n, "orders");
    ASSERT_EQ(b.rows.size(), 2u);
    s->Ack(n);  // no ack in the log's terms: it ends the bootstrap all the same
    for (int i = 0; i < 1000 && store_->Get("trimmed")->acked_ts_micros() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(store_->Get("trimmed")->acked_ts_micros(), 0);
    EXPECT_EQ(store_->Get("trimmed")->committed_offset(), n);
    // The stream goes on as an ordinary durable one (its acks still commit).
    Append({RowEvent("orders", v1::OP_INSERT, 3, "")});
    auto events = ReadEvents(*s, 1);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].offset(), n + 1);
    s->Ack(n + 1);
    v1::SubscribeResponse resp;
    ASSERT_TRUE(s->rw->Read(&resp));
    EXPECT_EQ(resp.committed_offset(), n + 1);
    s->End();
  }
  // No bootstrap any more for either.
  Append({RowEvent("orders", v1::OP_INSERT, 4, "")});
  for (const char* name : {"quiet", "trimmed"}) {
    open.set_subscription(name);
    auto s = Consume(open);
    auto events = ReadEvents(*s, 1);
    ASSERT_FALSE(events.empty()) << name;
    EXPECT_EQ(events[0].offset(), std::string(name) == "quiet" ? n + 1 : n + 2) << name;
    s->End();
  }
}

TEST_F(DurableBootstrapTest, ProjectionAndMaxUnackedApply) {
  std::vector<v1::ChangeEvent> txn;
  for (int i = 0; i < 50; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, i, "p"));
  Append(std::move(txn));
  // Created by the management RPC, consumed without create_if_missing.
  v1::CreateSubscriptionRequest create;
  create.set_name("slow");
  create.set_source("shop");
  create.mutable_start()->mutable_snapshot_then_stream();
  auto* p = create.add_projections();
  p->set_table("db.*");
  p->add_columns("id");
  auto info = service_->Create(create);
  ASSERT_TRUE(info.ok()) << info.status();
  const uint64_t n = Last();
  EXPECT_EQ(info->committed_offset(), n - 1);

  v1::ConsumeRequest::Open open;
  open.set_subscription("slow");
  open.set_max_unacked_events(8);
  auto s = Consume(open);
  Bootstrap b = ReadBootstrap(*s, n, n - 1, "orders");
  ASSERT_EQ(b.rows.size(), 50u);
  EXPECT_EQ(b.rows[7], "");  // payload projected away
  EXPECT_LE(b.largest_message, 8u);
  EXPECT_GE(b.messages, 50 / 8);
  // The log after N: max_unacked holds delivery at 8 events until an ack.
  txn.clear();
  for (int i = 100; i < 120; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, i, "q"));
  Append(std::move(txn));
  auto events = ReadEvents(*s, 8);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[0].offset(), n + 1);
  EXPECT_EQ(events[0].after().fields_size(), 1);
  s->Ack(n + 4);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(s->rw->Read(&resp));
  EXPECT_EQ(resp.committed_offset(), n + 4);
  ASSERT_EQ(resp.events_size(), 4);
  EXPECT_EQ(resp.events(0).offset(), n + 9);
  s->End();
}

TEST_F(DurableBootstrapTest, AnAckAboveTheCommittedOffsetDuringTheBootstrapEndsTheStream) {
  std::vector<v1::ChangeEvent> txn;
  // More rows than HTTP/2 flow control lets the server write ahead of a client that does not
  // read: the bootstrap is still running when the ack arrives.
  for (int i = 0; i < 20000; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, i, "p"));
  Append(std::move(txn));
  const uint64_t n = Last();
  v1::ConsumeRequest::Open open = SnapshotOpen("eager");
  open.set_max_batch_events(10);
  open.set_max_unacked_events(10);
  auto s = Consume(open);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(s->rw->Read(&resp));
  ASSERT_FALSE(resp.snapshot_done());
  s->Ack(n);  // N is acked only after snapshot_done: the rows are not all delivered yet
  while (s->rw->Read(&resp)) {
  }
  grpc::Status st = s->rw->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(store_->Get("eager")->committed_offset(), n - 1);
  EXPECT_EQ(store_->Get("eager")->acked_ts_micros(), 0);
}

TEST_F(DurableBootstrapTest, RefusedWhenTheSourceKeepsNoTableStateAndOnReset) {
  Append({RowEvent("orders", v1::OP_INSERT, 1, "one")});
  v1::ResetSubscriptionRequest reset;
  reset.set_name("x");
  reset.mutable_start()->mutable_snapshot_then_stream();
  v1::CreateSubscriptionRequest create;
  create.set_name("x");
  create.set_source("shop");
  ASSERT_TRUE(service_->Create(create).ok());
  EXPECT_EQ(service_->Reset(reset).status().code(), absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(log_->SetTableState(source_, false).ok());
  auto s = Consume(SnapshotOpen("nostate"));
  v1::SubscribeResponse resp;
  EXPECT_FALSE(s->rw->Read(&resp));
  grpc::Status st = s->rw->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("table_state"), std::string::npos) << st.error_message();
  EXPECT_EQ(store_->Get("nostate").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice::service
