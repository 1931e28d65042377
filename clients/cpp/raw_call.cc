#include "clients/cpp/raw_call.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <string>
#include <utility>

namespace sluice::client::internal {
namespace {

// The method names of service.proto's ChangeStream.Subscribe and Subscriptions.Consume.
constexpr char kSubscribe[] = "/sluice.v1.ChangeStream/Subscribe";
constexpr char kConsume[] = "/sluice.v1.Subscriptions/Consume";

}  // namespace

std::unique_ptr<RawReader> StartSubscribe(grpc::Channel& channel, grpc::ClientContext& ctx,
                                          const v1::SubscribeRequest& request) {
  const grpc::internal::RpcMethod method(kSubscribe, grpc::internal::RpcMethod::SERVER_STREAMING);
  return std::unique_ptr<RawReader>(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(&channel, method, &ctx,
                                                                    request));
}

void StartSubscribe(grpc::Channel& channel, grpc::ClientContext& ctx,
                    const v1::SubscribeRequest& request,
                    grpc::ClientReadReactor<grpc::ByteBuffer>* reactor) {
  const grpc::internal::RpcMethod method(kSubscribe, grpc::internal::RpcMethod::SERVER_STREAMING);
  grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(&channel, method, &ctx,
                                                                        &request, reactor);
}

std::unique_ptr<RawConsumeStream> StartConsume(grpc::Channel& channel, grpc::ClientContext& ctx) {
  const grpc::internal::RpcMethod method(kConsume, grpc::internal::RpcMethod::BIDI_STREAMING);
  return std::unique_ptr<RawConsumeStream>(
      grpc::internal::ClientReaderWriterFactory<v1::ConsumeRequest, grpc::ByteBuffer>::Create(
          &channel, method, &ctx));
}

absl::Status ParseInto(grpc::ByteBuffer& message, Batch& batch) {
  grpc::ProtoBufferReader reader(&message);
  if (!batch.Fresh().ParseFromZeroCopyStream(&reader)) {
    return absl::DataLossError("a message of " + std::to_string(message.Length()) +
                               " bytes from the server is not a SubscribeResponse");
  }
  return absl::OkStatus();
}

absl::Status IndexInto(grpc::ByteBuffer& message, BatchView& view) {
  grpc::Slice single;
  if (message.TrySingleSlice(&single).ok()) {
    view.Adopt(std::move(single));
    return view.Index();
  }
  std::string& bytes = view.Fresh();
  bytes.reserve(message.Length());
  grpc::ProtoBufferReader reader(&message);
  const void* data = nullptr;
  int size = 0;
  while (reader.Next(&data, &size)) bytes.append(static_cast<const char*>(data), size);
  if (bytes.size() != message.Length()) {
    return absl::DataLossError("a message from the server could not be read whole");
  }
  return view.Index();
}

}  // namespace sluice::client::internal
