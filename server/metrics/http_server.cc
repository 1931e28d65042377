#include "server/metrics/http_server.h"

#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/redirect_error.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace sluice::metrics {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct HttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::map<std::string, HttpHandler> routes;
  HttpServerOptions options;
  uint16_t port = 0;
  std::thread thread;
  std::mutex mu;
  bool stopped = false;  // guarded by mu
  // Touched only on the I/O thread.
  bool closing = false;
  std::set<beast::tcp_stream*> live;
};

namespace {

struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  bool allow_header = false;
};

Reply Problem(http::status status, std::string text) {
  Reply r;
  r.status = status;
  r.body = std::move(text) + "\n";
  return r;
}

Reply Route(const HttpServer::Impl& impl, const http::request<http::empty_body>& req) {
  std::string_view target(req.target().data(), req.target().size());
  if (target.empty() || target[0] != '/') {
    return Problem(http::status::bad_request,
                   "bad request target: use a path such as /metrics, /healthz or /readyz");
  }
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  auto it = impl.routes.find(std::string(target));
  if (it == impl.routes.end()) {
    std::string known;
    for (const auto& [path, handler] : impl.routes)
      absl::StrAppend(&known, known.empty() ? "" : ", ", path);
    return Problem(http::status::not_found,
                   absl::StrCat("no such path ", std::string(target), "; try ", known));
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Reply r = Problem(http::status::method_not_allowed,
                      absl::StrCat("method ", std::string(req.method_string()),
                                   " is not allowed on ", std::string(target), "; use GET"));
    r.allow_header = true;
    return r;
  }
  HttpResponse h = it->second();
  Reply r;
  r.status = static_cast<http::status>(h.status);
  r.content_type = std::move(h.content_type);
  r.body = std::move(h.body);
  return r;
}

asio::awaitable<void> Write(beast::tcp_stream& stream, const Reply& reply, bool head,
                            bool keep_alive, error_code& ec) {
  http::response<http::string_body> res(reply.status, 11);
  res.set(http::field::server, "sluiced");
  res.set(http::field::content_type, reply.content_type);
  if (reply.allow_header) res.set(http::field::allow, "GET, HEAD");
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(reply.body.size());
    http::response_serializer<http::string_body> sr(res);
    co_await http::async_write_header(stream, sr, asio::redirect_error(asio::use_awaitable, ec));
    co_return;
  }
  res.body() = reply.body;
  res.prepare_payload();
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
}

// Errors after which the connection is just closed: the peer went away, timed out, or we shut down.
bool IsDisconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

std::string DescribeParseError(const error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return "request header too large";
  }
  if (ec == http::error::unexpected_body) return "request bodies are not accepted; send a GET";
  return absl::StrCat("malformed HTTP request: ", ec.message());
}

asio::awaitable<void> Serve(HttpServer::Impl& impl, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  impl.live.insert(&stream);
  beast::flat_buffer buffer(impl.options.max_header_bytes + 1024);
  error_code ec;
  for (int n = 0; n < impl.options.max_requests_per_connection && !impl.closing; ++n) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<uint32_t>(impl.options.max_header_bytes));
    stream.expires_after(impl.options.request_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (impl.closing || (ec && IsDisconnect(ec))) break;
    if (ec) {
      stream.expires_after(impl.options.write_timeout);
      co_await Write(stream, Problem(http::status::bad_request, DescribeParseError(ec)), false,
                     false, ec);
      break;
    }
    const auto& req = parser.get();
    Reply reply = Route(impl, req);
    // A client that sent a bad request gets its answer and the connection closes.
    const bool keep_alive = req.keep_alive() && n + 1 < impl.options.max_requests_per_connection &&
                            !(reply.status == http::status::bad_request ||
                              reply.status == http::status::method_not_allowed);
    stream.expires_after(impl.options.write_timeout);
    co_await Write(stream, reply, req.method() == http::verb::head, keep_alive, ec);
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.socket().close(ec);
  impl.live.erase(&stream);
}

asio::awaitable<void> Accept(HttpServer::Impl& impl) {
  asio::steady_timer backoff(impl.io);
  for (;;) {
    error_code ec;
    tcp::socket socket =
        co_await impl.acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (impl.closing || !impl.acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or similar: wait a little rather than spin.
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (impl.live.size() >= impl.options.max_connections) {
      socket.close(ec);
      continue;
    }
    asio::co_spawn(impl.io, Serve(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& host, uint16_t port, std::map<std::string, HttpHandler> routes,
    HttpServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  impl->options = options;
  const std::string where = absl::StrCat(host, ":", port);
  error_code ec;
  tcp::resolver resolver(impl->io);
  auto endpoints = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot listen on ", where,
                                                      " for metrics: ", ec.message(),
                                                      " (check the --metrics-listen host)"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto fail = [&](std::string_view step) {
    std::string hint =
        ec == asio::error::address_in_use  ? "another process is listening there; pick another port"
        : ec == asio::error::access_denied ? "ports below 1024 need privileges; use a higher port"
                                           : "check the --metrics-listen address";
    return absl::FailedPreconditionError(absl::StrCat("cannot listen on ", where, " for metrics (",
                                                      std::string(step), "): ", ec.message(), " (",
                                                      hint, ")"));
  };
  if (impl->acceptor.open(endpoint.protocol(), ec)) return fail("socket");
  if (impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("socket");
  if (impl->acceptor.bind(endpoint, ec)) return fail("bind");
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  impl->port = impl->acceptor.local_endpoint(ec).port();
  Impl& ref = *impl;
  asio::co_spawn(ref.io, Accept(ref), asio::detached);
  ref.thread = std::thread([&ref] { ref.io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Phase one: stop accepting and cut every connection; phase two: wait for them to finish.
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->closing = true;
    error_code ec;
    impl->acceptor.close(ec);
    for (beast::tcp_stream* s : impl->live) s->socket().close(ec);
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

HttpServer::~HttpServer() { Shutdown(); }

}  // namespace sluice::metrics
