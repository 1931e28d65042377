// AdminService and the Authorizer through a real in-process gRPC server over a real change log.
#include "server/service/admin_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/service/change_stream_service.h"
#include "storage/test_util.h"

namespace sluice::service {
namespace {

using storage::testing::MakeCheckpoint;
using storage::testing::MakeEvent;
using storage::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kAdminToken[] = "admin-token-0123456789abcdef";
constexpr char kReaderToken[] = "reader-token-0123456789abcdef";
constexpr int64_t kCommitTs = 1'767'323'045'000'000;  // 2026-01-02T03:04:05Z

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = *storage::ChangeLog::Open(dir_.path());
    source_ = *log_->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
    for (int i = 1; i <= 5; ++i) {
      std::vector<v1::ChangeEvent> txn;
      txn.push_back(MakeEvent("orders", i, kCommitTs + i));
      ASSERT_TRUE(
          log_->Append(source_, std::move(txn), MakeCheckpoint("pos" + std::to_string(i))).ok());
    }
    authorizer_ = std::make_unique<Authorizer>(std::vector<config::TokenEntry>{
        {kAdminToken, config::Role::kAdmin}, {kReaderToken, config::Role::kSubscribe}});
    admin_ = std::make_unique<AdminService>(*log_, registry_, nullptr, authorizer_.get());
    SubscribeOptions options;
    options.authorizer = authorizer_.get();
    stream_ = std::make_unique<ChangeStreamService>(*log_, options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(admin_.get());
    builder.RegisterService(stream_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials());
    admin_stub_ = v1::Admin::NewStub(channel);
    stream_stub_ = v1::ChangeStream::NewStub(channel);
  }
  void TearDown() override {
    stream_->CloseAll();
    server_->Shutdown();
    server_.reset();
    stream_.reset();
    admin_.reset();
    log_.reset();
  }

  grpc::Status CallStatus(const std::string& token) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    v1::StatusResponse resp;
    return admin_stub_->Status(&ctx, v1::StatusRequest(), &resp);
  }

  TempDir dir_;
  std::unique_ptr<storage::ChangeLog> log_;
  storage::SourceId source_;
  pipeline::SourceRegistry registry_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<ChangeStreamService> stream_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::Admin::Stub> admin_stub_;
  std::unique_ptr<v1::ChangeStream::Stub> stream_stub_;
};

TEST_F(AdminServiceTest, MissingTokenIsUnauthenticated) {
  grpc::Status st = CallStatus("");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(st.error_message(), HasSubstr("requires a bearer token and the request has none"));
}

TEST_F(AdminServiceTest, WrongTokenIsUnauthenticated) {
  grpc::Status st = CallStatus("not-a-token-of-this-server");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(st.error_message(), HasSubstr("the bearer token is not valid for this sluiced"));
  EXPECT_THAT(st.error_message(), ::testing::Not(HasSubstr("not-a-token")));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Basic ") + kAdminToken);
  v1::StatusResponse resp;
  EXPECT_EQ(admin_stub_->Status(&ctx, v1::StatusRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AdminServiceTest, SubscribeRoleCannotCallAdminRpcs) {
  grpc::Status st = CallStatus(kReaderToken);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(st.error_message(),
            "the token has role subscribe; Admin.Status needs role admin: use an admin token");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kReaderToken);
  v1::ReadLogRequest req;
  req.set_source("shop");
  v1::ReadLogResponse resp;
  st = admin_stub_->ReadLog(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("Admin.ReadLog needs role admin"));
}

TEST_F(AdminServiceTest, AdminTokenPasses) { EXPECT_TRUE(CallStatus(kAdminToken).ok()); }

TEST_F(AdminServiceTest, SubscribeNeedsAToken) {
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_earliest();
  {
    grpc::ClientContext ctx;
    auto reader = stream_stub_->Subscribe(&ctx, req);
    v1::SubscribeResponse resp;
    EXPECT_FALSE(reader->Read(&resp));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kReaderToken);
  auto reader = stream_stub_->Subscribe(&ctx, req);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  EXPECT_EQ(resp.events_size(), 5);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(AdminServiceTest, CloseAllEndsStreamsWithTheOffsetToResumeFrom) {
  v1::SubscribeRequest req;
  req.set_source("shop");
  req.mutable_start()->mutable_earliest();
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kReaderToken);
  auto reader = stream_stub_->Subscribe(&ctx, req);
  v1::SubscribeResponse resp;
  ASSERT_TRUE(reader->Read(&resp));
  ASSERT_EQ(resp.events_size(), 5);
  stream_->CloseAll();  // the subscriber is caught up and waiting for appends
  while (reader->Read(&resp)) {
  }
  grpc::Status st = reader->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "sluiced is shutting down; resume from offset 6");
  // New subscriptions are refused the same way.
  grpc::ClientContext late;
  late.AddMetadata("authorization", std::string("Bearer ") + kReaderToken);
  auto refused = stream_stub_->Subscribe(&late, req);
  while (refused->Read(&resp)) {
  }
  st = refused->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "sluiced is shutting down; resume from offset 1");
}

TEST_F(AdminServiceTest, StatusShowsLagBehindTheLastCommit) {
  v1::StatusResponse resp = admin_->BuildStatus(kCommitTs + 5 + 2'500'000);
  ASSERT_EQ(resp.sources_size(), 1);
  const auto& s = resp.sources(0);
  EXPECT_EQ(s.last_offset(), 5u);
  EXPECT_EQ(s.last_commit_ts_micros(), kCommitTs + 5);
  EXPECT_EQ(s.lag_micros(), 2'500'000);
  EXPECT_EQ(s.checkpoint(), "pos5");
}

TEST_F(AdminServiceTest, ReadLogPagesThroughTheLog) {
  v1::ReadLogRequest req;
  req.set_source("shop");
  req.set_from_offset(2);
  req.set_limit(3);
  auto resp = admin_->BuildReadLog(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->events_size(), 3);
  EXPECT_EQ(resp->events(0).offset(), 2u);
  EXPECT_EQ(resp->events(2).offset(), 4u);
  EXPECT_EQ(resp->next_offset(), 5u);
  EXPECT_EQ(resp->first_offset(), 1u);
  EXPECT_EQ(resp->last_offset(), 5u);
  req.set_from_offset(0);  // earliest
  req.set_limit(0);        // the default
  resp = admin_->BuildReadLog(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->events_size(), 5);
  EXPECT_EQ(resp->next_offset(), 6u);
  req.set_limit(10'001);
  EXPECT_THAT(std::string(admin_->BuildReadLog(req).status().message()),
              HasSubstr("limit 10001 is too large"));
  req.set_limit(1);
  req.set_source("nope");
  EXPECT_EQ(admin_->BuildReadLog(req).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AdminServiceTest, ControlRpcsWithoutAControllerAreUnimplemented) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("Bearer ") + kAdminToken);
  v1::PauseSourceRequest req;
  req.set_source("shop");
  v1::PauseSourceResponse resp;
  grpc::Status st = admin_stub_->PauseSource(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext snap_ctx;
  snap_ctx.AddMetadata("authorization", std::string("Bearer ") + kAdminToken);
  v1::SnapshotTableRequest snap;
  snap.set_source("shop");
  snap.set_table("shop.orders");
  v1::SnapshotTableResponse snap_resp;
  st = admin_stub_->SnapshotTable(&snap_ctx, snap, &snap_resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(st.error_message(), HasSubstr("cannot control them"));
}

}  // namespace
}  // namespace sluice::service
