#include "protocol/mysql/binlog_decoder.h"

#include <zstd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "protocol/mysql/compressed_event.h"
#include "protocol/mysql/crc32.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysql {
namespace {

using wire::ByteReader;

uint32_t LoadU32Le(Bytes b) {
  return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
         static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
}

constexpr size_t kFlagsOffset = 17;

// Verifies the CRC32 trailer of a whole event.
absl::Status VerifyChecksum(Bytes event, uint8_t type) {
  if (event.size() < kEventHeaderLength + kChecksumLength) {
    return absl::DataLossError(absl::StrCat(std::string(EventTypeName(type)), ": ", event.size(),
                                            " bytes cannot hold a header and a CRC32 checksum"));
  }
  Bytes covered = event.first(event.size() - kChecksumLength);
  uint32_t expected = LoadU32Le(event.last(kChecksumLength));
  uint32_t actual = 0;
  if (static_cast<EventType>(type) == EventType::kFormatDescription) {
    // The server clears LOG_EVENT_BINLOG_IN_USE_F in a closed file's FDE without recomputing the
    // checksum, which is therefore defined over the header with that flag cleared.
    std::byte header[kEventHeaderLength];
    std::copy_n(covered.begin(), kEventHeaderLength, header);
    header[kFlagsOffset] &= ~std::byte{kFlagBinlogInUse};
    actual = Crc32(Bytes(header, kEventHeaderLength));
    actual = Crc32(covered.subspan(kEventHeaderLength), actual);
  } else {
    actual = Crc32(covered);
  }
  if (expected != actual) {
    return absl::DataLossError(absl::StrCat(std::string(EventTypeName(type)),
                                            ": CRC32 mismatch: event says 0x",
                                            absl::Hex(expected, absl::kZeroPad8), ", bytes give 0x",
                                            absl::Hex(actual, absl::kZeroPad8)));
  }
  return absl::OkStatus();
}

// The payload event's header fields: { type lenenc · length lenenc · value lenenc }* · 0.
enum PayloadField : uint64_t {
  kEndMark = 0,
  kPayloadSize = 1,
  kCompressionType = 2,
  kUncompressedSize = 3
};
constexpr uint64_t kCompressionZstd = 0;
constexpr uint64_t kCompressionNone = 255;

}  // namespace

BinlogDecoder::BinlogDecoder() : fde_(DefaultFormatDescription()) {}

absl::Status BinlogDecoder::Annotate(const absl::Status& st, uint64_t position) const {
  return absl::Status(st.code(), absl::StrCat(file_name_, ":", position, ": ", st.message()));
}

absl::StatusOr<Event> BinlogDecoder::Decode(Bytes event, uint64_t position) {
  return DecodeImpl(event, position, false);
}

absl::StatusOr<Event> BinlogDecoder::DecodeImpl(Bytes event, uint64_t position, bool in_payload) {
  auto header = DecodeEventHeader(event);
  if (!header.ok()) return Annotate(header.status(), position);
  const EventHeader& h = *header;
  std::string name(EventTypeName(h.type));
  if (h.event_size != event.size()) {
    return Annotate(absl::DataLossError(absl::StrCat(name, ": header declares ", h.event_size,
                                                     " bytes but the event has ", event.size())),
                    position);
  }
  Event out;
  out.header = h;
  out.position = position;
  if (static_cast<EventType>(h.type) == EventType::kFormatDescription) {
    if (in_payload) {
      return Annotate(absl::DataLossError("FORMAT_DESCRIPTION_EVENT inside a TRANSACTION_PAYLOAD"),
                      position);
    }
    auto fde = DecodeFormatDescription(event.subspan(kEventHeaderLength));
    if (!fde.ok()) return Annotate(fde.status(), position);
    if (fde->checksum == ChecksumAlg::kCrc32) {
      absl::Status st = VerifyChecksum(event, h.type);
      if (!st.ok()) return Annotate(st, position);
    }
    fde_ = *fde;
    tables_.clear();
    out.body = *std::move(fde);
    return out;
  }
  Bytes body = event;
  if (!in_payload && fde_.checksum == ChecksumAlg::kCrc32) {
    absl::Status st = VerifyChecksum(event, h.type);
    if (!st.ok()) return Annotate(st, position);
    body = body.first(body.size() - kChecksumLength);
  }
  size_t header_length = fde_.header_length;
  if (body.size() < header_length) {
    return Annotate(
        absl::DataLossError(absl::StrCat(name, ": ", body.size(), " bytes, shorter than the ",
                                         header_length, "-byte header")),
        position);
  }
  body = body.subspan(header_length);
  auto decoded = DecodeBody(h, body, position, in_payload, !in_payload);
  if (!decoded.ok()) {
    const absl::Status& st = decoded.status();
    // Payload errors already carry the position of the inner event.
    if (static_cast<EventType>(h.type) == EventType::kTransactionPayload) return st;
    return Annotate(st, position);
  }
  out.body = *std::move(decoded);
  return out;
}

