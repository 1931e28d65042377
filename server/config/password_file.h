#pragma once
// Reading a source password from a file (`password_file:` in YAML, `password_file=` in a source
// URL), so that the secret never has to be written in argv or in the config file itself.

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace sluice::config::internal {

// The largest password file accepted: a password file holds one password, not a document.
inline constexpr uintmax_t kMaxPasswordFileBytes = 64 * 1024;

// The file's content without one trailing "\n" or "\r\n". Errors (InvalidArgument) name the path
// and say what to do: missing or unreadable, larger than kMaxPasswordFileBytes, or empty.
absl::StatusOr<std::string> ReadPasswordFile(const std::filesystem::path& path);

}  // namespace sluice::config::internal
