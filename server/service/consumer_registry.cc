#include "server/service/consumer_registry.h"

namespace sluice::service {

void ConsumerRegistry::Attach(const std::string& name, const std::shared_ptr<Stream>& stream) {
  std::shared_ptr<Stream> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      std::lock_guard<std::mutex> stream_lock(stream->mu);
      FinishLocked(*stream, *closed_);
      return;
    }
    std::weak_ptr<Stream>& slot = streams_[name];
    previous = slot.lock();
    slot = stream;
  }
  if (previous != nullptr && previous != stream) {
    std::lock_guard<std::mutex> lock(previous->mu);
    FinishLocked(*previous,
                 grpc::Status(grpc::StatusCode::ABORTED,
                              "another consumer opened subscription '" + name +
                                  "'; this stream ended (one consumer per subscription)"));
  }
}

void ConsumerRegistry::Detach(const Stream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(streams_, [stream](const auto& entry) {
    auto current = entry.second.lock();
    return current == nullptr || current.get() == stream;
  });
}

std::shared_ptr<Stream> ConsumerRegistry::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(name);
  return it == streams_.end() ? nullptr : it->second.lock();
}

void ConsumerRegistry::End(std::string_view name, const grpc::Status& status) {
  std::shared_ptr<Stream> stream = Find(name);
  if (stream == nullptr) return;
  std::lock_guard<std::mutex> lock(stream->mu);
  FinishLocked(*stream, status);
}

void ConsumerRegistry::CloseAll(const grpc::Status& status) {
  std::map<std::string, std::weak_ptr<Stream>, std::less<>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = status;
    streams.swap(streams_);
  }
  for (auto& [name, weak] : streams) {
    if (auto stream = weak.lock()) {
      std::lock_guard<std::mutex> lock(stream->mu);
      FinishLocked(*stream, status);
    }
  }
}

}  // namespace sluice::service
