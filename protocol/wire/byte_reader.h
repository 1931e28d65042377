#pragma once
// ByteReader: the one bounds-checked cursor over untrusted bytes from a source database.
//
// Every codec in protocol/ reads peer bytes through this class and nothing else. It never reads
// past the end of its input, never allocates, and never asserts on bad input.
//
// Contract
//   * The reader borrows its input. The bytes must outlive the reader and every string_view or
//     span it returned (those views point into the input; nothing is copied).
//   * Each Read*/Skip call either consumes exactly the bytes it describes or fails. A failing
//     call consumes nothing and returns zero (integers) or an empty view (strings/bytes).
//   * Failure is sticky. After the first failure ok() is false, remaining() is 0, position() is
//     the offset where the failing call started, and every later call returns zero/empty without
//     looking at the input. The first failure is the one that is remembered, so a codec can read
//     a whole fixed-layout structure and check ok() once at the end.
//   * Lengths read from the input (length-encoded strings) are compared with what is left before
//     anything is returned, so a hostile length can never cause an allocation or an overread.
//   * status(what) turns the failure into absl::DataLossError naming the caller's description,
//     the offset, the kind of read and the bytes needed versus available. It is OK while ok().
//
// A call fails on exactly these inputs:
//   - fewer bytes left than the fixed width of the read (integers, ReadBytes/ReadString, Skip);
//   - a length-encoded integer whose first byte is 0xFF (never valid) or 0xFB (the NULL marker of
//     text result rows, not a length; check PeekU8() == 0xFB first where NULL is allowed);
//   - a length-encoded string whose declared length exceeds the bytes that follow its prefix;
//   - a NUL-terminated string with no NUL byte before the end of the input;
//   - PeekU8() on an empty reader.
//
// Thread-safety: none; a ByteReader is a cheap value meant to live on one stack frame.
//
// Example:
//   ByteReader r(packet);
//   uint8_t tag = r.ReadU8();
//   uint64_t affected = r.ReadLenencInt();
//   std::string_view info = r.ReadRestString();
//   if (!r.ok()) return r.status("OK packet");

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace sluice::wire {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data) {}
  explicit ByteReader(std::string_view data)
      : data_(reinterpret_cast<const std::byte*>(data.data()), data.size()) {}

  // True until the first failed read.
  bool ok() const { return failure_ == Failure::kNone; }
  // Bytes consumed so far. After a failure: the offset at which the failing read started.
  size_t position() const { return pos_; }
  // Bytes not yet consumed; 0 after a failure.
  size_t remaining() const { return ok() ? data_.size() - pos_ : 0; }
  // Total size of the input.
  size_t size() const { return data_.size(); }

  // OK while ok(). Otherwise DataLossError such as
  //   "ROTATE_EVENT: truncated input at offset 19 reading u64le: needed 8 bytes, 3 available"
  // `what` names the structure being decoded; it may be empty.
  absl::Status status(std::string_view what) const;

  // Little-endian unsigned integers (MySQL protocol and binlog).
  uint8_t ReadU8();
  uint16_t ReadU16Le();
  uint32_t ReadU24Le();
  uint32_t ReadU32Le();
  uint64_t ReadU48Le();
  uint64_t ReadU64Le();

  // Big-endian integers, network order (Postgres protocol). Signed reads are two's complement.
  uint16_t ReadU16Be();
  uint32_t ReadU32Be();
  uint64_t ReadU64Be();
  int16_t ReadI16Be();
  int32_t ReadI32Be();
  int64_t ReadI64Be();

  // The next byte without consuming it. Fails (and stays failed) on an empty reader.
  uint8_t PeekU8();

  // MySQL length-encoded integer: < 0xFB is the value itself; 0xFC, 0xFD, 0xFE are followed by a
  // 2-, 3- or 8-byte little-endian value. 0xFB and 0xFF fail (see above).
  uint64_t ReadLenencInt();
  // MySQL length-encoded string: a length-encoded integer, then that many bytes.
  std::string_view ReadLenencString();
  // Bytes up to the next NUL; consumes the NUL, which is not part of the result.
  std::string_view ReadNulString();
  // Exactly n bytes, as text or as raw bytes. No copy.
  std::string_view ReadString(size_t n);
  std::span<const std::byte> ReadBytes(size_t n);
  // Everything that is left (MySQL "string<EOF>"). Never fails; empty after a failure.
  std::string_view ReadRestString();
  std::span<const std::byte> ReadRestBytes();
  // Consumes n bytes without looking at them.
  void Skip(size_t n);

 private:
  enum class Failure : uint8_t {
    kNone,
    kTruncated,      // a fixed-width read ran past the end
    kBadLenenc,      // length-encoded integer prefix 0xFB or 0xFF
    kLengthTooLong,  // a declared length exceeds what follows
    kNoTerminator,   // no NUL before the end
  };

  // Checks that n bytes are left; on failure records it (against `op`) and returns false.
  bool Require(size_t n, const char* op);
  // Records the first failure; later calls are ignored.
  void Fail(Failure f, const char* op, size_t at, uint64_t needed, size_t available);
  // Little-endian/big-endian value of the n (<= 8) bytes at pos_, then advances. Caller checked.
  uint64_t TakeLe(size_t n);
  uint64_t TakeBe(size_t n);

  std::span<const std::byte> data_;
  size_t pos_ = 0;

  // Details of the first failure, for status().
  Failure failure_ = Failure::kNone;
  const char* fail_op_ = "";
  uint64_t fail_needed_ = 0;
  size_t fail_available_ = 0;
  uint64_t fail_value_ = 0;  // the bad prefix byte, or the declared length
};

}  // namespace sluice::wire
