#include "server/config/server_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::config {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "hunter2";

// Each test gets a fresh temporary directory, removed afterwards.
class ServerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sluice_config_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "sluice.yaml").string();
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Writes `yaml` to sluice.yaml and loads it.
  absl::StatusOr<ServerConfig> Load(const std::string& yaml) {
    path_ = Write("sluice.yaml", yaml);
    return LoadConfigFile(path_);
  }

  ServerConfig MustLoad(const std::string& yaml) {
    absl::StatusOr<ServerConfig> r = Load(yaml);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : ServerConfig{};
  }

  // The message of a load that must fail with InvalidArgument. It must start with the file
  // name, and must not contain the secret password used in these tests.
  std::string LoadError(const std::string& yaml) {
    absl::StatusOr<ServerConfig> r = Load(yaml);
    EXPECT_FALSE(r.ok());
    if (r.ok()) {
      return "";
    }
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    std::string msg(r.status().message());
    EXPECT_THAT(msg, StartsWith(path_ + ":"));
    EXPECT_THAT(msg, Not(HasSubstr(kSecret)));
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "errors are one line: " << msg;
    return msg;
  }

  // "PATH:LINE:" for checking where an error points.
  std::string At(int line) const { return path_ + ":" + std::to_string(line) + ":"; }

  std::filesystem::path dir_;
  std::string path_;
};

constexpr char kFullExample[] = R"(data_dir: /var/lib/sluice
listen: 127.0.0.1:7070
metrics_listen: 127.0.0.1:7071
sources:
  - name: shop
    kind: mysql            # or postgres
    host: 127.0.0.1
    port: 3306
    user: sluice
    password: hunter2
    server_id: 4711         # mysql
    database: shop
    tables: [shop.orders, "shop.*"]
    snapshot: initial       # initial | never | when_needed
    tls: {mode: preferred, ca_file: /etc/ssl/ca.pem}
  - name: app
    kind: postgres
    host: pg.internal
    user: sluice
    password: hunter2
    database: app
    slot: sluice
    publication: sluice
    tables:
      - public.orders
    snapshot: when_needed
    tls: verify_identity
)";

// ---- happy paths ----

