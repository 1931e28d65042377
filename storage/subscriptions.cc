#include "storage/subscriptions.h"

#include <algorithm>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/status_macros.h"

namespace sluice::storage {
namespace {

constexpr size_t kMaxNameLength = 128;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::Status NoSuchSubscription(std::string_view name) {
  return absl::NotFoundError(absl::StrCat("no subscription named '", std::string(name),
                                          "'; `sluicectl subscriptions list` shows them"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SubscriptionStore>> SubscriptionStore::Open(ChangeLog& log) {
  std::unique_ptr<SubscriptionStore> store(new SubscriptionStore(log));
  SLUICE_ASSIGN_OR_RETURN(auto records, log.SubscriptionRecords());
  for (auto& [name, value] : records) {
    auto entry = std::make_shared<Entry>();
    if (!entry->record.ParseFromString(value) || entry->record.name() != name) {
      return absl::DataLossError(absl::StrCat("subscription record at meta key '",
                                              SubscriptionKey(name),
                                              "' is not parseable; delete the subscription "
                                              "with `sluicectl subscriptions delete ",
                                              name, "` and create it again"));
    }
    entry->generation = store->next_generation_++;
    store->entries_.emplace(name, std::move(entry));
  }
  return store;
}

absl::Status SubscriptionStore::ValidateName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subscription name must have 1 to ", kMaxNameLength, " characters, got ", name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("subscription name '", std::string(name),
                       "' may use only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<SubscriptionStore::Entry> SubscriptionStore::Find(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

absl::Status SubscriptionStore::CheckStart(std::string_view source, LogOffset start) const {
  SLUICE_ASSIGN_OR_RETURN(SourceId id, log_.FindSource(source));
  SLUICE_ASSIGN_OR_RETURN(LogBounds bounds, log_.Bounds(id));
  if (start < bounds.first || start > bounds.last.next()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offset ", start.value(), " is outside the stored log of source '", std::string(source),
        "' (", bounds.first.value(), " to ", bounds.last.value() + 1,
        ", where the last is the next event to arrive); pick an offset in that range, earliest "
        "or latest"));
  }
  return absl::OkStatus();
}

absl::Status SubscriptionStore::Write(const storagepb::SubscriptionRecord& record) {
  return log_.PutSubscriptionRecord(record.name(), record.SerializeAsString());
}

absl::StatusOr<storagepb::SubscriptionRecord> SubscriptionStore::Create(
    storagepb::SubscriptionRecord record, LogOffset start) {
  SLUICE_RETURN_IF_ERROR(ValidateName(record.name()));
  if (record.source().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("subscription '", record.name(), "' needs a source to read"));
  }
  std::lock_guard<std::mutex> position_lock(position_mu_);
  SLUICE_RETURN_IF_ERROR(CheckStart(record.source(), start));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.contains(record.name())) {
    return absl::AlreadyExistsError(
        absl::StrCat("subscription '", record.name(),
                     "' already exists; use another name, or reset or delete it"));
  }
  record.set_committed_offset(start.value() - 1);
  record.set_created_ts_micros(NowMicros());
  record.set_acked_ts_micros(0);
  SLUICE_RETURN_IF_ERROR(Write(record));
  auto entry = std::make_shared<Entry>();
  entry->record = record;
  entry->generation = next_generation_++;
  entries_.emplace(record.name(), std::move(entry));
  return record;
}

absl::StatusOr<storagepb::SubscriptionRecord> SubscriptionStore::Get(std::string_view name,
                                                                     uint64_t* generation) const {
  auto entry = Find(name);
  if (entry == nullptr) return NoSuchSubscription(name);
  std::lock_guard<std::mutex> lock(entry->mu);
  if (entry->deleted) return NoSuchSubscription(name);
  if (generation != nullptr) *generation = entry->generation;
  return entry->record;
}

std::vector<storagepb::SubscriptionRecord> SubscriptionStore::List(std::string_view source) const {
  std::vector<std::shared_ptr<Entry>> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, entry] : entries_) entries.push_back(entry);
  }
  std::vector<storagepb::SubscriptionRecord> out;
  for (const auto& entry : entries) {
    std::lock_guard<std::mutex> lock(entry->mu);
    if (entry->deleted || (!source.empty() && entry->record.source() != source)) continue;
    out.push_back(entry->record);
  }
  return out;
}

