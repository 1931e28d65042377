// Subscription and Consumer through a SNAPSHOT_THEN_STREAM bootstrap that breaks off: an
// in-process gRPC server plays the sluiced side of the protocol (service.proto) step by step,
// so the break lands exactly mid-bootstrap. The rows (offset 0) must all reach the caller, the
// batch that starts each bootstrap says so, and the reconnect bootstraps again instead of
// resuming at the bootstrap's next_offset (which would skip the rows not yet sent).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <vector>

#include "clients/cpp/batch.h"
#include "clients/cpp/batch_view.h"
#include "clients/cpp/consumer.h"
#include "clients/cpp/subscription.h"
#include "gtest/gtest.h"
#include "sluice/v1/service.grpc.pb.h"

namespace sluice::client {
namespace {

// A bootstrap message: rows with the given ids (offset 0), consistent at `n`.
v1::SubscribeResponse Rows(uint64_t n, std::vector<int> ids, bool done, uint64_t next_offset,
                           uint64_t committed = 0) {
  v1::SubscribeResponse r;
  for (int id : ids) {
    v1::ChangeEvent* e = r.add_events();
    e->set_op(v1::OP_READ);
    v1::Field* f = e->mutable_after()->add_fields();
    f->set_name("id");
    f->mutable_value()->set_int64(id);
  }
  r.set_snapshot_offset(n);
  r.set_snapshot_done(done);
  r.set_next_offset(next_offset);
  r.set_committed_offset(committed);
  return r;
}

v1::SubscribeResponse LogEvent(uint64_t offset, uint64_t committed = 0) {
  v1::SubscribeResponse r;
  r.add_events()->set_offset(offset);
  r.mutable_events(0)->set_op(v1::OP_INSERT);
  r.set_next_offset(offset + 1);
  r.set_last_offset(offset);
  r.set_committed_offset(committed);
  return r;
}

// First stream: part of a bootstrap at N = 5, then UNAVAILABLE. Second stream: a whole
// bootstrap at N = 7 (two messages), then log offset 8, then it waits.
class ScriptedServer final : public v1::ChangeStream::Service, public v1::Subscriptions::Service {
 public:
  grpc::Status Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override {
    const int call = Record(request->start());
    if (call == 0) {
      writer->Write(Rows(5, {1, 2}, false, 6));
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "sluiced is restarting");
    }
    writer->Write(Rows(7, {1}, false, 8));
    writer->Write(Rows(7, {3}, true, 8));
    writer->Write(LogEvent(8));
    while (!ctx->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return grpc::Status::OK;
  }

  grpc::Status Consume(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::SubscribeResponse, v1::ConsumeRequest>* stream) override {
    v1::ConsumeRequest open;
    if (!stream->Read(&open)) return grpc::Status::CANCELLED;
    const int call = Record(open.open().start());
    if (call == 0) {
      stream->Write(Rows(5, {1, 2}, false, 5, 4));
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "sluiced is restarting");
    }
    stream->Write(Rows(7, {3}, true, 8, 4));
    stream->Write(LogEvent(8, 4));
    v1::ConsumeRequest ack;
    while (stream->Read(&ack)) {
      if (ack.has_ack()) {
        std::lock_guard<std::mutex> lock(mu_);
        acks_.push_back(ack.ack());
      }
    }
    return ctx->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK;
  }

  std::vector<v1::StartPosition> starts() {
    std::lock_guard<std::mutex> lock(mu_);
    return starts_;
  }
  std::vector<uint64_t> acks() {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_;
  }

 private:
  int Record(const v1::StartPosition& start) {
    std::lock_guard<std::mutex> lock(mu_);
    starts_.push_back(start);
    return static_cast<int>(starts_.size()) - 1;
  }

  std::mutex mu_;
  std::vector<v1::StartPosition> starts_;
  std::vector<uint64_t> acks_;
};

class BootstrapClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(static_cast<v1::ChangeStream::Service*>(&service_));
    builder.RegisterService(static_cast<v1::Subscriptions::Service*>(&service_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
  }
  void TearDown() override { server_->Shutdown(std::chrono::system_clock::now()); }

  static ReconnectPolicy Fast() {
    ReconnectPolicy p;
    p.initial_delay = std::chrono::milliseconds(10);
    p.max_attempts = 5;
    return p;
  }

  ScriptedServer service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::vector<int64_t> Ids(const Batch& batch) {
  std::vector<int64_t> ids;
  for (const v1::ChangeEvent& e : batch.events()) {
    ids.push_back(e.offset() != 0 ? -static_cast<int64_t>(e.offset())
                                  : e.after().fields(0).value().int64());
  }
  return ids;
}

TEST_F(BootstrapClientTest, SubscriptionBootstrapsAgainAfterABreakMidBootstrap) {
  SubscribeOptions options;
  options.request.set_source("s");
  options.request.mutable_start()->mutable_snapshot_then_stream();
  options.reconnect = Fast();
  Subscription sub(channel_, options);
  Batch batch;
  ASSERT_TRUE(sub.Next(batch).ok());
  EXPECT_TRUE(batch.bootstrap_begins());
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(sub.resume_offset().value(), 0u) << "a bootstrap's rows are not a position";
  ASSERT_TRUE(sub.Next(batch).ok());  // after the reconnect
  EXPECT_TRUE(batch.bootstrap_begins()) << "the copy must start over";
  EXPECT_EQ(batch.snapshot_offset(), 7u);
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{1}));
  ASSERT_TRUE(sub.Next(batch).ok());
  EXPECT_FALSE(batch.bootstrap_begins());
  EXPECT_TRUE(batch.snapshot_done());
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{3}));
  EXPECT_EQ(sub.resume_offset().value(), 8u);
  ASSERT_TRUE(sub.Next(batch).ok());
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{-8}));
  sub.Cancel();
  const std::vector<v1::StartPosition> starts = service_.starts();
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_TRUE(starts[1].has_snapshot_then_stream())
      << "resumed at " << starts[1].ShortDebugString() << ": the rest of the rows were skipped";
}

TEST_F(BootstrapClientTest, ConsumerHandsOutEveryBootstrapRowAndAcksN) {
  ConsumeOptions options;
  options.open.set_subscription("lake");
  options.reconnect = Fast();
  Consumer consumer(channel_, options);
  BatchView view;
  ASSERT_TRUE(consumer.Next(view).ok());
  EXPECT_TRUE(view.bootstrap_begins());
  ASSERT_EQ(view.events().size(), 2u) << "bootstrap rows (offset 0) were dropped";
  Batch batch;
  ASSERT_TRUE(consumer.Next(batch).ok());  // the second stream's bootstrap, whole
  EXPECT_TRUE(batch.bootstrap_begins());
  EXPECT_TRUE(batch.snapshot_done());
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{3}));
  ASSERT_TRUE(consumer.Next(batch).ok());
  EXPECT_FALSE(batch.bootstrap_begins());
  EXPECT_EQ(Ids(batch), (std::vector<int64_t>{-8}));
  ASSERT_TRUE(consumer.Ack(LogOffset(8)).ok());
  for (int i = 0; i < 200 && service_.acks().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(service_.acks(), (std::vector<uint64_t>{8}));
  consumer.Cancel();
}

}  // namespace
}  // namespace sluice::client
