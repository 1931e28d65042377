#include "protocol/mysqlclient/packet.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::mysqlclient {
namespace {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

TEST(EncodePacketsTest, SmallPayload) {
  uint8_t next = 0;
  std::string out = EncodePackets("abc", 7, &next);
  EXPECT_EQ(out, S("\x03\x00\x00\x07" "abc"));
  EXPECT_EQ(next, 8);
}

TEST(EncodePacketsTest, EmptyPayload) {
  EXPECT_EQ(EncodePackets("", 0), S("\0\0\0\0"));
}

TEST(EncodePacketsTest, ExactlyMaxGetsEmptyTrailer) {
  std::string payload(kMaxPacketPayload, 'x');
  uint8_t next = 0;
  std::string out = EncodePackets(payload, 255, &next);
  ASSERT_EQ(out.size(), payload.size() + 8);
  EXPECT_EQ(out.substr(0, 4), S("\xff\xff\xff\xff"));
  EXPECT_EQ(out.substr(4 + kMaxPacketPayload), S("\0\0\0\0"));  // seq wrapped to 0
  EXPECT_EQ(next, 1);
}

TEST(PacketAssemblerTest, ByteByByte) {
  std::string wire = EncodePackets("hello", 0) + EncodePackets("world!", 1);
  PacketAssembler a;
  std::vector<std::string> got;
  for (char c : wire) {
    a.Feed(std::string_view(&c, 1));
    while (true) {
      auto p = a.Next();
      ASSERT_TRUE(p.ok()) << p.status();
      if (!p->has_value()) break;
      got.push_back(**p);
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "world!"}));
  EXPECT_EQ(a.expected_seq(), 2);
  EXPECT_EQ(a.buffered(), 0u);
}

TEST(PacketAssemblerTest, ReassemblesLargePayload) {
  std::string payload(kMaxPacketPayload * 2 + 10, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  std::string wire = EncodePackets(payload, 3);
  PacketAssembler a;
  a.set_expected_seq(3);
  // Feed in uneven chunks.
  size_t off = 0, step = 1000003;
  std::optional<std::string> got;
  while (off < wire.size()) {
    size_t n = std::min(step, wire.size() - off);
    a.Feed(std::string_view(wire).substr(off, n));
    off += n;
    auto p = a.Next();
    ASSERT_TRUE(p.ok()) << p.status();
    if (p->has_value()) {
      ASSERT_FALSE(got.has_value());
      got = std::move(**p);
    }
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), payload.size());
  EXPECT_TRUE(*got == payload);
  EXPECT_EQ(a.expected_seq(), 6);
}

// NextView: payloads in one packet are views of the fed bytes, a payload of several packets is
// joined into the scratch string; mixed with Next, the sequence ids and the buffer stay right.
TEST(PacketAssemblerTest, NextViewWithoutCopiesAndJoined) {
  std::string big(kMaxPacketPayload + 5, 'b');
  big[0] = 'B';
  big.back() = 'E';
  uint8_t seq = 0;
  std::string wire = EncodePackets("one", 0, &seq);
  wire += EncodePackets(big, seq, &seq);
  wire += EncodePackets("", seq, &seq);
  wire += EncodePackets("two", seq, &seq);
  PacketAssembler a;
  std::string scratch;
  std::vector<std::string> got;
  size_t off = 0;
  const size_t step = 4 * 1024 * 1024 + 7;
  while (off < wire.size()) {
    const size_t n = std::min(step, wire.size() - off);
    a.Feed(std::string_view(wire).substr(off, n));
    off += n;
    while (true) {
      if (got.size() == 2) {  // one payload through Next, between views
        auto p = a.Next();
        ASSERT_TRUE(p.ok()) << p.status();
        if (!p->has_value()) break;
        got.push_back(**p);
        continue;
      }
      auto v = a.NextView(scratch);
      ASSERT_TRUE(v.ok()) << v.status();
      if (!v->has_value()) break;
      if (got.size() == 1) {
        EXPECT_EQ(v->value().data(), scratch.data());  // joined
      } else {
        EXPECT_NE(v->value().data(), scratch.data());
      }
      got.emplace_back(**v);
    }
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "one");
  EXPECT_TRUE(got[1] == big);
  EXPECT_EQ(got[2], "");
  EXPECT_EQ(got[3], "two");
  EXPECT_EQ(a.expected_seq(), seq);
  EXPECT_EQ(a.buffered(), 0u);
  // A bad sequence id is the same sticky error through NextView.
  a.Feed(EncodePackets("x", static_cast<uint8_t>(seq + 1)));
  EXPECT_EQ(a.NextView(scratch).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(a.Next().status().code(), absl::StatusCode::kDataLoss);
}

TEST(PacketAssemblerTest, SequenceMismatchIsStickyDataLoss) {
  PacketAssembler a;
  a.Feed(EncodePackets("x", 5));
  auto p = a.Next();
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(p.status().message().find("sequence id 5, expected 0"), std::string::npos);
  a.Feed(EncodePackets("y", 0));
  EXPECT_EQ(a.Next().status().code(), absl::StatusCode::kDataLoss);
}

TEST(PacketAssemblerTest, OversizedMessageRejectedBeforeBuffering) {
  PacketAssembler a(100);
  a.Feed(S("\xff\xff\xff\x00"));  // claims 16 MiB, nothing follows
  EXPECT_EQ(a.Next().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PacketAssemblerTest, PartialHeaderNeedsMore) {
  PacketAssembler a;
  a.Feed(S("\x05\x00"));
  auto p = a.Next();
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
}

}  // namespace
}  // namespace sluice::mysqlclient