TEST_F(ServerConfigTest, FullExample) {
  ServerConfig c = MustLoad(kFullExample);
  EXPECT_EQ(c.data_dir, "/var/lib/sluice");
  EXPECT_EQ(c.listen, "127.0.0.1:7070");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:7071");
  ASSERT_EQ(c.sources.size(), 2u);

  const SourceConfig& shop = c.sources[0];
  EXPECT_EQ(shop.name, "shop");
  EXPECT_EQ(shop.kind, v1::SOURCE_KIND_MYSQL);
  EXPECT_EQ(shop.host, "127.0.0.1");
  EXPECT_EQ(shop.port, 3306);
  EXPECT_EQ(shop.user, "sluice");
  EXPECT_EQ(shop.password, kSecret);
  EXPECT_EQ(shop.server_id, 4711u);
  EXPECT_EQ(shop.database, "shop");
  EXPECT_THAT(shop.tables, ElementsAre("shop.orders", "shop.*"));
  EXPECT_EQ(shop.snapshot, SnapshotMode::kInitial);
  EXPECT_EQ(shop.tls_mode, "preferred");
  EXPECT_EQ(shop.tls_ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(shop.url_redacted,
            "mysql://sluice:***@127.0.0.1:3306/shop?name=shop&server_id=4711"
            "&tables=shop.orders,shop.*&tls_ca=/etc/ssl/ca.pem");

  const SourceConfig& app = c.sources[1];
  EXPECT_EQ(app.kind, v1::SOURCE_KIND_POSTGRES);
  EXPECT_EQ(app.port, 5432);
  EXPECT_EQ(app.slot, "sluice");
  EXPECT_EQ(app.publication, "sluice");
  EXPECT_THAT(app.tables, ElementsAre("public.orders"));
  EXPECT_EQ(app.snapshot, SnapshotMode::kWhenNeeded);
  EXPECT_EQ(app.tls_mode, "verify_identity");
  EXPECT_EQ(app.url_redacted,
            "postgres://sluice:***@pg.internal:5432/app?name=app&slot=sluice&publication=sluice"
            "&tables=public.orders&snapshot=when_needed&tls=verify_identity");
}

TEST_F(ServerConfigTest, PerSourceHeartbeatRetentionAndSnapshotKnobs) {
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - name: shop
    kind: mysql
    host: h
    user: u
    server_id: 1
    heartbeat_ms: 2000
    snapshot_chunk_size: 500
    snapshot_pause_ms: 5
    snapshot_keyless: whole_table
    retention: {max_age: 12h, max_bytes: 10GiB}
    table_state: false
    mysql_resume: position
)");
  const SourceConfig& s = c.sources[0];
  EXPECT_EQ(s.heartbeat_ms, 2000u);
  EXPECT_EQ(s.snapshot_chunk_size, 500u);
  EXPECT_EQ(s.snapshot_pause_ms, 5u);
  EXPECT_TRUE(s.snapshot_keyless_whole_table);
  EXPECT_FALSE(s.table_state);
  EXPECT_EQ(s.mysql_resume, MysqlResume::kPosition);
  EXPECT_EQ(s.retention_max_age_micros, int64_t{12} * 3'600'000'000);
  EXPECT_EQ(s.retention_max_bytes, uint64_t{10} << 30);
  const std::string head =
      "data_dir: /d\nsources:\n  - name: shop\n    kind: mysql\n    host: h\n    user: u\n"
      "    server_id: 1\n";
  EXPECT_THAT(LoadError(head + "    retention: {max_age: forever}\n"),
              AllOf(HasSubstr(":8:"), HasSubstr("max_age: "), HasSubstr("or none")));
  EXPECT_THAT(LoadError(head + "    retention: {keep: 1d}\n"),
              HasSubstr("unknown key \"keep\""));
  EXPECT_THAT(LoadError(head + "    retention: 7d\n"),
              HasSubstr("\"retention\" must be a mapping such as {max_age: 7d"));
  EXPECT_THAT(LoadError(head + "    heartbeat_ms: 5\n"),
              HasSubstr("heartbeat_ms \"5\" is not a number of milliseconds"));
  EXPECT_THAT(LoadError(head + "    table_state: maybe\n"),
              AllOf(HasSubstr(":8:"), HasSubstr("table_state \"maybe\" is invalid")));
}

TEST_F(ServerConfigTest, DefaultsAndNoSources) {
  ServerConfig c = MustLoad("data_dir: /d\n");
  EXPECT_EQ(c.listen, "127.0.0.1:7070");
  EXPECT_EQ(c.metrics_listen, "");
  EXPECT_THAT(c.sources, IsEmpty());
  EXPECT_THAT(MustLoad("data_dir: /d\nsources:\n").sources, IsEmpty());
  EXPECT_THAT(MustLoad("data_dir: /d\nsources: []\n").sources, IsEmpty());
}

TEST_F(ServerConfigTest, SnapshotIngestionBounds) {
  ServerConfig unset = MustLoad("data_dir: /d\n");
  EXPECT_FALSE(unset.snapshot_ingest_rows.has_value());
  EXPECT_FALSE(unset.snapshot_ingest_bytes.has_value());
  EXPECT_FALSE(unset.snapshot_ingest_max_delay_ms.has_value());
  ServerConfig c = MustLoad(
      "data_dir: /d\nsnapshot_ingest_rows: 250000\nsnapshot_ingest_bytes: 128MiB\n"
      "snapshot_ingest_max_delay_ms: \"500\"\n");
  EXPECT_EQ(c.snapshot_ingest_rows, 250000u);
  EXPECT_EQ(c.snapshot_ingest_bytes, uint64_t{128} << 20);
  EXPECT_EQ(c.snapshot_ingest_max_delay_ms, 500u);
  EXPECT_EQ(MustLoad("data_dir: /d\nsnapshot_ingest_bytes: 1048576\n").snapshot_ingest_bytes,
            uint64_t{1} << 20);
  EXPECT_THAT(
      LoadError("data_dir: /d\nsnapshot_ingest_rows: 0\n"),
      AllOf(StartsWith(At(2)),
            HasSubstr("snapshot_ingest_rows \"0\" is not a number between 1 and 10000000")));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_rows: 10000001\n"),
              HasSubstr("snapshot_ingest_rows \"10000001\" is not a number"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_rows: -5\n"),
              HasSubstr("snapshot_ingest_rows \"-5\" is not a number"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_rows: [1]\n"), HasSubstr("got a list"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_bytes: 64KiB\n"),
              AllOf(StartsWith(At(2)), HasSubstr("snapshot_ingest_bytes \"64KiB\" is not a size "
                                                 "between 1MiB and 1GiB")));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_bytes: 2GiB\n"),
              HasSubstr("is not a size between 1MiB and 1GiB"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_bytes: lots\n"),
              HasSubstr("snapshot_ingest_bytes \"lots\" is not a size"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_max_delay_ms: 60001\n"),
              HasSubstr("snapshot_ingest_max_delay_ms \"60001\" is not a number of milliseconds "
                        "between 1 and 60000"));
  EXPECT_THAT(LoadError("data_dir: /d\nsnapshot_ingest_max_delay_ms: 0\n"),
              HasSubstr("between 1 and 60000"));
}

TEST_F(ServerConfigTest, PostgresDefaultsSlotAndPublication) {
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - {name: my-app, kind: postgresql, host: "[::1]", user: u, database: app}
)");
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].host, "::1");
  EXPECT_EQ(c.sources[0].slot, "sluice_my_app");
  EXPECT_EQ(c.sources[0].publication, "sluice_my_app");
  EXPECT_EQ(c.sources[0].password, "");
  EXPECT_EQ(c.sources[0].url_redacted,
            "postgres://u@[::1]:5432/app?name=my-app&slot=sluice_my_app"
            "&publication=sluice_my_app");
}

