#include "protocol/mysql/compressed_event.h"

#include <zlib.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

constexpr uint8_t kRecordCompressed = 0x80;
constexpr uint8_t kRecordAlgorithmShift = 4;
constexpr uint8_t kRecordAlgorithmMask = 0x07;
constexpr uint8_t kRecordLengthBytesMask = 0x07;
constexpr uint8_t kAlgorithmZlib = 0;
constexpr size_t kFirstChunk = 4096;

// QUERY_EVENT post-header: thread_id u32 · exec_time u32 · db_len u8 · error_code u16
// · status_vars_len u16.
constexpr size_t kQueryDbLenOffset = 8;
constexpr size_t kQueryStatusLenOffset = 11;

absl::Status Fail(std::string_view what, std::string msg) {
  return absl::DataLossError(absl::StrCat(std::string(what), ": ", msg));
}

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

absl::StatusOr<DecompressedEvent> Rebuild(uint8_t plain_type, Bytes body, size_t record_at,
                                          uint64_t max_uncompressed, std::string_view what) {
  auto inflated = DecompressRecord(body.subspan(record_at), max_uncompressed, what, record_at);
  if (!inflated.ok()) return inflated.status();
  DecompressedEvent out;
  out.type = plain_type;
  out.body.reserve(record_at + inflated->size());
  out.body.assign(reinterpret_cast<const char*>(body.data()), record_at);
  out.body += *inflated;
  return out;
}

// The compressed type's post-header length, which must match the uncompressed type's because the
// rebuilt body is decoded as the latter.
absl::StatusOr<uint8_t> PostHeader(const FormatDescription& fde, uint8_t type, uint8_t plain,
                                   uint8_t fallback, std::string_view what) {
  uint8_t post = fde.PostHeaderLength(static_cast<EventType>(type), fallback);
  uint8_t plain_post = fde.PostHeaderLength(static_cast<EventType>(plain), fallback);
  if (post != plain_post) {
    return Fail(
        what, absl::StrCat("FORMAT_DESCRIPTION declares post-header length ", post, " for it but ",
                           plain_post, " for ", std::string(EventTypeName(plain))));
  }
  return post;
}

}  // namespace

std::optional<uint8_t> UncompressedEventType(uint8_t type) {
  switch (static_cast<EventType>(type)) {
    case EventType::kMariaQueryCompressed:
      return static_cast<uint8_t>(EventType::kQuery);
    case EventType::kMariaWriteRowsCompressedV1:
    case EventType::kMariaUpdateRowsCompressedV1:
    case EventType::kMariaDeleteRowsCompressedV1:
      return static_cast<uint8_t>(type -
                                  static_cast<uint8_t>(EventType::kMariaWriteRowsCompressedV1) +
                                  static_cast<uint8_t>(EventType::kWriteRowsV1));
    case EventType::kMariaWriteRowsCompressed:
    case EventType::kMariaUpdateRowsCompressed:
    case EventType::kMariaDeleteRowsCompressed:
      return static_cast<uint8_t>(type -
                                  static_cast<uint8_t>(EventType::kMariaWriteRowsCompressed) +
                                  static_cast<uint8_t>(EventType::kWriteRowsV2));
    default:
      return std::nullopt;
  }
}

absl::StatusOr<std::string> DecompressRecord(Bytes record, uint64_t max_uncompressed,
                                             std::string_view what, size_t offset) {
  ByteReader r(record);
  uint8_t header = r.ReadU8();
  if (!r.ok()) {
    return Fail(what, absl::StrCat("no compressed record at offset ", offset));
  }
  if (!(header & kRecordCompressed)) {
    return Fail(what,
                absl::StrCat("compressed record header 0x", absl::Hex(header, absl::kZeroPad2),
                             " at offset ", offset, " lacks the compressed flag 0x80"));
  }
  uint8_t algorithm = (header >> kRecordAlgorithmShift) & kRecordAlgorithmMask;
  if (algorithm != kAlgorithmZlib) {
    return Fail(what, absl::StrCat("compression algorithm ", algorithm, " at offset ", offset,
                                   " is unknown (0, zlib, is the only one)"));
  }
  uint8_t length_bytes = header & kRecordLengthBytesMask;
  if (length_bytes < 1 || length_bytes > 4) {
    return Fail(what, absl::StrCat("compressed record at offset ", offset, " declares ",
                                   length_bytes, " length bytes (expected 1 to 4)"));
  }
  uint64_t declared = 0;
  for (uint8_t i = 0; i < length_bytes; ++i) declared = declared << 8 | r.ReadU8();
  if (!r.ok()) return Fail(what, std::string(r.status("compressed record length").message()));
  if (declared == 0) {
    return Fail(what, absl::StrCat("compressed record at offset ", offset,
                                   " declares an uncompressed length of 0"));
  }
  if (declared > max_uncompressed) {
    return Fail(what, absl::StrCat("uncompressed length ", declared, " at offset ", offset,
                                   " exceeds the limit ", max_uncompressed));
  }
  size_t data_at = offset + r.position();
  std::string_view data = r.ReadRestString();

  z_stream zs{};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());  // an event is at most 4 GiB - 1 bytes
  if (inflateInit(&zs) != Z_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat(std::string(what), ": zlib inflateInit failed"));
  }
  InflateGuard guard{&zs};
  // One byte more than declared, so that a stream that would inflate further is detected.
  const uint64_t room = declared + 1;
  std::string out;
  int ret = Z_OK;
  while (true) {
    if (zs.total_out == out.size()) {
      if (out.size() >= room) break;
      out.resize(std::min<uint64_t>(room, std::max<uint64_t>(out.size() * 2, kFirstChunk)));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data()) + zs.total_out;
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) break;
    if (ret == Z_BUF_ERROR && zs.avail_out > 0) {
      return Fail(what, absl::StrCat("zlib stream at offset ", data_at, " ends after ", data.size(),
                                     " bytes, before its end mark (", zs.total_out, " of ",
                                     declared, " bytes inflated)"));
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return Fail(what, absl::StrCat("zlib stream at offset ", data_at,
                                     " is corrupt: ", zs.msg ? zs.msg : "error", " (", ret, ")"));
    }
  }
  if (ret != Z_STREAM_END || zs.total_out != declared) {
    return Fail(what, absl::StrCat("zlib stream at offset ", data_at, " inflates to ",
                                   ret == Z_STREAM_END ? absl::StrCat(zs.total_out)
                                                       : absl::StrCat("more than ", declared),
                                   " bytes, the record declares ", declared));
  }
  if (zs.avail_in != 0) {
    return Fail(what,
                absl::StrCat(zs.avail_in, " bytes follow the end of the zlib stream at offset ",
                             data_at + zs.total_in));
  }
  out.resize(declared);
  return out;
}

