#include "protocol/postgres/copy_data.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::postgres {
namespace {

void PutU64Be(uint64_t v, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

}  // namespace

int64_t UnixMicrosFromPostgres(int64_t pg_micros) {
  if (pg_micros == std::numeric_limits<int64_t>::max() ||
      pg_micros == std::numeric_limits<int64_t>::min()) {
    return pg_micros;
  }
  return SaturatingAdd(pg_micros, kPostgresEpochUnixMicros);
}

int64_t PostgresMicrosFromUnix(int64_t unix_micros) {
  if (unix_micros == std::numeric_limits<int64_t>::max() ||
      unix_micros == std::numeric_limits<int64_t>::min()) {
    return unix_micros;
  }
  return SaturatingAdd(unix_micros, -kPostgresEpochUnixMicros);
}

absl::StatusOr<CopyDataMessage> DecodeCopyData(std::span<const std::byte> data) {
  wire::ByteReader r(data);
  if (data.empty()) {
    return absl::InvalidArgumentError(
        "CopyData: empty payload at offset 0: expected a kind byte 'w' or 'k'");
  }
  const uint8_t kind = r.ReadU8();
  switch (kind) {
    case kXLogDataKind: {
      XLogData m;
      m.wal_start = Lsn(r.ReadU64Be());
      m.wal_end = Lsn(r.ReadU64Be());
      m.send_time_pg_micros = r.ReadI64Be();
      if (!r.ok()) return r.status("XLogData");
      m.payload = r.ReadRestBytes();
      return m;
    }
    case kPrimaryKeepaliveKind: {
      PrimaryKeepalive m;
      m.wal_end = Lsn(r.ReadU64Be());
      m.send_time_pg_micros = r.ReadI64Be();
      const size_t flag_at = r.position();
      const uint8_t reply = r.ReadU8();
      if (!r.ok()) return r.status("Primary keepalive");
      if (reply > 1) {
        return absl::DataLossError(absl::StrFormat(
            "Primary keepalive: reply-requested flag at offset %d is %d: expected 0 or 1", flag_at,
            reply));
      }
      if (r.remaining() != 0) {
        return absl::DataLossError(absl::StrFormat(
            "Primary keepalive: %d trailing bytes at offset %d: expected the message to end",
            r.remaining(), r.position()));
      }
      m.reply_requested = reply == 1;
      return m;
    }
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "CopyData: unknown message kind 0x%02x at offset 0: expected 'w' (XLogData) or 'k' "
          "(Primary keepalive)",
          kind));
  }
}

std::string EncodeStandbyStatusUpdate(const StandbyStatusUpdate& update) {
  std::string out;
  out.reserve(kStandbyStatusUpdateSize);
  out.push_back(kStandbyStatusUpdateKind);
  PutU64Be(update.write.value(), out);
  PutU64Be(update.flush.value(), out);
  PutU64Be(update.apply.value(), out);
  PutU64Be(static_cast<uint64_t>(update.clock_pg_micros), out);
  out.push_back(update.reply_requested ? 1 : 0);
  return out;
}

}  // namespace sluice::postgres