TEST_F(ServerConfigTest, QuotedNumbersAreAccepted) {
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - {name: a, kind: mariadb, host: h, user: u, port: "3307", server_id: "12"}
)");
  EXPECT_EQ(c.sources[0].port, 3307);
  EXPECT_EQ(c.sources[0].server_id, 12u);
  EXPECT_EQ(c.sources[0].kind, v1::SOURCE_KIND_MYSQL);
}

TEST_F(ServerConfigTest, PasswordFileRelativeAndAbsolute) {
  Write("relative.secret", "hunter2\n");
  const std::string absolute = Write("absolute.secret", "p4ss\r\n");
  Write("keep.secret", "two\nlines\n\n");
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - {name: a, kind: mysql, host: h, user: u, server_id: 1, password_file: relative.secret}
  - {name: b, kind: mysql, host: h, user: u, server_id: 2, password_file: )" +
                            absolute + R"(}
  - {name: c, kind: mysql, host: h, user: u, server_id: 3, password_file: keep.secret}
)");
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.sources[0].password, kSecret);
  EXPECT_EQ(c.sources[1].password, "p4ss");
  EXPECT_EQ(c.sources[2].password, "two\nlines\n");  // only one trailing newline is removed
}

TEST_F(ServerConfigTest, PasswordFromEnvironment) {
  setenv("SLUICE_TEST_PW", kSecret, 1);
  setenv("SLUICE_TEST_EMPTY", "", 1);
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - {name: a, kind: mysql, host: h, user: u, server_id: 1, password: "${SLUICE_TEST_PW}"}
  - {name: b, kind: mysql, host: h, user: u, server_id: 2, password: "x${SLUICE_TEST_PW}y"}
  - {name: c, kind: mysql, host: h, user: u, server_id: 3, password: "a$$${b}$c$"}
  - {name: d, kind: mysql, host: h, user: u, server_id: 4, password: "${SLUICE_TEST_EMPTY}"}
)");
  ASSERT_EQ(c.sources.size(), 4u);
  EXPECT_EQ(c.sources[0].password, kSecret);
  EXPECT_EQ(c.sources[1].password, "xhunter2y");
  EXPECT_EQ(c.sources[2].password, "a$${b}$c$");
  EXPECT_EQ(c.sources[3].password, "");
  unsetenv("SLUICE_TEST_PW");
  unsetenv("SLUICE_TEST_EMPTY");
}

TEST_F(ServerConfigTest, UrlForm) {
  Write("app.secret", "hunter2\n");
  ServerConfig c = MustLoad(R"(data_dir: /d
sources:
  - url: "mysql://u:hunter2@db:3306/?name=shop&server_id=4711&tables=shop.orders"
  - url: postgres://u@pg/app?name=app
    password_file: app.secret
  - url: postgres://u@pg/app?name=app2
    password: hunter2
)");
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.sources[0].name, "shop");
  EXPECT_EQ(c.sources[0].password, kSecret);
  EXPECT_EQ(c.sources[0].url_redacted,
            "mysql://u:***@db:3306/?name=shop&server_id=4711&tables=shop.orders");
  EXPECT_EQ(c.sources[1].password, kSecret);
  EXPECT_EQ(c.sources[1].slot, "sluice_app");
  EXPECT_EQ(c.sources[2].password, kSecret);
}

