// The reactor of one Subscriptions.Consume stream. It reads ConsumeRequests one at a time: the
// first opens the subscription (on the ack pool, since creating one writes), later ones are acks
// handed to stream_pump's ReceiveAck (on the pump pool). Writes go through Stream/Pump, after
// the table-state bootstrap of a snapshot_then_stream subscription (consume_bootstrap.h).
#include <boost/asio/post.hpp>

#include "server/service/consume_bootstrap.h"
#include "server/service/grpc_status.h"
#include "server/service/subscriptions_service.h"

namespace sluice::service {

class ConsumeReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                             public StreamReactor {
 public:
  explicit ConsumeReactor(SubscriptionsService& service)
      : service_(service),
        stream_(std::make_shared<Stream>()),
        bootstrap_(std::make_shared<ConsumeBootstrap>()),
        active_(service.active_) {
    stream_->log = &service_.log_;
    stream_->pool = &service_.pool_;
    stream_->tail = service_.tail_.get();
    stream_->reactor = this;
    stream_->opened = false;
    ++*active_;
    StartRead(&in_);
  }

  // StreamReactor, called under stream_->mu while the stream is not finished.
  void Send(const grpc::ByteBuffer* message) override { StartWrite(message); }
  void End(const grpc::Status& status) override { Finish(status); }
  void ReadNext() override { StartRead(&in_); }

  void OnReadDone(bool ok) override {
    std::shared_ptr<Stream> s = stream_;
    if (!ok) {
      // The client half-closed (no more acks) or went away; OnCancel covers the latter.
      std::lock_guard<std::mutex> lock(s->mu);
      if (!s->durable) {
        FinishLocked(*s, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "the Consume stream ended before its open message"));
      }
      return;
    }
    std::string bytes;
    std::vector<grpc::Slice> slices;
    if (in_.Dump(&slices).ok()) {
      for (const auto& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    in_.Clear();
    // The open may write (create_if_missing): it runs on the ack pool. Acks only take note
    // and return, so they run on the pump pool and are never stuck behind a commit, which
    // picks up every ack that arrived meanwhile.
    SubscriptionsService& service = service_;
    bool opened = false;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      opened = s->durable.has_value();
    }
    boost::asio::post(opened ? service.pool_ : service.ack_pool_,
                      [&service, s, b = bootstrap_, bytes = std::move(bytes)] {
                        Handle(service, s, b, bytes);
                      });
  }

  // During a bootstrap its pump takes the write completions and the cancellation (the stream
  // is not `opened`, so stream_pump's Pump would ignore them).
  void OnWriteDone(bool ok) override {
    std::shared_ptr<Stream> s = stream_;
    std::shared_ptr<ConsumeBootstrap> b = bootstrap_;
    if (!Bootstrapping(*s, *b)) {
      service::OnWriteDone(s, ok);
      return;
    }
    boost::asio::post(*s->pool, [s, b, ok] {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->write_in_flight = false;
        if (!ok) s->cancelled = true;
      }
      BootstrapPump(s, b);
    });
  }
  void OnCancel() override {
    std::shared_ptr<Stream> s = stream_;
    std::shared_ptr<ConsumeBootstrap> b = bootstrap_;
    if (!Bootstrapping(*s, *b)) {
      service::OnCancel(s);
      return;
    }
    boost::asio::post(*s->pool, [s, b] {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        s->cancelled = true;
      }
      BootstrapPump(s, b);
    });
  }

  void OnDone() override {
    service_.consumers_.Detach(stream_.get());
    --*active_;
    delete this;
  }

 private:
  // One ConsumeRequest, then the next read.
  static void Handle(SubscriptionsService& service, const std::shared_ptr<Stream>& s,
                     const std::shared_ptr<ConsumeBootstrap>& b, const std::string& bytes) {
    v1::ConsumeRequest req;
    bool opened = false;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->finished) return;
      opened = s->durable.has_value();
      if (!req.ParseFromString(bytes)) {
        FinishLocked(*s, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "a ConsumeRequest is not a valid sluice.v1 message"));
        return;
      }
      if (!opened && !req.has_open()) {
        FinishLocked(*s, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "the first ConsumeRequest must be `open`, naming the "
                                      "subscription"));
        return;
      }
      if (opened && !req.has_ack()) {
        FinishLocked(*s, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "after `open`, a ConsumeRequest carries only `ack`"));
        return;
      }
    }
    if (!opened) {
      // Open outside the lock: it reads (and may write) the subscription store.
      Stream setup;
      std::unique_ptr<StateBootstrap> bootstrap;
      absl::Status st = service.Open(req.open(), setup, bootstrap);
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->finished) return;
      if (!st.ok()) {
        FinishLocked(*s, ToGrpcStatus(st));
        return;
      }
      s->source = setup.source;
      s->filter = std::move(setup.filter);
      s->projector = std::move(setup.projector);
      s->limits = setup.limits;
      s->encoding_key = EncodingKey(s->filter, s->projector, s->limits);
      s->max_scan_events = setup.max_scan_events;
      s->next = setup.next;
      s->stats = std::move(setup.stats);
      s->durable = std::move(setup.durable);
      b->state = std::move(bootstrap);
      s->opened = !BootstrappingLocked(*b);  // a bootstrap opens it when it is done
    } else {
      FinishBootstrapOnAck(s, b, LogOffset(req.ack()));
      ReceiveAck(s, LogOffset(req.ack()));
    }
    std::string name;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->finished) return;
      s->reactor->ReadNext();
      name = s->durable->name;
    }
    if (!opened) {
      service.consumers_.Attach(name, s);  // ends an older stream of the same subscription
      if (Bootstrapping(*s, *b)) {
        PostBootstrapPump(s, b);
      } else {
        PostPump(s);
      }
    }
  }

  SubscriptionsService& service_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<ConsumeBootstrap> bootstrap_;
  std::shared_ptr<std::atomic<int>> active_;
  grpc::ByteBuffer in_;
};

// Ends a Consume call that may not proceed (no or a wrong token).
class RefusedConsume final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedConsume(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SubscriptionsService::Consume(
    grpc::CallbackServerContext* context) {
  if (grpc::Status st = Authorize(options_.authorizer, *context, config::Role::kSubscribe,
                                  "Subscriptions.Consume");
      !st.ok()) {
    return new RefusedConsume(st);
  }
  return new ConsumeReactor(*this);
}

}  // namespace sluice::service
