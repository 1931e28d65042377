#pragma once
// TokenFile: the bearer tokens sluiced accepts (--token-file / token_file:), one per line:
//
//   # comment lines and blank lines are ignored
//   TOKEN ROLE
//
// TOKEN is 16 to 512 printable ASCII characters without spaces, not starting with '#' (that
// line would be a comment), e.g. `openssl rand -hex 32`;
// ROLE is `subscribe` (ChangeStream RPCs) or `admin` (every RPC). A token may appear once.
//
// Like ssh with private keys, LoadTokenFile refuses a file that group or others may read or
// write: the tokens are secrets. Errors are InvalidArgument ("FILE:LINE: problem: fix"),
// NotFound for a missing file, FailedPrecondition for loose permissions. Tokens never appear in
// messages.
//
// Thread-safety: pure functions over their arguments and the file system.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::config {

enum class Role { kSubscribe, kAdmin };

std::string_view RoleName(Role role);

struct TokenEntry {
  std::string token;
  Role role = Role::kSubscribe;
};

// Parses the file's text; `origin` names it in messages.
absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(std::string_view text,
                                                       std::string_view origin);

// Checks the file's permissions, reads and parses it. At least one token is required.
absl::StatusOr<std::vector<TokenEntry>> LoadTokenFile(const std::string& path);

}  // namespace sluice::config
