#include "clients/sluicectl/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sluice::cli {

ProgressLine::ProgressLine(std::string what, Total total)
    : what_(std::move(what)), total_kind_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

namespace {

std::string RateAndEta(uint64_t done, uint64_t total, double per_second, bool eta) {
  if (per_second <= 0) return "";
  std::string out = "  " + std::to_string(static_cast<uint64_t>(per_second)) + "/s";
  if (eta) {
    const uint64_t left = total > done ? total - done : 0;
    out += "  ETA " +
           std::to_string(static_cast<uint64_t>(static_cast<double>(left) / per_second)) + "s";
  }
  return out;
}

}  // namespace

std::string ProgressLine::Format(const std::string& what, uint64_t done, uint64_t total,
                                 double per_second) {
  return "caught up " + std::to_string(done) + " of " + std::to_string(total) + " " + what +
         RateAndEta(done, total, per_second, true);
}

std::string ProgressLine::FormatEstimate(const std::string& what, uint64_t done, uint64_t estimate,
                                         double per_second) {
  if (estimate == 0 || done >= estimate) {
    return "read " + std::to_string(done) + " " + what + RateAndEta(done, 0, per_second, false);
  }
  return "read " + std::to_string(done) + " of ~" + std::to_string(estimate) + " " + what +
         RateAndEta(done, estimate, per_second, true);
}

void ProgressLine::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!started_) {
    started_ = true;
    start_ = now;
    first_done_ = done;
  }
  if (total_kind_ == Total::kExact && done >= total) {
    Clear();
    return;
  }
  if (shown_ && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0.2 ? static_cast<double>(done - first_done_) / seconds : 0;
  const std::string line = total_kind_ == Total::kExact ? Format(what_, done, total, rate)
                                                        : FormatEstimate(what_, done, total, rate);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace sluice::cli
