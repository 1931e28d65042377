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
