#pragma once
// Status propagation macros for absl::Status / absl::StatusOr<T>.
//
//   SLUICE_RETURN_IF_ERROR(DoThing());
//   SLUICE_ASSIGN_OR_RETURN(auto value, ComputeValue());
//
// Both evaluate their argument exactly once and return the error unchanged.
// SLUICE_ASSIGN_OR_RETURN expands to several statements (it declares `lhs` in the enclosing
// scope): never use it as the body of an unbraced if/for/while.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SLUICE_INTERNAL_CONCAT2(a, b) a##b
#define SLUICE_INTERNAL_CONCAT(a, b) SLUICE_INTERNAL_CONCAT2(a, b)

#define SLUICE_RETURN_IF_ERROR(expr)                \
  do {                                              \
    ::absl::Status sluice_status_ = (expr);         \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_INTERNAL_ASSIGN_OR_RETURN(SLUICE_INTERNAL_CONCAT(sluice_statusor_, __LINE__), lhs, expr)

#define SLUICE_INTERNAL_ASSIGN_OR_RETURN(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()
