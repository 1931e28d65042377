#include "protocol/mysqlclient/packet.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"

namespace sluice::mysqlclient {

std::string EncodePackets(std::string_view payload, uint8_t seq, uint8_t* next_seq) {
  std::string out;
  out.reserve(payload.size() + kPacketHeaderSize * (payload.size() / kMaxPacketPayload + 1));
  size_t off = 0;
  while (true) {
    size_t n = std::min(payload.size() - off, kMaxPacketPayload);
    out.push_back(static_cast<char>(n & 0xFF));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>((n >> 16) & 0xFF));
    out.push_back(static_cast<char>(seq));
    ++seq;
    out.append(payload.substr(off, n));
    off += n;
    if (n < kMaxPacketPayload) break;
  }
  if (next_seq != nullptr) *next_seq = seq;
  return out;
}

void PacketAssembler::Feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

absl::StatusOr<std::optional<std::string_view>> PacketAssembler::NextView(std::string& scratch) {
  if (!error_.ok()) return error_;
  // First pass: check that a whole message is buffered, validating headers without consuming.
  size_t scan = pos_;
  size_t total = 0;
  uint8_t seq = expected_seq_;
  size_t packets = 0;
  while (true) {
    if (buf_.size() - scan < kPacketHeaderSize) return std::nullopt;
    wire::ByteReader r(std::string_view(buf_).substr(scan, kPacketHeaderSize));
    uint32_t len = r.ReadU24Le();
    uint8_t got_seq = r.ReadU8();
    if (got_seq != seq) {
      error_ = absl::DataLossError(absl::StrCat(
          "MySQL packet at stream offset ", scan - pos_, ": sequence id ", got_seq, ", expected ",
          seq));
      return error_;
    }
    total += len;
    if (total > max_payload_) {
      error_ = absl::ResourceExhaustedError(absl::StrCat(
          "MySQL message of at least ", total, " bytes exceeds the limit of ", max_payload_));
      return error_;
    }
    if (buf_.size() - scan - kPacketHeaderSize < len) return std::nullopt;
    scan += kPacketHeaderSize + len;
    ++seq;
    ++packets;
    if (len < kMaxPacketPayload) break;
  }
  // A payload in one packet stays where it is (the buffer is compacted only by Feed).
  if (packets == 1) {
    const std::string_view payload = std::string_view(buf_).substr(pos_ + kPacketHeaderSize, total);
    pos_ = scan;
    expected_seq_ = seq;
    return std::optional<std::string_view>(payload);
  }
  // Second pass: join the packets' payloads.
  scratch.clear();
  scratch.reserve(total);
  while (true) {
    wire::ByteReader r(std::string_view(buf_).substr(pos_, kPacketHeaderSize));
    uint32_t len = r.ReadU24Le();
    scratch.append(buf_, pos_ + kPacketHeaderSize, len);
    pos_ += kPacketHeaderSize + len;
    if (len < kMaxPacketPayload) break;
  }
  expected_seq_ = seq;
  return std::optional<std::string_view>(scratch);
}

absl::StatusOr<std::optional<std::string>> PacketAssembler::Next() {
  std::string scratch;
  absl::StatusOr<std::optional<std::string_view>> view = NextView(scratch);
  if (!view.ok()) return view.status();
  if (!view->has_value()) return std::nullopt;
  std::string payload = view->value().data() == scratch.data() ? std::move(scratch)
                                                                : std::string(**view);
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

}  // namespace sluice::mysqlclient
