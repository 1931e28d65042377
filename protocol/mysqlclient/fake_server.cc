#include "protocol/mysqlclient/fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/packet.h"

namespace sluice::mysqlclient::fake {

uint32_t DefaultServerCaps() {
  return kClientLongPassword | kClientProtocol41 | kClientSecureConnection | kClientPluginAuth |
         kClientPluginAuthLenencClientData | kClientTransactions;
}

std::string HandshakePayload(std::string_view plugin, std::string_view seed, uint32_t caps) {
  std::string p;
  p.push_back(10);
  p += std::string("8.0.36-fake") + '\0';
  p += S("\x07\x00\x00\x00");
  p += seed.substr(0, 8);
  p.push_back('\0');
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

std::string AuthResponseOf(const std::string& resp, std::string* plugin) {
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

FakeServer::FakeServer(Script script) {
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

FakeServer::~FakeServer() {
  Join();
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  if (fd_ >= 0) ::close(fd_);
  ::close(listen_fd_);
}

void FakeServer::Join() {
  if (thread_.joinable()) thread_.join();
}

bool FakeServer::WriteAll(std::string_view b) {
  if (ssl_ != nullptr) return SSL_write(ssl_, b.data(), static_cast<int>(b.size())) > 0;
  return ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size());
}

void FakeServer::Send(std::string_view payload, uint8_t seq) {
  WriteAll(EncodePackets(payload, seq));
}

std::string FakeServer::Read(uint8_t* seq) {
  std::string h = ReadN(4);
  if (h.size() < 4) return std::string();
  size_t n = static_cast<uint8_t>(h[0]) | static_cast<uint8_t>(h[1]) << 8 |
             static_cast<uint8_t>(h[2]) << 16;
  if (seq != nullptr) *seq = static_cast<uint8_t>(h[3]);
  return ReadN(n);
}

void FakeServer::WaitClose() {
  char c;
  if (ssl_ != nullptr) {
    while (SSL_read(ssl_, &c, 1) > 0) {
    }
    return;
  }
  while (::recv(fd_, &c, 1, 0) > 0) {
  }
}

std::string FakeServer::ReadN(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ssl_ != nullptr ? SSL_read(ssl_, out.data() + got, static_cast<int>(n - got))
                                : ::recv(fd_, out.data() + got, n - got, 0);
    if (r <= 0) return out.substr(0, got);
    got += static_cast<size_t>(r);
  }
  return out;
}

bool FakeServer::StartTls(const testpki::CertAndKey& cert) {
  ssl_ctx_ = SSL_CTX_new(TLS_server_method());
  BIO* cbio = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
  BIO* kbio = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
  X509* x = PEM_read_bio_X509(cbio, nullptr, nullptr, nullptr);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr);
  bool ok = x != nullptr && k != nullptr && SSL_CTX_use_certificate(ssl_ctx_, x) == 1 &&
            SSL_CTX_use_PrivateKey(ssl_ctx_, k) == 1;
  X509_free(x);
  EVP_PKEY_free(k);
  BIO_free(cbio);
  BIO_free(kbio);
  if (!ok) return false;
  ssl_ = SSL_new(ssl_ctx_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_accept(ssl_) == 1) return true;
  SSL_free(ssl_);
  ssl_ = nullptr;
  return false;
}

}  // namespace sluice::mysqlclient::fake
