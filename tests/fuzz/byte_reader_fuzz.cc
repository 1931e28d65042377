// Fuzzes protocol/wire/byte_reader.h: a program of reads, chosen by the input, runs against a
// ByteReader and against a reference model written from the header's contract. Every call must
// agree with the model (value, view, position, remaining, ok) and the reader must never touch a
// byte outside its input (ASan).
//
// The input layout is in byte_reader_ops.h. The bytes the reader reads are the end of
// libFuzzer's buffer, so an overread traps under ASan.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "protocol/wire/byte_reader.h"
#include "tests/fuzz/byte_reader_ops.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sluice::wire::ByteReader;
using namespace sluice::fuzz;  // the opcodes

// The program: opcode and length bytes, read from the front of the input.
class Program {
 public:
  explicit Program(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ >= bytes_.size(); }
  uint8_t Next() { return done() ? 0 : static_cast<uint8_t>(bytes_[pos_++]); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// What the header promises, computed independently: a cursor that fails the same way.
class Model {
 public:
  explicit Model(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t left() const { return ok_ ? data_.size() - pos_ : 0; }

  // A fixed-width integer of `width` bytes; nullopt-like (ok_ false) on a short input.
  uint64_t Int(size_t width, bool little_endian) {
    if (!Need(width)) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) {
      const uint64_t b = static_cast<uint8_t>(data_[pos_ + i]);
      v = little_endian ? v | (b << (8 * i)) : (v << 8) | b;
    }
    pos_ += width;
    return v;
  }
  uint8_t Peek() { return Need(1) ? static_cast<uint8_t>(data_[pos_]) : 0; }
  uint64_t LenencInt() {
    if (!Need(1)) return 0;
    const uint8_t first = static_cast<uint8_t>(data_[pos_]);
    if (first == 0xFB || first == 0xFF) return Fail();
    const size_t extra = first == 0xFC ? 2 : first == 0xFD ? 3 : first == 0xFE ? 8 : 0;
    if (!Need(1 + extra)) return 0;
    if (extra == 0) {
      ++pos_;
      return first;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < extra; ++i) {
      v |= uint64_t{static_cast<uint8_t>(data_[pos_ + 1 + i])} << (8 * i);
    }
    pos_ += 1 + extra;
    return v;
  }
  // Returns the offset of the string in data_ (meaningful only while ok()).
  std::string_view LenencString() {
    if (!ok_) return {};
    const size_t start = pos_;
    const uint64_t length = LenencInt();
    if (!ok_) return {};
    if (length > data_.size() - pos_) {
      pos_ = start;
      Fail();
      return {};
    }
    const std::string_view out = data_.substr(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return out;
  }
  std::string_view NulString() {
    if (!ok_) return {};
    const size_t nul = data_.find('\0', pos_);
    if (nul == std::string_view::npos) {
      Fail();
      return {};
    }
    const std::string_view out = data_.substr(pos_, nul - pos_);
    pos_ = nul + 1;
    return out;
  }
  std::string_view Fixed(size_t n) {
    if (!Need(n)) return {};
    const std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string_view Rest() { return ok_ ? Fixed(data_.size() - pos_) : std::string_view(); }

 private:
  bool Need(size_t n) {
    if (!ok_) return false;
    if (n > data_.size() - pos_) {
      Fail();
      return false;
    }
    return true;
  }
  uint64_t Fail() {
    ok_ = false;  // pos_ stays where the failing call started
    return 0;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

std::string Where(uint8_t op, size_t step) {
  return absl::StrCat("op ", static_cast<int>(op), " at step ", step);
}

// A length for ReadString/ReadBytes/Skip, chosen to hit the edges.
size_t NextLength(Program& program, size_t remaining) {
  const uint8_t kind = program.Next();
  switch (kind % 8) {
    case kLenZero:
      return 0;
    case kLenRemaining:
      return remaining;
    case kLenRemainingPlusOne:
      return remaining + 1;
    case kLenSizeMax:
      return std::numeric_limits<size_t>::max();
    case kLenWrapsPosition:  // pos + n wraps around
      return std::numeric_limits<size_t>::max() - remaining + 1;
    case kLenRemainingMinusOne:
      return remaining == 0 ? 0 : remaining - 1;
    case kLenNextByte:
      return program.Next();
    default: {
      const size_t low = program.Next();
      return low | (size_t{program.Next()} << 8);
    }
  }
}

void CheckView(std::string_view got, std::string_view want, const Model& model,
               std::string_view data, const std::string& where) {
  SLUICE_FUZZ_CHECK(got.size() == want.size(),
                    absl::StrCat(where, ": view of ", got.size(), " bytes, want ", want.size()));
  if (model.ok()) {
    // The view points into the input, at the same place as the model's.
    SLUICE_FUZZ_CHECK(got.data() == want.data() || want.empty(),
                      absl::StrCat(where, ": view does not point at the input"));
    if (!got.empty()) {
      SLUICE_FUZZ_CHECK(
          got.data() >= data.data() && got.data() + got.size() <= data.data() + data.size(),
          absl::StrCat(where, ": view outside the input"));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t program_size = std::min<size_t>(data[0] & 0x7F, size - 1);
  const bool use_span = (data[0] & 0x80) != 0;
  Program program(input.substr(1, program_size));
  const std::string_view bytes = input.substr(1 + program_size);

  ByteReader reader = use_span ? ByteReader(std::as_bytes(std::span(bytes.data(), bytes.size())))
                               : ByteReader(bytes);
  Model model(bytes);
  SLUICE_FUZZ_CHECK(reader.size() == bytes.size());

  for (size_t step = 0; !program.done(); ++step) {
    const uint8_t op = program.Next() % kOpCount;
    const std::string where = Where(op, step);
    const bool was_ok = model.ok();
    switch (op) {
      case kU8:
        SLUICE_FUZZ_CHECK(reader.ReadU8() == model.Int(1, true), where);
        break;
      case kU16Le:
        SLUICE_FUZZ_CHECK(reader.ReadU16Le() == model.Int(2, true), where);
        break;
      case kU24Le:
        SLUICE_FUZZ_CHECK(reader.ReadU24Le() == model.Int(3, true), where);
        break;
      case kU32Le:
        SLUICE_FUZZ_CHECK(reader.ReadU32Le() == model.Int(4, true), where);
        break;
      case kU48Le:
        SLUICE_FUZZ_CHECK(reader.ReadU48Le() == model.Int(6, true), where);
        break;
      case kU64Le:
        SLUICE_FUZZ_CHECK(reader.ReadU64Le() == model.Int(8, true), where);
        break;
      case kU16Be:
        SLUICE_FUZZ_CHECK(reader.ReadU16Be() == model.Int(2, false), where);
        break;
      case kU32Be:
        SLUICE_FUZZ_CHECK(reader.ReadU32Be() == model.Int(4, false), where);
        break;
      case kU64Be:
        SLUICE_FUZZ_CHECK(reader.ReadU64Be() == model.Int(8, false), where);
        break;
      case kI16Be:
        SLUICE_FUZZ_CHECK(reader.ReadI16Be() == static_cast<int16_t>(model.Int(2, false)), where);
        break;
      case kI32Be:
        SLUICE_FUZZ_CHECK(reader.ReadI32Be() == static_cast<int32_t>(model.Int(4, false)), where);
        break;
      case kI64Be:
        SLUICE_FUZZ_CHECK(reader.ReadI64Be() == static_cast<int64_t>(model.Int(8, false)), where);
        break;
      case kPeekU8: {
        const size_t before = reader.position();
        SLUICE_FUZZ_CHECK(reader.PeekU8() == model.Peek(), where);
        if (reader.ok()) SLUICE_FUZZ_CHECK(reader.position() == before, where + ": peek moved");
        break;
      }
      case kLenencInt:
        SLUICE_FUZZ_CHECK(reader.ReadLenencInt() == model.LenencInt(), where);
        break;
      case kLenencString: {
        const std::string_view got = reader.ReadLenencString();
        CheckView(got, model.LenencString(), model, bytes, where);
        break;
      }
      case kNulString: {
        const std::string_view got = reader.ReadNulString();
        const std::string_view want = model.NulString();
        CheckView(got, want, model, bytes, where);
        SLUICE_FUZZ_CHECK(got.find('\0') == std::string_view::npos, where + ": NUL in result");
        break;
      }
      case kString: {
        const size_t n = NextLength(program, reader.remaining());
        CheckView(reader.ReadString(n), model.Fixed(n), model, bytes, where);
        break;
      }
      case kBytes: {
        const size_t n = NextLength(program, reader.remaining());
        const std::span<const std::byte> got = reader.ReadBytes(n);
        CheckView(std::string_view(reinterpret_cast<const char*>(got.data()), got.size()),
                  model.Fixed(n), model, bytes, where);
        break;
      }
      case kSkip: {
        const size_t n = NextLength(program, reader.remaining());
        reader.Skip(n);
        model.Fixed(n);
        break;
      }
      case kRestString: {
        CheckView(reader.ReadRestString(), model.Rest(), model, bytes, where);
        SLUICE_FUZZ_CHECK(reader.ok() == was_ok, where + ": ReadRestString failed");
        break;
      }
      case kRestBytes: {
        const std::span<const std::byte> got = reader.ReadRestBytes();
        CheckView(std::string_view(reinterpret_cast<const char*>(got.data()), got.size()),
                  model.Rest(), model, bytes, where);
        SLUICE_FUZZ_CHECK(reader.ok() == was_ok, where + ": ReadRestBytes failed");
        break;
      }
      case kStatus:
      default:
        break;
    }

    // The invariants after every call.
    SLUICE_FUZZ_CHECK(reader.ok() == model.ok(),
                      absl::StrCat(where, ": ok() is ", reader.ok(), ", want ", model.ok()));
    SLUICE_FUZZ_CHECK(
        reader.position() == model.pos(),
        absl::StrCat(where, ": position() is ", reader.position(), ", want ", model.pos()));
    SLUICE_FUZZ_CHECK(reader.remaining() == model.left(), where);
    SLUICE_FUZZ_CHECK(reader.size() == bytes.size(), where);
    const absl::Status status = reader.status("fuzz");
    if (reader.ok()) {
      SLUICE_FUZZ_CHECK(reader.position() + reader.remaining() == reader.size(), where);
      SLUICE_FUZZ_CHECK(status.ok(), where + ": status() not OK while ok()");
    } else {
      SLUICE_FUZZ_CHECK(reader.remaining() == 0, where);
      SLUICE_FUZZ_CHECK(reader.position() <= reader.size(), where);
      SLUICE_FUZZ_CHECK(status.code() == absl::StatusCode::kDataLoss, where);
      const std::string_view message(status.message().data(), status.message().size());
      SLUICE_FUZZ_CHECK(message.rfind("fuzz: ", 0) == 0, where + ": " + std::string(message));
      SLUICE_FUZZ_CHECK(
          message.find(absl::StrCat("offset ", reader.position())) != std::string_view::npos,
          where + ": status does not name the offset: " + std::string(message));
    }
  }
  return 0;
}
