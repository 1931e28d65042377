// Keeps a copy of one table in FILE (line 1: the offset it holds; then KEY<TAB>ROW lines in
// canonical JSON), equal to the source across its own restarts and crashes.
// usage: sluice_mirror_table HOST:PORT SOURCE DB.TABLE FILE
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "clients/cpp/connection.h"
#include "clients/cpp/consumer.h"
#include "proto/base/value_json.h"

// The values of the event's key columns in `row`, as JSON.
std::string Key(const sluice::v1::ChangeEvent& e, const sluice::v1::Row& row) {
  std::string key;
  for (const auto& f : row.fields())
    for (const auto& k : e.key_columns())
      if (f.name() == k) key += sluice::ValueToJson(f.value()) + ",";
  return key;
}

int main(int argc, char** argv) {
  if (argc != 5)
    return std::fprintf(stderr, "usage: %s HOST:PORT SOURCE DB.TABLE FILE\n", argv[0]), 2;
  const std::string file = argv[4];
  uint64_t offset = 0;                      // the last offset applied to the file
  std::map<std::string, std::string> rows;  // key -> row
  std::ifstream in(file);
  if (in >> offset) in.ignore();  // the rest of the first line
  for (std::string k, v; std::getline(in, k, '\t') && std::getline(in, v);) rows[k] = v;
  sluice::client::ConsumeOptions options;  // a durable subscription, created on first use
  options.open.set_subscription(std::string("mirror.") + argv[3]);
  options.open.set_create_if_missing(true);
  options.open.set_source(argv[2]);
  options.open.add_tables(argv[3]);
  sluice::client::Consumer consumer(sluice::client::MakeChannel(argv[1]), options);
  sluice::client::Batch batch;
  absl::Status status;
  while ((status = consumer.Next(batch)).ok()) {
    const uint64_t last = batch.next_offset().value() - 1;  // covers filtered events too
    if (last > offset) {
      for (const auto& e : batch.events()) {
        if (e.offset() <= offset) continue;  // redelivered after a restart: already applied
        if (e.op() == sluice::v1::OP_TRUNCATE) rows.clear();
        if (e.has_before()) rows.erase(Key(e, e.before()));
        if (e.has_after()) sluice::AppendRowJson(e.after(), rows[Key(e, e.after())] = "");
      }
      std::string text = std::to_string(offset = last) + "\n";
      for (const auto& [k, v] : rows) text += k + "\t" + v + "\n";
      const int fd = open((file + ".tmp").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
          fsync(fd) != 0 || close(fd) != 0 || std::rename((file + ".tmp").c_str(), file.c_str()))
        return std::perror(file.c_str()), 1;
    }
    // Only what the file durably holds is acked.
    if (!(status = consumer.Ack(sluice::LogOffset(std::min(offset, last)))).ok()) break;
  }
  std::fprintf(stderr, "mirror: %s\n", status.ToString().c_str());
  return 1;
}
