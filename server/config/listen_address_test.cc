#include "server/config/listen_address.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

std::string ListenError(std::string_view text) {
  auto r = ParseListenAddress(text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(ParseListenAddressTest, HostAndPort) {
  EXPECT_THAT(*ParseListenAddress("127.0.0.1:7070"), Pair("127.0.0.1", 7070));
  EXPECT_THAT(*ParseListenAddress("0.0.0.0:65535"), Pair("0.0.0.0", 65535));
  EXPECT_THAT(*ParseListenAddress("localhost:1"), Pair("localhost", 1));
  EXPECT_THAT(*ParseListenAddress("my-host.example.com:80"), Pair("my-host.example.com", 80));
}

TEST(ParseListenAddressTest, PortZeroPicksAFreePort) {
  EXPECT_THAT(*ParseListenAddress("127.0.0.1:0"), Pair("127.0.0.1", 0));
}

TEST(ParseListenAddressTest, BracketedIpv6) {
  EXPECT_THAT(*ParseListenAddress("[::1]:7070"), Pair("::1", 7070));
  EXPECT_THAT(*ParseListenAddress("[::]:7070"), Pair("::", 7070));
  EXPECT_THAT(*ParseListenAddress("[fe80::1%eth0]:9"), Pair("fe80::1%eth0", 9));
}

TEST(ParseListenAddressTest, Empty) {
  EXPECT_THAT(ListenError(""),
              AllOf(HasSubstr("listen address is empty"), HasSubstr("127.0.0.1:7070")));
}

TEST(ParseListenAddressTest, NoPort) {
  EXPECT_THAT(ListenError("localhost"),
              AllOf(StartsWith("listen address \"localhost\" has no port"),
                    HasSubstr("write HOST:PORT, for example 127.0.0.1:7070")));
  EXPECT_THAT(ListenError("[::1]"), HasSubstr("has no port"));
}

TEST(ParseListenAddressTest, NoHost) {
  EXPECT_THAT(ListenError(":7070"), AllOf(HasSubstr("\":7070\" has no host"),
                                          HasSubstr("0.0.0.0:7070"), HasSubstr("127.0.0.1:7070")));
}

TEST(ParseListenAddressTest, JustAPort) {
  EXPECT_THAT(ListenError("7070"),
              AllOf(HasSubstr("\"7070\" has no host"), HasSubstr("127.0.0.1:7070")));
}

TEST(ParseListenAddressTest, UnbracketedIpv6) {
  EXPECT_THAT(ListenError("::1:7070"),
              AllOf(StartsWith("listen address \"::1:7070\""),
                    HasSubstr("write an IPv6 address in brackets, as [::1]:PORT")));
}

TEST(ParseListenAddressTest, BadBrackets) {
  EXPECT_THAT(ListenError("[::1:7070"), HasSubstr("no closing ']'"));
  EXPECT_THAT(ListenError("[::1]7070"), HasSubstr("unexpected \"7070\" after ']'"));
  EXPECT_THAT(ListenError("[]:7070"), HasSubstr("is empty"));
}

TEST(ParseListenAddressTest, BadPort) {
  for (std::string_view text : {"h:65536", "h:99999", "h:abc", "h:", "h:-1", "h:+1", "h:1 "}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(ListenError(text), AllOf(HasSubstr("is not a number between 0 and 65535"),
                                         HasSubstr("0 picks a free port")));
  }
}

TEST(ParseListenAddressTest, BadHost) {
  EXPECT_THAT(ListenError("a b:1"), HasSubstr("host \"a b\" is invalid"));
  EXPECT_THAT(ListenError("a/b:1"), HasSubstr("host \"a/b\" is invalid"));
  EXPECT_THAT(ListenError("[g::1]:1"), HasSubstr("host \"g::1\" is invalid"));
}

}  // namespace
}  // namespace sluice::config
