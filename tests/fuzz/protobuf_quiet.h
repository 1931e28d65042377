#pragma once
// Protobuf (3.x) logs an ERROR line for every string field with invalid UTF-8 that it refuses to
// parse, and a fuzzer produces millions of those. Call QuietProtobufLogs() once before parsing.

#include <string>

#if __has_include("google/protobuf/stubs/logging.h")
#include "google/protobuf/stubs/logging.h"
#define SLUICE_FUZZ_HAVE_PROTOBUF_LOG_HANDLER 1
#endif

namespace sluice::fuzz {

inline void QuietProtobufLogs() {
#ifdef SLUICE_FUZZ_HAVE_PROTOBUF_LOG_HANDLER
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
#endif
}

}  // namespace sluice::fuzz
