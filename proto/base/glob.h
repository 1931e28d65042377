#pragma once
// Shell-style globs for table patterns ("shop.*", "s?op.orders"): '*' matches any run of
// characters (including '.'), '?' exactly one; everything else matches itself. Case-sensitive.
// Pure; linear in practice (single-star backtracking, no recursion).

#include <string_view>

namespace sluice {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace sluice
