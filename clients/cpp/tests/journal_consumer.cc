// journal_consumer: a durable consumer built on sluice::client::Consumer, for client_e2e_test.
// It consumes SUBSCRIPTION until killed and acks every N events; each line of its journal is
// one write(2), so a kill -9 loses no line:
//
//   S                  the process started
//   E OFFSET ID        the consumer handed out an event (ID: the first column of its row)
//   A OFFSET           the process acked this offset (Consumer::Ack)
//   C OFFSET           a batch carried this committed offset, higher than before
//   X MESSAGE          Next() returned an error (the process then exits 1)
//
// usage: journal_consumer HOST:PORT SOURCE SUBSCRIPTION JOURNAL ACK_EVERY
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "clients/cpp/connection.h"
#include "clients/cpp/consumer.h"

namespace {

int journal = -1;

void Log(const std::string& line) {
  const std::string l = line + "\n";
  if (write(journal, l.data(), l.size()) != static_cast<ssize_t>(l.size())) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s HOST:PORT SOURCE SUBSCRIPTION JOURNAL ACK_EVERY\n", argv[0]);
    return 2;
  }
  journal = open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
  const uint64_t ack_every = std::stoull(argv[5]);
  if (journal < 0 || ack_every == 0) return 2;
  Log("S");
  sluice::client::ConsumeOptions options;
  options.open.set_subscription(argv[3]);
  options.open.set_create_if_missing(true);
  options.open.set_source(argv[2]);
  options.open.set_max_unacked_events(50);  // so that it advances at the pace of its acks
  options.reconnect.max_delay = std::chrono::milliseconds(500);
  sluice::client::Consumer consumer(sluice::client::MakeChannel(argv[1]), options);
  sluice::client::Batch batch;
  uint64_t since_ack = 0;
  uint64_t confirmed = 0;
  absl::Status status;
  while ((status = consumer.Next(batch)).ok()) {
    if (batch.committed_offset().value() > confirmed) {
      confirmed = batch.committed_offset().value();
      Log("C " + std::to_string(confirmed));
    }
    for (const auto& e : batch.events()) {
      const int64_t id = e.after().fields_size() > 0 ? e.after().fields(0).value().int64() : -1;
      Log("E " + std::to_string(e.offset()) + " " + std::to_string(id));
      if (++since_ack >= ack_every) {
        since_ack = 0;
        Log("A " + std::to_string(e.offset()));
        status = consumer.Ack(sluice::LogOffset(e.offset()));
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) break;
  }
  Log("X " + status.ToString());
  return 1;
}