TEST_F(ServerConfigTest, Ipv6Listen) {
  ServerConfig c = MustLoad("data_dir: /d\nlisten: \"[::1]:0\"\nmetrics_listen: \"[::1]:0\"\n");
  EXPECT_EQ(c.listen, "[::1]:0");
}

// ---- file-level errors ----

TEST_F(ServerConfigTest, MissingFileIsNotFound) {
  absl::StatusOr<ServerConfig> r = LoadConfigFile((dir_ / "nope.yaml").string());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(HasSubstr("nope.yaml"), HasSubstr("cannot be read")));
}

TEST_F(ServerConfigTest, DirectoryIsAnError) {
  absl::StatusOr<ServerConfig> r = LoadConfigFile(dir_.string());
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("cannot be read"));
}

TEST_F(ServerConfigTest, EmptyFile) {
  EXPECT_THAT(LoadError(""), HasSubstr("the config file is empty: it needs at least data_dir"));
  EXPECT_THAT(LoadError("# just a comment\n"), HasSubstr("the config file is empty"));
}

TEST_F(ServerConfigTest, InvalidYamlSyntaxHasLine) {
  EXPECT_THAT(LoadError("data_dir: /d\nsources: [\n  {name: a\n"),
              AllOf(HasSubstr("invalid YAML"), StartsWith(path_ + ":")));
  EXPECT_THAT(LoadError("data_dir: /d\n  bad: indent\n"),
              AllOf(StartsWith(At(2)), HasSubstr("invalid YAML")));
}

TEST_F(ServerConfigTest, TopLevelNotAMapping) {
  EXPECT_THAT(LoadError("- a\n- b\n"),
              AllOf(StartsWith(At(1)), HasSubstr("the top level must be a mapping"),
                    HasSubstr("got a list")));
  EXPECT_THAT(LoadError("just text\n"), HasSubstr("got a string"));
}

// ---- top-level keys ----

TEST_F(ServerConfigTest, UnknownTopLevelKey) {
  EXPECT_THAT(LoadError("data_dir: /d\nsorces: []\n"),
              AllOf(StartsWith(At(2) + "1: "), HasSubstr("unknown key \"sorces\""),
                    HasSubstr("(known keys: data_dir, listen, metrics_listen, log_format, "
                              "sources, tls, token_file, snapshot_ingest_rows, "
                              "snapshot_ingest_bytes, snapshot_ingest_max_delay_ms)"),
                    HasSubstr("did you mean \"sources\"?")));
}

TEST_F(ServerConfigTest, DuplicateTopLevelKey) {
  EXPECT_THAT(LoadError("data_dir: /a\nlisten: h:1\ndata_dir: /b\n"),
              AllOf(StartsWith(At(3)), HasSubstr("duplicate key \"data_dir\" (first on line 1)")));
}

TEST_F(ServerConfigTest, MissingDataDir) {
  EXPECT_THAT(LoadError("listen: 127.0.0.1:1\n"),
              HasSubstr("data_dir is required: add data_dir: /var/lib/sluice"));
  EXPECT_THAT(LoadError("data_dir: \"\"\n"), HasSubstr("data_dir is empty"));
}

TEST_F(ServerConfigTest, WrongTopLevelTypes) {
  EXPECT_THAT(LoadError("data_dir: [a, b]\n"),
              AllOf(StartsWith(At(1)), HasSubstr("\"data_dir\" must be a string, got a list")));
  EXPECT_THAT(LoadError("data_dir:\n"), HasSubstr("\"data_dir\" must be a string, got nothing"));
  EXPECT_THAT(LoadError("data_dir: /d\nsources: {name: a}\n"),
              AllOf(StartsWith(At(2)), HasSubstr("\"sources\" must be a list"),
                    HasSubstr("got a mapping")));
  EXPECT_THAT(LoadError("data_dir: /d\nsources: shop\n"), HasSubstr("got a string"));
}

