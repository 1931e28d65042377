// The Subscriptions service over a real change log and a real gRPC server: resume after acks,
// redelivery, max_unacked, ack errors, filters and projections, one consumer per subscription,
// and the management RPCs.
#include "server/service/subscriptions_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/pipeline/source_registry.h"
#include "server/service/admin_service.h"
#include "storage/test_util.h"

namespace sluice::service {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::MakeEvent;
using storage::testing::TempDir;

class SubscriptionsServiceTest : public ::testing::Test {
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
    stub_ = v1::Subscriptions::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                           grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    store_.reset();
    log_.reset();
  }

  // One transaction of `n` events on `table`, ids from `first_id`, with columns id, total, note.
  void AppendTxn(const std::string& table, int first_id, int n) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < n; ++i) {
      v1::ChangeEvent e = MakeEvent(table, first_id + i);
      for (const char* column : {"total", "note"}) {
        auto* f = e.mutable_after()->add_fields();
        f->set_name(column);
        f->mutable_value()->set_int64(first_id + i);
      }
      txn.push_back(std::move(e));
    }
    ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("x")).ok());
  }

  v1::SubscriptionInfo Create(const std::string& name, v1::CreateSubscriptionRequest req = {}) {
    req.set_name(name);
    req.set_source("shop");
    grpc::ClientContext ctx;
    v1::SubscriptionInfo info;
    grpc::Status st = stub_->CreateSubscription(&ctx, req, &info);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return info;
  }

  v1::SubscriptionInfo Find(const std::string& name) {
    grpc::ClientContext ctx;
    v1::ListSubscriptionsResponse resp;
    EXPECT_TRUE(stub_->ListSubscriptions(&ctx, {}, &resp).ok());
    for (const auto& s : resp.subscriptions()) {
      if (s.name() == name) return s;
    }
    ADD_FAILURE() << "no subscription " << name;
    return {};
  }

  // A client of one Consume stream.
  struct Consumer {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<v1::ConsumeRequest, v1::SubscribeResponse>> stream;

    bool Next(v1::SubscribeResponse& resp) { return stream->Read(&resp); }
    // Reads until `n` events arrived; the events, in order.
    std::vector<v1::ChangeEvent> Events(size_t n) {
      std::vector<v1::ChangeEvent> out;
      v1::SubscribeResponse resp;
      while (out.size() < n && stream->Read(&resp)) {
        for (auto& e : *resp.mutable_events()) out.push_back(std::move(e));
      }
      return out;
    }
    void Ack(uint64_t offset) {
      v1::ConsumeRequest req;
      req.set_ack(offset);
      ASSERT_TRUE(stream->Write(req));
    }
    // Reads until a message confirms `committed`; returns the events that came with it.
    std::vector<v1::ChangeEvent> AwaitCommitted(uint64_t committed) {
      v1::SubscribeResponse resp;
      std::vector<v1::ChangeEvent> out;
      while (stream->Read(&resp)) {
        for (auto& e : *resp.mutable_events()) out.push_back(std::move(e));
        if (resp.committed_offset() >= committed) break;
      }
      EXPECT_EQ(resp.committed_offset(), committed);
      return out;
    }
    grpc::Status End() {
      ctx.TryCancel();
      return stream->Finish();
    }
  };

  std::unique_ptr<Consumer> Consume(const v1::ConsumeRequest::Open& open) {
    auto c = std::make_unique<Consumer>();
    c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    c->stream = stub_->Consume(&c->ctx);
    v1::ConsumeRequest req;
    *req.mutable_open() = open;
    EXPECT_TRUE(c->stream->Write(req));
    return c;
  }
  std::unique_ptr<Consumer> Consume(const std::string& name) {
    v1::ConsumeRequest::Open open;
    open.set_subscription(name);
    return Consume(open);
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

TEST_F(SubscriptionsServiceTest, ResumesAfterTheLastAckAndRedeliversTheRest) {
  for (int t = 0; t < 3; ++t) AppendTxn("orders", t * 10, 10);
  EXPECT_EQ(Create("lake").committed_offset(), 0u);
  {
    auto c = Consume("lake");
    auto events = c->Events(30);
    ASSERT_EQ(events.size(), 30u);
    for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].offset(), i + 1);
    c->Ack(12);
    c->AwaitCommitted(12);
    EXPECT_EQ(Find("lake").unacked_events(), 18u);
    EXPECT_TRUE(Find("lake").connected());
    c->End();
  }
  auto c = Consume("lake");
  auto events = c->Events(18);
  ASSERT_EQ(events.size(), 18u);
  for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].offset(), 13 + i);
  // New appends follow without a gap.
  AppendTxn("orders", 30, 5);
  auto more = c->Events(5);
  ASSERT_EQ(more.size(), 5u);
  EXPECT_EQ(more[0].offset(), 31u);
  EXPECT_TRUE(more[4].last_in_transaction());
  auto info = Find("lake");
  EXPECT_EQ(info.committed_offset(), 12u);
  EXPECT_EQ(info.last_offset(), 35u);
  EXPECT_EQ(info.lag_events(), 23u);
  EXPECT_EQ(info.unacked_events(), 23u);
  c->End();
}

