#include "server/service/shared_tail.h"

#include "absl/strings/str_cat.h"

namespace sluice::service {

std::string EncodingKey(const EventFilter& filter, const ColumnProjector& projector,
                        const storage::ReadLimits& limits) {
  std::string key = absl::StrCat(limits.max_events, "/", limits.max_bytes, "/");
  filter.AppendKey(key);
  key.push_back('/');
  projector.AppendKey(key);
  return key;
}

grpc::ByteBuffer SharedMessage(const SharedBatch& batch, uint64_t last_offset,
                               uint64_t committed_offset) {
  std::string trailer;
  BatchEncoder::AppendTrailer(batch.next.value(), last_offset, committed_offset, trailer);
  grpc::Slice parts[2] = {batch.events, grpc::Slice(trailer)};
  if (batch.event_count == 0) return grpc::ByteBuffer(&parts[1], 1);
  return grpc::ByteBuffer(parts, 2);
}

SharedTail::SharedTail(const storage::ChangeLog& log, SharedTailOptions options)
    : log_(log), options_(options) {}

SharedTail::Counters SharedTail::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

size_t SharedTail::segments() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.size();
}

size_t SharedTail::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_bytes_;
}

SharedTail::Segment* SharedTail::FindLocked(storage::SourceId source, uint64_t from) {
  for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
    Segment& seg = **it;
    if (seg.source == source && seg.from <= from && from < seg.next) return &seg;
  }
  return nullptr;
}

absl::StatusOr<SharedTail::Segment*> SharedTail::ReadSegmentLocked(storage::SourceId source,
                                                                   uint64_t from) {
  auto bounds = log_.Bounds(source);
  if (!bounds.ok()) return bounds.status();
  const uint64_t last = bounds->last.value();
  if (from > last || last + 1 - from > options_.near_tail_events) return nullptr;
  auto seg = std::make_unique<Segment>();
  seg->source = source;
  seg->from = from;
  storage::ReadLimits limits;
  limits.max_events = options_.near_tail_events;
  limits.max_bytes = options_.max_segment_bytes;
  auto next = log_.Read(source, LogOffset(from), limits, [&](const storage::StoredRecord& rec) {
    Record r;
    r.offset = rec.offset.value();
    r.op = rec.view.op;
    if (seg->tables.empty() || seg->tables.back() != rec.view.table) {
      seg->tables.emplace_back(rec.view.table);
    }
    r.table = static_cast<uint32_t>(seg->tables.size() - 1);
    r.field = seg->bytes->size();
    BatchEncoder::AppendEventField(rec.view.event, *seg->bytes);
    r.size = rec.view.event.size();
    r.begin = seg->bytes->size() - r.size;
    r.stored_size = rec.stored_size;
    seg->records.push_back(r);
  });
  if (!next.ok()) return next.status();
  if (seg->records.empty()) return nullptr;  // trimmed or nothing there
  seg->next = next->value();
  seg->cost = seg->bytes->size() + seg->records.size() * sizeof(Record);
  for (const auto& t : seg->tables) seg->cost += t.size();
  cached_bytes_ += seg->cost;
  ++counters_.segments_read;
  ring_.push_back(std::move(seg));
  Segment* added = ring_.back().get();
  EvictLocked();
  return added;
}

void SharedTail::EvictLocked() {
  // The newest segment stays: it is the one being used.
  while (ring_.size() > 1 &&
         (cached_bytes_ > options_.max_cached_bytes || ring_.size() > options_.max_segments)) {
    cached_bytes_ -= ring_.front()->cost;
    ring_.pop_front();
  }
  // Still over: shed the newest segment's batches, oldest first (they are rebuilt if asked for).
  if (ring_.empty()) return;
  Segment& newest = *ring_.back();
  while (cached_bytes_ > options_.max_cached_bytes && !newest.batches.empty()) {
    cached_bytes_ -= newest.batches.front().cost;
    newest.cost -= newest.batches.front().cost;
    newest.batches.pop_front();
  }
}

