#include "storage/state_reference.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "proto/base/value_wire.h"
#include "proto/base/varint.h"

namespace sluice::storage {
namespace {

// A bounds-checked varint reader over stored (untrusted) bytes; once it fails it stays failed.
struct VarintReader {
  std::string_view in;
  size_t pos = 0;
  bool failed = false;

  uint64_t Varint() {
    uint64_t v = 0;
    if (!failed && !ReadVarint(in, &pos, &v)) failed = true;
    return v;
  }
  // True (and consumes it) when the next byte is `tag`.
  bool Tag(char tag) {
    if (failed || pos >= in.size() || in[pos] != tag) return false;
    ++pos;
    return true;
  }
};

constexpr char kOffsetTag = 0x08;             // 1: offset, varint
constexpr char kTransactionIndexTag = 0x40;   // 8: transaction_index, varint
constexpr char kLastInTransactionTag = 0x48;  // 9: last_in_transaction, varint
constexpr char kIngestTsTag = 0x50;           // 10: ingest_ts_micros, varint

}  // namespace

size_t EncodeStateReference(LogOffset offset, char* out) {
  out[0] = kStateReferenceTag;
  return static_cast<size_t>(value_wire::PutVarint(offset.value(), out + 1) - out);
}

std::string StateReference(LogOffset offset) {
  char buf[kMaxStateReferenceSize];
  return std::string(buf, EncodeStateReference(offset, buf));
}

absl::StatusOr<LogOffset> DecodeStateReference(std::string_view value) {
  VarintReader r{value};
  if (!r.Tag(kStateReferenceTag)) {
    return absl::DataLossError("table-state value is not a reference (does not start with 0x00)");
  }
  const uint64_t offset = r.Varint();
  if (r.failed || r.pos != value.size() || offset == 0) {
    return absl::DataLossError(absl::StrCat("table-state reference of ", value.size(),
                                            " bytes is not 0x00 followed by one offset varint"));
  }
  return LogOffset(offset);
}

absl::Status ResolveStateReference(LogOffset offset, std::string_view event, std::string& out) {
  VarintReader r{event};
  uint64_t stored = 0;
  if (r.Tag(kOffsetTag)) stored = r.Varint();
  if (r.failed || stored != offset.value()) {
    return absl::DataLossError(absl::StrCat("the log record a table-state row refers to (offset ",
                                            offset.value(), ") does not begin with that offset"));
  }
  if (r.Tag(kTransactionIndexTag)) r.Varint();
  if (r.Tag(kLastInTransactionTag)) r.Varint();
  const bool has_ts = r.Tag(kIngestTsTag);
  if (has_ts) r.Varint();
  if (r.failed || !has_ts) {
    return absl::DataLossError(absl::StrCat("the log record a table-state row refers to (offset ",
                                            offset.value(),
                                            ") does not hold the fields the log assigns"));
  }
  char head[1 + 10];
  head[0] = kOffsetTag;
  const char* end = value_wire::PutVarint(offset.value(), head + 1);
  out.assign(head, static_cast<size_t>(end - head));
  out.append(event.substr(r.pos));
  return absl::OkStatus();
}

}  // namespace sluice::storage
