#include "protocol/mysqlclient/connection.h"

#include <array>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "protocol/mysqlclient/packet.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysqlclient {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct MysqlConnection::Io {
  asio::io_context ctx;
  tcp::socket socket{ctx};
  PacketAssembler assembler;
  std::array<char, 64 * 1024> buf;

  // Runs the io_context until `done` or the deadline. On timeout the pending operation is
  // cancelled and its handler drained, and false is returned.
  bool RunUntil(const bool& done, Clock::time_point deadline) {
    ctx.restart();
    while (!done) {
      if (Clock::now() >= deadline) {
        boost::system::error_code ignored;
        socket.cancel(ignored);
        ctx.restart();
        ctx.run();  // the cancelled handler runs with operation_aborted
        return false;
      }
      ctx.run_one_until(deadline);
      if (ctx.stopped()) ctx.restart();
    }
    return true;
  }
};

namespace {
Clock::time_point DeadlineAfter(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  if (d > absl::Hours(24 * 365)) d = absl::Hours(24 * 365);
  return Clock::now() + absl::ToChronoNanoseconds(d);
}
}  // namespace

MysqlConnection::MysqlConnection() : io_(std::make_unique<Io>()) {}

MysqlConnection::~MysqlConnection() {
  boost::system::error_code ignored;
  io_->socket.close(ignored);
}

absl::Status MysqlConnection::CheckUsable() const {
  if (!broken_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("MySQL connection is broken by an earlier error: ", broken_.ToString()));
  }
  return absl::OkStatus();
}

absl::Status MysqlConnection::Broken(absl::Status st) {
  if (broken_.ok()) broken_ = st;
  boost::system::error_code ignored;
  io_->socket.close(ignored);
  return st;
}

absl::Status MysqlConnection::ConnectTcp(const std::string& host, uint16_t port,
                                         absl::Duration timeout) {
  Clock::time_point deadline = DeadlineAfter(timeout);
  std::string where = absl::StrCat(host, ":", port);
  tcp::resolver resolver(io_->ctx);
  bool done = false;
  boost::system::error_code ec;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(host, std::to_string(port),
                         [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                           done = true;
                         });
  if (!io_->RunUntil(done, deadline)) {
    resolver.cancel();
    io_->ctx.restart();
    io_->ctx.run();
    return absl::DeadlineExceededError(absl::StrCat("resolving ", host, " timed out"));
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", ec.message()));
  }
  done = false;
  asio::async_connect(io_->socket, endpoints,
                      [&](const boost::system::error_code& e, const tcp::endpoint&) {
                        ec = e;
                        done = true;
                      });
  if (!io_->RunUntil(done, deadline)) {
    return absl::DeadlineExceededError(
        absl::StrCat("TCP connect to ", where, " timed out after ", absl::FormatDuration(timeout)));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("TCP connect to ", where, " failed: ", ec.message()));
  }
  boost::system::error_code ignored;
  io_->socket.set_option(tcp::no_delay(true), ignored);
  return absl::OkStatus();
}

absl::Status MysqlConnection::WritePayload(std::string_view payload, absl::Duration timeout) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  std::string bytes = EncodePackets(payload, seq_, &seq_);
  io_->assembler.set_expected_seq(seq_);
  bool done = false;
  boost::system::error_code ec;
  asio::async_write(io_->socket, asio::buffer(bytes),
                    [&](const boost::system::error_code& e, size_t) {
                      ec = e;
                      done = true;
                    });
  if (!io_->RunUntil(done, DeadlineAfter(timeout))) {
    return Broken(absl::DeadlineExceededError(absl::StrCat(
        "writing a ", payload.size(), "-byte MySQL packet timed out")));
  }
  if (ec) {
    return Broken(
        absl::UnavailableError(absl::StrCat("writing to the MySQL server failed: ", ec.message())));
  }
  return absl::OkStatus();
}

absl::Status MysqlConnection::SendCommand(std::string_view payload) {
  seq_ = 0;
  return WritePayload(payload, io_timeout_);
}

