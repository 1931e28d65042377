#pragma once
// MySQL client/server packet framing.
//
// Grammar:
//   packet  := length u24le · sequence_id u8 · payload[length]
//   message := packet(0xFFFFFF)* · packet(< 0xFFFFFF)
// A payload of 0xFFFFFF bytes or more is split into packets of exactly 0xFFFFFF bytes followed by
// one shorter packet (possibly empty). Sequence ids increase by one per packet, modulo 256, and
// restart at 0 with every command.
//
// Everything here is pure: no I/O. Thread-safety: none.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sluice::mysqlclient {

inline constexpr size_t kPacketHeaderSize = 4;
inline constexpr size_t kMaxPacketPayload = 0xFFFFFF;

// Frames `payload` into one or more packets, the first with sequence id `seq`. Returns the bytes
// to send; `*next_seq` (if non-null) receives the sequence id of the packet after the last one.
std::string EncodePackets(std::string_view payload, uint8_t seq, uint8_t* next_seq = nullptr);

// Reassembles whole message payloads from bytes fed in arbitrary pieces.
//
// Each packet's sequence id must equal expected_seq(), which then advances; a mismatch is
// DataLoss. A message whose payload would exceed max_payload is ResourceExhausted; the length is
// checked against the limit before the message is buffered, so a hostile length cannot make the
// assembler allocate. Errors are sticky.
class PacketAssembler {
 public:
  explicit PacketAssembler(size_t max_payload = size_t{1} << 30) : max_payload_(max_payload) {}

  // Appends bytes received from the peer.
  void Feed(std::string_view bytes);

  // The next whole payload, or std::nullopt when more bytes are needed.
  absl::StatusOr<std::optional<std::string>> Next();

  // As Next, without a copy when it can: a payload that came in one packet is a view into this
  // assembler's buffer; one split over several packets is joined into `scratch` and the view
  // points there. The view is valid until the next Feed, Next or NextView (and while `scratch`
  // is unchanged).
  absl::StatusOr<std::optional<std::string_view>> NextView(std::string& scratch);

  // The sequence id the next packet must carry.
  uint8_t expected_seq() const { return expected_seq_; }
  void set_expected_seq(uint8_t seq) { expected_seq_ = seq; }

  // Bytes fed but not yet returned as payloads.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_payload_;
  std::string buf_;
  size_t pos_ = 0;  // start of unconsumed bytes in buf_
  uint8_t expected_seq_ = 0;
  absl::Status error_;
};

}  // namespace sluice::mysqlclient
