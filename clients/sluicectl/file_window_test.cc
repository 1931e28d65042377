// FileWindow on temporary files: every read returns the file's bytes whether it is in the buffer,
// spans a refill or is larger than the window; reads are clipped at the end of the file; a file
// cut short after it was opened is a DataLoss naming the path and offset.
#include "clients/sluicectl/file_window.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

class FileWindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("sluicectl-file-window-test-", ::getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  static std::string Text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  fs::path dir_;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST_F(FileWindowTest, ReadsAreTheFilesBytesAcrossRefills) {
  const std::string bytes = RandomBytes(100'000, 1);
  auto file = InputFile::Open(Write("a", bytes));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->size(), bytes.size());
  for (const size_t window : {size_t{1}, size_t{19}, size_t{64}, size_t{4096}, size_t{3} << 20}) {
    FileWindow w(**file, window);
    std::mt19937 rng(window);
    // Events one after the other: a header, then the whole event (often larger than the window).
    uint64_t pos = 0;
    while (pos < bytes.size()) {
      const size_t header = std::min<size_t>(19, bytes.size() - pos);
      auto h = w.Read(pos, 19);
      ASSERT_TRUE(h.ok()) << h.status();
      ASSERT_EQ(Text(*h), bytes.substr(pos, header)) << window << " at " << pos;
      const size_t n = 1 + rng() % 700;
      auto e = w.Read(pos, n);
      ASSERT_TRUE(e.ok()) << e.status();
      ASSERT_EQ(Text(*e), bytes.substr(pos, n)) << window << " at " << pos << " n " << n;
      EXPECT_TRUE(w.Holds(pos, e->size()));
      pos += n;
    }
    // Random reads anywhere, including past the end (clipped) and at it (empty).
    for (int i = 0; i < 2000; ++i) {
      const uint64_t at = rng() % (bytes.size() + 10);
      const size_t n = rng() % 9000;
      auto r = w.Read(at, n);
      ASSERT_TRUE(r.ok()) << r.status();
      const std::string want = at >= bytes.size() ? std::string() : bytes.substr(at, n);
      ASSERT_EQ(Text(*r), want) << window << " at " << at << " n " << n;
    }
  }
}

TEST_F(FileWindowTest, ReadsInsideTheWindowDoNotReadTheFile) {
  const std::string bytes = RandomBytes(10'000, 2);
  auto file = InputFile::Open(Write("b", bytes));
  ASSERT_TRUE(file.ok());
  FileWindow w(**file, 1000);
  for (uint64_t pos = 0; pos < bytes.size(); pos += 10) ASSERT_TRUE(w.Read(pos, 10).ok());
  EXPECT_EQ(w.refills(), 10u);  // one pread per 1,000 bytes read in order
  // An event larger than the window is read whole (the buffer grows), once.
  auto big = w.Read(500, 5000);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(Text(*big), bytes.substr(500, 5000));
  EXPECT_EQ(w.refills(), 11u);
  ASSERT_TRUE(w.Read(600, 4900).ok());
  EXPECT_EQ(w.refills(), 11u);
}

// The event window takes the look-ahead window's buffer when that one holds what it needs: the
// bytes are the file's, nothing is read again, and each window keeps working afterwards.
TEST_F(FileWindowTest, AWindowTakesTheBufferOfOneThatHoldsTheBytes) {
  const std::string bytes = RandomBytes(10'000, 4);
  auto file = InputFile::Open(Write("d", bytes));
  ASSERT_TRUE(file.ok());
  FileWindow events(**file, 1000);
  FileWindow ahead(**file, 1000);
  ASSERT_TRUE(events.Read(0, 19).ok());
  ASSERT_TRUE(ahead.Read(2500, 19).ok());  // ahead holds [2500, 3500)
  EXPECT_FALSE(events.TakeIfHeldBy(ahead, 100, 50));   // already in events
  EXPECT_FALSE(events.TakeIfHeldBy(ahead, 2000, 50));  // in neither
  EXPECT_FALSE(events.TakeIfHeldBy(ahead, 3400, 200));  // only partly in ahead
  EXPECT_TRUE(events.TakeIfHeldBy(ahead, 2600, 900));
  EXPECT_TRUE(events.Holds(2600, 900));
  EXPECT_TRUE(ahead.Holds(0, 1000));  // the buffers traded places
  auto e = events.Read(2600, 900);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Text(*e), bytes.substr(2600, 900));
  auto a = ahead.Read(10, 990);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Text(*a), bytes.substr(10, 990));
  EXPECT_EQ(events.refills(), 1u);
  EXPECT_EQ(ahead.refills(), 1u);
  // Clipped at the end of the file like Read; nothing past it to take.
  ASSERT_TRUE(ahead.Read(9500, 19).ok());
  EXPECT_TRUE(events.TakeIfHeldBy(ahead, 9900, 500));
  auto tail = events.Read(9900, 500);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(Text(*tail), bytes.substr(9900));
  EXPECT_FALSE(events.TakeIfHeldBy(ahead, 10'000, 5));
  // Both keep reading the file correctly after trading (a larger event grows either buffer).
  auto big = ahead.Read(3000, 4000);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(Text(*big), bytes.substr(3000, 4000));
  EXPECT_TRUE(events.TakeIfHeldBy(ahead, 3000, 4000));
  auto moved = events.Read(3500, 3500);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(Text(*moved), bytes.substr(3500, 3500));
  auto back = ahead.Read(9000, 1000);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Text(*back), bytes.substr(9000, 1000));
}

// How sluicectl reads a binlog, over a file of `sizes` events: the event window reads a
// transaction's first event, the look-ahead walks every header of the transaction through
// `ahead` (and reads an event that spans the end of a window whole from its start), then the
// event window reads each event, taking what the look-ahead kept. Every read must return the
// file's bytes. Returns the event window's refills after its first read of each transaction.
struct Walk {
  uint64_t event_refills = 0;  // by the event window after each transaction's first event
  size_t most_kept = 0;
  uint64_t ahead_refills = 0;
};

Walk WalkTransactions(const InputFile& file, const std::string& bytes,
                      const std::vector<std::vector<size_t>>& txns, size_t window,
                      size_t bound) {
  FileWindow events(file, window);
  ReadAhead ahead(file, window, bound);
  Walk walk;
  auto text = [](std::span<const std::byte> b) {
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  };
  auto read_event = [&](uint64_t pos, size_t size) {
    ahead.Give(events, pos, 19);
    auto h = events.Read(pos, 19);
    EXPECT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(text(*h), bytes.substr(pos, 19)) << pos;
    ahead.Give(events, pos, size);
    auto e = events.Read(pos, size);
    EXPECT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(text(*e), bytes.substr(pos, size)) << pos;
  };
  uint64_t pos = 0;
  for (const std::vector<size_t>& txn : txns) {
    read_event(pos, txn[0]);
    const uint64_t before = events.refills();
    // The look-ahead, from the first event (which the event window holds).
    uint64_t at = pos;
    for (const size_t size : txn) {
      if (!events.Holds(at, 19)) {
        auto h = ahead.Read(at, 19);
        EXPECT_TRUE(h.ok()) << h.status();
        EXPECT_EQ(text(*h), bytes.substr(at, 19)) << at;
      }
      if (size <= window && !events.Holds(at, size) && !ahead.Holds(at, size)) {
        auto e = ahead.Read(at, size);
        EXPECT_TRUE(e.ok()) << e.status();
        EXPECT_EQ(text(*e), bytes.substr(at, size)) << at;
      }
      at += size;
    }
    pos += txn[0];
    for (size_t i = 1; i < txn.size(); ++i) {
      read_event(pos, txn[i]);
      pos += txn[i];
    }
    walk.event_refills += events.refills() - before;
  }
  EXPECT_EQ(pos, bytes.size());
  walk.most_kept = ahead.most_kept();
  walk.ahead_refills = ahead.refills();
  return walk;
}

// Transactions of events from 19 to `max_event` bytes, `events_per_txn` each, filling `bytes`.
std::vector<std::vector<size_t>> Transactions(size_t total, size_t max_event,
                                              size_t events_per_txn, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<size_t>> txns;
  size_t left = total;
  while (left > 0) {
    std::vector<size_t> txn;
    for (size_t i = 0; i < events_per_txn && left > 0; ++i) {
      size_t size = 19 + rng() % (max_event - 18);
      if (left - size < 19 || size > left) size = left;
      txn.push_back(size);
      left -= size;
    }
    txns.push_back(txn);
  }
  return txns;
}

// A transaction that fits in the look-ahead's bound is read from the file once: the event window
// takes every buffer the look-ahead read, in order, and reads nothing itself.
TEST_F(FileWindowTest, ATransactionWithinTheBoundIsReadOnce) {
  const std::string bytes = RandomBytes(200'000, 5);
  auto file = InputFile::Open(Write("e", bytes));
  ASSERT_TRUE(file.ok());
  for (const size_t window : {size_t{64}, size_t{500}, size_t{4096}}) {
    // Events up to a window (none is larger), about 20 windows per transaction.
    const auto txns = Transactions(bytes.size(), window, 20 * window / (window / 2 + 19), window);
    const Walk walk = WalkTransactions(**file, bytes, txns, window, 1'000'000);
    EXPECT_EQ(walk.event_refills, 0u) << window;
    EXPECT_GT(walk.most_kept, 10u) << window;
    // Each look-ahead window starts where the previous one's last whole event ends: the file is
    // read about once (at most one event per window twice).
    EXPECT_LE(walk.ahead_refills, 2 * bytes.size() / window + txns.size()) << window;
  }
}

// One larger than the bound: the look-ahead keeps `bound` bytes of windows and reads the rest
// through one scratch window; the event window takes the kept ones and reads the rest again.
// What is kept never exceeds the bound, whatever the transaction's size.
TEST_F(FileWindowTest, ATransactionBeyondTheBoundKeepsOnlyTheBound) {
  const std::string bytes = RandomBytes(200'000, 6);
  auto file = InputFile::Open(Write("f", bytes));
  ASSERT_TRUE(file.ok());
  const size_t window = 1000;
  const auto txns = Transactions(bytes.size(), 700, 400, 6);  // ~74 KB each
  for (const size_t bound : {size_t{0}, size_t{1000}, size_t{3999}, size_t{20'000}}) {
    const Walk walk = WalkTransactions(**file, bytes, txns, window, bound);
    const size_t max_kept = std::max<size_t>(bound / window, 1);
    EXPECT_EQ(walk.most_kept, max_kept) << bound;
    // The event window reads what was not kept: about (transaction - bound) per transaction.
    EXPECT_GT(walk.event_refills, txns.size() * (60'000 - bound) / window) << bound;
  }
  // With room for all, nothing is read twice.
  EXPECT_EQ(WalkTransactions(**file, bytes, txns, window, 200'000).event_refills, 0u);
}

// Events larger than the window (the event window grows its buffer for them; the look-ahead reads
// only their headers) among small ones, and events spanning the end of every window: the bytes
// are the file's at every window size and bound.
TEST_F(FileWindowTest, EventsSpanningAndLargerThanTheWindows) {
  const std::string bytes = RandomBytes(150'000, 7);
  auto file = InputFile::Open(Write("g", bytes));
  ASSERT_TRUE(file.ok());
  for (const size_t window : {size_t{1}, size_t{19}, size_t{20}, size_t{97}, size_t{1000}}) {
    for (const size_t bound : {size_t{0}, size_t{100}, size_t{5000}, size_t{1} << 20}) {
      const auto txns = Transactions(bytes.size(), 3000, 30, static_cast<uint32_t>(window));
      WalkTransactions(**file, bytes, txns, window, bound);
      if (HasFailure()) FAIL() << "window " << window << " bound " << bound;
    }
  }
}

// A file cut short after it was opened: the look-ahead's read past the end is DataLoss naming the
// path and offset, and what it kept before stays correct for the event window.
TEST_F(FileWindowTest, ReadAheadOfAFileCutShortIsDataLoss) {
  const std::string bytes = RandomBytes(50'000, 8);
  const std::string path = Write("h", bytes);
  auto file = InputFile::Open(path);
  ASSERT_TRUE(file.ok());
  FileWindow events(**file, 1000);
  ReadAhead ahead(**file, 1000, 10'000);
  ASSERT_TRUE(events.Read(0, 19).ok());
  ASSERT_TRUE(ahead.Read(1000, 19).ok());
  ASSERT_TRUE(ahead.Read(2000, 19).ok());
  EXPECT_EQ(ahead.kept(), 2u);
  fs::resize_file(path, 10'000);
  auto r = ahead.Read(30'000, 19);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(absl::StrCat("cannot read ", path, " at offset 30000")),
            std::string::npos)
      << r.status();
  EXPECT_EQ(ahead.kept(), 2u);  // the failed window is not kept
  EXPECT_TRUE(ahead.Give(events, 1500, 400));
  auto e = events.Read(1500, 400);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Text(*e), bytes.substr(1500, 400));
  EXPECT_TRUE(ahead.Give(events, 2000, 1000));
  EXPECT_EQ(ahead.kept(), 0u);
  EXPECT_EQ(events.refills(), 1u);
  // The event window's own read past the new end fails the same way.
  EXPECT_FALSE(ahead.Give(events, 40'000, 19));
  EXPECT_EQ(events.Read(40'000, 19).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(FileWindowTest, AFileCutShortAfterOpeningIsDataLoss) {
  const std::string bytes = RandomBytes(50'000, 3);
  const std::string path = Write("c", bytes);
  auto file = InputFile::Open(path);
  ASSERT_TRUE(file.ok());
  FileWindow w(**file, 4096);
  ASSERT_TRUE(w.Read(0, 19).ok());
  fs::resize_file(path, 10'000);
  auto r = w.Read(20'000, 19);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(absl::StrCat("cannot read ", path, " at offset 20000")),
            std::string::npos)
      << r.status();
  // A later read of what is still there works.
  auto again = w.Read(100, 50);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Text(*again), bytes.substr(100, 50));
}

TEST_F(FileWindowTest, OpenErrorsNameThePath) {
  auto missing = InputFile::Open((dir_ / "missing").string());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
  auto dir = InputFile::Open(dir_.string());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition);
  auto empty = InputFile::Open(Write("empty", ""));
  ASSERT_TRUE(empty.ok());
  FileWindow w(**empty, 64);
  auto r = w.Read(0, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace sluice::cli