TEST_F(ServerConfigTest, BadListenAddresses) {
  EXPECT_THAT(LoadError("data_dir: /d\nlisten: localhost\n"),
              AllOf(StartsWith(At(2)), HasSubstr("listen address \"localhost\" has no port")));
  EXPECT_THAT(LoadError("data_dir: /d\nmetrics_listen: \"h:70000\"\n"),
              AllOf(StartsWith(At(2)), HasSubstr("port \"70000\"")));
  EXPECT_THAT(LoadError("data_dir: /d\nlisten: h:1\nmetrics_listen: h:1\n"),
              AllOf(StartsWith(At(3)), HasSubstr("is also the gRPC listen address")));
}

// ---- gRPC TLS and tokens ----

TEST_F(ServerConfigTest, TlsAndTokenFile) {
  Write("server.pem", "cert");
  Write("server.key", "key");
  const std::string ca = Write("ca.pem", "ca");
  Write("tokens", "t");
  ServerConfig c = MustLoad(
      "data_dir: /d\ntls:\n  cert_file: server.pem\n  key_file: server.key\n"
      "  client_ca_file: " +
      ca + "\ntoken_file: tokens\n");
  EXPECT_EQ(c.tls.cert_file, (dir_ / "server.pem").string());
  EXPECT_EQ(c.tls.key_file, (dir_ / "server.key").string());
  EXPECT_EQ(c.tls.client_ca_file, ca);
  EXPECT_TRUE(c.tls.enabled());
  EXPECT_EQ(c.token_file, (dir_ / "tokens").string());
  ServerConfig plain = MustLoad("data_dir: /d\n");
  EXPECT_FALSE(plain.tls.enabled());
  EXPECT_EQ(plain.token_file, "");
}

TEST_F(ServerConfigTest, TlsErrors) {
  Write("server.pem", "cert");
  Write("server.key", "key");
  EXPECT_THAT(LoadError("data_dir: /d\ntls: on\n"),
              AllOf(StartsWith(At(2)), HasSubstr("\"tls\" must be a mapping such as {cert_file:"),
                    HasSubstr("got a string")));
  EXPECT_THAT(LoadError("data_dir: /d\ntls: {cert_fil: server.pem}\n"),
              AllOf(StartsWith(At(2)), HasSubstr("tls: unknown key \"cert_fil\""),
                    HasSubstr("did you mean \"cert_file\"?")));
  EXPECT_THAT(LoadError("data_dir: /d\ntls: {cert_file: [a]}\n"),
              HasSubstr("\"cert_file\" must be a string, got a list"));
  EXPECT_THAT(LoadError("data_dir: /d\ntls: {cert_file: \"\", key_file: server.key}\n"),
              HasSubstr("tls: cert_file is empty: give the path of a file"));
  EXPECT_THAT(
      LoadError("data_dir: /d\ntls: {cert_file: nope.pem, key_file: server.key}\n"),
      AllOf(StartsWith(At(2)), HasSubstr("tls: cert_file \"" + (dir_ / "nope.pem").string() +
                                         "\" cannot be read: No such file or directory")));
  EXPECT_THAT(LoadError("data_dir: /d\ntls:\n  cert_file: server.pem\n"),
              AllOf(StartsWith(At(3)),
                    HasSubstr("tls: key_file is missing: TLS needs both cert_file and key_file")));
  EXPECT_THAT(LoadError("data_dir: /d\ntls: {key_file: server.key}\n"),
              HasSubstr("cert_file is missing"));
  EXPECT_THAT(LoadError("data_dir: /d\ntls: {client_ca_file: server.pem}\n"),
              HasSubstr("client_ca_file needs cert_file and key_file"));
}

TEST_F(ServerConfigTest, TokenFileErrors) {
  EXPECT_THAT(LoadError("data_dir: /d\ntoken_file: missing\n"),
              AllOf(StartsWith(At(2)), HasSubstr("token_file \"" + (dir_ / "missing").string() +
                                                 "\" cannot be read")));
  EXPECT_THAT(LoadError("data_dir: /d\ntoken_file: \"\"\n"),
              HasSubstr("token_file is empty: give the path of a file"));
  EXPECT_THAT(LoadError("data_dir: /d\ntoken_file: {a: b}\n"),
              HasSubstr("\"token_file\" must be a string, got a mapping"));
  EXPECT_THAT(LoadError("data_dir: /d\ntoken_file: " + dir_.string() + "\n"),
              HasSubstr("it is not a regular file"));
}

