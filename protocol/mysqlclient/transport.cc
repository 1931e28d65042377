#include "protocol/mysqlclient/transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/write.hpp"

namespace sluice::mysqlclient {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

Clock::time_point DeadlineAfter(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  if (d > absl::Hours(24 * 365)) d = absl::Hours(24 * 365);
  return Clock::now() + absl::ToChronoNanoseconds(d);
}

struct Transport::Impl {
  asio::io_context ctx;
  tcp::socket socket{ctx};  // moved into `tls` by StartTls
  std::unique_ptr<ssl::context> ssl_ctx;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  std::string peer = "the MySQL server";  // "the MySQL server at host:port" once connected

  tcp::socket& lowest() { return tls ? tls->next_layer() : socket; }

  // Runs `op` on the plain socket or the TLS stream, whichever is current.
  template <typename Op>
  void WithStream(Op&& op) {
    if (tls) {
      op(*tls);
    } else {
      op(socket);
    }
  }

  // Runs the io_context until `done` or the deadline. On timeout the pending operation is
  // cancelled and drained, and false is returned. Composed operations (TLS records, async_write,
  // async_connect) may start another socket operation from a handler that completed just before
  // the cancel, so cancel again until the final handler has run.
  bool RunUntil(const bool& done, Clock::time_point deadline) {
    return RunUntil(done, deadline, [this] {
      boost::system::error_code ignored;
      lowest().cancel(ignored);
    });
  }
  template <typename Cancel>
  bool RunUntil(const bool& done, Clock::time_point deadline, Cancel cancel) {
    ctx.restart();
    while (!done) {
      if (Clock::now() >= deadline) {
        while (!done) {
          cancel();
          ctx.restart();
          if (ctx.run_one() == 0) break;  // no work left (cannot happen while !done)
        }
        return false;
      }
      ctx.run_one_until(deadline);
      if (ctx.stopped()) ctx.restart();
    }
    return true;
  }

  bool IsClosedByPeer(const boost::system::error_code& ec) const {
    // A TLS peer that closes without close_notify gives stream_truncated.
    return ec == asio::error::eof || ec == ssl::error::stream_truncated ||
           ec == asio::error::connection_reset;
  }
};

Transport::Transport() : impl_(std::make_unique<Impl>()) {}

Transport::~Transport() { Close(); }

void Transport::Close() {
  boost::system::error_code ignored;
  impl_->lowest().close(ignored);
}

bool Transport::tls() const { return impl_->tls != nullptr; }

std::string Transport::TlsDescription() const {
  if (!impl_->tls) return "plain";
  SSL* s = impl_->tls->native_handle();
  return absl::StrCat(SSL_get_version(s), " ", SSL_get_cipher_name(s));
}

absl::Status Transport::Connect(const std::string& host, uint16_t port, absl::Duration timeout) {
  Clock::time_point deadline = DeadlineAfter(timeout);
  std::string where = absl::StrCat(host, ":", port);
  impl_->peer = absl::StrCat("the MySQL server at ", where);
  tcp::resolver resolver(impl_->ctx);
  bool done = false;
  boost::system::error_code ec;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(host, std::to_string(port),
                         [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                           done = true;
                         });
  // asio cannot interrupt getaddrinfo: a timed-out resolve still waits for it to return.
  if (!impl_->RunUntil(done, deadline, [&] { resolver.cancel(); })) {
    return absl::DeadlineExceededError(absl::StrCat("resolving ", host, " timed out"));
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", ec.message()));
  }
  done = false;
  asio::async_connect(impl_->socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  if (!impl_->RunUntil(done, deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("TCP connect to ", where, " timed out after ", absl::FormatDuration(timeout)));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("TCP connect to ", where, " failed: ", ec.message()));
  }
  boost::system::error_code ignored;
  impl_->socket.set_option(tcp::no_delay(true), ignored);
  return absl::OkStatus();
}

namespace {

// The advice that goes with a failed certificate check.
std::string VerifyHint(long result, const TlsSettings& s) {
  if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return absl::StrCat("the certificate is not issued for '", s.host,
                        "'; connect with a name or address in its subjectAltName, or use "
                        "tls=verify_ca to check only the chain");
  }
  std::string store = s.ca_file.empty() ? std::string("the system CA store")
                                        : absl::StrCat("tls_ca_file '", s.ca_file, "'");
  return absl::StrCat("check that ", store,
                      " holds the CA that signed the server's certificate, or use tls=required "
                      "to skip the check");
}

}  // namespace

