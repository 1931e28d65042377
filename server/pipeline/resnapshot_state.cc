#include "server/pipeline/resnapshot_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sluice::pipeline {

absl::StatusOr<std::optional<storagepb::ResnapshotState>> ResnapshotCheckpoint::Stored(
    const v1::SourceCheckpoint& checkpoint) {
  storagepb::ConnectorState cs;
  if (!checkpoint.connector_state().empty() && !cs.ParseFromString(checkpoint.connector_state())) {
    return absl::DataLossError(absl::StrCat("the stored connector state at ",
                                            checkpoint.position_text(),
                                            " does not parse; the data dir is damaged"));
  }
  if (!cs.has_resnapshot()) return std::nullopt;
  storagepb::ResnapshotState state = std::move(*cs.mutable_resnapshot());
  state.set_resumes(state.resumes() + 1);
  return state;
}

void ResnapshotCheckpoint::Begin(storagepb::ResnapshotState state) {
  state_ = std::move(state);
  storagepb::ConnectorState cs;
  *cs.mutable_resnapshot() = *state_;
  encoded_ = cs.SerializeAsString();
}

void ResnapshotCheckpoint::Advance(const storagepb::SnapshotTable& table) {
  if (!state_) return;
  for (storagepb::SnapshotTable& t : *state_->mutable_tables()) {
    if (t.database() == table.database() && t.table() == table.table()) t = table;
  }
  const bool all_done =
      std::all_of(state_->tables().begin(), state_->tables().end(),
                  [](const storagepb::SnapshotTable& t) { return t.done(); });
  if (all_done) {
    End();
    return;
  }
  Begin(*std::move(state_));
}

void ResnapshotCheckpoint::End() {
  state_.reset();
  encoded_.clear();
}

v1::SourceCheckpoint ResnapshotCheckpoint::Stamp(v1::SourceCheckpoint checkpoint, bool remember) {
  checkpoint.clear_connector_state();
  if (remember) last_ = checkpoint;
  if (state_) checkpoint.set_connector_state(encoded_);
  return checkpoint;
}

void ResnapshotCheckpoint::SetLast(v1::SourceCheckpoint checkpoint) {
  checkpoint.clear_connector_state();
  last_ = std::move(checkpoint);
}

std::string ResnapshotTableName(const storagepb::ResnapshotState& state) {
  if (state.tables().empty()) return "";
  return absl::StrCat(state.tables(0).database(), ".", state.tables(0).table());
}

}  // namespace sluice::pipeline
