#pragma once
// AuthExchange: the client side of the authentication plugins as a pure state machine. The
// connection sends Start()'s response inside the HandshakeResponse41, then feeds every packet
// the server sends until the exchange is done, sending whatever OnServerPacket returns.
//
// Plugins: mysql_native_password, caching_sha2_password (fast path, and full authentication:
// cleartext password over TLS, RSA-encrypted password over plain TCP after requesting the
// server's public key), sha256_password (the same two ways), MariaDB's client_ed25519
// (ed25519.h). The exchanges are drawn in handshake.h. Auth switch requests may move between
// any of them.
//
// Pure: no I/O. Thread-safety: none.

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::mysqlclient {

class AuthExchange {
 public:
  // `tls`: whether the session is already encrypted (then passwords may be sent in clear).
  AuthExchange(std::string password, bool tls) : password_(std::move(password)), tls_(tls) {}

  // The plugin to answer the server's Handshake with: the server's default if it is one of the
  // password-hash plugins, else mysql_native_password (the server then switches us to what the
  // account uses).
  static std::string_view InitialPlugin(std::string_view server_default);

  // Starts `plugin` with `seed` (the Handshake's or an AuthSwitchRequest's plugin data) and
  // returns its first response. Unimplemented naming the plugin if it is not supported.
  absl::StatusOr<std::string> Start(std::string_view plugin, std::string_view seed);

  struct Reply {
    bool done = false;                // the server accepted the login (OK packet)
    std::optional<std::string> send;  // a payload to send next
  };
  // Handles one server packet: OK → done; ERR → its status (see messages.h ErrToStatus,
  // 1045 is PermissionDenied); AuthSwitchRequest → the new plugin's first response;
  // AuthMoreData → the plugin's continuation (or nothing to send). Unexpected packets give
  // DataLoss, unsupported plugins Unimplemented.
  absl::StatusOr<Reply> OnServerPacket(std::string_view payload);

  // The current plugin.
  const std::string& plugin() const { return plugin_; }

 private:
  std::string password_;
  bool tls_;
  std::string plugin_;
  std::string seed_;           // at most 20 bytes
  bool awaiting_key_ = false;  // we asked for the server's RSA public key
};

}  // namespace sluice::mysqlclient
