#pragma once
// ProgressLine: one self-overwriting status line on stderr for long operations (tail catching
// up, a re-snapshot), with the rate and the time left. It prints only when stderr is a terminal,
// so piped or redirected output never gets anything extra. Not thread-safe: use from one thread.

#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::cli {

class ProgressLine {
 public:
  enum class Total {
    kExact,     // tail: the total is known; the line goes away once done reaches it
    kEstimate,  // snapshot: the total is the server's row estimate (maybe 0 or too low); the
                // line stays until Clear(), and beyond the estimate shows the count and rate
  };
  // `what` names the unit ("events").
  explicit ProgressLine(std::string what, Total total = Total::kExact);
  ~ProgressLine() { Clear(); }

  // `done` of `total` so far; redraws at most every 250 ms. With Total::kExact, clears the line
  // once done reaches total.
  void Update(uint64_t done, uint64_t total);
  // Removes the line (before printing an error, and at the end).
  void Clear();
  bool enabled() const { return enabled_; }

  // The line's text, e.g. "caught up 1200 of 5000 events  800/s  ETA 5s" (for tests).
  static std::string Format(const std::string& what, uint64_t done, uint64_t total,
                            double per_second);
  // The Total::kEstimate text: "read 1200 of ~5000 rows of t  800/s  ETA 5s", or, once done is
  // past the estimate (or there is none), "read 6200 rows of t  800/s".
  static std::string FormatEstimate(const std::string& what, uint64_t done, uint64_t estimate,
                                    double per_second);

 private:
  std::string what_;
  Total total_kind_;
  bool enabled_ = false;
  bool shown_ = false;
  uint64_t first_done_ = 0;
  bool started_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace sluice::cli
