#pragma once
// HttpServer: a small HTTP/1.1 server (Boost.Beast) for /metrics, /healthz and /readyz.
//
// Serves GET and HEAD on fixed paths; the query string is ignored. Answers:
//   400 for a malformed request, a request body, or headers larger than max_header_bytes;
//   404 for an unknown path; 405 (with Allow: GET, HEAD) for another method on a known path.
// Every response names the problem in a one-line text/plain body.
//
// A slow or malicious client cannot hold the server: each request must arrive within
// request_timeout and each response must be taken within write_timeout, or the connection is
// closed; at most max_connections are open (later ones are closed at once); a connection
// serves at most max_requests_per_connection requests. Memory per connection is bounded by the
// header limit plus one response.
//
// One thread runs the I/O and the handlers: a handler must return quickly and must not block.
// Lifecycle: Start() binds and serves; Shutdown() (idempotent, also run by the destructor) stops
// accepting, closes every connection and joins the thread. Start returns FailedPrecondition
// naming the address when it cannot listen there. Thread-safety: port() and Shutdown() may be
// called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::metrics {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Returns the response for a GET (or HEAD) of its path.
using HttpHandler = std::function<HttpResponse()>;

struct HttpServerOptions {
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds write_timeout{10'000};
  size_t max_header_bytes = 8 << 10;
  size_t max_connections = 64;
  int max_requests_per_connection = 1000;
};

class HttpServer {
 public:
  // Listens on host:port (port 0 picks a free port) and serves `routes` (path -> handler).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& host, uint16_t port, std::map<std::string, HttpHandler> routes,
      HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  void Shutdown();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::metrics
