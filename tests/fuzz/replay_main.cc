// The replay driver: a main() for builds without libFuzzer (gcc, the default). It runs every
// input of the corpus directories (and files) named on the command line through
// LLVMFuzzerTestOneInput once and prints "replayed N inputs". A crash or a failed
// SLUICE_FUZZ_CHECK aborts; a missing or empty corpus directory is an error too, so a corpus
// that silently disappears fails the test instead of passing it.
//
//   record_fuzz_replay tests/fuzz/corpus/record_fuzz [more dirs or files...]
//   binlog_event_fuzz_replay --shared fixtures/mysql-binlogs
//
// `--shared REL` names a directory of ../shared (from $SLUICE_SHARED_DIR, else
// $SLUICE_SOURCE_DIR/../shared), read at run time and never copied into the repo. When it is
// absent the driver prints why and exits with 77, which ctest reports as skipped.
//
// Files whose names start with '.' are ignored; subdirectories are not entered.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool IsInput(const fs::directory_entry& entry) {
  return entry.is_regular_file() && entry.path().filename().string().rfind('.', 0) != 0;
}

// Runs one file; false if it cannot be read.
bool Replay(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return false;
  }
  // An exact-size heap copy, so that a sanitizer build catches reads past the end.
  auto copy = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), copy.get());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    fs::path arg(argv[i]);
    if (arg == "--shared" && i + 1 < argc) {
      fs::path shared;
      if (const char* dir = std::getenv("SLUICE_SHARED_DIR")) {
        shared = dir;
      } else if (const char* src = std::getenv("SLUICE_SOURCE_DIR")) {
        shared = fs::path(src) / ".." / "shared";
      }
      arg = shared / argv[++i];
      std::error_code ec;
      if (shared.empty() || !fs::is_directory(arg, ec)) {
        std::printf("skipped: %s is absent (set SLUICE_SHARED_DIR)\n",
                    shared.empty() ? argv[i] : arg.c_str());
        return 77;
      }
    }
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (const fs::directory_entry& entry : fs::directory_iterator(arg, ec)) {
        if (IsInput(entry)) files.push_back(entry.path());
      }
      if (ec) {
        std::fprintf(stderr, "replay: cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
        return 1;
      }
      if (files.empty()) {
        std::fprintf(stderr, "replay: corpus directory %s holds no inputs\n", arg.c_str());
        return 1;
      }
      std::sort(files.begin(), files.end());
      for (const fs::path& file : files) {
        if (!Replay(file)) return 1;
        ++replayed;
      }
    } else if (fs::is_regular_file(arg, ec)) {
      if (!Replay(arg)) return 1;
      ++replayed;
    } else {
      std::fprintf(stderr, "replay: %s is neither a corpus directory nor a file\n", arg.c_str());
      return 1;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  return 0;
}
