#include "server/service/change_stream_service.h"

#include <gtest/gtest.h>

#include <thread>

#include "storage/test_util.h"

namespace sluice::service {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::MakeEvent;
using storage::testing::TempDir;

class ChangeStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *storage::ChangeLog::Open(dir_.path());
    source_ = *log_->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
    service_ = std::make_unique<ChangeStreamService>(*log_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::ChangeStream::NewStub(channel_);
  }
  void TearDown() override {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    log_.reset();
  }

  void AppendTxn(const std::string& table, int first_id, int n, v1::Op op = v1::OP_INSERT) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < n; ++i) txn.push_back(MakeEvent(table, first_id + i, 0, op));
    ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("x")).ok());
  }

  // Reads until `want` events arrived or the stream ends.
  std::vector<v1::ChangeEvent> Collect(const v1::SubscribeRequest& req, size_t want,
                                       grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub_->Subscribe(&ctx, req);
    std::vector<v1::ChangeEvent> out;
    v1::SubscribeResponse resp;
    while (out.size() < want && reader->Read(&resp)) {
      for (auto& e : *resp.mutable_events()) out.push_back(std::move(e));
    }
    if (out.size() >= want) ctx.TryCancel();
    grpc::Status s = reader->Finish();
    if (status) *status = s;
    return out;
  }

  TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId source_;
  std::unique_ptr<ChangeStreamService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ChangeStream::Stub> stub_;
};

TEST_F(ChangeStreamTest, EarliestDeliversEverythingInOrder) {
  for (int t = 0; t < 50; ++t) AppendTxn("orders", t * 100, 100);
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_earliest();
  auto events = Collect(req, 5000);
  ASSERT_EQ(events.size(), 5000u);
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].offset(), i + 1);
    ASSERT_EQ(events[i].after().fields(0).value().int64(), static_cast<int64_t>(i));
  }
}

TEST_F(ChangeStreamTest, LatestWaitsForNewAppends) {
  AppendTxn("orders", 0, 10);
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_latest();
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    AppendTxn("orders", 10, 3);
  });
  auto events = Collect(req, 3);
  appender.join();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].offset(), 11u);
  EXPECT_EQ(events[2].offset(), 13u);
  EXPECT_TRUE(events[2].last_in_transaction());
}

TEST_F(ChangeStreamTest, FromOffsetAndFilters) {
  AppendTxn("orders", 0, 5);                  // 1..5
  AppendTxn("items", 5, 5, v1::OP_DELETE);    // 6..10
  AppendTxn("orders", 10, 5, v1::OP_UPDATE);  // 11..15
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->set_offset(3);
  req.add_tables("db.ord*");
  req.add_ops(v1::OP_UPDATE);
  auto events = Collect(req, 5);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].offset(), 11u);
  EXPECT_EQ(events[4].offset(), 15u);
  for (const auto& e : events) EXPECT_EQ(e.op(), v1::OP_UPDATE);
}

TEST_F(ChangeStreamTest, ProjectionKeepsListedAndKeyColumnsOfMatchingTables) {
  std::vector<v1::ChangeEvent> txn;
  for (const char* table : {"orders", "items"}) {
    v1::ChangeEvent e = MakeEvent(table, 1);
    for (const char* column : {"total", "note"}) {
      auto* f = e.mutable_after()->add_fields();
      f->set_name(column);
      f->mutable_value()->set_string(column);
    }
    txn.push_back(std::move(e));
  }
  ASSERT_TRUE(log_->Append(source_, std::move(txn), MakeCheckpoint("x")).ok());
  v1::SubscribeRequest req;
  req.set_source("shop");
  auto* p = req.add_projections();
  p->set_table("db.orders");
  p->add_columns("note");
  auto events = Collect(req, 2);
  ASSERT_EQ(events.size(), 2u);
  ASSERT_EQ(events[0].after().fields_size(), 2);
  EXPECT_EQ(events[0].after().fields(0).name(), "id");
  EXPECT_EQ(events[0].after().fields(1).name(), "note");
  EXPECT_EQ(events[1].after().fields_size(), 3);  // items: no projection
  EXPECT_TRUE(events[1].last_in_transaction());

  p->clear_columns();
  grpc::Status status;
  Collect(req, 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("at least one column"), std::string::npos);
}

TEST_F(ChangeStreamTest, UnknownSourceIsNotFound) {
  v1::SubscribeRequest req;
  req.set_source("nope");
  grpc::Status status;
  Collect(req, 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("known sources: shop"), std::string::npos)
      << status.error_message();
}

TEST_F(ChangeStreamTest, TrimmedOffsetIsOutOfRange) {
  for (int t = 0; t < 10; ++t) AppendTxn("orders", t * 10, 10);
  auto b = *log_->Bounds(source_);
  ASSERT_TRUE(log_->ApplyRetention(source_, {.max_bytes = b.stored_bytes / 2}).ok());
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->set_offset(1);
  grpc::Status status;
  Collect(req, 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(status.error_message().find("earliest available offset"), std::string::npos);
}

TEST_F(ChangeStreamTest, CancelledSubscriberIsCleanedUp) {
  v1::SubscribeRequest req;
  req.set_source("shop");
  {
    grpc::ClientContext ctx;
    auto reader = stub_->Subscribe(&ctx, req);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(service_->active_subscribers(), 1);
    ctx.TryCancel();
    v1::SubscribeResponse resp;
    while (reader->Read(&resp)) {
    }
    reader->Finish();
  }
  for (int i = 0; i < 100 && service_->active_subscribers() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(service_->active_subscribers(), 0);
}

}  // namespace
}  // namespace sluice::service
