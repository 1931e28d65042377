#pragma once
// SubscriptionsService: the gRPC Subscriptions RPCs, durable named subscriptions over the change
// log (storage/subscriptions.h; docs/subscriptions.md).
//
// Consume is a bidirectional stream: the first ConsumeRequest opens the subscription (creating
// it when asked), later ones carry cumulative acks. Delivery resumes after the committed offset,
// so what was sent and not acked before a disconnect or a crash is sent again. While
// max_unacked events (or bytes) are delivered and not acked, delivery pauses. Each committed ack
// is confirmed by a message carrying the new committed_offset. Ack commits without a stream.
// List, Create, Reset and Delete manage subscriptions; Reset and Delete end an open stream.
// With an Authorizer, Consume and Ack need the subscribe role and the others the admin role.
//
// Delivery shares its design with ChangeStream.Subscribe (stream_pump.h): one message in flight
// per stream, batches read on a small pump pool, a caught-up stream waits for the next append
// without a thread. Acks are committed (synced writes) on a separate ack pool.
//
// Lifecycle: construct before the grpc::Server is built, destroy after it has shut down. The
// ChangeLog and the SubscriptionStore must outlive the service.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "server/service/authorizer.h"
#include "server/service/consumer_registry.h"
#include "server/service/shared_tail.h"
#include "server/service/state_bootstrap.h"
#include "server/service/subscriber_stats.h"
#include "sluice/v1/service.grpc.pb.h"
#include "storage/change_log.h"
#include "storage/subscriptions.h"

namespace sluice::service {

struct ConsumeOptions {
  // Counts what each stream is sent (metrics); null: not counted. Must outlive the service.
  SubscriberStats* stats = nullptr;
  size_t default_batch_events = 4096;
  size_t default_batch_bytes = size_t{1} << 20;
  size_t max_batch_bytes = size_t{4} << 20;  // a client cannot ask for more
  size_t max_scan_events = 65536;            // records examined per batch when filters skip
  size_t default_max_unacked_events = 65536;
  size_t max_unacked_events = size_t{1} << 20;  // a client cannot ask for more
  int pump_threads = 2;
  // One thread: acks of a subscription are committed in order on it, and a durable
  // bootstrap's completion (a stored-record read, then a reset to N + 1) relies on no other
  // ack commit running between the two. More threads would need a per-subscription lock.
  int ack_threads = 1;
  // Commit the acks received on Consume streams of subscriptions without a bootstrap (those
  // keep the ack pool, see ack_threads). Acks of different subscriptions are committed
  // concurrently, so RocksDB's write group turns several into one synced WAL write; those of
  // one stream stay one at a time and in order (DurableState::ack_writing).
  int ack_commit_threads = 4;
  // Streams caught up at the same offset with the same filters and limits share one log read
  // and one encoded batch (shared_tail.h). False: each stream reads the log itself.
  bool share_tail = true;
  // Checks each call's bearer token: Consume and Ack need the subscribe role, the management
  // RPCs the admin role. Null: no authentication. Must outlive the service.
  const Authorizer* authorizer = nullptr;
};

using SubscriptionsBase =
    v1::Subscriptions::WithRawCallbackMethod_Consume<v1::Subscriptions::WithCallbackMethod_Ack<
        v1::Subscriptions::WithCallbackMethod_ListSubscriptions<
            v1::Subscriptions::WithCallbackMethod_CreateSubscription<
                v1::Subscriptions::WithCallbackMethod_ResetSubscription<
                    v1::Subscriptions::WithCallbackMethod_DeleteSubscription<
                        v1::Subscriptions::Service>>>>>>;

class SubscriptionsService final : public SubscriptionsBase {
 public:
  SubscriptionsService(storage::ChangeLog& log, storage::SubscriptionStore& store,
                       ConsumeOptions options = {});
  ~SubscriptionsService() override;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Consume(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context, const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(grpc::CallbackServerContext* context,
                                              const v1::ListSubscriptionsRequest* request,
                                              v1::ListSubscriptionsResponse* response) override;
  grpc::ServerUnaryReactor* CreateSubscription(grpc::CallbackServerContext* context,
                                               const v1::CreateSubscriptionRequest* request,
                                               v1::SubscriptionInfo* response) override;
  grpc::ServerUnaryReactor* ResetSubscription(grpc::CallbackServerContext* context,
                                              const v1::ResetSubscriptionRequest* request,
                                              v1::SubscriptionInfo* response) override;
  grpc::ServerUnaryReactor* DeleteSubscription(grpc::CallbackServerContext* context,
                                               const v1::DeleteSubscriptionRequest* request,
                                               v1::DeleteSubscriptionResponse* response) override;

  // The answers of the unary RPCs, also used by tests without gRPC.
  absl::StatusOr<LogOffset> CommitAck(const v1::AckRequest& request);
  absl::StatusOr<v1::ListSubscriptionsResponse> List(const v1::ListSubscriptionsRequest& request);
  absl::StatusOr<v1::SubscriptionInfo> Create(const v1::CreateSubscriptionRequest& request);
  absl::StatusOr<v1::SubscriptionInfo> Reset(const v1::ResetSubscriptionRequest& request);
  absl::Status Delete(const v1::DeleteSubscriptionRequest& request);

  int open_consumers() const { return active_->load(); }

  // Ends every Consume stream (UNAVAILABLE; the consumer resumes after its committed offset)
  // and every one opened later; for shutdown, before the grpc::Server shuts down.
  void CloseAll();

 private:
  friend class ConsumeReactor;
  // Sets up `stream` for the subscription that `open` names, creating it when asked. For a
  // snapshot_then_stream subscription not acked yet, `bootstrap` receives its table state.
  absl::Status Open(const v1::ConsumeRequest::Open& open, Stream& stream,
                    std::unique_ptr<StateBootstrap>& bootstrap);
  // Where a subscription created from `start` begins (ResolveStart; snapshot_then_stream
  // becomes the table state's offset N, see docs/subscriptions.md), and whether it bootstraps.
  absl::StatusOr<std::pair<LogOffset, bool>> CreateStart(storage::SourceId source,
                                                         const v1::StartPosition& start);
  v1::SubscriptionInfo Describe(const storagepb::SubscriptionRecord& record);

  storage::ChangeLog& log_;
  storage::SubscriptionStore& store_;
  ConsumeOptions options_;
  ConsumerRegistry consumers_;
  std::unique_ptr<SharedTail> tail_;  // null unless options_.share_tail
  std::shared_ptr<std::atomic<int>> active_ = std::make_shared<std::atomic<int>>(0);
  boost::asio::thread_pool pool_;
  boost::asio::thread_pool ack_pool_;
  boost::asio::thread_pool commit_pool_;  // ack commits of streams without a bootstrap
};

}  // namespace sluice::service
