#pragma once
// SubscriptionStore: durable named subscriptions over the change log. Each has a name, a source,
// a committed (acked) offset, its filters and its creation time, stored in the log's RocksDB
// under meta key "sub/<name>" (docs/storage-format.md) and mirrored in memory for reads.
//
// The committed offset C means the consumer has processed every event at or below C; it resumes
// at C + 1. Acks are cumulative and only move C forward; Reset moves it anywhere in the stored
// range. Every change is durable (synced) before the call returns.
//
// Retention: ApplyRetention never removes an event that a subscription has not acked, unless
// forced, and remembers which subscription held retention back (RetentionHoldOf).
//
// Errors: InvalidArgument for a bad name or offset (the message says what is allowed), NotFound
// for an unknown subscription or source, AlreadyExists for a name in use, DataLoss for a stored
// record that does not parse (naming its key), and the log's own errors.
//
// Thread-safety: every method may be called from any thread. The ChangeLog must outlive the
// store.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/base/positions.h"
#include "sluice/v1/storage.pb.h"
#include "storage/change_log.h"

namespace sluice::storage {

// The slowest subscription that kept events retention wanted to remove.
struct RetentionHold {
  std::string subscription;
  LogOffset committed;
  uint64_t events_held = 0;
};

class SubscriptionStore {
 public:
  // Loads every stored subscription. DataLoss naming the key of a record that does not parse.
  static absl::StatusOr<std::unique_ptr<SubscriptionStore>> Open(ChangeLog& log);

  // A name is 1 to 128 characters of A-Z a-z 0-9 . _ -
  static absl::Status ValidateName(std::string_view name);

  // Creates `record` (name, source, filters; the other fields are set here) delivering from
  // `start`, which must be in [first, last + 1] of the source's log.
  absl::StatusOr<storagepb::SubscriptionRecord> Create(storagepb::SubscriptionRecord record,
                                                       LogOffset start);
  // `generation`, when not null, receives the subscription's generation: a number that changes
  // whenever its position is set from outside (Create, Reset), never by Ack. A consumer passes it
  // to Ack so that its acks cannot undo a reset, or reach a new subscription of the same name.
  absl::StatusOr<storagepb::SubscriptionRecord> Get(std::string_view name,
                                                    uint64_t* generation = nullptr) const;
  // Every subscription, or those of `source` when it is not empty, in name order.
  std::vector<storagepb::SubscriptionRecord> List(std::string_view source = {}) const;
  absl::Status Delete(std::string_view name);
  // Delivery resumes at `start`, in [first, last + 1] of the log (backwards or forwards).
  absl::StatusOr<storagepb::SubscriptionRecord> Reset(std::string_view name, LogOffset start);

  // Cumulative ack of every event at or below `offset`. An offset at or below the committed one
  // is ignored (acks may repeat after a redelivery); one above `limit` (the last offset the
  // consumer was sent, or the log's last offset) is InvalidArgument. With `generation`, Aborted
  // when the subscription was reset or recreated since that generation. Returns the committed
  // offset.
  absl::StatusOr<LogOffset> Ack(std::string_view name, LogOffset offset, LogOffset limit,
                                std::optional<uint64_t> generation = std::nullopt);

  // ChangeLog::ApplyRetention for `source`, keeping every event some subscription of it has not
  // acked unless `force`. Subscriptions whose next event was already removed (a forced trim) do
  // not hold retention. Creates and resets wait while it runs; acks do not.
  absl::StatusOr<TrimResult> ApplyRetention(SourceId source, RetentionPolicy policy, bool force);
  // What held the last ApplyRetention of `source` back, if anything did.
  std::optional<RetentionHold> RetentionHoldOf(std::string_view source) const;

 private:
  struct Entry {
    std::mutex mu;                         // serializes the writes of this subscription
    storagepb::SubscriptionRecord record;  // guarded by mu
    bool deleted = false;                  // guarded by mu
    uint64_t generation = 0;               // guarded by mu; see Get
  };

  explicit SubscriptionStore(ChangeLog& log) : log_(log) {}
  std::shared_ptr<Entry> Find(std::string_view name) const;
  absl::Status CheckStart(std::string_view source, LogOffset start) const;
  absl::Status Write(const storagepb::SubscriptionRecord& record);

  ChangeLog& log_;
  // Taken by Create, Reset and ApplyRetention (before mu_ or an entry's mu): a subscription
  // cannot move behind a cut that retention is making.
  std::mutex position_mu_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries_;  // guarded by mu_
  std::map<std::string, RetentionHold, std::less<>> holds_;             // guarded by mu_
  std::atomic<uint64_t> next_generation_{1};
};

}  // namespace sluice::storage