absl::StatusOr<DecompressedEvent> DecompressEvent(uint8_t type, Bytes body,
                                                  const FormatDescription& fde,
                                                  uint64_t max_uncompressed) {
  const std::string what(EventTypeName(type));
  std::optional<uint8_t> plain = UncompressedEventType(type);
  if (!plain) return absl::InvalidArgumentError(absl::StrCat(what, " is not a compressed event"));
  ByteReader r(body);
  if (static_cast<EventType>(*plain) == EventType::kQuery) {
    auto post = PostHeader(fde, type, *plain, 13, what);
    if (!post.ok()) return post.status();
    if (*post < kQueryStatusLenOffset) {
      return Fail(what, absl::StrCat("post-header length ", *post, " is below the minimum 11"));
    }
    r.Skip(kQueryDbLenOffset);
    uint8_t db_len = r.ReadU8();
    uint16_t status_len = 0;
    if (*post >= kQueryStatusLenOffset + 2) {
      r.Skip(kQueryStatusLenOffset - kQueryDbLenOffset - 1);
      status_len = r.ReadU16Le();
    }
    if (!r.ok()) return r.status(what);
    size_t record_at = size_t{*post} + status_len + db_len + 1;
    if (record_at >= body.size()) {
      return Fail(what, absl::StrCat("the query's compressed record would start at offset ",
                                     record_at, " but the body has ", body.size(), " bytes"));
    }
    return Rebuild(*plain, body, record_at, max_uncompressed, what);
  }

  const bool v2 = *plain >= static_cast<uint8_t>(EventType::kWriteRowsV2);
  auto post = PostHeader(fde, type, *plain, v2 ? 10 : 8, what);
  if (!post.ok()) return post.status();
  if (*post == 6) {
    r.ReadU32Le();  // table id
  } else if (*post >= 8) {
    r.ReadU48Le();
  } else {
    return Fail(what, absl::StrCat("post-header length ", *post, " is below 6"));
  }
  r.ReadU16Le();  // flags
  if (v2) {
    size_t at = r.position();
    uint16_t extra_len = r.ReadU16Le();
    if (r.ok() && extra_len < 2) {
      return Fail(what, absl::StrCat("extra-data length ", extra_len, " at offset ", at,
                                     " is below 2 (it counts its own 2 bytes)"));
    }
    r.Skip(extra_len - 2u);
  }
  if (!r.ok()) return r.status(what);
  if (r.remaining() == 0) {
    // A dummy event that only ends a statement: nothing was compressed.
    DecompressedEvent out;
    out.type = *plain;
    out.body.assign(reinterpret_cast<const char*>(body.data()), body.size());
    return out;
  }
  uint64_t ncols = r.ReadLenencInt();
  if (!r.ok()) return r.status(what);
  const bool update = *plain == static_cast<uint8_t>(EventType::kUpdateRowsV1) ||
                      *plain == static_cast<uint8_t>(EventType::kUpdateRowsV2);
  uint64_t bitmap = (ncols + 7) / 8;
  if (ncols > body.size() * 8 || bitmap * (update ? 2 : 1) > r.remaining()) {
    return Fail(what, absl::StrCat(ncols, " columns: the column bitmaps at offset ", r.position(),
                                   " do not fit in the ", r.remaining(), " bytes left"));
  }
  r.Skip(bitmap * (update ? 2 : 1));
  if (!r.ok()) return r.status(what);
  return Rebuild(*plain, body, r.position(), max_uncompressed, what);
}

}  // namespace sluice::mysql
