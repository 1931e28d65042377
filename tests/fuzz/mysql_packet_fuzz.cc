// libFuzzer target for the MySQL client/server protocol codecs (protocol/mysqlclient, target
// sluice::mysql_wire): packet reassembly, then every message parser on every payload, and a text
// result set built from the payloads in order.
//
// Input: options u8 · first_seq u8 · bytes from the server (packets, as on the wire).
//   options bit 0: CLIENT_DEPRECATE_EOF for the result set reader
//           bits 1-2: how the bytes reach the assembler: 0 all at once, 1 one byte at a time,
//                     2 in pieces of 1..16 bytes (sizes from the bytes themselves), 3 halves
// The seeds (corpus/mysql_packet_fuzz/) are whole server responses captured from our test
// MariaDB: handshake, OK, ERR, auth switch, result sets, binlog dump streams.
//
// Checks besides "no crash, no sanitizer report": the assembler yields the same payloads and
// error however the bytes are split; re-framing the payloads with EncodePackets gives back
// exactly the bytes consumed; parsers return values that lie within what they were given.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/messages.h"
#include "protocol/mysqlclient/packet.h"
#include "tests/fuzz/fuzz_check.h"

namespace sluice::mysqlclient {
namespace {

constexpr size_t kMaxPayload = size_t{1} << 20;

struct Assembled {
  std::vector<std::string> payloads;
  std::vector<uint8_t> seqs;  // the sequence id of each payload's first packet
  absl::Status error;
  size_t buffered = 0;
};

Assembled Assemble(std::string_view stream, uint8_t first_seq, int mode) {
  Assembled out;
  PacketAssembler a(kMaxPayload);
  a.set_expected_seq(first_seq);
  auto drain = [&] {
    while (out.error.ok()) {
      uint8_t seq = a.expected_seq();
      auto next = a.Next();
      if (!next.ok()) {
        out.error = next.status();
        return;
      }
      if (!next->has_value()) return;
      out.payloads.push_back(**next);
      out.seqs.push_back(seq);
    }
  };
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t n = stream.size() - pos;
    if (mode == 1) n = 1;
    if (mode == 2) n = std::min<size_t>(n, 1 + (static_cast<uint8_t>(stream[pos]) & 0x0F));
    if (mode == 3) n = std::min(n, stream.size() / 2 + 1);
    a.Feed(stream.substr(pos, n));
    pos += n;
    drain();
  }
  drain();
  out.buffered = a.buffered();
  return out;
}

bool Within(std::string_view inner, std::string_view outer) { return inner.size() <= outer.size(); }

void ParseAll(std::string_view p) {
  if (auto h = ParseHandshake(p); h.ok()) {
    SLUICE_FUZZ_CHECK(Within(h->server_version, p) && Within(h->auth_plugin_data, p) &&
                      Within(h->auth_plugin_name, p));
  }
  if (auto ok = ParseOk(p); ok.ok()) SLUICE_FUZZ_CHECK(Within(ok->info, p));
  if (auto err = ParseErr(p); err.ok()) {
    SLUICE_FUZZ_CHECK(Within(err->message, p) && err->sql_state.size() <= 5);
    SLUICE_FUZZ_CHECK(!ErrToStatus(*err).ok());
  }
  if (IsErrPacket(p)) SLUICE_FUZZ_CHECK(!ErrPayloadToStatus(p).ok());
  if (auto sw = ParseAuthSwitchRequest(p); sw.ok()) {
    SLUICE_FUZZ_CHECK(Within(sw->plugin_name, p) && Within(sw->plugin_data, p));
  }
  if (auto more = ParseAuthMoreData(p); more.ok()) {
    SLUICE_FUZZ_CHECK(more->data() >= p.data() &&
                      more->data() + more->size() <= p.data() + p.size());
  }
  if (auto col = ParseColumnDefinition(p); col.ok()) {
    SLUICE_FUZZ_CHECK(Within(col->name, p) && Within(col->schema, p) && Within(col->table, p));
  }
  for (size_t columns : {size_t{1}, size_t{3}, size_t{16}}) {
    if (auto row = ParseTextRow(p, columns); row.ok()) SLUICE_FUZZ_CHECK(row->size() == columns);
  }
  if (auto b = ParseBinlogPacket(p); b.ok() && !b->eof) {
    const auto* begin = reinterpret_cast<const std::byte*>(p.data());
    SLUICE_FUZZ_CHECK(b->event.data() >= begin &&
                      b->event.data() + b->event.size() <= begin + p.size());
  }
}

void ReadResultSet(const std::vector<std::string>& payloads, bool deprecate_eof) {
  TextResultSetReader reader(deprecate_eof);
  for (const std::string& p : payloads) {
    auto done = reader.Add(p);
    if (!done.ok() || *done) break;
  }
  if (reader.done()) {
    for (const TextRow& row : reader.result().rows) {
      SLUICE_FUZZ_CHECK(row.size() == reader.result().columns.size());
    }
  }
}

}  // namespace
}  // namespace sluice::mysqlclient

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::mysqlclient;
  if (size < 2) return 0;
  const uint8_t options = data[0];
  const uint8_t first_seq = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  Assembled whole = Assemble(stream, first_seq, 0);
  Assembled split = Assemble(stream, first_seq, (options >> 1) & 3);
  SLUICE_FUZZ_CHECK(whole.payloads == split.payloads, "payloads depend on how bytes arrive");
  SLUICE_FUZZ_CHECK(whole.error.code() == split.error.code(),
                    whole.error.ToString() + " vs " + split.error.ToString());
  if (whole.error.ok()) {
    // Re-framing gives back exactly the bytes consumed.
    std::string reframed;
    for (size_t i = 0; i < whole.payloads.size(); ++i) {
      reframed += EncodePackets(whole.payloads[i], whole.seqs[i]);
    }
    SLUICE_FUZZ_CHECK(reframed.size() + whole.buffered == stream.size());
    SLUICE_FUZZ_CHECK(stream.substr(0, reframed.size()) == reframed, "re-framing differs");
  }
  for (const std::string& p : whole.payloads) ParseAll(p);
  ReadResultSet(whole.payloads, options & 1);
  return 0;
}
