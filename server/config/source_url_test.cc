#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/source_config.h"

namespace sluice::config {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "hunter2";

// The error message of a URL that must fail with InvalidArgument. Also checks that the secret
// password used throughout these tests never leaks into it.
std::string UrlError(std::string_view url) {
  absl::StatusOr<SourceConfig> r = ParseSourceUrl(url);
  EXPECT_FALSE(r.ok()) << url;
  if (r.ok()) {
    return "";
  }
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << url;
  std::string msg(r.status().message());
  EXPECT_THAT(msg, Not(HasSubstr(kSecret))) << url;
  EXPECT_THAT(msg, StartsWith("source URL \"")) << url;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "errors are one line: " << msg;
  return msg;
}

SourceConfig MustParse(std::string_view url) {
  absl::StatusOr<SourceConfig> r = ParseSourceUrl(url);
  EXPECT_TRUE(r.ok()) << url << ": " << r.status();
  return r.ok() ? *std::move(r) : SourceConfig{};
}

// ---- happy paths ----

TEST(ParseSourceUrlTest, MysqlAllKeys) {
  SourceConfig s = MustParse(
      "mysql://sluice:hunter2@db.example.com:3307/shop?name=shop&server_id=4711"
      "&tables=shop.orders,shop.*&snapshot=never&tls=verify_ca&tls_ca=/etc/ssl/ca.pem");
  EXPECT_EQ(s.name, "shop");
  EXPECT_EQ(s.kind, v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(s.host, "db.example.com");
  EXPECT_EQ(s.port, 3307);
  EXPECT_EQ(s.user, "sluice");
  EXPECT_EQ(s.password, kSecret);
  EXPECT_EQ(s.database, "shop");
  EXPECT_EQ(s.server_id, 4711u);
  EXPECT_THAT(s.tables, ElementsAre("shop.orders", "shop.*"));
  EXPECT_EQ(s.snapshot, SnapshotMode::kNever);
  EXPECT_EQ(s.tls_mode, "verify_ca");
  EXPECT_EQ(s.tls_ca_file, "/etc/ssl/ca.pem");
  EXPECT_TRUE(s.slot.empty());
  EXPECT_TRUE(s.publication.empty());
  EXPECT_EQ(s.url_redacted,
            "mysql://sluice:***@db.example.com:3307/shop?name=shop&server_id=4711"
            "&tables=shop.orders,shop.*&snapshot=never&tls=verify_ca&tls_ca=/etc/ssl/ca.pem");
}

TEST(ParseSourceUrlTest, SnapshotChunkSizeAndKeyless) {
  SourceConfig s = MustParse(
      "postgres://u:hunter2@pg/app?name=app&snapshot_chunk_size=500&snapshot_keyless=whole_table"
      "&snapshot_pause_ms=20");
  EXPECT_EQ(s.snapshot_chunk_size, 500u);
  EXPECT_EQ(s.snapshot_pause_ms, 20u);
  EXPECT_TRUE(s.snapshot_keyless_whole_table);
  EXPECT_EQ(FormatRedactedSourceUrl(s),
            "postgres://u:***@pg:5432/app?name=app&slot=sluice_app&publication=sluice_app"
            "&snapshot_chunk_size=500&snapshot_keyless=whole_table&snapshot_pause_ms=20");
  SourceConfig d = MustParse("postgres://u:hunter2@pg/app?name=app");
  EXPECT_EQ(d.snapshot_chunk_size, 10'000u);
  EXPECT_FALSE(d.snapshot_keyless_whole_table);
  EXPECT_THAT(ParseSourceUrl("postgres://u@pg/app?name=app&snapshot_chunk_size=0").status().message(),
              HasSubstr("snapshot_chunk_size \"0\" is not a number between 1 and 1000000"));
  EXPECT_THAT(
      ParseSourceUrl("postgres://u@pg/app?name=app&snapshot_pause_ms=61000").status().message(),
      HasSubstr("snapshot_pause_ms \"61000\" is not a number of milliseconds between 0 and 60000"));
  EXPECT_THAT(ParseSourceUrl("postgres://u@pg/app?name=app&snapshot_keyless=yes").status().message(),
              HasSubstr("snapshot_keyless \"yes\" is invalid: use error"));
}

TEST(ParseSourceUrlTest, TableStateDefaultsOnAndRoundTrips) {
  EXPECT_TRUE(MustParse("mysql://u@h/?name=a&server_id=1").table_state);
  SourceConfig off = MustParse("postgres://u@pg/app?name=app&table_state=false");
  EXPECT_FALSE(off.table_state);
  EXPECT_THAT(FormatRedactedSourceUrl(off), HasSubstr("&table_state=false"));
  EXPECT_TRUE(MustParse("mysql://u@h/?name=a&server_id=1&table_state=true").table_state);
  EXPECT_THAT(ParseSourceUrl("mysql://u@h/?name=a&server_id=1&table_state=no").status().message(),
              HasSubstr("table_state \"no\" is invalid: use true"));
}

TEST(ParseSourceUrlTest, MysqlResumeDefaultsToAutoAndRoundTrips) {
  EXPECT_EQ(MustParse("mysql://u@h/?name=a&server_id=1").mysql_resume, MysqlResume::kAuto);
  SourceConfig gtid = MustParse("mysql://u@h/?name=a&server_id=1&mysql_resume=gtid");
  EXPECT_EQ(gtid.mysql_resume, MysqlResume::kGtid);
  EXPECT_THAT(FormatRedactedSourceUrl(gtid), HasSubstr("&mysql_resume=gtid"));
  EXPECT_EQ(MustParse("mysql://u@h/?name=a&server_id=1&mysql_resume=position").mysql_resume,
            MysqlResume::kPosition);
  EXPECT_THAT(FormatRedactedSourceUrl(MustParse("mysql://u@h/?name=a&server_id=1")),
              Not(HasSubstr("mysql_resume")));
  EXPECT_THAT(
      ParseSourceUrl("mysql://u@h/?name=a&server_id=1&mysql_resume=file").status().message(),
      HasSubstr("mysql_resume \"file\" is invalid: use auto"));
  EXPECT_THAT(ParseSourceUrl("postgres://u@pg/app?name=app&mysql_resume=gtid").status().message(),
              HasSubstr("query key \"mysql_resume\" applies only to mysql sources"));
}

TEST(ParseSourceUrlTest, HeartbeatAndRetentionPerSource) {
  SourceConfig s = MustParse(
      "mysql://u:hunter2@h/?name=a&server_id=1&heartbeat_ms=1500&retention_max_age=7d"
      "&retention_max_bytes=none");
  EXPECT_EQ(s.heartbeat_ms, 1500u);
  EXPECT_EQ(s.retention_max_age_micros, int64_t{7} * 86'400'000'000);
  EXPECT_EQ(s.retention_max_bytes, 0u);
  EXPECT_THAT(FormatRedactedSourceUrl(s),
              HasSubstr("&heartbeat_ms=1500&retention_max_age=7d&retention_max_bytes=none"));
  SourceConfig d = MustParse("mysql://u:hunter2@h/?name=a&server_id=1");
  EXPECT_FALSE(d.heartbeat_ms.has_value());
  EXPECT_FALSE(d.retention_max_age_micros.has_value());
  EXPECT_THAT(ParseSourceUrl("mysql://u@h/?name=a&server_id=1&heartbeat_ms=50").status().message(),
              HasSubstr("heartbeat_ms \"50\" is not a number of milliseconds between 100"));
  EXPECT_THAT(
      ParseSourceUrl("mysql://u@h/?name=a&server_id=1&retention_max_age=7 days").status().message(),
      HasSubstr("retention_max_age: "));
}

TEST(ParseSourceUrlTest, MariadbAliasAndDefaults) {
  SourceConfig s = MustParse("mariadb://repl:hunter2@10.0.0.5/?name=m1&server_id=1");
  EXPECT_EQ(s.kind, v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(s.port, 3306);
  EXPECT_EQ(s.database, "");
  EXPECT_THAT(s.tables, IsEmpty());
  EXPECT_EQ(s.snapshot, SnapshotMode::kInitial);
  EXPECT_EQ(s.tls_mode, "preferred");
  EXPECT_EQ(s.tls_ca_file, "");
}

TEST(ParseSourceUrlTest, MysqlWithoutPathOrSlash) {
  SourceConfig s = MustParse("mysql://u:hunter2@h?name=a&server_id=9");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.database, "");
  EXPECT_EQ(s.server_id, 9u);
}

TEST(ParseSourceUrlTest, PostgresDefaults) {
  SourceConfig s = MustParse("postgres://sluice:hunter2@pg:5433/app?name=app");
  EXPECT_EQ(s.kind, v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(s.port, 5433);
  EXPECT_EQ(s.database, "app");
  EXPECT_EQ(s.slot, "sluice_app");
  EXPECT_EQ(s.publication, "sluice_app");
  EXPECT_EQ(s.server_id, 0u);
  EXPECT_EQ(s.url_redacted, "postgres://sluice:***@pg:5433/app?name=app");
}

TEST(ParseSourceUrlTest, PostgresqlAliasExplicitSlotAndDashedName) {
  SourceConfig s = MustParse(
      "postgresql://u@pg/app?name=my-app&tables=public.orders,public.order_?&snapshot=when_needed");
  EXPECT_EQ(s.kind, v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(s.port, 5432);
  EXPECT_EQ(s.slot, "sluice_my_app");  // '-' is not allowed in slot names
  EXPECT_EQ(s.publication, "sluice_my_app");
  EXPECT_EQ(s.password, "");
  EXPECT_THAT(s.tables, ElementsAre("public.orders", "public.order_?"));
  EXPECT_EQ(s.snapshot, SnapshotMode::kWhenNeeded);

  SourceConfig t =
      MustParse("postgres://u:hunter2@pg/app?name=x&slot=my_slot&publication=MyPub&tls=disabled");
  EXPECT_EQ(t.slot, "my_slot");
  EXPECT_EQ(t.publication, "MyPub");
  EXPECT_EQ(t.tls_mode, "disabled");
}

TEST(ParseSourceUrlTest, PercentDecoding) {
  SourceConfig s = MustParse(
      "postgres://us%40er:p%40ss%3Aw%2Frd%25@pg/my%20db?name=a%2Db&tables=public.%6Frders"
      "&tls_ca=%2Fetc%2Fca.pem");
  EXPECT_EQ(s.user, "us@er");
  EXPECT_EQ(s.password, "p@ss:w/rd%");
  EXPECT_EQ(s.database, "my db");
  EXPECT_EQ(s.name, "a-b");
  EXPECT_THAT(s.tables, ElementsAre("public.orders"));
  EXPECT_EQ(s.tls_ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.url_redacted,
            "postgres://us%40er:***@pg/my%20db?name=a%2Db&tables=public.%6Frders"
            "&tls_ca=%2Fetc%2Fca.pem");
}

TEST(ParseSourceUrlTest, UnencodedSpecialCharactersInPassword) {
  SourceConfig s = MustParse("mysql://u:p@ss/w?rd#1@h:3306/?name=a&server_id=1");
  EXPECT_EQ(s.user, "u");
  EXPECT_EQ(s.password, "p@ss/w?rd#1");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.url_redacted, "mysql://u:***@h:3306/?name=a&server_id=1");
}

// A file in the test's temporary directory holding `content`; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  return path;
}

TEST(ParseSourceUrlTest, PasswordFileKeepsThePasswordOutOfTheUrl) {
  const std::string path = WriteTempFile("url_password", std::string(kSecret) + "\n");
  SourceConfig s = MustParse("mysql://sluice@db:3306/?name=shop&server_id=7&password_file=" + path);
  EXPECT_EQ(s.password, kSecret);  // one trailing newline dropped
  EXPECT_THAT(s.url_redacted, HasSubstr("password_file=" + path));  // a path, not a secret
  EXPECT_THAT(s.url_redacted, Not(HasSubstr(kSecret)));
  EXPECT_THAT(FormatRedactedSourceUrl(s), Not(HasSubstr(kSecret)));
  SourceConfig pg = MustParse("postgres://sluice@db/shop?name=pg&password_file=" + path);
  EXPECT_EQ(pg.password, kSecret);
}

TEST(ParseSourceUrlTest, Ipv6Host) {
  SourceConfig s = MustParse("postgres://u@[::1]:6432/db?name=x");
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 6432);
  SourceConfig t = MustParse("mysql://u@[fe80::1%25eth0]/?name=x&server_id=2");
  EXPECT_EQ(t.host, "fe80::1%eth0");
  EXPECT_EQ(t.port, 3306);
}

TEST(ParseSourceUrlTest, SchemeIsCaseInsensitiveAndEmptyParamsAreIgnored) {
  SourceConfig s = MustParse("MySQL://u:hunter2@h/?&name=a&&server_id=1&");
  EXPECT_EQ(s.kind, v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(s.name, "a");
}

TEST(ParseSourceUrlTest, NameLimits) {
  EXPECT_EQ(MustParse("mysql://u@h/?server_id=1&name=" + std::string(64, 'a')).name.size(), 64u);
  EXPECT_EQ(MustParse("mysql://u@h/?server_id=1&name=0_-z").name, "0_-z");
}

TEST(ParseSourceUrlTest, ServerIdLimits) {
  EXPECT_EQ(MustParse("mysql://u@h/?name=a&server_id=4294967295").server_id, 4294967295u);
  EXPECT_EQ(MustParse("mysql://u@h/?name=a&server_id=1").server_id, 1u);
}

TEST(ParseSourceUrlTest, FormatRedactedRoundTrips) {
  for (std::string_view url : {
           "mysql://us%40er:p%40ss@[::1]:3307/shop?name=a&server_id=7&tables=shop.o*,x.y"
           "&snapshot=when_needed&tls=verify_identity&tls_ca=/etc/ca%20dir/ca.pem",
           "postgres://u:hunter2@pg/app?name=my-app&tables=public.orders",
           "postgres://u@pg/app?name=x&slot=s&publication=P&tls=disabled",
           "mariadb://u@h/?name=a&server_id=1",
           "mariadb://u@[fe80::1%25eth0]:1/?name=a&server_id=1",
       }) {
    SCOPED_TRACE(url);
    SourceConfig s = MustParse(url);
    std::string formatted = FormatRedactedSourceUrl(s);
    EXPECT_THAT(formatted, Not(HasSubstr(kSecret)));
    // Put the password back and parse again: the same source comes out.
    std::string with_password = formatted;
    if (size_t pos = with_password.find(":***@"); pos != std::string::npos) {
      std::string encoded;
      for (char c : s.password) {
        encoded += c == '@'   ? std::string("%40")
                   : c == '%' ? std::string("%25")
                              : std::string(1, c);
      }
      with_password.replace(pos, 5, ":" + encoded + "@");
    }
    SourceConfig again = MustParse(with_password);
    EXPECT_EQ(again.name, s.name);
    EXPECT_EQ(again.kind, s.kind);
    EXPECT_EQ(again.host, s.host);
    EXPECT_EQ(again.port, s.port);
    EXPECT_EQ(again.user, s.user);
    EXPECT_EQ(again.password, s.password);
    EXPECT_EQ(again.database, s.database);
    EXPECT_EQ(again.server_id, s.server_id);
    EXPECT_EQ(again.slot, s.slot);
    EXPECT_EQ(again.publication, s.publication);
    EXPECT_EQ(again.tables, s.tables);
    EXPECT_EQ(again.snapshot, s.snapshot);
    EXPECT_EQ(again.tls_mode, s.tls_mode);
    EXPECT_EQ(again.tls_ca_file, s.tls_ca_file);
  }
}

TEST(RedactSourceUrlTest, ReplacesOnlyThePassword) {
  EXPECT_EQ(RedactSourceUrl("mysql://u:hunter2@h:1/?name=a"), "mysql://u:***@h:1/?name=a");
  EXPECT_EQ(RedactSourceUrl("mysql://u@h:1/?name=a"), "mysql://u@h:1/?name=a");
  EXPECT_EQ(RedactSourceUrl("mysql://h:1/?name=a"), "mysql://h:1/?name=a");
  EXPECT_EQ(RedactSourceUrl("mysql://u:@h"), "mysql://u:***@h");
  EXPECT_EQ(RedactSourceUrl("u:hunter2@h"), "u:***@h");  // no scheme: still redacted
  EXPECT_EQ(RedactSourceUrl("mongo://u:a@b:c@h"), "mongo://u:***@h");
  EXPECT_EQ(RedactSourceUrl(""), "");
  EXPECT_EQ(RedactSourceUrl("postgres://u@h/d?name=a&password=hunter2&x=1&PassWord=y&pass"),
            "postgres://u@h/d?name=a&password=***&x=1&PassWord=***&pass");
  EXPECT_EQ(RedactSourceUrl("postgres://u:a?b@h/d?password=c"),
            "postgres://u:***@h/d?password=***");
}

// ---- error paths ----

TEST(ParseSourceUrlErrorTest, MissingScheme) {
  EXPECT_THAT(UrlError("u:hunter2@h:3306/?name=a"),
              AllOf(HasSubstr("\"u:***@h:3306/?name=a\""), HasSubstr("missing scheme"),
                    HasSubstr("mysql://"), HasSubstr("postgres://")));
}

TEST(ParseSourceUrlErrorTest, UnknownScheme) {
  EXPECT_THAT(UrlError("mongo://u:hunter2@h/?name=a"),
              HasSubstr("unknown scheme \"mongo\": use mysql:// or postgres://"));
  EXPECT_THAT(UrlError("://h"), HasSubstr("unknown scheme \"\""));
}

TEST(ParseSourceUrlErrorTest, UnknownQueryKeyListsKnownKeysAndSuggests) {
  std::string msg = UrlError("mysql://u:hunter2@h/?name=a&server_id=1&tabels=a.b");
  EXPECT_THAT(msg,
              AllOf(StartsWith("source URL \"mysql://u:***@h/?name=a&server_id=1&tabels=a.b\""),
                    HasSubstr("unknown query key \"tabels\" (known keys: name, server_id, "
                              "tables, snapshot, snapshot_chunk_size, snapshot_keyless, "
                              "snapshot_pause_ms, heartbeat_ms, retention_max_age, "
                              "retention_max_bytes, tls, tls_ca, table_state, password_file, "
                              "mysql_resume)"),
                    HasSubstr("did you mean \"tables\"?")));
  EXPECT_THAT(UrlError("postgres://u@h/d?name=a&xyzzy=1"),
              AllOf(HasSubstr("unknown query key \"xyzzy\" (known keys: name, slot, publication, "
                              "tables, snapshot, snapshot_chunk_size, snapshot_keyless, "
                              "snapshot_pause_ms, heartbeat_ms, retention_max_age, "
                              "retention_max_bytes, tls, tls_ca, table_state, password_file)"),
                    Not(HasSubstr("did you mean"))));
  // A password passed as a query key is not echoed.
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&password=hunter2"),
              AllOf(HasSubstr("unknown query key \"password\""), HasSubstr("password=***")));
}

TEST(ParseSourceUrlErrorTest, KeyOfTheOtherKind) {
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&slot=s"),
              HasSubstr("query key \"slot\" applies only to postgres sources: remove it"));
  EXPECT_THAT(UrlError("postgres://u@h/d?name=a&server_id=1"),
              HasSubstr("query key \"server_id\" applies only to mysql sources"));
}

TEST(ParseSourceUrlErrorTest, KeyWithoutValue) {
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id"),
              HasSubstr("query key \"server_id\" has no value: write server_id=VALUE"));
}

TEST(ParseSourceUrlErrorTest, DuplicateKey) {
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&name=b"),
              HasSubstr("duplicate query key \"name\": give each key once"));
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&tables=a.b&tables=c.d"),
              HasSubstr("duplicate query key \"tables\""));
}

