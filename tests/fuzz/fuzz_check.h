#pragma once
// SLUICE_FUZZ_CHECK: the assertion of the fuzz targets. A failed check prints what was expected
// and aborts, which libFuzzer reports as a crash (and the replay driver as a failed test).
// Unlike assert() it is never compiled out.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace sluice::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* condition,
                                     std::string_view detail) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, condition);
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace sluice::fuzz

// SLUICE_FUZZ_CHECK(condition[, detail]): `detail` is anything a std::string can be made from,
// evaluated only when the check fails.
#define SLUICE_FUZZ_CHECK(condition, ...)                                      \
  do {                                                                         \
    if (!(condition)) {                                                        \
      ::sluice::fuzz::CheckFailed(__FILE__, __LINE__, #condition,              \
                                  std::string_view(std::string(__VA_ARGS__))); \
    }                                                                          \
  } while (false)
