#include "server/service/subscriber_stats.h"

namespace sluice::service {

SubscriberStats::SubscriberStats() : state_(std::make_shared<State>()) {}

std::shared_ptr<SubscriberStats::Stream> SubscriberStats::Open(const std::string& source,
                                                               storage::SourceId source_id,
                                                               LogOffset start) {
  auto* s = new Stream();
  s->state = state_;
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

void SubscriberStats::Count(Stream& stream, std::string_view table, uint64_t events) {
  auto it = stream.tables.find(table);
  if (it == stream.tables.end()) {
    Stream::TableCount c;
    {
      std::lock_guard<std::mutex> lock(stream.state->mu);
      Counter& n = stream.state->served_table[{stream.source, std::string(table)}];
      if (n == nullptr) n = std::make_unique<std::atomic<uint64_t>>(0);
      c.served = n.get();
    }
    it = stream.tables.emplace(std::string(table), c).first;
  }
  if (it->second.pending == 0) stream.dirty.push_back(&it->second);
  it->second.pending += events;
}

void SubscriberStats::Sent(Stream& stream, uint64_t events, LogOffset next) {
  stream.served->fetch_add(events, std::memory_order_relaxed);
  if (!stream.dirty.empty()) {
    for (Stream::TableCount* c : stream.dirty) {
      c->served->fetch_add(c->pending, std::memory_order_relaxed);
      c->pending = 0;
    }
    stream.dirty.clear();
  }
  stream.sent_through.store(next.value() - 1, std::memory_order_relaxed);
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

std::map<std::pair<std::string, std::string>, uint64_t> SubscriberStats::ServedByTable() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::map<std::pair<std::string, std::string>, uint64_t> out;
  for (const auto& [key, n] : state_->served_table) out[key] = n->load(std::memory_order_relaxed);
  return out;
}

}  // namespace sluice::service