TEST(ValidateServerTlsTest, FlagCombinations) {
  EXPECT_TRUE(ValidateServerTls({}).ok());
  EXPECT_TRUE(ValidateServerTls({"c", "k", ""}).ok());
  EXPECT_TRUE(ValidateServerTls({"c", "k", "ca"}).ok());
  EXPECT_THAT(std::string(ValidateServerTls({"c", "", ""}).message()),
              HasSubstr("--tls-key is missing"));
  EXPECT_THAT(std::string(ValidateServerTls({"", "k", ""}).message()),
              HasSubstr("--tls-cert is missing"));
  EXPECT_THAT(std::string(ValidateServerTls({"", "", "ca"}).message()),
              HasSubstr("--tls-client-ca needs --tls-cert and --tls-key"));
}

// ---- source structure ----

TEST_F(ServerConfigTest, SourceMustBeAMapping) {
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - \"mysql://u:hunter2@h/?name=a\"\n"),
      AllOf(StartsWith(At(3)), HasSubstr("sources[0] must be a mapping"), HasSubstr("- url: ...")));
}

TEST_F(ServerConfigTest, UnknownSourceKey) {
  std::string msg = LoadError(R"(data_dir: /d
sources:
  - name: shop
    kind: mysql
    tabels: [shop.orders]
)");
  EXPECT_THAT(msg, AllOf(StartsWith(At(5) + "5: "), HasSubstr("source 'shop'"),
                         HasSubstr("unknown key \"tabels\""), HasSubstr("known keys: name, kind"),
                         HasSubstr("did you mean \"tables\"?")));
}

TEST_F(ServerConfigTest, UnknownKeyBeforeNameUsesIndex) {
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - {name: a, kind: mysql, host: h, user: u, "
                        "server_id: 1}\n  - {hots: x}\n"),
              AllOf(StartsWith(At(4)), HasSubstr("sources[1]: unknown key \"hots\""),
                    HasSubstr("did you mean \"host\"")));
}

TEST_F(ServerConfigTest, DuplicateSourceKey) {
  EXPECT_THAT(LoadError(R"(data_dir: /d
sources:
  - name: shop
    kind: mysql
    host: a
    host: b
)"),
              AllOf(StartsWith(At(6)), HasSubstr("duplicate key \"host\" (first on line 5)")));
}

TEST_F(ServerConfigTest, NonStringKey) {
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - {[a]: 1}\n"),
              HasSubstr("keys must be plain words, got a list"));
}

TEST_F(ServerConfigTest, DuplicateSourceNames) {
  EXPECT_THAT(LoadError(R"(data_dir: /d
sources:
  - {name: shop, kind: mysql, host: h, user: u, server_id: 1}
  - name: other
    kind: mysql
    host: h
    user: u
    server_id: 2
  - {name: shop, kind: mysql, host: h2, user: u, server_id: 3}
)"),
              AllOf(StartsWith(At(9)),
                    HasSubstr("duplicate source name \"shop\" (first defined on line 3)"),
                    HasSubstr("give each source its own name")));
}

// ---- source fields: types ----

TEST_F(ServerConfigTest, WrongFieldTypes) {
  const std::string head = "data_dir: /d\nsources:\n  - name: s\n    kind: mysql\n";
  EXPECT_THAT(
      LoadError(head + "    host: [a]\n"),
      AllOf(StartsWith(At(5)), HasSubstr("source 's': \"host\" must be a string, got a list")));
  EXPECT_THAT(LoadError(head + "    user: {a: b}\n"), HasSubstr("got a mapping"));
  EXPECT_THAT(LoadError(head + "    password:\n"),
              AllOf(HasSubstr("\"password\" must be a string, got nothing"),
                    HasSubstr("write password: \"\"")));
  EXPECT_THAT(LoadError(head + "    port: [3306]\n"), HasSubstr("\"port\" must be a string"));
  EXPECT_THAT(
      LoadError(head + "    tables: shop.orders\n"),
      AllOf(StartsWith(At(5)), HasSubstr("\"tables\" must be a list"), HasSubstr("got a string")));
  EXPECT_THAT(LoadError(head + "    tables:\n      - shop.a\n      - [x]\n"),
              AllOf(StartsWith(At(7)), HasSubstr("each entry of \"tables\" must be a string")));
  EXPECT_THAT(LoadError(head + "    tls: [required]\n"),
              HasSubstr("\"tls\" must be a mapping such as {mode: verify_identity"));
  EXPECT_THAT(LoadError(head + "    kind: mysql\n"), HasSubstr("duplicate key \"kind\""));
}

