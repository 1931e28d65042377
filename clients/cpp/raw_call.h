#pragma once
// The Subscribe and Consume calls with the response left as the bytes received
// (grpc::ByteBuffer), so that Subscription and Consumer choose how to read a message: parsed
// into a Batch, or indexed in place by a BatchView. The generated stubs parse every message
// into a SubscribeResponse; these use the same gRPC factories with the byte-buffer codec.
// Internal to clients/cpp.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/client_callback.h>
#include <grpcpp/support/sync_stream.h>

#include <memory>

#include "absl/status/status.h"
#include "clients/cpp/batch.h"
#include "clients/cpp/batch_view.h"
#include "sluice/v1/service.pb.h"

namespace sluice::client::internal {

using RawReader = grpc::ClientReader<grpc::ByteBuffer>;
using RawConsumeStream = grpc::ClientReaderWriter<v1::ConsumeRequest, grpc::ByteBuffer>;

// ChangeStream.Subscribe(request), reading raw messages.
std::unique_ptr<RawReader> StartSubscribe(grpc::Channel& channel, grpc::ClientContext& ctx,
                                          const v1::SubscribeRequest& request);
// The same call for the callback API: `reactor` receives the raw messages; the caller starts
// it (StartRead, StartCall).
void StartSubscribe(grpc::Channel& channel, grpc::ClientContext& ctx,
                    const v1::SubscribeRequest& request,
                    grpc::ClientReadReactor<grpc::ByteBuffer>* reactor);
// Subscriptions.Consume, reading raw messages.
std::unique_ptr<RawConsumeStream> StartConsume(grpc::Channel& channel, grpc::ClientContext& ctx);

// Parses `message` into batch.Fresh(). DataLoss when it is not a SubscribeResponse.
absl::Status ParseInto(grpc::ByteBuffer& message, Batch& batch);
// Copies `message` into view.Fresh() and indexes it. DataLoss when malformed.
absl::Status IndexInto(grpc::ByteBuffer& message, BatchView& view);

}  // namespace sluice::client::internal