TEST(ParseSourceUrlErrorTest, BadPort) {
  EXPECT_THAT(UrlError("mysql://u:hunter2@h:99999/?name=a&server_id=1"),
              HasSubstr("port \"99999\" is not a number between 1 and 65535"));
  EXPECT_THAT(UrlError("mysql://u@h:0/?name=a&server_id=1"),
              HasSubstr("port \"0\" is not a number between 1 and 65535"));
  EXPECT_THAT(UrlError("mysql://u@h:abc/?name=a&server_id=1"), HasSubstr("port \"abc\""));
  EXPECT_THAT(UrlError("mysql://u@h:/?name=a&server_id=1"), HasSubstr("port \"\""));
  EXPECT_THAT(UrlError("mysql://u@h:+80/?name=a&server_id=1"), HasSubstr("port \"+80\""));
  EXPECT_THAT(UrlError("mysql://u@[::1]:123456/?name=a&server_id=1"), HasSubstr("port \"123456\""));
}

TEST(ParseSourceUrlErrorTest, MissingName) {
  EXPECT_THAT(UrlError("mysql://u:hunter2@h/?server_id=1"),
              AllOf(HasSubstr("name is required"), HasSubstr("add name=NAME"),
                    HasSubstr("a-z, 0-9, '_' and '-'")));
  EXPECT_THAT(UrlError("postgres://u@h/db"), HasSubstr("name is required"));
}

