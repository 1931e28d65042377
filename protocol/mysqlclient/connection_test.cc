// MysqlConnection against a scripted fake server on a loopback socket: the auth paths a real
// MariaDB in the integration test does not take (auth switch, caching_sha2_password), and
// timeouts.

#include "protocol/mysqlclient/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "protocol/mysqlclient/packet.h"

namespace sluice::mysqlclient {
namespace {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

const std::string kSeedA = "AAAAAAAABBBBBBBBBBBB";
const std::string kSeedB = "0123456789abcdefghij";

// One accepted client, driven by plain blocking POSIX calls.
class FakeServer {
 public:
  using Script = std::function<void(FakeServer&)>;

  explicit FakeServer(Script script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 1);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script] {
      fd_ = ::accept(listen_fd_, nullptr, nullptr);
      if (fd_ >= 0) script(*this);
    });
  }
  ~FakeServer() {
    Join();
    if (fd_ >= 0) ::close(fd_);
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  // Waits for the script to finish; after this its results may be read.
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  void Send(std::string_view payload, uint8_t seq) {
    std::string b = EncodePackets(payload, seq);
    ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
  }
  // The next packet's payload; `seq` receives its sequence id. Empty on EOF.
  std::string Read(uint8_t* seq = nullptr) {
    std::string h = ReadN(4);
    if (h.size() < 4) return std::string();
    size_t n = static_cast<uint8_t>(h[0]) | static_cast<uint8_t>(h[1]) << 8 |
               static_cast<uint8_t>(h[2]) << 16;
    if (seq != nullptr) *seq = static_cast<uint8_t>(h[3]);
    return ReadN(n);
  }
  // Blocks until the client closes the connection.
  void WaitClose() {
    char c;
    while (::recv(fd_, &c, 1, 0) > 0) {
    }
  }

 private:
  std::string ReadN(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) return out.substr(0, got);
      got += static_cast<size_t>(r);
    }
    return out;
  }

  int listen_fd_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::string HandshakePayload(std::string_view plugin, std::string_view seed) {
  std::string p;
  p.push_back(10);
  p += std::string("8.0.36-fake") + '\0';
  p += S("\x07\x00\x00\x00");
  p += seed.substr(0, 8);
  p.push_back('\0');
  uint32_t caps = kClientLongPassword | kClientProtocol41 | kClientSecureConnection |
                  kClientPluginAuth | kClientPluginAuthLenencClientData | kClientTransactions;
  p.push_back(static_cast<char>(caps & 0xFF));
  p.push_back(static_cast<char>((caps >> 8) & 0xFF));
  p.push_back(45);
  p += S("\x02\x00");
  p.push_back(static_cast<char>((caps >> 16) & 0xFF));
  p.push_back(static_cast<char>((caps >> 24) & 0xFF));
  p.push_back(21);
  p += std::string(10, '\0');
  p += std::string(seed.substr(8)) + '\0';
  p += std::string(plugin) + '\0';
  return p;
}

const std::string kOk("\x00\x00\x00\x02\x00\x00\x00", 7);

// Reads the HandshakeResponse41 and returns its auth response (lenenc, < 251 bytes here).
std::string AuthResponseOf(const std::string& resp, std::string* plugin = nullptr) {
  size_t at = 32;
  size_t nul = resp.find('\0', at);
  if (nul == std::string::npos || nul + 1 >= resp.size()) return "?";
  size_t len = static_cast<uint8_t>(resp[nul + 1]);
  std::string auth = resp.substr(nul + 2, len);
  if (plugin != nullptr) {
    size_t p = nul + 2 + len;
    *plugin = resp.substr(p, resp.find('\0', p) - p);
  }
  return auth;
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> ConnectTo(const FakeServer& s,
                                                           absl::Duration t = absl::Seconds(5)) {
  return MysqlConnection::Connect("127.0.0.1", s.port(), "repl", "secret", t);
}

TEST(MysqlConnectionFakeTest, AuthSwitchToNativeThenQuery) {
  std::string first_auth, first_plugin, second_auth;
  uint8_t seq1 = 0, seq3 = 0;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    first_auth = AuthResponseOf(s.Read(&seq1), &first_plugin);
    s.Send(S("\xfemysql_native_password\0") + kSeedB + '\0', 2);
    second_auth = s.Read(&seq3);
    s.Send(kOk, 4);
    uint8_t q = 9;
    std::string query = s.Read(&q);
    if (query != "\x03SELECT 1" || q != 0) return;
    s.Send("\x01", 1);
    s.Send(S("\x03" "def\0\0\0\x01" "1\0\x0c\x3f\x00\x01\x00\x00\x00\x08\x81\x00\x00\x00\x00"),
           2);
    s.Send(S("\xfe\x00\x00\x02\x00"), 3);
    s.Send(S("\x01" "1"), 4);
    s.Send(S("\xfe\x00\x00\x02\x00"), 5);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  auto rs = (*c)->Query("SELECT 1");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rows.size(), 1u);
  EXPECT_EQ(rs->rows[0][0], "1");
  c->reset();
  server.Join();
  EXPECT_EQ(seq1, 1);
  EXPECT_EQ(seq3, 3);
  EXPECT_EQ(first_plugin, "caching_sha2_password");
  EXPECT_EQ(first_auth, CachingSha2Scramble("secret", kSeedA));
  EXPECT_EQ(second_auth, NativePasswordScramble("secret", kSeedB));
}

