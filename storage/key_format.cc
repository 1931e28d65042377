#include "storage/key_format.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/value_wire.h"
#include "proto/base/varint.h"

namespace sluice::storage {
namespace {

void PutU32(uint32_t v, std::string& out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(uint64_t v, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint32_t GetU32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
uint64_t GetU64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}
// Maps int64 onto uint64 so that big-endian byte order equals numeric order.
constexpr uint64_t kSignBias = uint64_t{1} << 63;

}  // namespace

void EncodeLogKey(SourceId source, LogOffset offset, char* out) {
  const uint32_t s = source.value();
  const uint64_t o = offset.value();
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((s >> (24 - 8 * i)) & 0xff);
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<char>((o >> (56 - 8 * i)) & 0xff);
}

std::string LogKey(SourceId source, LogOffset offset) {
  char key[kLogKeySize];
  EncodeLogKey(source, offset, key);
  return std::string(key, kLogKeySize);
}

std::string LogKeyEnd(SourceId source) {
  std::string key;
  PutU32(source.value() + 1, key);
  return key;
}

std::optional<DecodedLogKey> DecodeLogKey(std::string_view key) {
  if (key.size() != kLogKeySize) return std::nullopt;
  return DecodedLogKey{SourceId(GetU32(key)), LogOffset(GetU64(key.substr(4)))};
}

std::string TimeKey(SourceId source, int64_t commit_ts_micros, LogOffset offset) {
  std::string key;
  key.reserve(kTimeKeySize);
  PutU32(source.value(), key);
  PutU64(static_cast<uint64_t>(commit_ts_micros) ^ kSignBias, key);
  PutU64(offset.value(), key);
  return key;
}

std::optional<DecodedTimeKey> DecodeTimeKey(std::string_view key) {
  if (key.size() != kTimeKeySize) return std::nullopt;
  return DecodedTimeKey{SourceId(GetU32(key)),
                        static_cast<int64_t>(GetU64(key.substr(4)) ^ kSignBias),
                        LogOffset(GetU64(key.substr(12)))};
}

std::string StageKey(SourceId source, uint64_t stage_id, uint64_t seq) {
  std::string key;
  key.reserve(kStageKeySize);
  PutU32(source.value(), key);
  PutU64(stage_id, key);
  PutU64(seq, key);
  return key;
}

std::optional<DecodedStageKey> DecodeStageKey(std::string_view key) {
  if (key.size() != kStageKeySize) return std::nullopt;
  return DecodedStageKey{SourceId(GetU32(key)), GetU64(key.substr(4)), GetU64(key.substr(12))};
}

std::string EncodeSourceIdCounter(uint32_t next) {
  std::string out;
  PutU32(next, out);
  return out;
}

uint32_t DecodeSourceIdCounter(std::string_view value) {
  return value.size() < 4 ? 0 : GetU32(value);
}

std::string StageKeyEnd(SourceId source, uint64_t stage_id) {
  if (stage_id == UINT64_MAX) return LogKeyEnd(source);
  std::string key;
  PutU32(source.value(), key);
  PutU64(stage_id + 1, key);
  return key;
}

std::string SourceKey(std::string_view name) {
  std::string key(kSourceKeyPrefix);
  key.append(name);
  return key;
}

std::string SubscriptionKey(std::string_view name) {
  std::string key(kSubscriptionKeyPrefix);
  key.append(name);
  return key;
}

std::string StateKey(SourceId source) {
  std::string key(kStateKeyPrefix);
  PutU32(source.value(), key);
  return key;
}

std::string DescribeLogKey(std::string_view key) {
  if (auto k = DecodeLogKey(key)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "log key %08x:%016llx", k->source.value(),
                  static_cast<unsigned long long>(k->offset.value()));
    return buf;
  }
  std::string hex = "key ";
  for (unsigned char c : key) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  return hex;
}

void AppendRecordHeader(uint8_t flags, uint8_t op, std::string_view table, std::string& out) {
  // Written on the stack and appended at once: one call per row of a snapshot chunk.
  char head[3 + 10];
  head[0] = static_cast<char>(kRecordVersion);
  head[1] = static_cast<char>(flags);
  head[2] = static_cast<char>(op);
  out.append(head, static_cast<size_t>(value_wire::PutVarint(table.size(), head + 3) - head));
  out.append(table);
}

void AppendRecord(uint8_t flags, uint8_t op, std::string_view table, std::string_view event,
                  std::string& out) {
  AppendRecordHeader(flags, op, table, out);
  out.append(event);
}

absl::StatusOr<RecordView> DecodeRecord(std::string_view record) {
  if (record.size() < 4) {
    return absl::DataLossError(
        absl::StrCat("record of ", record.size(), " bytes is shorter than its 4-byte header"));
  }
  if (static_cast<uint8_t>(record[0]) != kRecordVersion) {
    return absl::DataLossError(absl::StrCat("record format version ",
                                            static_cast<uint8_t>(record[0]), " is not ",
                                            kRecordVersion, " (written by a newer sluice?)"));
  }
  RecordView view;
  view.flags = static_cast<uint8_t>(record[1]);
  view.op = static_cast<uint8_t>(record[2]);
  size_t pos = 3;
  uint32_t len = 0;
  for (int shift = 0;; shift += 7) {
    if (pos >= record.size() || shift > 28) {
      return absl::DataLossError("record table-name length is truncated or too long");
    }
    uint8_t b = static_cast<uint8_t>(record[pos++]);
    len |= static_cast<uint32_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (len > record.size() - pos) {
    return absl::DataLossError(absl::StrCat("record table-name length ", len, " exceeds the ",
                                            record.size() - pos, " bytes left"));
  }
  view.table = record.substr(pos, len);
  view.event = record.substr(pos + len);
  return view;
}

}  // namespace sluice::storage
