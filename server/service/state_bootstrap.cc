#include "server/service/state_bootstrap.h"

#include "proto/base/varint.h"
#include "storage/table_state.h"

namespace sluice::service {

absl::StatusOr<std::unique_ptr<StateBootstrap>> StateBootstrap::Open(storage::ChangeLog& log,
                                                                     storage::SourceId source) {
  auto view = log.OpenTableState(source);
  if (!view.ok()) return view.status();
  return std::unique_ptr<StateBootstrap>(new StateBootstrap(*std::move(view)));
}

absl::StatusOr<bool> StateBootstrap::NextBatch(const EventFilter& filter,
                                               const ColumnProjector& projector,
                                               const storage::ReadLimits& limits, size_t max_scan,
                                               BatchEncoder& encoder,
                                               SubscriberStats::Stream* stats) {
  encoder.Clear();
  size_t scanned = 0;
  while (encoder.events() == 0 && scanned < max_scan) {
    absl::Status bad;
    auto next = view_->Read({}, cursor_, limits, [&](const storage::TableRow& row) {
      ++scanned;
      if (!bad.ok() || !filter.Matches(row.table, v1::OP_READ)) return;
      auto event = storage::StateRowEvent(row.value, nullptr);
      if (!event.ok()) {
        bad = event.status();
        return;
      }
      std::string bytes = event->SerializeAsString();
      if (const Projection* p = projector.Match(row.table)) {
        auto projected = ColumnProjector::Apply(*p, bytes);
        if (!projected.ok()) {
          bad = projected.status();
          return;
        }
        bytes = *std::move(projected);
      }
      encoder.AddEvent(bytes);
      if (stats != nullptr) SubscriberStats::Count(*stats, row.table);
    });
    if (!next.ok()) return next.status();
    if (!bad.ok()) return bad;
    cursor_ = *std::move(next);
    if (cursor_.empty()) return true;
  }
  return false;
}

void AppendSnapshotFields(LogOffset snapshot_offset, bool done, std::string& message) {
  if (snapshot_offset.value() != 0) {  // proto3 leaves a zero out
    message.push_back(static_cast<char>(0x28));  // 5: snapshot_offset, varint
    AppendVarint(snapshot_offset.value(), message);
  }
  if (done) {
    message.push_back(static_cast<char>(0x30));  // 6: snapshot_done, varint
    message.push_back(1);
  }
}

}  // namespace sluice::service