absl::Status SubscriptionStore::Delete(std::string_view name) {
  auto entry = Find(name);
  if (entry == nullptr) return NoSuchSubscription(name);
  {
    std::lock_guard<std::mutex> lock(entry->mu);
    if (entry->deleted) return NoSuchSubscription(name);
    SLUICE_RETURN_IF_ERROR(log_.DeleteSubscriptionRecord(name));
    entry->deleted = true;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(name); it != entries_.end() && it->second == entry) {
    entries_.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<storagepb::SubscriptionRecord> SubscriptionStore::Reset(std::string_view name,
                                                                       LogOffset start) {
  std::lock_guard<std::mutex> position_lock(position_mu_);
  auto entry = Find(name);
  if (entry == nullptr) return NoSuchSubscription(name);
  std::lock_guard<std::mutex> lock(entry->mu);
  if (entry->deleted) return NoSuchSubscription(name);
  SLUICE_RETURN_IF_ERROR(CheckStart(entry->record.source(), start));
  storagepb::SubscriptionRecord next = entry->record;
  next.set_committed_offset(start.value() - 1);
  next.set_acked_ts_micros(NowMicros());
  SLUICE_RETURN_IF_ERROR(Write(next));
  entry->record = std::move(next);
  entry->generation = next_generation_++;
  return entry->record;
}

absl::StatusOr<LogOffset> SubscriptionStore::Ack(std::string_view name, LogOffset offset,
                                                 LogOffset limit,
                                                 std::optional<uint64_t> generation) {
  auto entry = Find(name);
  if (entry == nullptr) return NoSuchSubscription(name);
  std::lock_guard<std::mutex> lock(entry->mu);
  if (entry->deleted) return NoSuchSubscription(name);
  if (generation && *generation != entry->generation) {
    return absl::AbortedError(
        absl::StrCat("subscription '", std::string(name),
                     "' was reset or recreated after this consumer opened it; its ack of offset ",
                     offset.value(), " was not applied: reconnect to continue from its position"));
  }
  const LogOffset committed(entry->record.committed_offset());
  if (offset <= committed) return committed;
  if (offset > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("ack of offset ", offset.value(), " for subscription '", std::string(name),
                     "' is beyond the last event delivered (", limit.value(),
                     "); ack only offsets you received (or a message's next_offset - 1)"));
  }
  storagepb::SubscriptionRecord next = entry->record;
  next.set_committed_offset(offset.value());
  next.set_acked_ts_micros(NowMicros());
  SLUICE_RETURN_IF_ERROR(Write(next));
  entry->record = std::move(next);
  return offset;
}

absl::StatusOr<TrimResult> SubscriptionStore::ApplyRetention(SourceId source,
                                                             RetentionPolicy policy, bool force) {
  std::lock_guard<std::mutex> position_lock(position_mu_);
  std::string source_name;
  for (const auto& s : log_.Sources()) {
    if (s.id == source) source_name = s.name;
  }
  SLUICE_ASSIGN_OR_RETURN(LogBounds bounds, log_.Bounds(source));
  std::optional<RetentionHold> slowest;
  if (!force) {
    for (const auto& record : List(source_name)) {
      const LogOffset next(record.committed_offset() + 1);
      if (next < bounds.first) continue;  // already trimmed past it (forced): it cannot resume
      if (!slowest || LogOffset(record.committed_offset()) < slowest->committed) {
        slowest = RetentionHold{record.name(), LogOffset(record.committed_offset()), 0};
      }
    }
  }
  if (slowest) {
    const uint64_t keep = slowest->committed.value() + 1;
    policy.keep_from = policy.keep_from == 0 ? keep : std::min(policy.keep_from, keep);
  }
  SLUICE_ASSIGN_OR_RETURN(TrimResult result, log_.ApplyRetention(source, policy));
  std::lock_guard<std::mutex> lock(mu_);
  if (slowest && result.events_held > 0) {
    slowest->events_held = result.events_held;
    holds_[source_name] = *slowest;
  } else {
    holds_.erase(source_name);
  }
  return result;
}

std::optional<RetentionHold> SubscriptionStore::RetentionHoldOf(std::string_view source) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = holds_.find(source);
  if (it == holds_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sluice::storage