absl::Status Transport::StartTls(const TlsSettings& settings, absl::Duration timeout) {
  Clock::time_point deadline = DeadlineAfter(timeout);
  if (impl_->tls) return absl::FailedPreconditionError("TLS is already active");
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  boost::system::error_code ec;
  if (settings.verify_chain) {
    if (settings.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot load the system CA store: ", ec.message(),
                         "; give the CA certificate(s) in tls_ca_file"));
      }
    } else {
      if (FILE* f = std::fopen(settings.ca_file.c_str(), "r"); f == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot read tls_ca_file '", settings.ca_file, "': ", std::strerror(errno),
                         "; give a PEM file with the CA certificate(s)"));
      } else {
        std::fclose(f);
      }
      ctx->load_verify_file(settings.ca_file, ec);
      if (ec) {
        ERR_clear_error();
        return absl::InvalidArgumentError(absl::StrCat(
            "tls_ca_file '", settings.ca_file,
            "' holds no usable PEM certificate; give a PEM file with the CA certificate(s)"));
      }
    }
    ctx->set_verify_mode(ssl::verify_peer);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  impl_->ssl_ctx = std::move(ctx);
  impl_->tls =
      std::make_unique<ssl::stream<tcp::socket>>(std::move(impl_->socket), *impl_->ssl_ctx);
  SSL* s = impl_->tls->native_handle();
  boost::system::error_code not_ip;
  asio::ip::make_address(settings.host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(s, settings.host.c_str());
  if (settings.verify_identity) {
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    int ok = 0;
    if (not_ip) {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = X509_VERIFY_PARAM_set1_host(param, settings.host.c_str(), 0);
    } else {
      ok = X509_VERIFY_PARAM_set1_ip_asc(param, settings.host.c_str());
    }
    if (ok != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot check the TLS identity of '", settings.host, "'"));
    }
  }

  bool done = false;
  impl_->tls->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
    ec = e;
    done = true;
  });
  if (!impl_->RunUntil(done, deadline)) {
    return absl::DeadlineExceededError(absl::StrCat("the TLS handshake with ", impl_->peer,
                                                    " timed out after ",
                                                    absl::FormatDuration(timeout)));
  }
  if (ec) {
    long result = SSL_get_verify_result(s);
    if (settings.verify_chain && result != X509_V_OK) {
      return absl::FailedPreconditionError(
          absl::StrCat("the TLS certificate of ", impl_->peer, " failed verification (",
                       X509_verify_cert_error_string(result), "): ", VerifyHint(result, settings)));
    }
    return absl::UnavailableError(
        absl::StrCat("the TLS handshake with ", impl_->peer, " failed: ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status Transport::WriteAll(std::string_view bytes, Clock::time_point deadline) {
  bool done = false;
  boost::system::error_code ec;
  impl_->WithStream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [&](const boost::system::error_code& e, size_t) {
                        ec = e;
                        done = true;
                      });
  });
  if (!impl_->RunUntil(done, deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("writing ", bytes.size(), " bytes to ", impl_->peer, " timed out"));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("writing to ", impl_->peer, " failed: ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> Transport::ReadSome(std::span<char> buf, Clock::time_point deadline) {
  bool done = false;
  boost::system::error_code ec;
  size_t got = 0;
  impl_->WithStream([&](auto& stream) {
    stream.async_read_some(asio::buffer(buf.data(), buf.size()),
                           [&](const boost::system::error_code& e, size_t n) {
                             ec = e;
                             got = n;
                             done = true;
                           });
  });
  bool in_time = impl_->RunUntil(done, deadline);
  if (got > 0) return got;  // a cancelled read may still have delivered bytes
  if (!in_time) {
    return absl::DeadlineExceededError(
        absl::StrCat("no data from ", impl_->peer, " before the deadline"));
  }
  if (impl_->IsClosedByPeer(ec)) {
    return absl::UnavailableError(absl::StrCat(impl_->peer, " closed the connection"));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("reading from ", impl_->peer, " failed: ", ec.message()));
  }
  return absl::UnavailableError(absl::StrCat(impl_->peer, " sent nothing"));  // not reached
}

}  // namespace sluice::mysqlclient