TEST(ParseSourceUrlErrorTest, InvalidName) {
  for (std::string name : {std::string("Shop"), std::string("a.b"), std::string(""),
                           std::string(65, 'a'), std::string("a%20b")}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(UrlError("mysql://u@h/?server_id=1&name=" + name),
                AllOf(HasSubstr("is invalid: use 1 to 64 characters from a-z, 0-9, '_' and '-'"),
                      HasSubstr("name \"")));
  }
}

TEST(ParseSourceUrlErrorTest, MissingServerId) {
  EXPECT_THAT(UrlError("mysql://u:hunter2@h/?name=x"),
              HasSubstr("mysql source 'x': server_id is required: add &server_id=N, a number "
                        "unique among the server's replicas"));
}

TEST(ParseSourceUrlErrorTest, BadServerId) {
  for (std::string_view id : {"0", "abc", "4294967296", "-1", "12345678901", " 1"}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=" + std::string(id)),
                HasSubstr("is not a number between 1 and 4294967295"));
  }
}

TEST(ParseSourceUrlErrorTest, PostgresNeedsDatabase) {
  EXPECT_THAT(UrlError("postgres://u:hunter2@h/?name=x"),
              AllOf(HasSubstr("postgres source 'x': database is required"),
                    HasSubstr("postgres://USER:PASSWORD@HOST:PORT/DATABASE")));
  EXPECT_THAT(UrlError("postgres://u@h?name=x"), HasSubstr("database is required"));
}

