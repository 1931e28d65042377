#include "tests/testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::testing {

absl::StatusOr<HttpReply> HttpExchange(uint16_t port, const std::string& request,
                                       std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to 127.0.0.1:", port, ": ", std::strerror(err)));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a bad request; read what it said
    sent += static_cast<size_t>(n);
  }
  HttpReply reply;
  char buf[16384];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) {
      close(fd);
      return absl::DeadlineExceededError(
          absl::StrCat("no reply within ", timeout.count(), " ms; got so far: ", reply.raw));
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t head_end = reply.raw.find("\r\n\r\n");
  if (!reply.raw.starts_with("HTTP/1.1 ") || head_end == std::string::npos ||
      !absl::SimpleAtoi(reply.raw.substr(9, 3), &reply.status)) {
    return absl::InvalidArgumentError(absl::StrCat("not an HTTP reply: \"", reply.raw, "\""));
  }
  size_t line_start = reply.raw.find("\r\n") + 2;
  while (line_start < head_end) {
    size_t line_end = reply.raw.find("\r\n", line_start);
    std::string line = reply.raw.substr(line_start, line_end - line_start);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      reply.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(value));
    }
    line_start = line_end + 2;
  }
  reply.body = reply.raw.substr(head_end + 4);
  return reply;
}

absl::StatusOr<HttpReply> HttpGet(uint16_t port, const std::string& path) {
  return HttpExchange(
      port,
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
}

}  // namespace sluice::testing
