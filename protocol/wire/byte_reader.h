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
// The reads are defined here, inline: on the success path a read is one comparison with what is
// left and a load (the row decoders call them once per value); everything that fails goes
// through the out-of-line Fail* functions in byte_reader.cc.
//
// Example:
//   ByteReader r(packet);
//   uint8_t tag = r.ReadU8();
//   uint64_t affected = r.ReadLenencInt();
//   std::string_view info = r.ReadRestString();
//   if (!r.ok()) return r.status("OK packet");

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"

namespace sluice::wire {

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> data) : data_(data), limit_(data.size()) {}
  explicit ByteReader(std::string_view data)
      : data_(reinterpret_cast<const std::byte*>(data.data()), data.size()),
        limit_(data.size()) {}

  // True until the first failed read.
  bool ok() const { return failure_ == Failure::kNone; }
  // Bytes consumed so far. After a failure: the offset at which the failing read started.
  size_t position() const { return pos_; }
  // Bytes not yet consumed; 0 after a failure.
  size_t remaining() const { return limit_ - pos_; }
  // Total size of the input.
  size_t size() const { return data_.size(); }

  // OK while ok(). Otherwise DataLossError such as
  //   "ROTATE_EVENT: truncated input at offset 19 reading u64le: needed 8 bytes, 3 available"
  // `what` names the structure being decoded; it may be empty.
  absl::Status status(std::string_view what) const;

  // Little-endian unsigned integers (MySQL protocol and binlog).
  uint8_t ReadU8() { return Has(1) ? static_cast<uint8_t>(TakeLe<1>()) : FailFixed(1, "u8"); }
  uint16_t ReadU16Le() {
    return Has(2) ? static_cast<uint16_t>(TakeLe<2>()) : FailFixed(2, "u16le");
  }
  uint32_t ReadU24Le() {
    return Has(3) ? static_cast<uint32_t>(TakeLe<3>()) : FailFixed(3, "u24le");
  }
  uint32_t ReadU32Le() {
    return Has(4) ? static_cast<uint32_t>(TakeLe<4>()) : FailFixed(4, "u32le");
  }
  uint64_t ReadU48Le() { return Has(6) ? TakeLe<6>() : FailFixed(6, "u48le"); }
  uint64_t ReadU64Le() { return Has(8) ? TakeLe<8>() : FailFixed(8, "u64le"); }

  // Big-endian integers, network order (Postgres protocol). Signed reads are two's complement
  // (unsigned-to-signed conversion is modular since C++20).
  uint16_t ReadU16Be() {
    return Has(2) ? static_cast<uint16_t>(TakeBe<2>()) : FailFixed(2, "u16be");
  }
  uint32_t ReadU32Be() {
    return Has(4) ? static_cast<uint32_t>(TakeBe<4>()) : FailFixed(4, "u32be");
  }
  uint64_t ReadU64Be() { return Has(8) ? TakeBe<8>() : FailFixed(8, "u64be"); }
  int16_t ReadI16Be() {
    return Has(2) ? static_cast<int16_t>(TakeBe<2>()) : static_cast<int16_t>(FailFixed(2, "i16be"));
  }
  int32_t ReadI32Be() {
    return Has(4) ? static_cast<int32_t>(TakeBe<4>()) : static_cast<int32_t>(FailFixed(4, "i32be"));
  }
  int64_t ReadI64Be() {
    return Has(8) ? static_cast<int64_t>(TakeBe<8>()) : static_cast<int64_t>(FailFixed(8, "i64be"));
  }

  // The next byte without consuming it. Fails (and stays failed) on an empty reader.
  uint8_t PeekU8() {
    return Has(1) ? static_cast<uint8_t>(data_[pos_]) : FailFixed(1, "u8 (peek)");
  }

  // MySQL length-encoded integer: < 0xFB is the value itself; 0xFC, 0xFD, 0xFE are followed by a
  // 2-, 3- or 8-byte little-endian value. 0xFB and 0xFF fail (see above).
  uint64_t ReadLenencInt() {
    if (Has(1)) {
      const auto first = static_cast<uint8_t>(data_[pos_]);
      if (first < kLenencFirstPrefix) {
        ++pos_;
        return first;
      }
    }
    return ReadLenencIntSlow();
  }
  // MySQL length-encoded string: a length-encoded integer, then that many bytes.
  std::string_view ReadLenencString();
  // Bytes up to the next NUL; consumes the NUL, which is not part of the result.
  std::string_view ReadNulString();
  // Exactly n bytes, as text or as raw bytes. No copy.
  std::string_view ReadString(size_t n) {
    if (!HasN(n)) {
      FailFixed(n, "fixed-length string");
      return {};
    }
    std::string_view out(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return out;
  }
  std::span<const std::byte> ReadBytes(size_t n) {
    if (!HasN(n)) {
      FailFixed(n, "fixed-length bytes");
      return {};
    }
    std::span<const std::byte> out(data_.data() + pos_, n);
    pos_ += n;
    return out;
  }
  // Everything that is left (MySQL "string<EOF>"). Never fails; empty after a failure.
  std::string_view ReadRestString() {
    return ok() ? ReadString(data_.size() - pos_) : std::string_view();
  }
  std::span<const std::byte> ReadRestBytes() {
    return ok() ? ReadBytes(data_.size() - pos_) : std::span<const std::byte>();
  }
  // Consumes n bytes without looking at them.
  void Skip(size_t n) {
    if (HasN(n)) {
      pos_ += n;
    } else {
      FailFixed(n, "skipped bytes");
    }
  }

 private:
  enum class Failure : uint8_t {
    kNone,
    kTruncated,      // a fixed-width read ran past the end
    kBadLenenc,      // length-encoded integer prefix 0xFB or 0xFF
    kLengthTooLong,  // a declared length exceeds what follows
    kNoTerminator,   // no NUL before the end
  };
  // Length-encoded integer first bytes from here on are not the value itself (0xFB NULL, 0xFC,
  // 0xFD, 0xFE prefixes, 0xFF invalid).
  static constexpr uint8_t kLenencFirstPrefix = 0xFB;

  // At least `n` (a constant >= 1) bytes are left; false after a failure, when limit_ == pos_.
  bool Has(size_t n) const { return n <= limit_ - pos_; }
  // The same for any `n`, 0 included (a read of 0 bytes fails after a failure, too).
  bool HasN(size_t n) const { return n <= limit_ - pos_ && (n != 0 || ok()); }
  // Records a truncated fixed-width read of n bytes at pos_ (unless already failed); returns 0.
  [[gnu::cold, gnu::noinline]] uint64_t FailFixed(size_t n, const char* op);
  [[gnu::noinline]] uint64_t ReadLenencIntSlow();
  // Records the first failure; later calls are ignored.
  void Fail(Failure f, const char* op, size_t at, uint64_t needed, size_t available);

  // The little-endian value of the N (<= 8) bytes at p, on a little-endian machine. Widths that
  // are not a power of two are put together from power-of-two loads: a memcpy of 3, 5, 6 or 7
  // bytes into a uint64_t compiles to narrower stores into a stack slot and one wide load of
  // it, which the CPU cannot forward from the stores (a stall of ~12 cycles per value).
  template <size_t N>
  static uint64_t LoadLe(const std::byte* p) {
    if constexpr (N == 1 || N == 2 || N == 4 || N == 8) {
      std::conditional_t<
          N == 1, uint8_t,
          std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>
          x;
      std::memcpy(&x, p, N);
      return x;
    } else if constexpr (N == 3) {
      return LoadLe<2>(p) | LoadLe<1>(p + 2) << 16;
    } else {
      static_assert(N > 4 && N < 8);
      return LoadLe<4>(p) | LoadLe<N - 4>(p + 4) << 32;
    }
  }

  // Little-endian/big-endian value of the N (<= 8) bytes at pos_, then advances. Caller checked.
  template <size_t N>
  uint64_t TakeLe() {
    uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      v = LoadLe<N>(data_.data() + pos_);
    } else {
      for (size_t i = 0; i < N; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    }
    pos_ += N;
    return v;
  }
  template <size_t N>
  uint64_t TakeBe() {
    uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      v = __builtin_bswap64(LoadLe<N>(data_.data() + pos_)) >> (64 - 8 * N);
    } else {
      for (size_t i = 0; i < N; ++i) v = (v << 8) | static_cast<uint64_t>(data_[pos_ + i]);
    }
    pos_ += N;
    return v;
  }

  std::span<const std::byte> data_;
  size_t pos_ = 0;
  // data_.size() while ok(); pos_ after a failure, so that nothing is left to read.
  size_t limit_ = 0;

  // Details of the first failure, for status().
  Failure failure_ = Failure::kNone;
  const char* fail_op_ = "";
  uint64_t fail_needed_ = 0;
  size_t fail_available_ = 0;
  uint64_t fail_value_ = 0;  // the bad prefix byte, or the declared length
};

}  // namespace sluice::wire