absl::StatusOr<std::shared_ptr<const SharedBatch>> SharedTail::Build(const Segment& seg,
                                                                     uint64_t from,
                                                                     const Encoding& enc) {
  auto batch = std::make_shared<SharedBatch>();
  const auto& limits = enc.limits;
  size_t i = from - seg.from;
  if (enc.filter->MatchesAll() && enc.projector->empty()) {
    // Every record is an event: the batch is one run of the segment's fields, sent as a slice
    // of its buffer (one round: the first record always matches).
    const size_t first = i;
    size_t bytes = 0;
    for (; i < seg.records.size() && i - first < limits.max_events && bytes < limits.max_bytes;
         ++i) {
      const Record& r = seg.records[i];
      bytes += r.stored_size;
      batch->delivered.emplace_back(r.offset, r.size);
      storage::CountTableEvent(seg.tables[r.table], batch->tables);
    }
    batch->from = LogOffset(from);
    batch->next = LogOffset(i < seg.records.size() ? seg.records[i].offset : seg.next);
    batch->event_count = i - first;
    if (batch->event_count > 0) {
      const size_t begin = seg.records[first].field;
      const size_t end = i < seg.records.size() ? seg.records[i].field : seg.bytes->size();
      auto* owner = new std::shared_ptr<std::string>(seg.bytes);
      batch->events = grpc::Slice(
          seg.bytes->data() + begin, end - begin,
          [](void* p) { delete static_cast<std::shared_ptr<std::string>*>(p); }, owner);
    }
    return std::shared_ptr<const SharedBatch>(std::move(batch));
  }
  BatchEncoder encoder;
  // As ChangeLog::Read rounds: each round examines up to max_events records and stops after
  // the record that crosses max_bytes; rounds go on while no event matched (Pump's loop).
  while (i < seg.records.size()) {
    size_t scanned = 0;
    size_t bytes = 0;
    for (; i < seg.records.size() && scanned < limits.max_events && bytes < limits.max_bytes; ++i) {
      const Record& r = seg.records[i];
      ++scanned;
      bytes += r.stored_size;
      const std::string& table = seg.tables[r.table];
      if (!enc.filter->Matches(table, r.op)) continue;
      std::string_view event(seg.bytes->data() + r.begin, r.size);
      size_t size = event.size();
      if (const Projection* p = enc.projector->Match(table)) {
        auto projected = ColumnProjector::Apply(*p, event);
        if (!projected.ok()) return projected.status();
        size = projected->size();
        encoder.AddEvent(*projected);
      } else {
        encoder.AddEvent(event);
      }
      batch->delivered.emplace_back(r.offset, size);
      storage::CountTableEvent(table, batch->tables);
    }
    if (encoder.events() > 0) break;
  }
  batch->from = LogOffset(from);
  batch->next = LogOffset(i < seg.records.size() ? seg.records[i].offset : seg.next);
  batch->event_count = encoder.events();
  if (batch->event_count > 0) {
    auto* owned = new std::string(encoder.Release());
    batch->events = grpc::Slice(
        owned->data(), owned->size(), [](void* p) { delete static_cast<std::string*>(p); }, owned);
  }
  return std::shared_ptr<const SharedBatch>(std::move(batch));
}

absl::StatusOr<std::shared_ptr<const SharedBatch>> SharedTail::Get(storage::SourceId source,
                                                                   LogOffset from,
                                                                   const Encoding& encoding) {
  std::lock_guard<std::mutex> lock(mu_);
  Segment* seg = FindLocked(source, from.value());
  if (seg == nullptr) {
    auto read = ReadSegmentLocked(source, from.value());
    if (!read.ok()) return read.status();
    seg = *read;
    if (seg == nullptr) return nullptr;
  }
  for (const auto& cached : seg->batches) {
    if (cached.from == from.value() && cached.key == encoding.key) {
      ++counters_.batches_shared;
      return cached.batch;
    }
  }
  auto built = Build(*seg, from.value(), encoding);
  if (!built.ok()) return built.status();
  const bool copied = !(encoding.filter->MatchesAll() && encoding.projector->empty());
  const size_t cost = (copied ? (*built)->events.size() : 0) + encoding.key.size() +
                      (*built)->delivered.size() * sizeof((*built)->delivered[0]);
  seg->batches.push_back({from.value(), std::string(encoding.key), *built, cost});
  seg->cost += cost;
  cached_bytes_ += cost;
  ++counters_.batches_built;
  ++counters_.batches_shared;
  std::shared_ptr<const SharedBatch> result = *std::move(built);
  EvictLocked();
  return result;
}

}  // namespace sluice::service