// ---- source fields: values ----

TEST_F(ServerConfigTest, BadFieldValues) {
  const std::string head = "data_dir: /d\nsources:\n  - name: s\n    kind: mysql\n    user: u\n";
  EXPECT_THAT(LoadError(head + "    port: 99999\n"),
              AllOf(StartsWith(At(6) + "11: "),
                    HasSubstr("source 's': port \"99999\" is not a number between 1 and 65535")));
  EXPECT_THAT(LoadError(head + "    server_id: -4\n"),
              HasSubstr("server_id \"-4\" is not a number between 1 and 4294967295"));
  EXPECT_THAT(LoadError(head + "    host: \"a b\"\n"), HasSubstr("host \"a b\" is invalid"));
  EXPECT_THAT(LoadError(head + "    snapshot: always\n"),
              HasSubstr("snapshot \"always\" is invalid: use initial, never or when_needed"));
  EXPECT_THAT(LoadError(head + "    tables: [shop.orders, orders]\n"),
              AllOf(StartsWith(At(6)), HasSubstr("table pattern \"orders\" is invalid"),
                    HasSubstr("DATABASE.TABLE")));
  EXPECT_THAT(LoadError(head + "    tls: {mode: on}\n"),
              AllOf(StartsWith(At(6)), HasSubstr("source 's': tls: tls mode \"on\" is invalid")));
  EXPECT_THAT(LoadError(head + "    tls: sometimes\n"), HasSubstr("tls mode \"sometimes\""));
  EXPECT_THAT(LoadError(head + "    tls: {mode: required, ca: /x}\n"),
              AllOf(HasSubstr("tls: unknown key \"ca\""), HasSubstr("known keys: mode, ca_file")));
  EXPECT_THAT(LoadError(head + "    tls: {ca_file: \"\"}\n"), HasSubstr("ca_file is empty"));
  EXPECT_THAT(LoadError(head + "    server_id: 1\n    host: h\n    tls: {mode: disabled, ca_file: "
                               "/ca.pem}\n"),
              HasSubstr("tls.ca_file is set but tls.mode is disabled"));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - kind: mysql\n    name: Shop\n"),
              AllOf(StartsWith(At(4)), HasSubstr("name \"Shop\" is invalid: use 1 to 64 characters "
                                                 "from a-z, 0-9, '_' and '-'")));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - {name: a, kind: mongo}\n"),
              HasSubstr("kind \"mongo\" is invalid: use mysql or postgres"));
}

TEST_F(ServerConfigTest, PostgresValues) {
  const std::string head =
      "data_dir: /d\nsources:\n  - name: p\n    kind: postgres\n    host: h\n    user: u\n";
  EXPECT_THAT(LoadError(head + "    slot: Bad-Slot\n    database: d\n"),
              HasSubstr("slot \"Bad-Slot\" is invalid"));
  EXPECT_THAT(LoadError(head + "    publication: \"a b\"\n    database: d\n"),
              HasSubstr("publication \"a b\" is invalid"));
  EXPECT_THAT(LoadError(head + "    tables: [orders]\n    database: d\n"),
              AllOf(HasSubstr("SCHEMA.TABLE"), HasSubstr("public.orders")));
}

TEST_F(ServerConfigTest, KeysOfTheOtherKind) {
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - name: p\n    kind: postgres\n    server_id: 1\n"),
      AllOf(StartsWith(At(5)),
            HasSubstr("key \"server_id\" applies only to mysql sources: remove it")));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - slot: x\n    name: m\n    kind: mysql\n"),
              AllOf(StartsWith(At(3)), HasSubstr("key \"slot\" applies only to postgres sources")));
}

// ---- source fields: required ----

TEST_F(ServerConfigTest, MissingRequiredFields) {
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - name: s\n    host: h\n"),
              AllOf(StartsWith(At(3)), HasSubstr("source 's': kind is required: add kind: mysql or "
                                                 "kind: postgres")));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - {kind: mysql, host: h, user: u, server_id: 1}\n"),
      AllOf(StartsWith(At(3)), HasSubstr("name is required: add name: NAME")));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - {name: x, kind: mysql, user: u, server_id: 1}\n"),
      HasSubstr("mysql source 'x': host is required: add host: HOST"));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - {name: x, kind: mysql, host: h, server_id: 1}\n"),
      HasSubstr("mysql source 'x': user is required: add user: USER"));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - {name: x, kind: mysql, host: h, user: u}\n"),
              AllOf(StartsWith(At(3)),
                    HasSubstr("mysql source 'x': server_id is required: add server_id: N, a number "
                              "unique among the server's replicas")));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - {name: x, kind: postgres, host: h, user: u}\n"),
      HasSubstr("postgres source 'x': database is required: add database: NAME"));
}

