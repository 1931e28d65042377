// Kills a process that is appending (SIGKILL at a random instant) and checks, after reopening,
// that every transaction is whole or absent, offsets are contiguous, the checkpoint matches the
// last stored transaction, and every acknowledged transaction survived.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "storage/change_log.h"
#include "storage/test_util.h"

namespace sluice::storage {
namespace {

using testing::MakeEvent;
using testing::TempDir;

// Deterministic size of transaction k: 1..40 events.
int TxnSize(uint64_t k) { return static_cast<int>((k * 2654435761u) % 40) + 1; }

[[noreturn]] void RunAppender(const std::string& dir, int ack_fd) {
  auto log = ChangeLog::Open(dir);
  if (!log.ok()) _exit(3);
  auto id = (*log)->RegisterSource("s", v1::SOURCE_KIND_POSTGRES);
  if (!id.ok()) _exit(4);
  // Continue after whatever transaction the previous run stored last.
  uint64_t k = 0;
  auto cp = (*log)->Checkpoint(*id);
  if (cp.ok() && !cp->position_text().empty()) k = std::stoull(cp->position_text()) + 1;
  for (;; ++k) {
    std::vector<v1::ChangeEvent> txn;
    for (int i = 0; i < TxnSize(k); ++i) {
      auto e = MakeEvent("t", static_cast<int64_t>(k));
      e.mutable_source()->set_txid(std::to_string(k));
      txn.push_back(std::move(e));
    }
    v1::SourceCheckpoint checkpoint;
    checkpoint.set_position_text(std::to_string(k));
    (*log)->AppendAsync(*id, std::move(txn), std::move(checkpoint),
                        [ack_fd, k](absl::StatusOr<LogOffset> r) {
                          if (!r.ok()) _exit(5);
                          ssize_t w = write(ack_fd, &k, sizeof k);
                          (void)w;
                        });
  }
}

TEST(CrashRecovery, KillNineAtRandomInstantsLosesNothingAcknowledged) {
  TempDir dir;
  std::mt19937 rng(12345);
  uint64_t expected_next_offset = 1;
  for (int round = 0; round < 6; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunAppender(dir.path(), fds[1]);
    }
    close(fds[1]);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(rng)));
    kill(pid, SIGKILL);
    int wstatus = 0;
    waitpid(pid, &wstatus, 0);
    ASSERT_TRUE(WIFSIGNALED(wstatus))
        << "appender exited early with status " << WEXITSTATUS(wstatus);
    int64_t last_acked = -1;
    uint64_t k;
    while (read(fds[0], &k, sizeof k) == static_cast<ssize_t>(sizeof k)) {
      last_acked = static_cast<int64_t>(k);
    }
    close(fds[0]);

    auto log = ChangeLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status();
    auto id = (*log)->FindSource("s");
    if (!id.ok()) {
      ASSERT_EQ(last_acked, -1) << "acknowledged data but the source is gone";
      continue;
    }
    auto bounds = *(*log)->Bounds(*id);
    auto checkpoint = *(*log)->Checkpoint(*id);
    ASSERT_GE(bounds.last.value() + 1, expected_next_offset) << "offsets went backwards";
    // Walk the whole log: contiguous offsets, whole transactions, consistent boundaries.
    uint64_t next = 1;
    int64_t current_txn = -1;
    int in_txn = 0;
    int64_t last_txn = -1;
    auto r =
        (*log)->Read(*id, LogOffset(1), ReadLimits{.max_events = SIZE_MAX, .max_bytes = SIZE_MAX},
                     [&](const StoredRecord& rec) {
                       v1::ChangeEvent e;
                       ASSERT_TRUE(e.ParseFromArray(rec.view.event.data(),
                                                    static_cast<int>(rec.view.event.size())));
                       ASSERT_EQ(e.offset(), next++);
                       int64_t txn = std::stoll(e.source().txid());
                       if (e.transaction_index() == 0) {
                         ASSERT_EQ(in_txn, 0) << "previous transaction incomplete";
                         ASSERT_EQ(txn, current_txn + 1) << "transaction skipped";
                         current_txn = txn;
                       }
                       ASSERT_EQ(txn, current_txn);
                       ASSERT_EQ(e.transaction_index(), static_cast<uint32_t>(in_txn));
                       ++in_txn;
                       if (e.last_in_transaction()) {
                         ASSERT_EQ(in_txn, TxnSize(static_cast<uint64_t>(txn)));
                         in_txn = 0;
                         last_txn = txn;
                       }
                     });
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(in_txn, 0) << "the log ends inside a transaction";
    ASSERT_EQ(next, bounds.last.value() + 1);
    ASSERT_EQ(checkpoint.position_text(), last_txn < 0 ? "" : std::to_string(last_txn))
        << "checkpoint does not match the last stored transaction";
    ASSERT_GE(last_txn, last_acked) << "an acknowledged transaction was lost";
    expected_next_offset = bounds.last.value() + 1;
    std::printf("round %d: %llu events stored, last stored txn %lld, last acknowledged txn %lld\n",
                round, static_cast<unsigned long long>(bounds.last.value()),
                static_cast<long long>(last_txn), static_cast<long long>(last_acked));
  }
}

}  // namespace
}  // namespace sluice::storage