TEST_F(SubscriptionsServiceTest, MaxUnackedEventsPausesDeliveryUntilAnAck) {
  AppendTxn("orders", 0, 100);
  Create("slow");
  v1::ConsumeRequest::Open open;
  open.set_subscription("slow");
  open.set_max_unacked_events(10);
  auto c = Consume(open);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(c->Next(resp));
  // One transaction of 100 events would fit one batch; the limit cuts it at 10.
  ASSERT_EQ(resp.events_size(), 10);
  EXPECT_EQ(resp.events(9).offset(), 10u);
  EXPECT_EQ(resp.next_offset(), 11u);
  // Delivery stopped: the next message is the confirmation of this ack, with the 5 events that
  // the ack made room for, and no event came between.
  c->Ack(5);
  ASSERT_TRUE(c->Next(resp));
  EXPECT_EQ(resp.committed_offset(), 5u);
  ASSERT_EQ(resp.events_size(), 5);
  EXPECT_EQ(resp.events(0).offset(), 11u);
  EXPECT_EQ(resp.events(4).offset(), 15u);
  c->Ack(15);
  ASSERT_TRUE(c->Next(resp));
  EXPECT_EQ(resp.committed_offset(), 15u);
  ASSERT_EQ(resp.events_size(), 10);
  EXPECT_EQ(resp.events(0).offset(), 16u);
  EXPECT_EQ(Find("slow").unacked_events(), 10u);
  c->End();
}

TEST_F(SubscriptionsServiceTest, MaxUnackedBytesSendsTheEventThatCrossesItThenPauses) {
  AppendTxn("orders", 0, 20);
  Create("bytes");
  v1::ConsumeRequest::Open open;
  open.set_subscription("bytes");
  open.set_max_unacked_bytes(1);
  auto c = Consume(open);
  v1::SubscribeResponse resp;
  for (uint64_t offset = 1; offset <= 3; ++offset) {
    ASSERT_TRUE(c->Next(resp));
    EXPECT_EQ(resp.committed_offset(), offset - 1);
    ASSERT_EQ(resp.events_size(), 1);
    EXPECT_EQ(resp.events(0).offset(), offset);
    c->Ack(offset);
  }
  c->End();
}

TEST_F(SubscriptionsServiceTest, AnAckBeyondWhatWasSentEndsTheStreamAndBackwardsIsIgnored) {
  AppendTxn("orders", 0, 10);
  Create("a");
  auto c = Consume("a");
  ASSERT_EQ(c->Events(10).size(), 10u);
  c->Ack(8);
  c->AwaitCommitted(8);
  c->Ack(3);   // backwards: ignored
  c->Ack(8);   // repeated: ignored
  c->Ack(11);  // never sent
  v1::SubscribeResponse resp;
  while (c->Next(resp)) {
  }
  grpc::Status st = c->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("ack of offset 11"), std::string::npos) << st.error_message();
  EXPECT_NE(st.error_message().find("beyond the last event sent (10)"), std::string::npos)
      << st.error_message();
  EXPECT_EQ(Find("a").committed_offset(), 8u);
}