absl::StatusOr<EventBody> BinlogDecoder::DecodeBody(const EventHeader& h, Bytes body,
                                                    uint64_t position, bool in_payload,
                                                    bool callers_bytes) {
  switch (static_cast<EventType>(h.type)) {
    case EventType::kQuery:
      return DecodeQuery(body, fde_);
    case EventType::kRotate: {
      auto r = DecodeRotate(body, fde_);
      if (r.ok()) tables_.clear();
      return r;
    }
    case EventType::kXid: {
      auto x = DecodeXid(body);
      if (x.ok()) tables_.clear();
      return x;
    }
    case EventType::kStop:
      return Stop{};
    case EventType::kTableMap: {
      auto t = DecodeTableMap(body, fde_);
      if (!t.ok()) return t.status();
      auto shared = std::make_shared<const TableMap>(*std::move(t));
      tables_[shared->table_id] = shared;
      return shared;
    }
    case EventType::kWriteRowsV1:
    case EventType::kUpdateRowsV1:
    case EventType::kDeleteRowsV1:
    case EventType::kWriteRowsV2:
    case EventType::kUpdateRowsV2:
    case EventType::kDeleteRowsV2:
    case EventType::kPartialUpdateRows:
      return DecodeRowsEvent(body, h.type, fde_, tables_, defer_rows_,
                             borrow_deferred_rows_ && callers_bytes);
    case EventType::kGtid:
      return DecodeGtid(body, false);
    case EventType::kAnonymousGtid:
      return DecodeGtid(body, true);
    case EventType::kGtidTagged:
      return DecodeGtidTagged(body);
    case EventType::kPreviousGtids:
      return DecodePreviousGtids(body);
    case EventType::kHeartbeat:
      return DecodeHeartbeat(body);
    case EventType::kRowsQuery:
      return DecodeRowsQuery(body, false);
    case EventType::kMariaAnnotateRows:
      return DecodeRowsQuery(body, true);
    case EventType::kMariaGtid:
      return DecodeMariaGtid(body, h.server_id);
    case EventType::kMariaGtidList:
      return DecodeMariaGtidList(body);
    case EventType::kMariaBinlogCheckpoint:
      return DecodeBinlogCheckpoint(body);
    case EventType::kTransactionPayload:
      if (in_payload)
        return absl::DataLossError("TRANSACTION_PAYLOAD_EVENT nested in another payload");
      return DecodePayload(body, position);
    case EventType::kIntvar:
    case EventType::kRand:
    case EventType::kUserVar:
    case EventType::kStartV3:
    case EventType::kAppendBlock:
    case EventType::kBeginLoadQuery:
    case EventType::kExecuteLoadQuery:
    case EventType::kDeleteFile:
    case EventType::kIncident:
    case EventType::kIgnorable:
    case EventType::kTransactionContext:
    case EventType::kViewChange:
    case EventType::kXaPrepare:
    case EventType::kHeartbeatV2:
      return Skipped{h.type, std::string(EventTypeName(h.type))};
    case EventType::kMariaStartEncryption:
      return absl::UnimplementedError(
          "START_ENCRYPTION_EVENT: encrypted binlogs are not supported");
    case EventType::kMariaQueryCompressed:
    case EventType::kMariaWriteRowsCompressedV1:
    case EventType::kMariaUpdateRowsCompressedV1:
    case EventType::kMariaDeleteRowsCompressedV1:
    case EventType::kMariaWriteRowsCompressed:
    case EventType::kMariaUpdateRowsCompressed:
    case EventType::kMariaDeleteRowsCompressed: {
      // Decoded as the uncompressed event; the result's header keeps the compressed type.
      auto plain = DecompressEvent(h.type, body, fde_, max_payload_size_);
      if (!plain.ok()) return plain.status();
      EventHeader inner = h;
      inner.type = plain->type;
      return DecodeBody(inner, Bytes(reinterpret_cast<const std::byte*>(plain->body.data()),
                                     plain->body.size()),
                        position, in_payload, /*callers_bytes=*/false);
    }
    default:
      break;
  }
  if (h.flags & kFlagIgnorable)
    return Skipped{h.type, absl::StrCat("ignorable event type ", h.type)};
  return absl::InvalidArgumentError(absl::StrCat("unknown event type ", h.type,
                                                 " without the ignorable flag (0x80); flags 0x",
                                                 absl::Hex(h.flags)));
}

