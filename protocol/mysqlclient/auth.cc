#include "protocol/mysqlclient/auth.h"

#include "absl/strings/str_cat.h"
#include "protocol/mysqlclient/ed25519.h"
#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/messages.h"

namespace sluice::mysqlclient {
namespace {

constexpr size_t kSeedLength = 20;

bool Supported(std::string_view plugin) {
  return plugin == kNativePassword || plugin == kCachingSha2Password || plugin == kSha256Password ||
         plugin == kClientEd25519;
}

absl::Status UnsupportedPlugin(std::string_view plugin) {
  return absl::UnimplementedError(absl::StrCat(
      "the server asked for authentication plugin '", std::string(plugin),
      "', which sluice does not support; give the replication account one of "
      "mysql_native_password, caching_sha2_password, sha256_password or ed25519 (MariaDB)"));
}

}  // namespace

std::string_view AuthExchange::InitialPlugin(std::string_view server_default) {
  bool scramble = server_default == kCachingSha2Password || server_default == kSha256Password;
  return scramble ? server_default : kNativePassword;
}

absl::StatusOr<std::string> AuthExchange::Start(std::string_view plugin, std::string_view seed) {
  if (!Supported(plugin)) return UnsupportedPlugin(plugin);
  plugin_ = std::string(plugin);
  seed_ = std::string(seed.substr(0, kSeedLength));
  awaiting_key_ = false;
  if (plugin == kClientEd25519) {
    // Only reached through an AuthSwitchRequest (MariaDB never offers it in the Handshake);
    // the whole data is the nonce.
    if (seed.size() != kEd25519NonceLength) {
      return absl::DataLossError(absl::StrCat("client_ed25519: the server's nonce is ", seed.size(),
                                              " bytes, expected ", kEd25519NonceLength));
    }
    return MariaDbEd25519Sign(password_, seed);
  }
  if (plugin == kNativePassword) return NativePasswordScramble(password_, seed_);
  if (plugin == kCachingSha2Password) return CachingSha2Scramble(password_, seed_);
  // sha256_password
  if (password_.empty()) return std::string(1, '\0');
  if (tls_) return absl::StrCat(password_, std::string(1, '\0'));
  awaiting_key_ = true;
  return std::string(1, kSha256RequestPublicKey);
}

absl::StatusOr<AuthExchange::Reply> AuthExchange::OnServerPacket(std::string_view p) {
  if (p.empty()) return absl::DataLossError("empty packet during authentication");
  Reply reply;
  switch (static_cast<uint8_t>(p[0])) {
    case 0x00:
      reply.done = true;
      return reply;
    case 0xFF:
      return ErrPayloadToStatus(p);
    case 0xFE: {
      if (p.size() == 1) {
        // The pre-4.1 "old password" switch.
        return UnsupportedPlugin("mysql_old_password");
      }
      absl::StatusOr<AuthSwitchRequest> sw = ParseAuthSwitchRequest(p);
      if (!sw.ok()) return sw.status();
      absl::StatusOr<std::string> first =
          Start(sw->plugin_name,
                sw->plugin_name == kClientEd25519 ? sw->raw_plugin_data : sw->plugin_data);
      if (!first.ok()) return first.status();
      reply.send = *std::move(first);
      return reply;
    }
    case 0x01: {
      std::string_view data = p.substr(1);
      if (awaiting_key_) {
        // The server's RSA public key, in PEM.
        awaiting_key_ = false;
        absl::StatusOr<std::string> encrypted = RsaEncryptPassword(password_, seed_, data);
        if (!encrypted.ok()) return encrypted.status();
        reply.send = *std::move(encrypted);
        return reply;
      }
      if (plugin_ == kCachingSha2Password && data.size() == 1) {
        if (data[0] == kCachingSha2FastAuthOk) return reply;  // OK follows
        if (data[0] == kCachingSha2FullAuth) {
          if (tls_) {
            reply.send = absl::StrCat(password_, std::string(1, '\0'));
          } else {
            awaiting_key_ = true;
            reply.send = std::string(1, kCachingSha2RequestPublicKey);
          }
          return reply;
        }
      }
      return absl::DataLossError(absl::StrCat("unexpected AuthMoreData (", data.size(),
                                              " bytes) for authentication plugin '", plugin_, "'"));
    }
    default:
      return absl::DataLossError(absl::StrCat(
          "unexpected packet (first byte ", static_cast<uint8_t>(p[0]), ") during authentication"));
  }
}

}  // namespace sluice::mysqlclient
