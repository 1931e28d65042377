#include "clients/sluicectl/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sluice::cli {

ProgressLine::ProgressLine(std::string what)
    : what_(std::move(what)), enabled_(isatty(STDERR_FILENO) == 1) {}

std::string ProgressLine::Format(const std::string& what, uint64_t done, uint64_t total,
                                 double per_second) {
  std::string out =
      "caught up " + std::to_string(done) + " of " + std::to_string(total) + " " + what;
  if (per_second > 0) {
    out += "  " + std::to_string(static_cast<uint64_t>(per_second)) + "/s";
    const uint64_t left = total > done ? total - done : 0;
    out += "  ETA " +
           std::to_string(static_cast<uint64_t>(static_cast<double>(left) / per_second)) + "s";
  }
  return out;
}

void ProgressLine::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!started_) {
    started_ = true;
    start_ = now;
    first_done_ = done;
  }
  if (done >= total) {
    Clear();
    return;
  }
  if (shown_ && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0.2 ? static_cast<double>(done - first_done_) / seconds : 0;
  const std::string line = Format(what_, done, total, rate);
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