TEST_F(SubscriptionsServiceTest, UnaryAckIsDurableAndBoundedByTheLog) {
  AppendTxn("orders", 0, 10);
  Create("u");
  v1::AckRequest req;
  req.set_subscription("u");
  req.set_offset(11);
  v1::AckResponse resp;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub_->Ack(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("beyond the last event delivered (10)"), std::string::npos)
        << st.error_message();
  }
  req.set_offset(6);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Ack(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.committed_offset(), 6u);
  }
  req.set_offset(2);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Ack(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.committed_offset(), 6u);
  }
  auto c = Consume("u");
  auto events = c->Events(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].offset(), 7u);
  // With a consumer connected, a unary ack is bounded by what it was sent, and confirmed on it.
  req.set_offset(9);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Ack(&ctx, req, &resp).ok());
  }
  c->AwaitCommitted(9);
  c->End();
  // The store survives the service: a new store over the same log reads the ack back.
  EXPECT_EQ(store_->Get("u")->committed_offset(), 9u);
}

TEST_F(SubscriptionsServiceTest, FiltersAndProjectionsAreStoredWithTheSubscription) {
  AppendTxn("orders", 0, 3);  // 1..3
  AppendTxn("items", 3, 3);   // 4..6
  AppendTxn("orders", 6, 3);  // 7..9
  v1::CreateSubscriptionRequest req;
  req.add_tables("db.orders");
  auto* p = req.add_projections();
  p->set_table("db.*");
  p->add_columns("note");
  Create("orders-notes", req);
  auto c = Consume("orders-notes");
  auto events = c->Events(6);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[2].offset(), 3u);
  EXPECT_EQ(events[3].offset(), 7u);
  for (const auto& e : events) {
    ASSERT_EQ(e.after().fields_size(), 2) << e.DebugString();
    EXPECT_EQ(e.after().fields(0).name(), "id");  // the key column stays
    EXPECT_EQ(e.after().fields(1).name(), "note");
  }
  c->End();
  // Opening with other filters is refused, naming the stored ones.
  v1::ConsumeRequest::Open open;
  open.set_subscription("orders-notes");
  open.add_tables("db.items");
  auto other = Consume(open);
  v1::SubscribeResponse resp;
  EXPECT_FALSE(other->Next(resp));
  grpc::Status st = other->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("was created with tables [db.orders]"), std::string::npos)
      << st.error_message();
}

TEST_F(SubscriptionsServiceTest, CreateIfMissingAndUnknownNames) {
  AppendTxn("orders", 0, 4);
  auto missing = Consume("nobody");
  v1::SubscribeResponse resp;
  EXPECT_FALSE(missing->Next(resp));
  grpc::Status st = missing->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(st.error_message().find("no subscription named 'nobody'"), std::string::npos);

  v1::ConsumeRequest::Open open;
  open.set_subscription("auto");
  open.set_create_if_missing(true);
  open.set_source("shop");
  open.mutable_start()->set_offset(3);
  auto c = Consume(open);
  auto events = c->Events(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].offset(), 3u);
  c->End();
  EXPECT_EQ(Find("auto").committed_offset(), 2u);
}

TEST_F(SubscriptionsServiceTest, ASecondConsumerTakesOverTheSubscription) {
  AppendTxn("orders", 0, 5);
  Create("one");
  auto first = Consume("one");
  ASSERT_EQ(first->Events(5).size(), 5u);
  auto second = Consume("one");
  ASSERT_EQ(second->Events(5).size(), 5u);  // nothing was acked: everything again
  v1::SubscribeResponse resp;
  while (first->Next(resp)) {
  }
  grpc::Status st = first->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(st.error_message().find("another consumer"), std::string::npos);
  second->End();
}

