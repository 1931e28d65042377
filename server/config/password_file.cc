#include "server/config/password_file.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_format.h"

namespace sluice::config::internal {

absl::StatusOr<std::string> ReadPasswordFile(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "password_file \"%s\" cannot be read: %s", path.string(), ec.message()));
  }
  if (size > kMaxPasswordFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("password_file \"%s\" is %d bytes: it should hold only the password (at "
                        "most 64 KiB)",
                        path.string(), size));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  if (in.is_open()) {
    buf << in.rdbuf();
  }
  if (!in.is_open() || in.bad()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("password_file \"%s\" cannot be read", path.string()));
  }
  std::string password = buf.str();
  if (!password.empty() && password.back() == '\n') {
    password.pop_back();
    if (!password.empty() && password.back() == '\r') {
      password.pop_back();
    }
  }
  if (password.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("password_file \"%s\" is empty: put the password in it", path.string()));
  }
  return password;
}

}  // namespace sluice::config::internal
