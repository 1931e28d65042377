#include "server/config/token_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"

namespace sluice::config {
namespace {

constexpr size_t kMinTokenChars = 16;
constexpr size_t kMaxTokenChars = 512;
constexpr off_t kMaxFileBytes = 1 << 20;

absl::Status LineError(std::string_view origin, int line, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", origin, line, message));
}

}  // namespace

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "subscribe"; }

absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(std::string_view text,
                                                       std::string_view origin) {
  std::vector<TokenEntry> out;
  std::istringstream in{std::string(text)};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string token;
    std::string role;
    std::string extra;
    if (!(words >> token) || token.starts_with("#")) continue;
    if (!(words >> role)) {
      return LineError(origin, line_no,
                       "the line has a token but no role: write \"TOKEN subscribe\" or "
                       "\"TOKEN admin\"");
    }
    if (words >> extra) {
      return LineError(origin, line_no,
                       "the line has more than a token and a role: write \"TOKEN ROLE\" (tokens "
                       "contain no spaces)");
    }
    TokenEntry e;
    if (role == "admin") {
      e.role = Role::kAdmin;
    } else if (role == "subscribe") {
      e.role = Role::kSubscribe;
    } else {
      return LineError(origin, line_no,
                       absl::StrFormat("role \"%s\" is invalid: use subscribe or admin", role));
    }
    if (token.size() < kMinTokenChars || token.size() > kMaxTokenChars) {
      return LineError(origin, line_no,
                       absl::StrFormat("the token is %d characters: use %d to %d random "
                                       "characters (e.g. the output of openssl rand -hex 32)",
                                       token.size(), kMinTokenChars, kMaxTokenChars));
    }
    for (char c : token) {
      if (c < 0x21 || c > 0x7e) {
        return LineError(origin, line_no,
                         "the token has a character that is not printable ASCII: use letters, "
                         "digits and punctuation only");
      }
    }
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].token == token) {
        return LineError(origin, line_no,
                         "the token appears twice in the file: give each token once, with one "
                         "role");
      }
    }
    e.token = std::move(token);
    out.push_back(std::move(e));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: holds no token: add lines \"TOKEN ROLE\" (ROLE subscribe or admin)", origin));
  }
  return out;
}

absl::StatusOr<std::vector<TokenEntry>> LoadTokenFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    const std::string msg =
        absl::StrFormat("token file \"%s\" cannot be read: %s", path, std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(msg) : absl::InvalidArgumentError(msg);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("token file \"%s\" is not a regular file", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "token file \"%s\" has mode %04o: group or others may access it, and it holds secrets: "
        "run chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  if (st.st_size > kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "token file \"%s\" is %d bytes: that is too large for a token list", path, st.st_size));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  if (in.is_open()) buf << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    return absl::InvalidArgumentError(absl::StrFormat("token file \"%s\" cannot be read", path));
  }
  return ParseTokenFile(buf.str(), path);
}

}  // namespace sluice::config
