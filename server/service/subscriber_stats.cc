#include "server/service/subscriber_stats.h"

namespace sluice::service {

SubscriberStats::SubscriberStats() : state_(std::make_shared<State>()) {}

std::shared_ptr<SubscriberStats::Stream> SubscriberStats::Open(const std::string& source,
                                                               storage::SourceId source_id,
                                                               LogOffset start) {
  auto* s = new Stream();
  s->source = source;
  s->source_id = source_id;
  s->sent_through.store(start.value() == 0 ? 0 : start.value() - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    s->id = state_->next_id++;
    auto& served = state_->served[source];
    if (served == nullptr) served = std::make_unique<std::atomic<uint64_t>>(0);
    s->served = served.get();
    state_->open[s->id] = s;
  }
  // The handle keeps the state (and the served counter it points to) alive.
  return std::shared_ptr<Stream>(s, [state = state_](Stream* p) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->open.erase(p->id);
    }
    delete p;
  });
}

std::vector<SubscriberStats::Live> SubscriberStats::Streams() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<Live> out;
  out.reserve(state_->open.size());
  for (const auto& [id, s] : state_->open) {
    out.push_back({id, s->source, s->source_id, s->sent_through.load(std::memory_order_relaxed)});
  }
  return out;
}

std::map<std::string, uint64_t> SubscriberStats::Served() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::map<std::string, uint64_t> out;
  for (const auto& [source, n] : state_->served) out[source] = n->load(std::memory_order_relaxed);
  return out;
}

}  // namespace sluice::service
