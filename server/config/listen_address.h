#pragma once
// Listen addresses for sluice's own servers (gRPC, metrics).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace sluice::config {

// Parses "HOST:PORT" or "[IPV6]:PORT" into {host, port}; the host comes back without brackets
// ("[::1]:7070" -> {"::1", 7070}). HOST is a host name, an IPv4 address or a bracketed IPv6
// address; use 0.0.0.0 or [::] for every interface. PORT is 0..65535, where 0 asks the kernel
// for a free port (for tests).
//
// Errors: InvalidArgument starting with `listen address "<text>"` that names the problem
// (empty, no port, no host, unbracketed IPv6, bad port, bad host) and shows a correct example.
// A pure function; safe to call from any thread.
absl::StatusOr<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);

}  // namespace sluice::config
