// sluiced's gRPC security and --check-config, with real processes: bearer tokens (none, wrong,
// the subscribe role on admin verbs), TLS and mTLS with a CA made by OpenSSL in the test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "protocol/mysqlclient/test_pki.h"
#include "storage/change_log.h"
#include "tests/e2e/sluiced_process.h"

namespace sluice {
namespace {

using e2e::Lines;
using e2e::Sluicectl;
using e2e::Sluiced;
using e2e::SluicedProcess;
using storage::testing::TempDir;
namespace testpki = mysqlclient::testpki;

constexpr char kAdminToken[] = "adm-5b1e0c7d9a2f4e8b";
constexpr char kReaderToken[] = "sub-8c3d2e1f0a9b7c6d";

// Two stored events of source "shop", so that tail and log have something to read.
void SeedLog(const std::string& data_dir) {
  auto log = *storage::ChangeLog::Open(data_dir);
  auto id = *log->RegisterSource("shop", v1::SOURCE_KIND_MYSQL);
  std::vector<v1::ChangeEvent> txn;
  for (int i = 1; i <= 2; ++i) {
    v1::ChangeEvent e;
    e.set_op(v1::OP_INSERT);
    e.mutable_source()->set_name("shop");
    e.mutable_source()->set_database("shop");
    e.mutable_source()->set_table("orders");
    e.add_key_columns("id");
    auto* f = e.mutable_after()->add_fields();
    f->set_name("id");
    f->mutable_value()->set_int64(i);
    txn.push_back(std::move(e));
  }
  v1::SourceCheckpoint cp;
  cp.set_position_text("binlog.000001:4");
  ASSERT_TRUE(log->Append(id, std::move(txn), cp).ok());
}

std::string WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary) << text;
  chmod(path.c_str(), mode);
  return path;
}

testing::SubprocessResult Ctl(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {Sluicectl()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testing::RunSubprocess(argv, env, std::chrono::seconds(60));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::SubprocessResult{};
}

class TokenAuthE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    SeedLog(data_.path());
    tokens_ = WriteFile(files_.path() + "/tokens", std::string("# sluice tokens\n") + kAdminToken +
                                                       " admin\n" + kReaderToken + " subscribe\n");
    admin_file_ = WriteFile(files_.path() + "/admin.token", std::string(kAdminToken) + "\n");
    reader_file_ = WriteFile(files_.path() + "/reader.token", std::string(kReaderToken) + "\n");
    d_ = std::make_unique<SluicedProcess>(std::vector<std::string>{
        "--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--token-file", tokens_});
  }

  TempDir data_;
  TempDir files_;
  std::string tokens_;
  std::string admin_file_;
  std::string reader_file_;
  std::unique_ptr<SluicedProcess> d_;
};

TEST_F(TokenAuthE2E, NoTokenIsRefusedWithAHint) {
  for (const auto& verb : std::vector<std::vector<std::string>>{
           {"status"}, {"sources"}, {"tail", "shop", "--from", "earliest", "--limit", "1"}}) {
    std::vector<std::string> args = {"--server", d_->address()};
    args.insert(args.end(), verb.begin(), verb.end());
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 1) << verb[0];
    EXPECT_EQ(Lines(r.stderr_text), 1u) << r.stderr_text;
    EXPECT_EQ(r.stderr_text,
              "sluicectl: error: not authenticated: this sluiced requires a bearer token and the "
              "request has none: give sluicectl --token-file FILE or set SLUICE_TOKEN (clients "
              "send \"authorization: Bearer TOKEN\")\n");
    EXPECT_EQ(r.stdout_text, "");
  }
}

TEST_F(TokenAuthE2E, WrongTokenIsRefused) {
  auto r = Ctl({"--server", d_->address(), "status"}, {{"SLUICE_TOKEN", "guessed-token-123456"}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stderr_text,
            "sluicectl: error: not authenticated: the bearer token is not valid for this "
            "sluiced: check the token against the server's --token-file\n");
  EXPECT_EQ(r.stderr_text.find("guessed"), std::string::npos);
}

TEST_F(TokenAuthE2E, SubscribeRoleCannotUseAdminVerbs) {
  for (const auto& [verb, rpc] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"status"}, "Admin.Status"},
           {{"pause", "shop"}, "Admin.PauseSource"},
           {{"log", "shop"}, "Admin.ReadLog"},
           {{"retention", "shop", "--max-age", "1d"}, "Admin.Retention"}}) {
    std::vector<std::string> args = {"--server", d_->address(), "--token-file", reader_file_};
    args.insert(args.end(), verb.begin(), verb.end());
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 1) << verb[0];
    EXPECT_EQ(r.stderr_text,
              "sluicectl: error: permission denied: the token has role "
              "subscribe; " +
                  rpc + " needs role admin: use an admin token\n");
  }
  // The subscribe role may read the change stream.
  auto tail = Ctl({"--server", d_->address(), "--token-file", reader_file_, "tail", "shop",
                   "--from", "earliest", "--limit", "2", "--format", "json"});
  EXPECT_EQ(tail.exit_code, 0) << tail.stderr_text;
  EXPECT_EQ(Lines(tail.stdout_text), 2u);
}