absl::StatusOr<TransactionPayload> BinlogDecoder::DecodePayload(Bytes body, uint64_t position) {
  constexpr const char* kWhat = "TRANSACTION_PAYLOAD_EVENT";
  auto fail = [&](std::string msg) {
    return Annotate(absl::DataLossError(absl::StrCat(kWhat, ": ", msg)), position);
  };
  ByteReader r(body);
  TransactionPayload out;
  std::optional<uint64_t> payload_size;
  while (true) {
    size_t at = r.position();
    uint64_t field = r.ReadLenencInt();
    if (!r.ok()) return Annotate(r.status(kWhat), position);
    if (field == kEndMark) break;
    uint64_t len = r.ReadLenencInt();
    std::string_view value = r.ReadString(len);
    if (!r.ok()) return Annotate(r.status(kWhat), position);
    ByteReader v(value);
    uint64_t number = v.ReadLenencInt();
    if (!v.ok())
      return fail(absl::StrCat("field ", field, " at offset ", at, " has no valid value"));
    switch (field) {
      case kPayloadSize:
        payload_size = number;
        break;
      case kCompressionType:
        out.compression = number;
        break;
      case kUncompressedSize:
        out.uncompressed_size = number;
        break;
      default:
        break;  // unknown fields are skipped by their length
    }
  }
  size_t data_at = r.position();
  std::string_view data = r.ReadRestString();
  if (payload_size && *payload_size != data.size()) {
    return fail(absl::StrCat("header says ", *payload_size, " payload bytes at offset ", data_at,
                             " but ", data.size(), " follow"));
  }
  std::string plain;
  if (out.compression == kCompressionNone) {
    plain.assign(data);
  } else if (out.compression == kCompressionZstd) {
    if (out.uncompressed_size > max_payload_size_) {
      return fail(absl::StrCat("uncompressed size ", out.uncompressed_size, " exceeds the limit ",
                               max_payload_size_));
    }
    unsigned long long frame = ZSTD_getFrameContentSize(data.data(), data.size());
    if (frame == ZSTD_CONTENTSIZE_ERROR)
      return fail(absl::StrCat("no valid zstd frame at offset ", data_at));
    if (frame != ZSTD_CONTENTSIZE_UNKNOWN && frame != out.uncompressed_size) {
      return fail(
          absl::StrCat("zstd frame holds ", frame, " bytes, header says ", out.uncompressed_size));
    }
    plain.resize(out.uncompressed_size);
    size_t n = ZSTD_decompress(plain.data(), plain.size(), data.data(), data.size());
    if (ZSTD_isError(n)) return fail(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
    if (n != plain.size()) {
      return fail(absl::StrCat("decompressed ", n, " bytes, header says ", out.uncompressed_size));
    }
  } else {
    return Annotate(
        absl::UnimplementedError(absl::StrCat(kWhat, ": compression type ", out.compression)),
        position);
  }
  Bytes inner(reinterpret_cast<const std::byte*>(plain.data()), plain.size());
  size_t pos = 0;
  while (pos < inner.size()) {
    Bytes rest = inner.subspan(pos);
    auto h = DecodeEventHeader(rest);
    if (!h.ok())
      return fail(absl::StrCat("inner event at payload offset ", pos, ": ", h.status().message()));
    if (h->event_size > rest.size()) {
      return fail(absl::StrCat("inner ", std::string(EventTypeName(h->type)), " at payload offset ",
                               pos, " declares ", h->event_size, " bytes, ", rest.size(),
                               " remain"));
    }
    auto ev = DecodeImpl(rest.first(h->event_size), position, true);
    if (!ev.ok()) {
      return absl::Status(ev.status().code(), absl::StrCat(ev.status().message(), " (inside ",
                                                           kWhat, " at payload offset ", pos, ")"));
    }
    out.events.push_back(*std::move(ev));
    pos += h->event_size;
  }
  return out;
}

BinlogFileReader::BinlogFileReader(Bytes file, std::string file_name) : file_(file) {
  decoder_.set_file_name(std::move(file_name));
}

absl::StatusOr<std::optional<Event>> BinlogFileReader::Next() {
  if (!error_.ok()) return error_;
  const std::string& name = decoder_.file_name();
  if (pos_ == 0) {
    std::string_view head(reinterpret_cast<const char*>(file_.data()),
                          std::min<size_t>(file_.size(), 4));
    if (head != kBinlogMagic) {
      error_ = absl::DataLossError(
          absl::StrCat(name, ":0: not a binlog file: expected the magic \\xfebin"));
      return error_;
    }
    pos_ = kBinlogMagic.size();
  }
  if (pos_ == file_.size()) return std::nullopt;
  Bytes rest = file_.subspan(pos_);
  auto h = DecodeEventHeader(rest);
  if (!h.ok()) {
    error_ = absl::DataLossError(
        absl::StrCat(name, ":", pos_, ": truncated event: ", h.status().message()));
    return error_;
  }
  if (h->event_size > rest.size()) {
    error_ = absl::DataLossError(absl::StrCat(
        name, ":", pos_, ": truncated ", std::string(EventTypeName(h->type)), ": header declares ",
        h->event_size, " bytes, ", rest.size(), " remain in the file"));
    return error_;
  }
  auto ev = decoder_.Decode(rest.first(h->event_size), pos_);
  if (!ev.ok()) {
    error_ = ev.status();
    return error_;
  }
  pos_ += h->event_size;
  return std::optional<Event>(*std::move(ev));
}

}  // namespace sluice::mysql