TEST_F(SubscriptionsServiceTest, ResetAndDeleteEndTheOpenStream) {
  AppendTxn("orders", 0, 10);
  Create("r");
  auto c = Consume("r");
  ASSERT_EQ(c->Events(10).size(), 10u);
  {
    v1::ResetSubscriptionRequest req;
    req.set_name("r");
    req.mutable_start()->set_offset(4);
    grpc::ClientContext ctx;
    v1::SubscriptionInfo info;
    ASSERT_TRUE(stub_->ResetSubscription(&ctx, req, &info).ok());
    EXPECT_EQ(info.committed_offset(), 3u);
  }
  v1::SubscribeResponse resp;
  while (c->Next(resp)) {
  }
  EXPECT_EQ(c->stream->Finish().error_code(), grpc::StatusCode::ABORTED);
  auto again = Consume("r");
  auto events = again->Events(7);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[0].offset(), 4u);
  {
    v1::ResetSubscriptionRequest req;
    req.set_name("r");
    grpc::ClientContext ctx;
    v1::SubscriptionInfo info;
    EXPECT_EQ(stub_->ResetSubscription(&ctx, req, &info).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::DeleteSubscriptionRequest req;
    req.set_name("r");
    grpc::ClientContext ctx;
    v1::DeleteSubscriptionResponse r;
    ASSERT_TRUE(stub_->DeleteSubscription(&ctx, req, &r).ok());
  }
  while (again->Next(resp)) {
  }
  grpc::Status st = again->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(st.error_message().find("was deleted"), std::string::npos);
  grpc::ClientContext ctx;
  v1::ListSubscriptionsResponse list;
  ASSERT_TRUE(stub_->ListSubscriptions(&ctx, {}, &list).ok());
  EXPECT_EQ(list.subscriptions_size(), 0);
}

TEST_F(SubscriptionsServiceTest, StatusNamesTheSubscriptionThatHoldsRetentionBack) {
  for (int t = 0; t < 4; ++t) AppendTxn("orders", t * 10, 10);  // commit time 0: all "old"
  Create("slow");
  pipeline::SourceRegistry registry;
  AdminService admin(*log_, registry);
  admin.set_subscriptions(store_.get());
  const storage::RetentionPolicy everything{.max_age_micros = 1};
  auto held = store_->ApplyRetention(source_, everything, /*force=*/false);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->events_removed, 0u);
  v1::StatusResponse status = admin.BuildStatus();
  ASSERT_EQ(status.sources_size(), 1);
  EXPECT_EQ(status.sources(0).first_offset(), 1u);
  EXPECT_EQ(status.sources(0).retention_hold().subscription(), "slow");
  EXPECT_EQ(status.sources(0).retention_hold().committed_offset(), 0u);
  EXPECT_EQ(status.sources(0).retention_hold().events_held(), 40u);

  // Once it is reset past the log, retention proceeds and the warning goes away.
  v1::ResetSubscriptionRequest reset;
  reset.set_name("slow");
  reset.mutable_start()->mutable_latest();
  ASSERT_TRUE(service_->Reset(reset).ok());
  ASSERT_TRUE(store_->ApplyRetention(source_, everything, false).ok());
  status = admin.BuildStatus();
  EXPECT_EQ(status.sources(0).first_offset(), 41u);
  EXPECT_FALSE(status.sources(0).has_retention_hold());
}