TEST(ParseSourceUrlErrorTest, MissingUserOrHost) {
  EXPECT_THAT(UrlError("mysql://h/?name=x&server_id=1"),
              AllOf(HasSubstr("user is required"), HasSubstr("mysql://USER:PASSWORD@HOST")));
  EXPECT_THAT(UrlError("mysql://:hunter2@h/?name=x&server_id=1"), HasSubstr("user is required"));
  EXPECT_THAT(UrlError("mysql://u:hunter2@:3306/?name=x&server_id=1"),
              HasSubstr("host is required"));
  EXPECT_THAT(UrlError("mysql://u:hunter2@/?name=x&server_id=1"), HasSubstr("host is required"));
}

TEST(ParseSourceUrlErrorTest, BadHost) {
  EXPECT_THAT(UrlError("postgres://u@::1:5432/db?name=x"),
              HasSubstr("more than one ':': write an IPv6 address in brackets"));
  EXPECT_THAT(UrlError("postgres://u@[::1:5432/db?name=x"), HasSubstr("no closing ']'"));
  EXPECT_THAT(UrlError("postgres://u@[::1]5432/db?name=x"), HasSubstr("after ']'"));
  EXPECT_THAT(UrlError("postgres://u@[]:5432/db?name=x"), HasSubstr("is empty"));
  EXPECT_THAT(UrlError("postgres://u@db%20x/db?name=x"), HasSubstr("host \"db x\" is invalid"));
  EXPECT_THAT(UrlError("postgres://u@[g::1]/db?name=x"), HasSubstr("host \"g::1\" is invalid"));
}

