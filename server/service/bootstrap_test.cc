// Subscribe(start = snapshot_then_stream) and Admin.ReadTable over a real change log whose early
// history retention removed: the table state streams as "r" rows consistent at one offset N,
// then the log follows from N + 1.
#include <gtest/gtest.h>

#include <map>

#include "server/pipeline/source_registry.h"
#include "server/service/admin_service.h"
#include "server/service/change_stream_service.h"
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
  // orders 0..999, then 0..99 deleted and 100..199 updated; items 0..9.
  for (int t = 0; t < 10; ++t) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < 100; ++i) txn.push_back(RowEvent("orders", v1::OP_INSERT, t * 100 + i, "new"));
    Append(std::move(txn));
  }
  std::vector<v1::ChangeEvent> txn;
  for (int i = 0; i < 100; ++i) txn.push_back(RowEvent("orders", v1::OP_DELETE, i, ""));
  for (int i = 100; i < 200; ++i) txn.push_back(RowEvent("orders", v1::OP_UPDATE, i, "upd"));
  for (int i = 0; i < 10; ++i) txn.push_back(RowEvent("items", v1::OP_INSERT, i, "item"));
  Append(std::move(txn));
  auto trimmed = log_->ApplyRetention(source_, storage::RetentionPolicy{.max_bytes = 1});
  ASSERT_TRUE(trimmed.ok());
  ASSERT_GT(trimmed->events_removed, 900u);  // early history is gone
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

}  // namespace
}  // namespace sluice::service
