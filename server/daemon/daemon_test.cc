#include "server/daemon/daemon.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace sluice::daemon {
namespace {

TEST(ParseArgs, RequiresDataDir) {
  auto r = ParseArgs({"--listen", "127.0.0.1:0"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("--data-dir"), std::string::npos);
}

TEST(ParseArgs, UnknownFlagIsNamed) {
  auto r = ParseArgs({"--data-dir", "/tmp/x", "--lisen", "1"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("--lisen: unknown flag"), std::string::npos);
}

TEST(ParseArgs, SourcesAndRetention) {
  auto r = ParseArgs({"--data-dir=/tmp/x", "--source",
                      "mysql://u:p@127.0.0.1:3306/?name=shop&server_id=7", "--retention-max-age",
                      "7d", "--retention-max-bytes", "50GiB"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->config.sources.size(), 1u);
  EXPECT_EQ(r->config.sources[0].name, "shop");
  EXPECT_EQ(r->retention.max_age_micros, int64_t{7} * 86'400'000'000);
  EXPECT_EQ(r->retention.max_bytes, uint64_t{50} << 30);
  EXPECT_FALSE(r->retention_force);
}

TEST(ParseArgs, RetentionForceTakesNoValue) {
  auto r = ParseArgs({"--data-dir=/tmp/x", "--retention-force", "--retention-max-age", "1h"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->retention_force);
  EXPECT_EQ(r->retention.max_age_micros, int64_t{3'600'000'000});
}

TEST(ParseArgs, DuplicateSourceNamesAreRefused) {
  auto r = ParseArgs({"--data-dir=/tmp/x", "--source",
                      "mysql://u:p@127.0.0.1:3306/?name=shop&server_id=7", "--source",
                      "postgres://u:p@127.0.0.1/db?name=shop"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("two sources are named \"shop\""),
            std::string::npos);
}

TEST(ParseArgs, TlsTokenAndCheckConfig) {
  auto r = ParseArgs({"--data-dir=/d", "--tls-cert", "s.pem", "--tls-key", "s.key",
                      "--tls-client-ca", "ca.pem", "--token-file", "tokens", "--check-config",
                      "--source", "postgres://u:secret@db/app?name=app"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->config.tls.cert_file, "s.pem");
  EXPECT_EQ(r->config.tls.key_file, "s.key");
  EXPECT_EQ(r->config.tls.client_ca_file, "ca.pem");
  EXPECT_EQ(r->config.token_file, "tokens");
  EXPECT_TRUE(r->check_config);
  EXPECT_EQ(DescribeOptions(*r),
            "data dir /d\nlisten 127.0.0.1:7070 (TLS, client certificates), tokens from "
            "tokens\n1 source(s)\n  app  postgres://u:***@db/app?name=app");
  auto plain = ParseArgs({"--data-dir=/d"});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->check_config);
  EXPECT_EQ(DescribeOptions(*plain),
            "data dir /d\nlisten 127.0.0.1:7070 (plaintext), no authentication\n0 source(s)");
}

TEST(ParseArgs, TlsFlagsGoTogether) {
  auto r = ParseArgs({"--data-dir=/d", "--tls-cert", "s.pem"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("--tls-key is missing"), std::string::npos)
      << r.status();
  r = ParseArgs({"--data-dir=/d", "--tls-client-ca", "ca.pem"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("--tls-client-ca needs --tls-cert"),
            std::string::npos)
      << r.status();
}

TEST(ParseUnits, DurationsAndSizes) {
  EXPECT_EQ(*ParseDurationMicros("500ms"), 500'000);
  EXPECT_EQ(*ParseDurationMicros("2h"), int64_t{7'200'000'000});
  EXPECT_FALSE(ParseDurationMicros("7 days").ok());
  EXPECT_FALSE(ParseDurationMicros("d").ok());
  EXPECT_EQ(*ParseByteSize("10MiB"), uint64_t{10} << 20);
  EXPECT_EQ(*ParseByteSize("1GB"), 1'000'000'000u);
  EXPECT_FALSE(ParseByteSize("10 parsecs").ok());
}

TEST(Daemon, ListenAddressInUseIsAClearError) {
  DaemonOptions first_options;
  char tmpl[] = "/tmp/sluice-daemon-XXXXXX";
  first_options.config.data_dir = mkdtemp(tmpl);
  first_options.config.listen = "127.0.0.1:0";
  auto first = Daemon::Start(first_options);
  ASSERT_TRUE(first.ok()) << first.status();
  DaemonOptions second_options = first_options;
  second_options.config.data_dir += "/other";
  second_options.config.listen = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = Daemon::Start(second_options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(std::string(second.status().message()).find("cannot listen on"), std::string::npos)
      << second.status();
  first->reset();
  std::filesystem::remove_all(first_options.config.data_dir);
}

}  // namespace
}  // namespace sluice::daemon
