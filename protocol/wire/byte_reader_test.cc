#include "protocol/wire/byte_reader.h"

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::wire {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Builds a byte string from a list of byte values.
std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) {
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// Asserts that the reader failed and that every later read is an inert zero/empty.
void ExpectStickyFailure(ByteReader& r, size_t failed_at) {
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.position(), failed_at);
  EXPECT_EQ(r.remaining(), 0u);
  const std::string before = std::string(r.status("x").message());
  EXPECT_EQ(r.ReadU8(), 0);
  EXPECT_EQ(r.PeekU8(), 0);
  EXPECT_EQ(r.ReadU16Le(), 0);
  EXPECT_EQ(r.ReadU24Le(), 0u);
  EXPECT_EQ(r.ReadU32Le(), 0u);
  EXPECT_EQ(r.ReadU48Le(), 0u);
  EXPECT_EQ(r.ReadU64Le(), 0u);
  EXPECT_EQ(r.ReadU16Be(), 0);
  EXPECT_EQ(r.ReadU32Be(), 0u);
  EXPECT_EQ(r.ReadU64Be(), 0u);
  EXPECT_EQ(r.ReadI16Be(), 0);
  EXPECT_EQ(r.ReadI32Be(), 0);
  EXPECT_EQ(r.ReadI64Be(), 0);
  EXPECT_EQ(r.ReadLenencInt(), 0u);
  EXPECT_TRUE(r.ReadLenencString().empty());
  EXPECT_TRUE(r.ReadNulString().empty());
  EXPECT_TRUE(r.ReadString(0).empty());
  EXPECT_TRUE(r.ReadBytes(0).empty());
  EXPECT_TRUE(r.ReadRestString().empty());
  EXPECT_TRUE(r.ReadRestBytes().empty());
  r.Skip(0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.position(), failed_at);
  EXPECT_EQ(r.remaining(), 0u);
  // The first failure is the one reported.
  EXPECT_EQ(r.status("x").message(), before);
}

TEST(ByteReaderTest, EmptyInputIsOkUntilRead) {
  ByteReader r(std::string_view{});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_TRUE(r.status("nothing").ok());
  EXPECT_TRUE(r.ReadRestString().empty());
  EXPECT_TRUE(r.ReadString(0).empty());
  r.Skip(0);
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, ConstructsFromSpan) {
  const std::array<std::byte, 2> data = {std::byte{0x34}, std::byte{0x12}};
  ByteReader r{std::span<const std::byte>(data)};
  EXPECT_EQ(r.ReadU16Le(), 0x1234);
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, LittleEndianIntegers) {
  const std::string data = Bytes({0xAB,                                            // u8
                                  0x34, 0x12,                                      // u16
                                  0x56, 0x34, 0x12,                                // u24
                                  0x78, 0x56, 0x34, 0x12,                          // u32
                                  0x06, 0x05, 0x04, 0x03, 0x02, 0x01,              // u48
                                  0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x81}  // u64
  );
  ByteReader r(data);
  EXPECT_EQ(r.ReadU8(), 0xAB);
  EXPECT_EQ(r.position(), 1u);
  EXPECT_EQ(r.ReadU16Le(), 0x1234);
  EXPECT_EQ(r.ReadU24Le(), 0x123456u);
  EXPECT_EQ(r.ReadU32Le(), 0x12345678u);
  EXPECT_EQ(r.ReadU48Le(), 0x010203040506ull);
  EXPECT_EQ(r.ReadU64Le(), 0x8102030405060708ull);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.position(), data.size());
}

// Every width at every offset of varied bytes, the last read ending at the input's last byte: the
// value is the bytes put together one at a time (the 3- and 6-byte reads are assembled from
// narrower loads).
TEST(ByteReaderTest, LittleEndianWidthsAtEveryOffset) {
  std::string data;
  for (int i = 0; i < 64; ++i) data.push_back(static_cast<char>(i * 37 + 0x91));
  auto want = [&](size_t at, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(data[at + i])} << (8 * i);
    return v;
  };
  for (size_t at = 0; at + 8 <= data.size(); ++at) {
    const std::string_view tail = std::string_view(data).substr(at);
    for (size_t n : {2, 3, 4, 6, 8}) {
      ByteReader r(tail.substr(0, n));
      uint64_t got = 0;
      if (n == 2) got = r.ReadU16Le();
      if (n == 3) got = r.ReadU24Le();
      if (n == 4) got = r.ReadU32Le();
      if (n == 6) got = r.ReadU48Le();
      if (n == 8) got = r.ReadU64Le();
      EXPECT_TRUE(r.ok());
      EXPECT_EQ(got, want(at, n)) << "width " << n << " at " << at;
      EXPECT_EQ(r.remaining(), 0u);
    }
  }
}

