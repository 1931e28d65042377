#include "server/config/listen_address.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "server/config/source_rules.h"

namespace sluice::config {

absl::StatusOr<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text) {
  constexpr std::string_view kExample = "write HOST:PORT, for example 127.0.0.1:7070";
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("listen address is empty: %s", kExample));
  }
  absl::StatusOr<internal::HostPortText> split = internal::SplitHostPort(text);
  if (!split.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("listen address \"%s\": %s", text, split.status().message()));
  }
  if (!split->port && !split->host.empty() &&
      std::all_of(split->host.begin(), split->host.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "listen address \"%s\" has no host: write 127.0.0.1:%s for this machine only or "
        "0.0.0.0:%s for every interface",
        text, text, text));
  }
  if (!split->port) {
    return absl::InvalidArgumentError(
        absl::StrFormat("listen address \"%s\" has no port: %s", text, kExample));
  }
  if (split->host.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "listen address \"%s\" has no host: write 0.0.0.0%s to listen on every interface or "
        "127.0.0.1%s for this machine only",
        text, text, text));
  }
  absl::StatusOr<uint16_t> port = internal::ParsePort(*split->port, 0);
  if (!port.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "listen address \"%s\": %s (0 picks a free port)", text, port.status().message()));
  }
  return std::make_pair(std::move(split->host), *port);
}

}  // namespace sluice::config
