#pragma once
// ConsumerRegistry: which Consume stream currently serves each durable subscription. One
// consumer per subscription: attaching a new stream ends the previous one (ABORTED), so a client
// that reconnects before the server noticed its old connection died is never refused. Reset and
// Delete end the stream so that its consumer reconnects from the new position.
//
// Thread-safety: every method may be called from any thread. Never called with a Stream's mutex
// held (the registry's lock is taken first).

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "server/service/stream_pump.h"

namespace sluice::service {

class ConsumerRegistry {
 public:
  void Attach(const std::string& name, const std::shared_ptr<Stream>& stream);
  // Forgets `stream` wherever it is still the consumer (and streams that are gone). Takes no
  // stream lock, so a reactor's OnDone may call it whatever thread and locks it runs under.
  void Detach(const Stream* stream);
  // The open stream of `name`, or nullptr.
  std::shared_ptr<Stream> Find(std::string_view name) const;
  // Ends the stream of `name`, if any, with `status`.
  void End(std::string_view name, const grpc::Status& status);
  // Ends every stream with `status`, and every stream attached later (shutdown).
  void CloseAll(const grpc::Status& status);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::weak_ptr<Stream>, std::less<>> streams_;  // guarded by mu_
  std::optional<grpc::Status> closed_;                                 // guarded by mu_
};

}  // namespace sluice::service
