#pragma once
// A tiny blocking HTTP/1.1 client over a raw TCP socket, for tests of sluiced's metrics server.
// It sends bytes exactly as given (so tests can send malformed requests) and reads until the
// server closes the connection.
//
// Errors: Unavailable when the connection fails, DeadlineExceeded when the server sends nothing
// for `timeout`, InvalidArgument when the reply has no HTTP status line.
// Thread-safety: free functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw;
};

// Sends `request` to 127.0.0.1:port and returns what came back before the server closed.
absl::StatusOr<HttpReply> HttpExchange(
    uint16_t port, const std::string& request,
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

// GET `path` with "Connection: close".
absl::StatusOr<HttpReply> HttpGet(uint16_t port, const std::string& path);

}  // namespace sluice::testing