TEST(ByteReaderTest, LittleEndianMaxValues) {
  const std::string data(3 + 6 + 8, '\xff');
  ByteReader r(data);
  EXPECT_EQ(r.ReadU24Le(), 0xFFFFFFu);
  EXPECT_EQ(r.ReadU48Le(), 0xFFFFFFFFFFFFull);
  EXPECT_EQ(r.ReadU64Le(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, BigEndianIntegers) {
  const std::string data = Bytes({0x12, 0x34,                                      // u16
                                  0x12, 0x34, 0x56, 0x78,                          // u32
                                  0x81, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // u64
                                  0xFF, 0xFE,                                      // i16 -2
                                  0x80, 0x00, 0x00, 0x00,                          // i32 min
                                  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // i64 -1
                                  0x7F, 0xFF,                                      // i16 max
                                  0x00, 0x00, 0x00, 0x2A,                          // i32 42
                                  0x80, 0,    0,    0,    0,    0,    0,    0});   // i64 min
  ByteReader r(data);
  EXPECT_EQ(r.ReadU16Be(), 0x1234);
  EXPECT_EQ(r.ReadU32Be(), 0x12345678u);
  EXPECT_EQ(r.ReadU64Be(), 0x8102030405060708ull);
  EXPECT_EQ(r.ReadI16Be(), -2);
  EXPECT_EQ(r.ReadI32Be(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(r.ReadI64Be(), -1);
  EXPECT_EQ(r.ReadI16Be(), std::numeric_limits<int16_t>::max());
  EXPECT_EQ(r.ReadI32Be(), 42);
  EXPECT_EQ(r.ReadI64Be(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, PeekDoesNotConsume) {
  const std::string data = Bytes({0xFB, 0x01});
  ByteReader r(data);
  EXPECT_EQ(r.PeekU8(), 0xFB);
  EXPECT_EQ(r.position(), 0u);
  EXPECT_EQ(r.ReadU8(), 0xFB);
  EXPECT_EQ(r.PeekU8(), 0x01);
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(ByteReaderTest, LenencIntAllWidths) {
  const std::string data = Bytes({0x00,                    // 0
                                  0xFA,                    // 250
                                  0xFC, 0xFB, 0x00,        // 251
                                  0xFC, 0xFF, 0xFF,        // 65535
                                  0xFD, 0x00, 0x00, 0x01,  // 65536
                                  0xFD, 0xFF, 0xFF, 0xFF,  // 2^24-1
                                  0xFE, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  ByteReader r(data);
  EXPECT_EQ(r.ReadLenencInt(), 0u);
  EXPECT_EQ(r.ReadLenencInt(), 250u);
  EXPECT_EQ(r.ReadLenencInt(), 251u);
  EXPECT_EQ(r.ReadLenencInt(), 65535u);
  EXPECT_EQ(r.ReadLenencInt(), 65536u);
  EXPECT_EQ(r.ReadLenencInt(), 0xFFFFFFu);
  EXPECT_EQ(r.ReadLenencInt(), 0x0807060504030201ull);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, LenencStringAndZeroLength) {
  std::string data = Bytes({0x03}) + "abc" + Bytes({0x00}) + Bytes({0xFC, 0x2C, 0x01});
  data += std::string(300, 'z');
  ByteReader r(data);
  EXPECT_EQ(r.ReadLenencString(), "abc");
  EXPECT_EQ(r.ReadLenencString(), "");
  EXPECT_TRUE(r.ok());
  std::string_view big = r.ReadLenencString();
  EXPECT_EQ(big.size(), 300u);
  EXPECT_EQ(big, std::string(300, 'z'));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, ViewsPointIntoInput) {
  const std::string data = std::string("\x02hi", 3) + "fixed" + std::string("nul\0", 4) + "rest";
  ByteReader r(data);
  std::string_view a = r.ReadLenencString();
  std::string_view b = r.ReadString(5);
  std::string_view c = r.ReadNulString();
  std::string_view d = r.ReadRestString();
  EXPECT_EQ(a.data(), data.data() + 1);
  EXPECT_EQ(b.data(), data.data() + 3);
  EXPECT_EQ(c.data(), data.data() + 8);
  EXPECT_EQ(d.data(), data.data() + 12);
  EXPECT_EQ(a, "hi");
  EXPECT_EQ(b, "fixed");
  EXPECT_EQ(c, "nul");
  EXPECT_EQ(d, "rest");
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, NulStringsIncludingEmpty) {
  const std::string data("one\0\0two\0", 9);
  ByteReader r(data);
  EXPECT_EQ(r.ReadNulString(), "one");
  EXPECT_EQ(r.ReadNulString(), "");
  EXPECT_EQ(r.ReadNulString(), "two");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReaderTest, FixedBytesAndSkip) {
  const std::string data = Bytes({1, 2, 3, 4, 5, 6});
  ByteReader r(data);
  r.Skip(1);
  std::span<const std::byte> s = r.ReadBytes(3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], std::byte{2});
  EXPECT_EQ(s[2], std::byte{4});
  EXPECT_EQ(static_cast<const void*>(s.data()), static_cast<const void*>(data.data() + 1));
  EXPECT_EQ(r.position(), 4u);
  EXPECT_EQ(r.remaining(), 2u);
  std::span<const std::byte> rest = r.ReadRestBytes();
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.ReadRestBytes().empty());
  EXPECT_TRUE(r.ok());
}

// ---- Failure paths. Each checks the message, the offset and stickiness. ----

struct ShortCase {
  const char* op;
  size_t width;
  void (*read)(ByteReader&);
};

TEST(ByteReaderFailureTest, EveryFixedWidthReadFailsOnShortInput) {
  const ShortCase cases[] = {
      {"u8", 1, [](ByteReader& r) { r.ReadU8(); }},
      {"u8 (peek)", 1, [](ByteReader& r) { r.PeekU8(); }},
      {"u16le", 2, [](ByteReader& r) { r.ReadU16Le(); }},
      {"u24le", 3, [](ByteReader& r) { r.ReadU24Le(); }},
      {"u32le", 4, [](ByteReader& r) { r.ReadU32Le(); }},
      {"u48le", 6, [](ByteReader& r) { r.ReadU48Le(); }},
      {"u64le", 8, [](ByteReader& r) { r.ReadU64Le(); }},
      {"u16be", 2, [](ByteReader& r) { r.ReadU16Be(); }},
      {"u32be", 4, [](ByteReader& r) { r.ReadU32Be(); }},
      {"u64be", 8, [](ByteReader& r) { r.ReadU64Be(); }},
      {"i16be", 2, [](ByteReader& r) { r.ReadI16Be(); }},
      {"i32be", 4, [](ByteReader& r) { r.ReadI32Be(); }},
      {"i64be", 8, [](ByteReader& r) { r.ReadI64Be(); }},
      {"fixed-length string", 5, [](ByteReader& r) { r.ReadString(5); }},
      {"fixed-length bytes", 5, [](ByteReader& r) { r.ReadBytes(5); }},
      {"skipped bytes", 5, [](ByteReader& r) { r.Skip(5); }},
  };
  for (const ShortCase& c : cases) {
    SCOPED_TRACE(c.op);
    // Two leading bytes are consumed first, then one byte too few is left.
    const std::string data(2 + c.width - 1, '\x01');
    ByteReader r(data);
    r.Skip(2);
    ASSERT_TRUE(r.ok());
    c.read(r);
    EXPECT_FALSE(r.ok());
    absl::Status st = r.status("test record");
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(st.message(), AllOf(HasSubstr("test record: "), HasSubstr("offset 2"),
                                    HasSubstr(std::string("reading ") + c.op),
                                    HasSubstr("needed " + std::to_string(c.width) + " bytes"),
                                    HasSubstr(std::to_string(c.width - 1) + " available")));
    ExpectStickyFailure(r, 2);
  }
}

TEST(ByteReaderFailureTest, ReadOnEmptyInput) {
  ByteReader r(std::string_view{});
  EXPECT_EQ(r.ReadU32Be(), 0u);
  EXPECT_THAT(r.status("StartupMessage").message(),
              "StartupMessage: truncated input at offset 0 reading u32be: needed 4 bytes, 0 "
              "available");
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, FailedReadConsumesNothingAndKeepsData) {
  const std::string data = Bytes({0x01, 0x02, 0x03});
  ByteReader r(data);
  EXPECT_EQ(r.ReadU8(), 1);
  EXPECT_EQ(r.ReadU32Le(), 0u);  // only 2 left
  EXPECT_EQ(r.position(), 1u);
  // A read that would have fit before the failure still returns zero afterwards.
  EXPECT_EQ(r.ReadU8(), 0);
  EXPECT_EQ(r.position(), 1u);
}

TEST(ByteReaderFailureTest, FirstFailureWins) {
  const std::string data = Bytes({0x01});
  ByteReader r(data);
  r.ReadU16Be();
  r.ReadU64Le();
  r.ReadNulString();
  EXPECT_THAT(r.status("").message(),
              AllOf(HasSubstr("reading u16be"), HasSubstr("needed 2 bytes, 1 available")));
}

TEST(ByteReaderFailureTest, EmptyWhatHasNoPrefix) {
  ByteReader r(std::string_view{});
  r.ReadU8();
  EXPECT_EQ(r.status("").message(),
            "truncated input at offset 0 reading u8: needed 1 bytes, 0 available");
}

TEST(ByteReaderFailureTest, LenencPrefixFF) {
  const std::string data = Bytes({0x00, 0xFF, 0x01, 0x02});
  ByteReader r(data);
  r.Skip(1);
  EXPECT_EQ(r.ReadLenencInt(), 0u);
  absl::Status st = r.status("OK packet");
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(),
              AllOf(HasSubstr("OK packet: "), HasSubstr("prefix 0xff"), HasSubstr("offset 1"),
                    HasSubstr("length-encoded integer"), HasSubstr("3 bytes available")));
  ExpectStickyFailure(r, 1);
}

TEST(ByteReaderFailureTest, LenencPrefixFBIsNullNotALength) {
  const std::string data = Bytes({0xFB});
  ByteReader r(data);
  EXPECT_EQ(r.ReadLenencInt(), 0u);
  EXPECT_THAT(r.status("row").message(), AllOf(HasSubstr("prefix 0xfb"), HasSubstr("offset 0")));
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, LenencIntTruncatedAfterPrefix) {
  struct Case {
    int prefix;
    size_t needed;
  };
  for (Case c : {Case{0xFC, 3}, Case{0xFD, 4}, Case{0xFE, 9}}) {
    SCOPED_TRACE(c.prefix);
    std::string data = Bytes({0x07, c.prefix});
    data += std::string(c.needed - 2, '\x01');  // one byte short
    ByteReader r(data);
    r.Skip(1);
    EXPECT_EQ(r.ReadLenencInt(), 0u);
    EXPECT_THAT(r.status("x").message(),
                AllOf(HasSubstr("truncated"), HasSubstr("offset 1"),
                      HasSubstr("reading length-encoded integer"),
                      HasSubstr("needed " + std::to_string(c.needed) + " bytes"),
                      HasSubstr(std::to_string(c.needed - 1) + " available")));
    ExpectStickyFailure(r, 1);
  }
}

TEST(ByteReaderFailureTest, LenencIntOnEmpty) {
  ByteReader r(std::string_view{});
  r.ReadLenencInt();
  EXPECT_THAT(r.status("x").message(),
              AllOf(HasSubstr("reading length-encoded integer"), HasSubstr("needed 1 bytes")));
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, LenencStringLengthBeyondRemaining) {
  const std::string data = Bytes({0xAA, 0xAA, 0x05}) + "abcd";
  ByteReader r(data);
  r.Skip(2);
  EXPECT_TRUE(r.ReadLenencString().empty());
  absl::Status st = r.status("column value");
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), AllOf(HasSubstr("column value: "), HasSubstr("declared length 5"),
                                  HasSubstr("offset 2"), HasSubstr("reading length-encoded string"),
                                  HasSubstr("needed 6 bytes, 5 available")));
  ExpectStickyFailure(r, 2);
}

TEST(ByteReaderFailureTest, LenencStringHugeLengthDoesNotOverflow) {
  // 0xFE + 2^64-1: the reported need saturates instead of wrapping.
  const std::string data = Bytes({0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) + "tail";
  ByteReader r(data);
  EXPECT_TRUE(r.ReadLenencString().empty());
  EXPECT_THAT(r.status("x").message(),
              AllOf(HasSubstr("declared length 18446744073709551615"),
                    HasSubstr("needed 18446744073709551615 bytes, 13 available")));
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, LenencStringBadPrefix) {
  const std::string data = Bytes({0xFF, 0x00});
  ByteReader r(data);
  EXPECT_TRUE(r.ReadLenencString().empty());
  EXPECT_THAT(r.status("x").message(),
              AllOf(HasSubstr("prefix 0xff"), HasSubstr("reading length-encoded string")));
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, LenencStringTruncatedPrefix) {
  const std::string data = Bytes({0x41, 0xFD, 0x01});
  ByteReader r(data);
  r.Skip(1);
  EXPECT_TRUE(r.ReadLenencString().empty());
  EXPECT_THAT(r.status("x").message(), AllOf(HasSubstr("truncated"), HasSubstr("offset 1"),
                                             HasSubstr("reading length-encoded string"),
                                             HasSubstr("needed 4 bytes, 2 available")));
  ExpectStickyFailure(r, 1);
}

TEST(ByteReaderFailureTest, NulStringWithoutTerminator) {
  const std::string data = std::string("\x01", 1) + "abc";
  ByteReader r(data);
  r.Skip(1);
  EXPECT_TRUE(r.ReadNulString().empty());
  absl::Status st = r.status("ParameterStatus");
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), AllOf(HasSubstr("ParameterStatus: "), HasSubstr("missing NUL"),
                                  HasSubstr("offset 1"), HasSubstr("NUL-terminated string"),
                                  HasSubstr("needed at least 4 bytes, 3 available")));
  ExpectStickyFailure(r, 1);
}

TEST(ByteReaderFailureTest, NulStringOnEmpty) {
  ByteReader r(std::string_view{});
  EXPECT_TRUE(r.ReadNulString().empty());
  EXPECT_THAT(r.status("x").message(), HasSubstr("needed at least 1 bytes, 0 available"));
  ExpectStickyFailure(r, 0);
}

TEST(ByteReaderFailureTest, HugeFixedLengthFailsWithoutOverflow) {
  const std::string data = "abc";
  ByteReader r(data);
  r.Skip(1);
  EXPECT_TRUE(r.ReadString(std::numeric_limits<size_t>::max()).empty());
  EXPECT_THAT(r.status("x").message(), HasSubstr("needed 18446744073709551615 bytes, 2 available"));
  ExpectStickyFailure(r, 1);

  ByteReader r2(data);
  r2.Skip(2);
  r2.Skip(std::numeric_limits<size_t>::max());
  EXPECT_FALSE(r2.ok());
  EXPECT_EQ(r2.position(), 2u);
}

TEST(ByteReaderFailureTest, StatusIsOkWhileOk) {
  const std::string data = "ab";
  ByteReader r(data);
  r.ReadU16Le();
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.status("anything").ok());
}

// Reading every prefix of a valid message must fail cleanly, never crash or overread
// (run under ASan to make that meaningful).
TEST(ByteReaderFailureTest, EveryTruncationOfAMixedRecordFailsCleanly) {
  std::string full = Bytes({0x2A, 0x34, 0x12, 0xFC, 0x00, 0x01, 0x03}) + "abc" +
                     std::string("name\0", 5) + Bytes({0, 0, 0, 7});
  auto read_all = [](ByteReader& r) {
    r.ReadU8();
    r.ReadU16Le();
    r.ReadLenencInt();
    r.ReadLenencString();
    r.ReadNulString();
    return r.ReadI32Be();
  };
  {
    ByteReader r(full);
    EXPECT_EQ(read_all(r), 7);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
  }
  for (size_t len = 0; len < full.size(); ++len) {
    SCOPED_TRACE(len);
    std::vector<char> heap(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    ByteReader r(std::string_view(heap.data(), heap.size()));
    read_all(r);
    EXPECT_FALSE(r.ok());
    EXPECT_LE(r.position(), len);
    EXPECT_EQ(r.status("record").code(), absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace sluice::wire
