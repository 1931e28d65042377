#include "server/service/projection.h"

#include <algorithm>

#include "absl/status/status.h"
#include "proto/base/glob.h"
#include "sluice/v1/event.pb.h"

namespace sluice::service {
namespace {

template <typename Keep>
void FilterRow(v1::Row& row, const Keep& keep) {
  auto* fields = row.mutable_fields();
  fields->erase(std::remove_if(fields->begin(), fields->end(),
                               [&](const v1::Field& f) { return !keep(f.name()); }),
                fields->end());
}

}  // namespace

const Projection* ColumnProjector::Match(std::string_view table) const {
  for (const auto& p : projections_) {
    if (GlobMatch(p.table_glob, table)) return &p;
  }
  return nullptr;
}

void ColumnProjector::AppendKey(std::string& out) const {
  // Length-prefixed, so that no two projector lists give the same text.
  auto add = [&out](const std::string& text) {
    out.append(std::to_string(text.size())).append(":").append(text);
  };
  for (const auto& p : projections_) {
    out.append("[");
    add(p.table_glob);
    for (const auto& c : p.columns) add(c);
    out.append("]");
  }
}

absl::StatusOr<std::string> ColumnProjector::Apply(const Projection& projection,
                                                   std::string_view serialized_event) {
  v1::ChangeEvent event;
  if (!event.ParseFromArray(serialized_event.data(), static_cast<int>(serialized_event.size()))) {
    return absl::DataLossError("a stored event does not parse; the change log is damaged");
  }
  auto keep = [&](const std::string& column) {
    if (projection.columns.contains(column)) return true;
    return std::find(event.key_columns().begin(), event.key_columns().end(), column) !=
           event.key_columns().end();
  };
  if (event.has_before()) FilterRow(*event.mutable_before(), keep);
  if (event.has_after()) FilterRow(*event.mutable_after(), keep);
  auto* unchanged = event.mutable_unchanged();
  unchanged->erase(std::remove_if(unchanged->begin(), unchanged->end(),
                                  [&](const std::string& c) { return !keep(c); }),
                   unchanged->end());
  return event.SerializeAsString();
}

}  // namespace sluice::service
