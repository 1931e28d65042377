// Replays the seed corpus captured from PostgreSQL 15 (corpus/pgoutput/, written by
// pg_codec_golden_test): every file must decode, and every proper prefix must fail cleanly.
// Files named stream_* other than the stream control messages were captured inside a stream.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "protocol/postgres/pgoutput.h"

namespace sluice::postgres {
namespace {

std::filesystem::path CorpusDir() {
  const char* src = std::getenv("SLUICE_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / "protocol/postgres/corpus/pgoutput";
}

bool CapturedInStream(const std::string& name) {
  return name.rfind("stream_", 0) == 0 && name != "stream_start.bin" && name != "stream_stop.bin" &&
         name != "stream_commit.bin" && name != "stream_abort.bin";
}

TEST(CorpusReplayTest, EverySeedDecodesAndEveryPrefixFailsCleanly) {
  const std::filesystem::path dir = CorpusDir();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no corpus at " << dir;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".bin") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string bytes = buf.str();
    const std::string name = entry.path().filename().string();
    const bool in_stream = CapturedInStream(name);
    auto m = DecodePgoutput(bytes, in_stream);
    EXPECT_TRUE(m.ok()) << name << ": " << m.status();
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto p = DecodePgoutput(std::string_view(bytes).substr(0, n), in_stream);
      EXPECT_FALSE(p.ok()) << name << " prefix " << n;
    }
    ++files;
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace sluice::postgres
