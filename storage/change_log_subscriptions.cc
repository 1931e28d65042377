// ChangeLog: the records of durable subscriptions, in the meta column family under "sub/<name>".
#include "storage/change_log_impl.h"

namespace sluice::storage::internal {

absl::Status ChangeLogImpl::PutSubscriptionRecord(std::string_view name, std::string_view value) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(
      db_->Put(wo, meta_, SubscriptionKey(name), rocksdb::Slice(value.data(), value.size())),
      absl::StrCat("storing subscription '", std::string(name), "'"));
}

absl::Status ChangeLogImpl::DeleteSubscriptionRecord(std::string_view name) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->Delete(wo, meta_, SubscriptionKey(name)),
                   absl::StrCat("deleting subscription '", std::string(name), "'"));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ChangeLogImpl::SubscriptionRecords() const {
  std::vector<std::pair<std::string, std::string>> out;
  const rocksdb::Slice prefix(kSubscriptionKeyPrefix.data(), kSubscriptionKeyPrefix.size());
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.emplace_back(it->key().ToString().substr(prefix.size()), it->value().ToString());
  }
  SLUICE_RETURN_IF_ERROR(FromRocks(it->status(), "listing subscriptions"));
  return out;
}

}  // namespace sluice::storage::internal