TEST(ParseSourceUrlErrorTest, BadTablePatterns) {
  struct Case {
    std::string_view tables;
    std::string_view why;
  };
  for (Case c : {Case{"orders", "no '.'"}, Case{"a.b.c", "more than one '.'"},
                 Case{".t", "part is empty"}, Case{"shop.", "part is empty"},
                 Case{"sh*p.t", "wildcards are allowed only in the TABLE part"},
                 Case{"a.b,,c.d", "it is empty"}, Case{"a.b,", "it is empty"},
                 Case{"a.b%20c", "space"}, Case{"a.b%2Cc", "comma"}}) {
    SCOPED_TRACE(c.tables);
    EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&tables=" + std::string(c.tables)),
                AllOf(HasSubstr("table pattern"), HasSubstr(std::string(c.why)),
                      HasSubstr("write DATABASE.TABLE")));
  }
  EXPECT_THAT(UrlError("postgres://u@h/d?name=x&tables=orders"),
              AllOf(HasSubstr("write SCHEMA.TABLE"), HasSubstr("public.orders")));
  EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&tables="), HasSubstr("tables is empty"));
}

TEST(ParseSourceUrlErrorTest, BadSnapshot) {
  EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&snapshot=always"),
              HasSubstr("snapshot \"always\" is invalid: use initial, never or when_needed"));
}

