#include "server/metrics/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/testing/http_client.h"

namespace sluice::metrics {
namespace {

using testing::HttpExchange;
using testing::HttpGet;

std::unique_ptr<HttpServer> StartTestServer(HttpServerOptions options = {}) {
  std::map<std::string, HttpHandler> routes;
  routes["/metrics"] = [] { return HttpResponse{200, "text/plain; version=0.0.4", "m 1\n"}; };
  routes["/healthz"] = [] { return HttpResponse{200, "text/plain", "ok\n"}; };
  routes["/readyz"] = [] { return HttpResponse{503, "text/plain", "shop: connecting\n"}; };
  auto s = HttpServer::Start("127.0.0.1", 0, std::move(routes), options);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// A connected socket that sends nothing (a slow client).
int IdleConnection(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

TEST(HttpServer, ServesRoutes) {
  auto server = StartTestServer();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->port(), 0);
  auto m = HttpGet(server->port(), "/metrics");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->headers["content-type"], "text/plain; version=0.0.4");
  EXPECT_EQ(m->body, "m 1\n");
  auto r = HttpGet(server->port(), "/readyz?verbose=1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "shop: connecting\n");
}

TEST(HttpServer, HeadHasLengthButNoBody) {
  auto server = StartTestServer();
  auto r = HttpExchange(server->port(),
                        "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-length"], "3");
  EXPECT_EQ(r->body, "");
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = StartTestServer();
  auto r = HttpExchange(server->port(),
                        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->raw.find("ok\n"), std::string::npos);
  EXPECT_NE(r->raw.find("m 1\n"), std::string::npos) << r->raw;
}

TEST(HttpServer, UnknownPathIs404) {
  auto server = StartTestServer();
  auto r = HttpGet(server->port(), "/nope");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "no such path /nope; try /healthz, /metrics, /readyz\n");
}

TEST(HttpServer, OtherMethodsAre405WithAllow) {
  auto server = StartTestServer();
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    auto r = HttpExchange(server->port(), std::string(method) +
                                              " /metrics HTTP/1.1\r\nHost: x\r\n"
                                              "Connection: close\r\n\r\n");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->headers["allow"], "GET, HEAD");
    EXPECT_EQ(r->body, "method " + std::string(method) + " is not allowed on /metrics; use GET\n");
  }
}

TEST(HttpServer, MalformedRequestsAre400) {
  auto server = StartTestServer();
  struct Case {
    std::string request;
    std::string body_prefix;
  };
  const std::vector<Case> cases = {
      {"HELLO\r\n\r\n", "malformed HTTP request: "},
      {"GET /metrics HTTP/9.9\r\n\r\n", "malformed HTTP request: "},
      {"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", "bad request target"},
      {"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
       "request bodies are not accepted"},
      {"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
       "request header too large"},
  };
  for (const Case& c : cases) {
    auto r = HttpExchange(server->port(), c.request);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 400) << c.request.substr(0, 40);
    EXPECT_TRUE(r->body.starts_with(c.body_prefix)) << r->body;
  }
  // The server still serves afterwards.
  auto ok = HttpGet(server->port(), "/healthz");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

// A client that connects and sends nothing neither blocks others nor stays connected forever.
TEST(HttpServer, SlowClientIsCutOffAndDoesNotBlockOthers) {
  HttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  auto server = StartTestServer(options);
  int idle = IdleConnection(server->port());
  // A partial request line, never finished.
  ASSERT_EQ(send(idle, "GET /met", 8, MSG_NOSIGNAL), 8);
  auto r = HttpGet(server->port(), "/healthz");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  // The server closes the slow connection (recv sees end of stream, without a reply).
  char buf[64];
  timeval tv{30, 0};
  setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(recv(idle, buf, sizeof buf, 0), 0);
  close(idle);
}

TEST(HttpServer, ConnectionsBeyondTheLimitAreClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  auto server = StartTestServer(options);
  int a = IdleConnection(server->port());
  int b = IdleConnection(server->port());
  // Accepts are served in order, so the third connection finds two open ones.
  auto refused = HttpGet(server->port(), "/healthz");
  EXPECT_FALSE(refused.ok());
  close(a);
  close(b);
  // Once they are gone the server notices and serves again.
  absl::StatusOr<testing::HttpReply> r;
  for (int i = 0; i < 200; ++i) {
    r = HttpGet(server->port(), "/healthz");
    if (r.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServer, ShutdownClosesOpenConnections) {
  auto server = StartTestServer();
  int idle = IdleConnection(server->port());
  // Make sure the server has accepted it before shutting down.
  ASSERT_TRUE(HttpGet(server->port(), "/healthz").ok());
  server->Shutdown();
  char buf[16];
  EXPECT_LE(recv(idle, buf, sizeof buf, 0), 0);
  close(idle);
  EXPECT_FALSE(HttpGet(server->port(), "/healthz").ok());
}

TEST(HttpServer, BusyPortIsAClearError) {
  auto first = StartTestServer();
  auto second = HttpServer::Start("127.0.0.1", first->port(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(
                "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + " for metrics"),
            std::string::npos)
      << second.status();
  EXPECT_NE(second.status().message().find("another process is listening there"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace sluice::metrics
