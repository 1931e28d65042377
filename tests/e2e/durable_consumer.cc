// durable_consumer: a test client of a durable subscription, for subscriptions_e2e_test. It
// consumes SUBSCRIPTION forever, reconnecting when the stream ends, and acks every N events.
// Everything it sees goes to a journal, one line per write(2) so a kill -9 loses no line:
//
//   S                  the process started
//   O                  a Consume stream was opened
//   E OFFSET ID        an event arrived (ID: the first column of its after image)
//   A OFFSET           an ack was sent
//   C OFFSET           the server confirmed this committed offset
//   X CODE MESSAGE     the stream ended
//
// usage: durable_consumer --server HOST:PORT --subscription NAME --journal FILE [--ack-every N]
//                         [--max-unacked N]
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "sluice/v1/service.grpc.pb.h"

namespace {

int journal = -1;

void Log(const std::string& line) {
  std::string l = line + "\n";
  if (write(journal, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  std::string server, name, path;
  uint64_t ack_every = 7;
  uint32_t max_unacked = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--server") {
      server = argv[i + 1];
    } else if (flag == "--subscription") {
      name = argv[i + 1];
    } else if (flag == "--journal") {
      path = argv[i + 1];
    } else if (flag == "--ack-every") {
      ack_every = std::stoull(argv[i + 1]);
    } else if (flag == "--max-unacked") {
      max_unacked = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    }
  }
  if (server.empty() || name.empty() || path.empty() || ack_every == 0) {
    std::fprintf(stderr,
                 "usage: durable_consumer --server HOST:PORT --subscription NAME --journal FILE "
                 "[--ack-every N] [--max-unacked N]\n");
    return 2;
  }
  journal = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (journal < 0) return 2;
  Log("S");
  auto stub = sluice::v1::Subscriptions::NewStub(
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  while (true) {
    grpc::ClientContext ctx;
    auto stream = stub->Consume(&ctx);
    sluice::v1::ConsumeRequest open;
    open.mutable_open()->set_subscription(name);
    open.mutable_open()->set_max_unacked_events(max_unacked);
    stream->Write(open);
    Log("O");
    sluice::v1::SubscribeResponse resp;
    uint64_t since_ack = 0;
    uint64_t confirmed = 0;
    while (stream->Read(&resp)) {
      for (const auto& e : resp.events()) {
        const int64_t id = e.after().fields_size() > 0 ? e.after().fields(0).value().int64() : -1;
        Log("E " + std::to_string(e.offset()) + " " + std::to_string(id));
        if (++since_ack >= ack_every) {
          since_ack = 0;
          Log("A " + std::to_string(e.offset()));
          sluice::v1::ConsumeRequest ack;
          ack.set_ack(e.offset());
          if (!stream->Write(ack)) break;
        }
      }
      if (resp.committed_offset() > confirmed) {
        confirmed = resp.committed_offset();
        Log("C " + std::to_string(confirmed));
      }
    }
    grpc::Status st = stream->Finish();
    Log("X " + std::to_string(st.error_code()) + " " + st.error_message());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