TEST(ParseSourceUrlErrorTest, BadTls) {
  EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&tls=on"),
              HasSubstr("tls mode \"on\" is invalid: use disabled, preferred, required, "
                        "verify_ca or verify_identity"));
  EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&tls=disabled&tls_ca=/ca.pem"),
              HasSubstr("tls_ca is set but tls=disabled"));
  EXPECT_THAT(UrlError("mysql://u@h/?name=x&server_id=1&tls_ca="), HasSubstr("tls_ca is empty"));
}

TEST(ParseSourceUrlErrorTest, BadSlotAndPublication) {
  EXPECT_THAT(UrlError("postgres://u@h/d?name=x&slot=My-Slot"),
              HasSubstr("slot \"My-Slot\" is invalid: Postgres slot names are 1 to 63 "
                        "characters from a-z, 0-9 and '_'"));
  EXPECT_THAT(UrlError("postgres://u@h/d?name=x&slot=" + std::string(64, 's')),
              HasSubstr("slot \""));
  EXPECT_THAT(UrlError("postgres://u@h/d?name=x&publication=a-b"),
              HasSubstr("publication \"a-b\" is invalid"));
  // The derived default would be too long for Postgres.
  const std::string long_name(60, 'n');
  EXPECT_THAT(UrlError("postgres://u@h/d?name=" + long_name),
              AllOf(HasSubstr("default slot name"), HasSubstr("longer than 63"),
                    HasSubstr("add &slot=NAME")));
  EXPECT_THAT(UrlError("postgres://u@h/d?slot=s&name=" + long_name),
              AllOf(HasSubstr("default publication name"), HasSubstr("add &publication=NAME")));
}

