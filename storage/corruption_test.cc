// Damaged data on disk is an error that names the key, never a crash.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <functional>

#include "storage/change_log.h"
#include "storage/state_reference.h"
#include "storage/table_state.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeCheckpoint;
using testing::MakeEvent;
using testing::TempDir;

// Opens the data dir with plain RocksDB and runs `change` on the column family `cf_name`.
void WithColumnFamily(
    const std::string& dir, const std::string& cf_name,
    const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& change) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &db).ok());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == cf_name) change(*db, handles[i]);
  }
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  delete db;
}

void Overwrite(const std::string& dir, const std::string& cf_name, const std::string& key,
               const std::string& value) {
  WithColumnFamily(dir, cf_name, [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), cf, key, value).ok());
  });
}

TEST(Corruption, DamagedRecordIsDataLossNamingTheKey) {
  TempDir dir;
  SourceId id;
  {
    auto log = *ChangeLog::Open(dir.path());
    id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < 3; ++i) txn.push_back(MakeEvent("t", i));
    ASSERT_TRUE(log->Append(id, std::move(txn), MakeCheckpoint("x")).ok());
  }
  Overwrite(dir.path(), "log", LogKey(id, LogOffset(2)), std::string("\x07garbage", 8));
  auto log = *ChangeLog::Open(dir.path());
  size_t seen = 0;
  auto r = log->Read(id, LogOffset(1), {}, [&](const StoredRecord&) { ++seen; });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_EQ(seen, 1u) << "events before the damage are still delivered";
  EXPECT_NE(std::string(r.status().message()).find("log key 00000001:0000000000000002"),
            std::string::npos)
      << r.status();
  // Reading after the damaged offset still works.
  auto after = log->Read(id, LogOffset(3), {}, [&](const StoredRecord&) { ++seen; });
  EXPECT_TRUE(after.ok()) << after.status();
}

TEST(Corruption, MissingOffsetIsDataLoss) {
  TempDir dir;
  SourceId id;
  {
    auto log = *ChangeLog::Open(dir.path());
    id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < 3; ++i) txn.push_back(MakeEvent("t", i));
    ASSERT_TRUE(log->Append(id, std::move(txn), MakeCheckpoint("x")).ok());
  }
  // Delete offset 2 behind the log's back.
  WithColumnFamily(dir.path(), "log", [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), cf, LogKey(id, LogOffset(2))).ok());
  });
  auto log = *ChangeLog::Open(dir.path());
  auto r = log->Read(id, LogOffset(1), {}, [](const StoredRecord&) {});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("offset 2 is missing"), std::string::npos)
      << r.status();
}

TEST(Corruption, DamagedStateRefusesToOpenWithAClearError) {
  TempDir dir;
  SourceId id;
  {
    auto log = *ChangeLog::Open(dir.path());
    id = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  }
  Overwrite(dir.path(), "default", StateKey(id), "\xff\xff\xff not a LogState");
  auto log = ChangeLog::Open(dir.path());
  ASSERT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
  EXPECT_NE(std::string(log.status().message()).find("log state of source 'shop'"),
            std::string::npos)
      << log.status();
}

// The storage format marker: written on open, a later format refused with the way out (no data
// is touched), an earlier or missing one upgraded, a garbled one DataLoss.
TEST(Corruption, StorageFormatMarker) {
  TempDir dir;
  {
    auto log = *ChangeLog::Open(dir.path());
    ASSERT_TRUE(log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL).ok());
  }
  auto marker = [&] {
    std::string value;
    WithColumnFamily(dir.path(), "default", [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
      rocksdb::Status s = db.Get(rocksdb::ReadOptions(), cf, kStorageFormatKey, &value);
      if (s.IsNotFound()) value = "<none>";
    });
    return value;
  };
  EXPECT_EQ(marker(), absl::StrCat(kStorageFormat));

  Overwrite(dir.path(), "default", std::string(kStorageFormatKey),
            absl::StrCat(kStorageFormat + 1));
  auto newer = ChangeLog::Open(dir.path());
  ASSERT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition) << newer.status();
  EXPECT_NE(newer.status().message().find("written by a newer sluiced"), std::string::npos)
      << newer.status();
  EXPECT_NE(newer.status().message().find("fresh data dir"), std::string::npos) << newer.status();
  EXPECT_EQ(marker(), absl::StrCat(kStorageFormat + 1));  // left as it was

  WithColumnFamily(dir.path(), "default", [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
    ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), cf, kStorageFormatKey).ok());
  });
  {
    auto log = ChangeLog::Open(dir.path());  // a data dir from before the marker
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_TRUE((*log)->Bounds(*(*log)->RegisterSource("shop", v1::SOURCE_KIND_MYSQL)).ok());
  }
  EXPECT_EQ(marker(), absl::StrCat(kStorageFormat));

  Overwrite(dir.path(), "default", std::string(kStorageFormatKey), "two");
  auto garbled = ChangeLog::Open(dir.path());
  ASSERT_EQ(garbled.status().code(), absl::StatusCode::kDataLoss) << garbled.status();
  EXPECT_NE(garbled.status().message().find("storage format marker"), std::string::npos)
      << garbled.status();
}

