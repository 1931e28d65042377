#include "clients/cpp/batch.h"

namespace sluice::client {
namespace {

google::protobuf::ArenaOptions Options() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;  // a default-sized batch (1 MiB) fits in a few blocks
  return options;
}

}  // namespace

Batch::Batch()
    : arena_(Options()),
      response_(google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena_)) {}

v1::SubscribeResponse& Batch::Fresh() {
  arena_.Reset();
  response_ = google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena_);
  return *response_;
}

}  // namespace sluice::client