TEST(ParseSourceUrlErrorTest, PathWithSeveralSegments) {
  EXPECT_THAT(UrlError("postgres://u@h/db/extra?name=x"),
              HasSubstr("path \"/db/extra\" has more than one segment"));
}

TEST(ParseSourceUrlErrorTest, BadPercentEncodingNeverEchoesThePassword) {
  EXPECT_THAT(UrlError("mysql://u:hunter2%zz@h/?name=x&server_id=1"),
              AllOf(HasSubstr("password has an invalid percent-escape"), HasSubstr("%25")));
  EXPECT_THAT(UrlError("mysql://u:hunter2%4@h/?name=x&server_id=1"),
              HasSubstr("password has an invalid percent-escape"));
  EXPECT_THAT(UrlError("mysql://u%@h/?name=x&server_id=1"),
              HasSubstr("user has an invalid percent-escape"));
  EXPECT_THAT(UrlError("mysql://u@h/?name=x%2&server_id=1"),
              HasSubstr("name has an invalid percent-escape"));
  EXPECT_THAT(UrlError("mysql://u@h/%zz?name=x&server_id=1"),
              HasSubstr("database has an invalid percent-escape"));
}

TEST(ParseSourceUrlErrorTest, BadPasswordFile) {
  const std::string missing = ::testing::TempDir() + "/no_such_password_file";
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&password_file=" + missing),
              AllOf(HasSubstr("password_file \"" + missing + "\" cannot be read"),
                    HasSubstr("No such file")));
  const std::string empty = WriteTempFile("empty_password", "\n");
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&password_file=" + empty),
              HasSubstr("is empty: put the password in it"));
  EXPECT_THAT(UrlError("mysql://u@h/?name=a&server_id=1&password_file="),
              HasSubstr("password_file is empty: give the path"));
  const std::string good = WriteTempFile("good_password", "x");
  EXPECT_THAT(UrlError("mysql://u:hunter2@h/?name=a&server_id=1&password_file=" + good),
              HasSubstr("both a password in the URL and password_file"));
}

TEST(ParseSourceUrlErrorTest, PasswordNeverAppearsInAnyError) {
  // UrlError checks every message for the password; here with unusual placements.
  UrlError("mysql://u:hunter2@h:99999/?name=x&server_id=1");
  UrlError("mysql://u:hunter2/x@h/?name=x");
  UrlError("mysql://u:hunter2?x@h:1/?name=X&server_id=1");
  UrlError("postgres://u:hunter2@::1/db?name=x");
}

}  // namespace
}  // namespace sluice::config