// A table-state reference (storage/state_reference.h) that is malformed, names an offset above
// the state's, or names a record that is not stored is DataLoss naming the table.
TEST(Corruption, DanglingStateReferenceIsDataLossNamingTheTable) {
  for (const std::string& value :
       {StateReference(LogOffset(99)), StateReference(LogOffset(2)), std::string("\x00\x81", 2)}) {
    TempDir dir;
    SourceId id;
    {
      auto log = *ChangeLog::Open(dir.path());
      id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
      std::vector<v1::ChangeEvent> txn;
      for (int i = 0; i < 3; ++i) txn.push_back(MakeEvent("t", i));
      ASSERT_TRUE(log->Append(id, std::move(txn), MakeCheckpoint("x")).ok());
    }
    const v1::ChangeEvent row = MakeEvent("t", 1);
    Overwrite(dir.path(), "table",
              TableStateKey(id, "db.t", *EncodeRowKey(row.key_columns(), row.after())), value);
    WithColumnFamily(dir.path(), "log", [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf) {
      ASSERT_TRUE(db.Delete(rocksdb::WriteOptions(), cf, LogKey(id, LogOffset(2))).ok());
    });
    auto log = *ChangeLog::Open(dir.path());
    auto view = log->OpenTableState(id);
    ASSERT_TRUE(view.ok()) << view.status();
    size_t seen = 0;
    auto r = (*view)->Read("", "", {}, [&](const TableRow&) { ++seen; });
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_EQ(seen, 1u) << "rows before the damage are still delivered";
    EXPECT_NE(std::string(r.status().message()).find("of table 'db.t'"), std::string::npos)
        << r.status();
  }
}

// A reference that names a stored record of the right offset, but not a snapshot row of the
// state row's own table (an insert; an r event of another table), is DataLoss too, not that
// record's row.
TEST(Corruption, StateReferenceToAnotherTablesOrANonSnapshotRecordIsDataLoss) {
  for (const bool other_table : {false, true}) {
    TempDir dir;
    SourceId id;
    {
      auto log = *ChangeLog::Open(dir.path());
      id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
      std::vector<v1::ChangeEvent> txn;
      for (int i = 0; i < 3; ++i) {
        txn.push_back(MakeEvent("t", i, 0, other_table ? v1::OP_READ : v1::OP_INSERT));
      }
      ASSERT_TRUE(log->Append(id, std::move(txn), MakeCheckpoint("x")).ok());
    }
    const v1::ChangeEvent row = MakeEvent("t", 1);
    Overwrite(dir.path(), "table",
              TableStateKey(id, other_table ? "db.u" : "db.t",
                            *EncodeRowKey(row.key_columns(), row.after())),
              StateReference(LogOffset(2)));  // the record of db.t's row 1
    auto log = *ChangeLog::Open(dir.path());
    auto view = log->OpenTableState(id);
    ASSERT_TRUE(view.ok()) << view.status();
    auto r = (*view)->Read(other_table ? "db.u" : "db.t", "", {}, [](const TableRow&) {});
    ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
    EXPECT_NE(std::string(r.status().message())
                  .find(other_table ? "of another table" : "not a snapshot (r) event"),
              std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace sluice::storage

namespace sluice::storage {
namespace {

// A failed append must not be stepped over: later appends of the source fail too (their
// checkpoints would claim the lost transaction was stored) until the source starts over.
TEST(Corruption, AFailedAppendRefusesLaterAppendsUntilDiscardAllStaged) {
  TempDir dir;
  SourceId id;
  {
    auto log = *ChangeLog::Open(dir.path());
    id = *log->RegisterSource("s", v1::SOURCE_KIND_MYSQL);
    ASSERT_TRUE(log->Append(id, {MakeEvent("t", 0)}, MakeCheckpoint("before")).ok());
    ASSERT_TRUE(log->Stage(id, 7, {MakeEvent("t", 1), MakeEvent("t", 2)}).ok());
  }
  Overwrite(dir.path(), "stage", StageKey(id, 7, 0), std::string("\x07garbage", 8));
  auto log = *ChangeLog::Open(dir.path());
  auto staged = log->AppendStaged(id, 7, {}, v1::SourceInfo(), MakeCheckpoint("t1"));
  ASSERT_FALSE(staged.ok());
  auto next = log->Append(id, {MakeEvent("t", 3)}, MakeCheckpoint("t2"));
  EXPECT_EQ(next.status(), staged.status());
  auto idle = log->Append(id, {}, MakeCheckpoint("idle"));
  EXPECT_EQ(idle.status(), staged.status());
  EXPECT_EQ(log->Checkpoint(id)->position_text(), "before");
  EXPECT_EQ(log->Bounds(id)->last.value(), 1u);
  // A new session discards its stages and starts from the stored checkpoint.
  ASSERT_TRUE(log->DiscardAllStaged(id).ok());
  EXPECT_TRUE(log->Append(id, {MakeEvent("t", 1)}, MakeCheckpoint("t1")).ok());
  EXPECT_EQ(log->Bounds(id)->last.value(), 2u);
}

}  // namespace
}  // namespace sluice::storage