// ---- passwords ----

TEST_F(ServerConfigTest, PasswordErrors) {
  const std::string head =
      "data_dir: /d\nsources:\n  - name: s\n    kind: mysql\n    host: h\n    user: u\n"
      "    server_id: 1\n";
  EXPECT_THAT(LoadError(head + "    password: hunter2\n    password_file: /x\n"),
              AllOf(StartsWith(At(9)), HasSubstr("either password or password_file, not both")));
  EXPECT_THAT(
      LoadError(head + "    password_file: missing.secret\n"),
      AllOf(StartsWith(At(8)), HasSubstr("password_file \"" + (dir_ / "missing.secret").string() +
                                         "\" cannot be read")));
  Write("empty.secret", "\n");
  EXPECT_THAT(LoadError(head + "    password_file: empty.secret\n"), HasSubstr("is empty"));
  EXPECT_THAT(LoadError(head + "    password_file: \"\"\n"), HasSubstr("password_file is empty"));
  Write("big.secret", std::string(70000, 'x'));
  EXPECT_THAT(LoadError(head + "    password_file: big.secret\n"),
              HasSubstr("it should hold only the password"));
  unsetenv("SLUICE_TEST_UNSET");
  EXPECT_THAT(LoadError(head + "    password: \"${SLUICE_TEST_UNSET}\"\n"),
              AllOf(StartsWith(At(8)),
                    HasSubstr("environment variable \"SLUICE_TEST_UNSET\" (used in password) is "
                              "not set")));
  EXPECT_THAT(LoadError(head + "    password: \"hunter2${OOPS\"\n"),
              HasSubstr("without a closing '}'"));
  EXPECT_THAT(LoadError(head + "    password: \"hunter2${1X}\"\n"),
              HasSubstr("invalid environment variable name"));
  EXPECT_THAT(LoadError(head + "    password: \"hunter2${}\"\n"),
              HasSubstr("invalid environment variable name"));
}

// ---- url form ----

TEST_F(ServerConfigTest, UrlErrors) {
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - url: \"mysql://u:hunter2@h/?name=a\"\n"),
              AllOf(StartsWith(At(3) + "10: "), HasSubstr("source URL \"mysql://u:***@h/?name=a\""),
                    HasSubstr("server_id is required: add &server_id=N")));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - url: \"mysql://u@h/?name=a&server_id=1\"\n"
                        "    host: other\n"),
              AllOf(StartsWith(At(4)), HasSubstr("key \"host\" cannot be combined with url")));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - url: \"mysql://u:hunter2@h/?name=a&server_id=1\"\n"
                "    password: other\n"),
      AllOf(StartsWith(At(4)), HasSubstr("the url already contains a password")));
  EXPECT_THAT(
      LoadError("data_dir: /d\nsources:\n  - url: \"mysql://u:${PW}@h/?name=a&server_id=1\"\n"),
      HasSubstr("environment variables are expanded only in password"));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - url: [x]\n"),
              HasSubstr("\"url\" must be a string, got a list"));
  EXPECT_THAT(LoadError("data_dir: /d\nsources:\n  - url: \"mongo://u:hunter2@h\"\n"),
              HasSubstr("unknown scheme \"mongo\""));
}

TEST_F(ServerConfigTest, ParseConfigYamlNamesTheOrigin) {
  absl::StatusOr<ServerConfig> r = ParseConfigYaml("listen: x\n", "inline.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith("inline.yaml:1:1: "));
}

TEST_F(ServerConfigTest, LogFormat) {
  EXPECT_EQ(MustLoad("data_dir: /d\n").log_format, "text");
  EXPECT_EQ(MustLoad("data_dir: /d\nlog_format: json\n").log_format, "json");
  EXPECT_THAT(LoadError("data_dir: /d\nlog_format: xml\n"),
              AllOf(StartsWith(At(2) + "13: "),
                    HasSubstr("log_format \"xml\" is not known: use text or json")));
}

}  // namespace
}  // namespace sluice::config