absl::StatusOr<std::string> MysqlConnection::ReadPayload(absl::Duration timeout) {
  if (absl::Status st = CheckUsable(); !st.ok()) return st;
  Clock::time_point deadline = DeadlineAfter(timeout);
  while (true) {
    absl::StatusOr<std::optional<std::string>> next = io_->assembler.Next();
    if (!next.ok()) return Broken(next.status());
    if (next->has_value()) {
      seq_ = io_->assembler.expected_seq();
      return std::move(**next);
    }
    bool done = false;
    boost::system::error_code ec;
    size_t got = 0;
    io_->socket.async_read_some(asio::buffer(io_->buf),
                                [&](const boost::system::error_code& e, size_t n) {
                                  ec = e;
                                  got = n;
                                  done = true;
                                });
    bool in_time = io_->RunUntil(done, deadline);
    if (got > 0) io_->assembler.Feed(std::string_view(io_->buf.data(), got));
    if (!in_time) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no whole MySQL packet from the server within ", absl::FormatDuration(timeout)));
    }
    if (ec == asio::error::eof) {
      return Broken(absl::UnavailableError("the MySQL server closed the connection"));
    }
    if (ec) {
      return Broken(absl::UnavailableError(
          absl::StrCat("reading from the MySQL server failed: ", ec.message())));
    }
  }
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlConnection::Connect(
    const std::string& host, uint16_t port, const std::string& user, const std::string& password,
    absl::Duration timeout, TlsMode tls) {
  ConnectOptions options;
  options.host = host;
  options.port = port;
  options.user = user;
  options.password = password;
  options.timeout = timeout;
  options.tls = tls;
  return Connect(options);
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlConnection::Connect(
    const ConnectOptions& options) {
  // TLS is being implemented; until then kPreferred falls back to plain TCP.
  if (options.tls != TlsMode::kDisabled && options.tls != TlsMode::kPreferred) {
    return absl::UnimplementedError("TLS connections to MySQL are not implemented yet");
  }
  std::unique_ptr<MysqlConnection> c(new MysqlConnection());
  c->io_timeout_ = options.timeout;
  if (absl::Status st = c->ConnectTcp(options.host, options.port, options.timeout); !st.ok()) {
    return st;
  }
  if (absl::Status st = c->Authenticate(options.user, options.password, options.timeout);
      !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("connecting to ", options.host, ":",
                                                options.port, " as '", options.user,
                                                "': ", st.message()));
  }
  return c;
}

absl::Status MysqlConnection::Authenticate(const std::string& user, const std::string& password,
                                           absl::Duration timeout) {
  io_->assembler.set_expected_seq(0);
  absl::StatusOr<std::string> hello = ReadPayload(timeout);
  if (!hello.ok()) return hello.status();
  if (IsErrPacket(*hello)) return ErrPayloadToStatus(*hello);
  absl::StatusOr<Handshake> hs = ParseHandshake(*hello);
  if (!hs.ok()) return Broken(hs.status());
  handshake_ = *std::move(hs);

  std::string plugin = handshake_.auth_plugin_name;
  if (plugin != kNativePassword && plugin != kCachingSha2Password) {
    plugin = std::string(kNativePassword);  // the server switches us if it wants another
  }
  auto scramble = [&](std::string_view plug, std::string_view seed) {
    if (seed.size() > 20) seed = seed.substr(0, 20);
    return plug == kCachingSha2Password ? CachingSha2Scramble(password, seed)
                                        : NativePasswordScramble(password, seed);
  };

  HandshakeResponse resp;
  resp.capabilities = (kClientLongPassword | kClientLongFlag | kClientTransactions) &
                      handshake_.capabilities;
  resp.user = user;
  resp.auth_plugin_name = plugin;
  resp.auth_response = scramble(plugin, handshake_.auth_plugin_data);
  if (absl::Status st = WritePayload(EncodeHandshakeResponse(resp), timeout); !st.ok()) return st;

  for (int round = 0; round < 8; ++round) {
    absl::StatusOr<std::string> p = ReadPayload(timeout);
    if (!p.ok()) return p.status();
    if (p->empty()) return Broken(absl::DataLossError("empty packet during authentication"));
    switch (static_cast<uint8_t>((*p)[0])) {
      case 0x00:
        return absl::OkStatus();
      case 0xFF:
        return Broken(ErrPayloadToStatus(*p));
      case 0xFE: {
        absl::StatusOr<AuthSwitchRequest> sw = ParseAuthSwitchRequest(*p);
        if (!sw.ok()) return Broken(sw.status());
        if (sw->plugin_name != kNativePassword && sw->plugin_name != kCachingSha2Password) {
          return Broken(absl::UnimplementedError(absl::StrCat(
              "the server asked for authentication plugin '", sw->plugin_name,
              "', which sluice does not support (supported: mysql_native_password, "
              "caching_sha2_password)")));
        }
        plugin = sw->plugin_name;
        if (absl::Status st = WritePayload(scramble(plugin, sw->plugin_data), timeout); !st.ok()) {
          return st;
        }
        break;
      }
      case 0x01: {
        // AuthMoreData. caching_sha2_password: 0x03 fast auth succeeded (OK follows),
        // 0x04 full authentication required.
        if (plugin == kCachingSha2Password && p->size() == 2 && (*p)[1] == '\x03') break;
        if (plugin == kCachingSha2Password && p->size() == 2 && (*p)[1] == '\x04') {
          return Broken(absl::UnimplementedError(
              "caching_sha2_password full authentication is required (the server has no cached "
              "entry for this account); it needs TLS or the server's RSA public key, which "
              "sluice does not support yet. Log in once over TLS with another client to fill "
              "the cache, or use mysql_native_password"));
        }
        return Broken(absl::UnimplementedError(absl::StrCat(
            "unexpected extra authentication data for plugin '", plugin, "'")));
      }
      default:
        return Broken(absl::DataLossError(absl::StrCat(
            "unexpected packet (first byte ", static_cast<uint8_t>((*p)[0]),
            ") during authentication")));
    }
  }
  return Broken(absl::DataLossError("too many authentication round trips"));
}

