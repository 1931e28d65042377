#include "server/config/token_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kAdmin[] = "0123456789abcdef0123456789abcdef";
constexpr char kReader[] = "fedcba9876543210fedcba9876543210";

std::string ParseError(const std::string& text) {
  auto r = ParseTokenFile(text, "tokens");
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(r.status().message());
  EXPECT_THAT(msg, AllOf(Not(HasSubstr(kAdmin)), Not(HasSubstr("short"))));
  return msg;
}

TEST(TokenFileTest, ParsesRolesCommentsAndBlankLines) {
  auto r = ParseTokenFile(
      std::string("# sluice tokens\n\n") + kAdmin + " admin\r\n  " + kReader + "\tsubscribe\n",
      "tokens");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].token, kAdmin);
  EXPECT_EQ((*r)[0].role, Role::kAdmin);
  EXPECT_EQ((*r)[1].token, kReader);
  EXPECT_EQ((*r)[1].role, Role::kSubscribe);
  EXPECT_EQ(RoleName(Role::kAdmin), "admin");
  EXPECT_EQ(RoleName(Role::kSubscribe), "subscribe");
}

TEST(TokenFileTest, OneErrorPerKind) {
  EXPECT_THAT(ParseError(std::string("\n") + kAdmin + "\n"),
              AllOf(StartsWith("tokens:2: "), HasSubstr("has a token but no role")));
  EXPECT_THAT(ParseError(std::string(kAdmin) + " admin extra\n"),
              AllOf(StartsWith("tokens:1: "), HasSubstr("more than a token and a role")));
  EXPECT_THAT(ParseError(std::string(kAdmin) + " root\n"),
              HasSubstr("role \"root\" is invalid: use subscribe or admin"));
  EXPECT_THAT(ParseError("short admin\n"),
              HasSubstr("the token is 5 characters: use 16 to 512 random characters"));
  EXPECT_THAT(ParseError(std::string(kAdmin) + "\x01 admin\n"), HasSubstr("not printable ASCII"));
  EXPECT_THAT(ParseError(std::string(kAdmin) + " admin\n" + kAdmin + " subscribe\n"),
              AllOf(StartsWith("tokens:2: "), HasSubstr("the token appears twice")));
  EXPECT_THAT(ParseError("# only a comment\n"), HasSubstr("tokens: holds no token"));
}

class TokenFileLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sluice_tokens_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text, mode_t mode) {
    const std::string path = dir_ + "/tokens";
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string dir_;
};

TEST_F(TokenFileLoadTest, ReadsAPrivateFile) {
  auto r = LoadTokenFile(Write(std::string(kAdmin) + " admin\n", 0600));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 1u);
}

TEST_F(TokenFileLoadTest, RefusesAFileOthersCanRead) {
  const std::string path = Write(std::string(kAdmin) + " admin\n", 0644);
  auto r = LoadTokenFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(HasSubstr("has mode 0644"), HasSubstr("run chmod 600 " + path)));
}

TEST_F(TokenFileLoadTest, MissingFileIsNotFound) {
  auto r = LoadTokenFile(dir_ + "/nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("token file \"" + dir_ + "/nope\""));
}

TEST_F(TokenFileLoadTest, ErrorsNameTheFileAndLine) {
  const std::string path = Write("x admin\n", 0600);
  auto r = LoadTokenFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith(path + ":1: the token is 1"));
}

}  // namespace
}  // namespace sluice::config
