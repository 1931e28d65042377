#include "server/daemon/health.h"

#include "absl/strings/str_cat.h"

namespace sluice::daemon {

metrics::HttpResponse Readiness(const std::vector<pipeline::SourceRuntime>& sources) {
  std::string ready_lines;
  std::string not_ready_lines;
  for (const auto& s : sources) {
    const bool ready =
        s.state == v1::SOURCE_STATE_STREAMING || s.state == v1::SOURCE_STATE_SNAPSHOTTING;
    std::string line = absl::StrCat(s.name, ": ", pipeline::StateName(s.state));
    if (s.state == v1::SOURCE_STATE_ERROR && !s.last_error.empty()) {
      absl::StrAppend(&line, ": ", s.last_error);
    }
    // One line per source, whatever its error text holds.
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    absl::StrAppend(ready ? &ready_lines : &not_ready_lines, line, "\n");
  }
  metrics::HttpResponse r;
  if (not_ready_lines.empty()) {
    r.status = 200;
    r.body = absl::StrCat("ready\n", ready_lines);
  } else {
    r.status = 503;
    r.body = absl::StrCat("not ready\n", not_ready_lines);
  }
  return r;
}

}  // namespace sluice::daemon