TEST_F(TokenAuthE2E, AdminTokenFromFileOrEnvironmentWorks) {
  auto r =
      Ctl({"--server", d_->address(), "--token-file", admin_file_, "status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("\"name\":\"shop\""), std::string::npos) << r.stdout_text;
  r = Ctl({"--server", d_->address(), "log", "shop", "--format", "json"},
          {{"SLUICE_TOKEN", kAdminToken}});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(Lines(r.stdout_text), 2u);
}

TEST(TokenFileE2E, LoosePermissionsStopTheServer) {
  TempDir data;
  TempDir files;
  const std::string tokens =
      WriteFile(files.path() + "/tokens", std::string(kAdminToken) + " admin\n", 0644);
  auto r = testing::RunSubprocess(
      {Sluiced(), "--data-dir", data.path(), "--listen", "127.0.0.1:0", "--token-file", tokens}, {},
      std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->stderr_text.find("token file \"" + tokens +
                                "\" has mode 0644: group or others may access it, and it holds "
                                "secrets: run chmod 600 " +
                                tokens),
            std::string::npos)
      << r->stderr_text;
}

TEST(ListenE2E, NonLoopbackWithoutTokensIsWarned) {
  TempDir data;
  SluicedProcess open_to_all({"--data-dir", data.path(), "--listen", "0.0.0.0:0"});
  EXPECT_NE(open_to_all.Log().find("listening on 0.0.0.0:0 without --token-file: anyone who can "
                                   "reach it can read every change and control the sources"),
            std::string::npos)
      << open_to_all.Log();
  TempDir data2;
  SluicedProcess loopback({"--data-dir", data2.path(), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(loopback.Log().find("without --token-file"), std::string::npos) << loopback.Log();
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, as files.
class TlsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    SeedLog(data_.path());
    auto ca = testpki::MakeCa("sluice test CA");
    ASSERT_TRUE(ca.ok()) << ca.status();
    auto server = testpki::MakeServerCert(*ca, "IP:127.0.0.1,DNS:localhost");
    ASSERT_TRUE(server.ok()) << server.status();
    auto client = testpki::MakeServerCert(*ca, "DNS:sluicectl");
    ASSERT_TRUE(client.ok()) << client.status();
    auto other_ca = testpki::MakeCa("some other CA");
    ASSERT_TRUE(other_ca.ok());
    ca_ = WriteFile(files_.path() + "/ca.pem", ca->cert_pem);
    other_ca_ = WriteFile(files_.path() + "/other-ca.pem", other_ca->cert_pem);
    cert_ = WriteFile(files_.path() + "/server.pem", server->cert_pem);
    key_ = WriteFile(files_.path() + "/server.key", server->key_pem);
    client_cert_ = WriteFile(files_.path() + "/client.pem", client->cert_pem);
    client_key_ = WriteFile(files_.path() + "/client.key", client->key_pem);
  }

  TempDir data_;
  TempDir files_;
  std::string ca_, other_ca_, cert_, key_, client_cert_, client_key_;
};

TEST_F(TlsE2E, ServerTls) {
  SluicedProcess d({"--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--tls-cert", cert_,
                    "--tls-key", key_});
  auto r = Ctl({"--server", d.address(), "--tls-ca", ca_, "status", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("\"name\":\"shop\""), std::string::npos);
  auto tail = Ctl({"--server", d.address(), "--tls-ca", ca_, "tail", "shop", "--from", "earliest",
                   "--limit", "2", "--format", "json"});
  EXPECT_EQ(tail.exit_code, 0) << tail.stderr_text;
  EXPECT_EQ(Lines(tail.stdout_text), 2u);
  // Plaintext against a TLS server, and a certificate from an unknown CA, are refused.
  auto plain = Ctl({"--server", d.address(), "status"});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.stderr_text.find("if sluiced serves TLS, pass --tls-ca FILE"), std::string::npos)
      << plain.stderr_text;
  auto wrong_ca = Ctl({"--server", d.address(), "--tls-ca", other_ca_, "status"});
  EXPECT_EQ(wrong_ca.exit_code, 1);
  EXPECT_EQ(Lines(wrong_ca.stderr_text), 1u) << wrong_ca.stderr_text;
  EXPECT_NE(wrong_ca.stderr_text.find("certificate verify failed"), std::string::npos)
      << wrong_ca.stderr_text;
  EXPECT_NE(wrong_ca.stderr_text.find("cannot reach sluiced at " + d.address()), std::string::npos)
      << wrong_ca.stderr_text;
}

TEST_F(TlsE2E, ClientCertificatesAreRequiredWithAClientCa) {
  SluicedProcess d({"--data-dir", data_.path(), "--listen", "127.0.0.1:0", "--tls-cert", cert_,
                    "--tls-key", key_, "--tls-client-ca", ca_});
  auto ok = Ctl({"--server", d.address(), "--tls-ca", ca_, "--tls-cert", client_cert_, "--tls-key",
                 client_key_, "log", "shop", "--format", "json"});
  EXPECT_EQ(ok.exit_code, 0) << ok.stderr_text;
  EXPECT_EQ(Lines(ok.stdout_text), 2u);
  auto no_cert = Ctl({"--server", d.address(), "--tls-ca", ca_, "status"});
  EXPECT_EQ(no_cert.exit_code, 1);
  EXPECT_NE(no_cert.stderr_text.find("cannot reach sluiced"), std::string::npos)
      << no_cert.stderr_text;
  auto half = Ctl({"--server", d.address(), "--tls-ca", ca_, "--tls-cert", client_cert_, "status"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.stderr_text.find("--tls-cert and --tls-key go together"), std::string::npos);
}

TEST_F(TlsE2E, CheckConfigValidatesTheFiles) {
  const std::string config = WriteFile(
      files_.path() + "/sluice.yaml",
      "data_dir: " + data_.path() + "\nlisten: 127.0.0.1:7999\ntls:\n  cert_file: " + cert_ +
          "\n  key_file: " + key_ + "\n  client_ca_file: ca.pem\n" +
          "token_file: tokens\nsources:\n  - name: shop\n    kind: mysql\n    host: "
          "db\n    user: sluice\n    password: hunter2secret\n    server_id: 7\n");
  WriteFile(files_.path() + "/tokens", std::string(kAdminToken) + " admin\n");
  auto r = testing::RunSubprocess({Sluiced(), "--check-config", "--config", config}, {},
                                  std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->stderr_text;
  EXPECT_EQ(r->stdout_text, "configuration OK\ndata dir " + data_.path() +
                                "\nlisten 127.0.0.1:7999 (TLS, client certificates), tokens from " +
                                files_.path() + "/tokens\n1 source(s)\n  shop  " +
                                "mysql://sluice:***@db:3306/?name=shop&server_id=7\n");
  EXPECT_EQ(r->stdout_text.find("hunter2secret"), std::string::npos);

  // One problem per kind: a file error (with file:line), a key that is not PEM, loose token
  // file permissions, a flag combination.
  const std::string bad =
      WriteFile(files_.path() + "/bad.yaml", "data_dir: /d\ntls:\n  cert_file: " + cert_ + "\n");
  r = testing::RunSubprocess({Sluiced(), "--check-config", "--config", bad}, {},
                             std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->stderr_text, "sluiced: error: " + bad +
                                ":3:3: tls: key_file is missing: TLS needs both cert_file and "
                                "key_file\n");
  r = testing::RunSubprocess(
      {Sluiced(), "--check-config", "--data-dir", "/d", "--tls-cert", cert_, "--tls-key", ca_}, {},
      std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->stderr_text, "sluiced: error: TLS key \"" + ca_ +
                                "\" holds no PEM PRIVATE KEY (a block starting -----BEGIN "
                                "...PRIVATE KEY-----)\n");
  chmod((files_.path() + "/tokens").c_str(), 0640);
  r = testing::RunSubprocess({Sluiced(), "--check-config", "--config", config}, {},
                             std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->stderr_text.find("has mode 0640"), std::string::npos) << r->stderr_text;
  r = testing::RunSubprocess({Sluiced(), "--check-config", "--data-dir", "/d", "--tls-key", key_},
                             {}, std::chrono::seconds(60));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_NE(r->stderr_text.find("--tls-cert is missing"), std::string::npos) << r->stderr_text;
}

}  // namespace
}  // namespace sluice