absl::StatusOr<ResultSet> MysqlConnection::Query(std::string_view sql) {
  if (dumping_) {
    return absl::FailedPreconditionError("cannot run a query on a connection streaming binlogs");
  }
  if (absl::Status st = SendCommand(EncodeComQuery(sql)); !st.ok()) return st;
  TextResultSetReader reader;
  while (true) {
    absl::StatusOr<std::string> p = ReadPayload(io_timeout_);
    if (!p.ok()) return Broken(p.status());  // a late reply would be taken for the next one's
    absl::StatusOr<bool> done = reader.Add(*p);
    if (!done.ok()) {
      if (IsErrPacket(*p)) return done.status();  // the server's error; the session is fine
      return Broken(done.status());
    }
    if (*done) return std::move(reader.result());
  }
}

absl::Status MysqlConnection::RegisterReplica(uint32_t server_id) {
  if (absl::Status st = SendCommand(EncodeRegisterSlave(server_id)); !st.ok()) return st;
  absl::StatusOr<std::string> p = ReadPayload(io_timeout_);
  if (!p.ok()) return Broken(p.status());
  if (IsErrPacket(*p)) return ErrPayloadToStatus(*p);
  if (!IsOkPacket(*p)) {
    return Broken(absl::DataLossError("COM_REGISTER_SLAVE: expected an OK packet"));
  }
  return absl::OkStatus();
}

absl::Status MysqlConnection::StartBinlogDump(std::string_view file, uint32_t position,
                                              uint32_t server_id) {
  if (absl::Status st = SendCommand(EncodeBinlogDump(file, position, server_id)); !st.ok()) {
    return st;
  }
  dumping_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::string> MysqlConnection::ReadBinlogEvent(absl::Duration timeout) {
  if (!dumping_) return absl::FailedPreconditionError("no binlog dump was started");
  absl::StatusOr<std::string> p = ReadPayload(timeout);
  if (!p.ok()) return p.status();
  absl::StatusOr<BinlogPacket> packet = ParseBinlogPacket(*p);
  if (!packet.ok()) {
    if (IsErrPacket(*p)) return packet.status();
    return Broken(packet.status());
  }
  if (packet->eof) return absl::OutOfRangeError("the server ended the binlog dump (EOF packet)");
  return std::string(reinterpret_cast<const char*>(packet->event.data()), packet->event.size());
}

}  // namespace sluice::mysqlclient