TEST_F(SubscriptionsServiceTest, CloseAllEndsStreamsAndRefusesNewOnes) {
  AppendTxn("orders", 0, 3);
  Create("c");
  auto c = Consume("c");
  ASSERT_EQ(c->Events(3).size(), 3u);
  service_->CloseAll();
  v1::SubscribeResponse resp;
  while (c->Next(resp)) {
  }
  grpc::Status st = c->stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(st.error_message().find("shutting down"), std::string::npos) << st.error_message();
  auto late = Consume("c");
  EXPECT_FALSE(late->Next(resp));
  EXPECT_EQ(late->stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SubscriptionsServiceTest, TokensNeedTheSubscribeRoleToConsumeAndAdminToManage) {
  AppendTxn("orders", 0, 2);
  Create("t");
  Authorizer authorizer(std::vector<config::TokenEntry>{
      {"admin-token", config::Role::kAdmin}, {"reader-token", config::Role::kSubscribe}});
  ConsumeOptions options;
  options.authorizer = &authorizer;
  SubscriptionsService guarded(*log_, *store_, options);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&guarded);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::Subscriptions::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  auto consume = [&](const std::string& token, size_t want) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    auto stream = stub->Consume(&ctx);
    v1::ConsumeRequest req;
    req.mutable_open()->set_subscription("t");
    stream->Write(req);
    v1::SubscribeResponse resp;
    size_t got = 0;
    while (got < want && stream->Read(&resp)) got += resp.events_size();
    if (got >= want) ctx.TryCancel();
    grpc::Status st = stream->Finish();
    return got >= want ? grpc::Status::OK : st;
  };
  EXPECT_EQ(consume("", 2).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(consume("reader-token", 2).ok());

  auto list = [&](const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    v1::ListSubscriptionsResponse resp;
    return stub->ListSubscriptions(&ctx, {}, &resp);
  };
  grpc::Status denied = list("reader-token");
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(denied.error_message().find("Subscriptions.ListSubscriptions"), std::string::npos)
      << denied.error_message();
  EXPECT_TRUE(list("admin-token").ok());
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer reader-token");
    v1::AckRequest req;
    req.set_subscription("t");
    req.set_offset(2);
    v1::AckResponse resp;
    ASSERT_TRUE(stub->Ack(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.committed_offset(), 2u);
  }
  guarded.CloseAll();
  server->Shutdown();
}

// Consumers acking every message while a writer appends: acks of different subscriptions are
// committed concurrently (ack_commit_threads), caught-up streams share batches (shared_tail.h),
// and streams with a small max_unacked read for themselves. Every consumer gets every offset
// its filter matches once and in order, and its last ack is durably committed.
TEST_F(SubscriptionsServiceTest, ConsumersAckingEveryMessageWhileAppendingGetEveryOffsetOnce) {
  constexpr int kConsumers = 8;
  constexpr int kTransactions = 150;
  for (int i = 0; i < kConsumers; ++i) {
    v1::CreateSubscriptionRequest req;
    if (i % 2 == 1) req.add_tables("db.orders");
    Create("c" + std::to_string(i), req);
  }
  std::atomic<uint64_t> final_last{UINT64_MAX};
  std::thread writer([&] {
    for (int t = 0; t < kTransactions; ++t) {
      AppendTxn(t % 3 == 0 ? "items" : "orders", t * 10, 1 + t % 5);
      if (t % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    final_last = log_->Bounds(source_)->last.value();
  });
  std::vector<std::vector<uint64_t>> got(kConsumers);
  std::vector<uint64_t> last_ack(kConsumers, 0);
  std::vector<std::thread> readers;
  for (int i = 0; i < kConsumers; ++i) {
    readers.emplace_back([&, i] {
      v1::ConsumeRequest::Open open;
      open.set_subscription("c" + std::to_string(i));
      if (i % 4 >= 2) {
        open.set_max_batch_events(3);
        open.set_max_unacked_events(5);
      }
      auto c = Consume(open);
      v1::SubscribeResponse resp;
      while (c->Next(resp)) {
        for (const auto& e : resp.events()) got[i].push_back(e.offset());
        if (resp.events_size() > 0) {
          last_ack[i] = resp.next_offset() - 1;
          c->Ack(last_ack[i]);
        }
        if (resp.next_offset() > final_last.load() && resp.committed_offset() >= last_ack[i]) {
          break;
        }
      }
      c->End();
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  for (int i = 0; i < kConsumers; ++i) {
    std::vector<uint64_t> want;
    auto read = log_->Read(source_, LogOffset(1), {.max_events = 1 << 20, .max_bytes = 1 << 30},
                           [&](const storage::StoredRecord& rec) {
                             if (i % 2 == 0 || rec.view.table == "db.orders") {
                               want.push_back(rec.offset.value());
                             }
                           });
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(got[i], want) << "consumer " << i;
    EXPECT_EQ(store_->Get("c" + std::to_string(i))->committed_offset(), last_ack[i]);
    EXPECT_GE(last_ack[i], want.back());  // a message may end past its last event
  }
}

}  // namespace
}  // namespace sluice::service