TEST(MysqlConnectionFakeTest, CachingSha2FastPath) {
  std::string auth;
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    auth = AuthResponseOf(s.Read());
    s.Send("\x01\x03", 2);
    s.Send(kOk, 3);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  c->reset();
  server.Join();
  EXPECT_EQ(auth, CachingSha2Scramble("secret", kSeedA));
}

TEST(MysqlConnectionFakeTest, CachingSha2FullAuthNeedsTls) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("caching_sha2_password", kSeedA), 0);
    s.Read();
    s.Send("\x01\x04", 2);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(c.status().message().find("TLS or the server's RSA public key"), std::string::npos)
      << c.status();
}

TEST(MysqlConnectionFakeTest, UnsupportedPluginIsNamed) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(S("\xfe" "client_ed25519\0" "xyz"), 2);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(c.status().message().find("'client_ed25519'"), std::string::npos) << c.status();
}

TEST(MysqlConnectionFakeTest, ErrorBeforeHandshake) {
  FakeServer server([&](FakeServer& s) {
    s.Send(S("\xff\x10\x04" "Too many connections"), 0);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Too many connections"), std::string::npos) << c.status();
}

TEST(MysqlConnectionFakeTest, SilentServerTimesOut) {
  FakeServer server([&](FakeServer& s) { s.WaitClose(); });
  auto c = ConnectTo(server, absl::Milliseconds(200));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDeadlineExceeded) << c.status();
}

TEST(MysqlConnectionFakeTest, GarbageHandshakeIsDataLoss) {
  FakeServer server([&](FakeServer& s) {
    s.Send(S("\x0a" "no-terminator"), 0);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
}

TEST(MysqlConnectionFakeTest, BinlogStreamEventsEofAndTimeout) {
  FakeServer server([&](FakeServer& s) {
    s.Send(HandshakePayload("mysql_native_password", kSeedA), 0);
    s.Read();
    s.Send(kOk, 2);
    uint8_t seq = 9;
    std::string dump = s.Read(&seq);
    if (dump.empty() || dump[0] != '\x12' || seq != 0) return;
    s.Send(S("\x00" "event-1"), 1);
    // A large event split over two packets.
    std::string big(kMaxPacketPayload + 5, 'e');
    big[0] = '\0';
    s.Send(big, 2);
    ::usleep(400 * 1000);  // the client's first read times out meanwhile
    s.Send(S("\xfe\x00\x00\x00\x00"), 4);
    s.WaitClose();
  });
  auto c = ConnectTo(server);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->StartBinlogDump("binlog.000001", 4, 99).ok());
  auto e1 = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(e1.ok()) << e1.status();
  EXPECT_EQ(*e1, "event-1");
  auto e2 = (*c)->ReadBinlogEvent(absl::Seconds(5));
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(e2->size(), kMaxPacketPayload + 4);
  auto idle = (*c)->ReadBinlogEvent(absl::Milliseconds(100));
  EXPECT_EQ(idle.status().code(), absl::StatusCode::kDeadlineExceeded) << idle.status();
  auto eof = (*c)->ReadBinlogEvent(absl::Seconds(5));
  EXPECT_EQ(eof.status().code(), absl::StatusCode::kOutOfRange) << eof.status();
}

}  // namespace
}  // namespace sluice::mysqlclient
