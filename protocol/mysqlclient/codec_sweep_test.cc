// Every codec in mysql_wire on truncated and bit-flipped inputs: each call must return (a value
// or a status) without crashing; run under ASan+UBSan in CI.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "protocol/mysqlclient/auth.h"
#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/messages.h"
#include "protocol/mysqlclient/packet.h"

namespace sluice::mysqlclient {
namespace {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

void ParseAll(std::string_view p) {
  (void)ParseHandshake(p);
  (void)ParseAuthSwitchRequest(p);
  (void)ParseOk(p);
  (void)ParseErr(p);
  (void)ErrPayloadToStatus(p);
  (void)ParseColumnDefinition(p);
  for (size_t cols : {0, 1, 2, 5}) (void)ParseTextRow(p, cols);
  (void)ParseBinlogPacket(p);
  (void)ParseAuthMoreData(p);
  for (bool tls : {false, true}) {
    for (std::string_view plugin : {kNativePassword, kCachingSha2Password, kSha256Password}) {
      AuthExchange auth("pw", tls);
      (void)auth.Start(plugin, "01234567890123456789");
      for (int i = 0; i < 3; ++i) {
        if (!auth.OnServerPacket(p).ok()) break;
      }
    }
  }
  for (bool deprecate_eof : {false, true}) {
    TextResultSetReader rs(deprecate_eof);
    for (int i = 0; i < 4; ++i) {
      if (!rs.Add(p).ok()) break;
    }
  }
  PacketAssembler a(1 << 20);
  a.Feed(p);
  for (int i = 0; i < 4; ++i) {
    auto n = a.Next();
    if (!n.ok() || !n->has_value()) break;
  }
}

TEST(CodecSweepTest, TruncationsAndBitFlips) {
  std::vector<std::string> samples = {
      S("\x0a"
        "10.11.6-MariaDB\0"
        "\x01\x00\x00\x00"
        "abcdefgh\0"
        "\xff\xf7\x2d\x02\x00\xff\x81\x15\0\0\0\0\0\0\0\0\0\0"
        "ijklmnopqrst\0"
        "mysql_native_password\0"),
      S("\x00\x05\xfc\x00\x01\x02\x00\x01\x00info"),
      S("\xff\x15\x04#28000Access denied"),
      S("\x03"
        "def\x00\x00\x00\x01"
        "a\x00\x0c\x21\x00\x10\x00\x00\x00\xfd\x00\x00\x27\x00\x00"),
      S("\x02"
        "ab\xfb\x03xyz"),
      S("\xfe"
        "mysql_native_password\0"
        "01234567890123456789\0"),
      S("\x05\x00\x00\x00"
        "hello"),
      S("\x01\x04"),
      S("\xfe"
        "caching_sha2_password\0"
        "01234567890123456789\0"),
  };
  size_t calls = 0;
  for (const std::string& s : samples) {
    for (size_t n = 0; n <= s.size(); ++n, ++calls) ParseAll(std::string_view(s).substr(0, n));
    for (size_t bit = 0; bit < s.size() * 8; ++bit, ++calls) {
      std::string f = s;
      f[bit / 8] = static_cast<char>(f[bit / 8] ^ (1 << (bit % 8)));
      ParseAll(f);
    }
  }
  EXPECT_GT(calls, 1000u);
}

}  // namespace
}  // namespace sluice::mysqlclient
