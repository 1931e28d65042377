#pragma once
// ChangeStreamService: the gRPC Subscribe RPC, serving any number of subscribers from the one
// stored change log.
//
// Each subscriber has one reactor that keeps at most one message in flight. When a write
// completes, the next batch (up to max_batch_events / max_batch_bytes) is read from RocksDB on a
// small pump pool and written. A caught-up subscriber registers a ChangeLog::NotifyAfter waiter
// and is woken by the next append; nothing polls. So a slow subscriber holds one batch of memory
// and never slows ingestion or other subscribers: HTTP/2 flow control holds it back.
//
// Events are sent as stored (see batch_encoder.h); filters read only the record header. Streams
// caught up at the same offset with the same encoding share one read and one encoded batch
// (shared_tail.h).
//
// Lifecycle: construct before the grpc::Server is built; on shutdown call CloseAll (every stream
// ends with UNAVAILABLE naming the offset to resume from), then shut the server down, then
// destroy the service. The ChangeLog must outlive the service.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "server/service/authorizer.h"
#include "server/service/shared_tail.h"
#include "sluice/v1/service.grpc.pb.h"
#include "storage/change_log.h"

namespace sluice::service {

class SubscriberStats;

struct SubscribeOptions {
  // Counts what each stream is sent (metrics); null: not counted. Must outlive the service.
  SubscriberStats* stats = nullptr;
  size_t default_batch_events = 4096;
  size_t default_batch_bytes = size_t{1} << 20;
  size_t max_batch_bytes = size_t{4} << 20;  // a client cannot ask for more
  size_t max_scan_events = 65536;            // records examined per batch when filters skip
  int pump_threads = 2;
  // Checks each call's bearer token; null: no authentication. Must outlive the service.
  const Authorizer* authorizer = nullptr;
  // Streams caught up at the same offset with the same filters and limits share one log read
  // and one encoded batch (shared_tail.h). False: each stream reads the log itself.
  bool share_tail = true;
};

struct LiveStreams;

class ChangeStreamService final
    : public v1::ChangeStream::WithRawCallbackMethod_Subscribe<v1::ChangeStream::Service> {
 public:
  ChangeStreamService(storage::ChangeLog& log, SubscribeOptions options = {});
  ~ChangeStreamService() override;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request) override;

  int active_subscribers() const { return active_->load(); }

  // Ends every open stream (UNAVAILABLE, naming the offset to resume from) and every stream
  // started later; for shutdown, before the grpc::Server shuts down.
  void CloseAll();

 private:
  storage::ChangeLog& log_;
  SubscribeOptions options_;
  std::shared_ptr<LiveStreams> live_;
  std::shared_ptr<std::atomic<int>> active_ = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<SharedTail> tail_;  // null unless options_.share_tail; outlives pool_'s jobs
  boost::asio::thread_pool pool_;
};

}  // namespace sluice::service
