// libFuzzer target for the binlog event decoder: BinlogDecoder::Decode on a sequence of events
// after a MariaDB or MySQL FORMAT_DESCRIPTION context, and BinlogFileReader on whole files. The
// input format is in mysql_fuzz_util.h.
//
// Checks besides "no crash, no sanitizer report": decoding is deterministic (a second decoder
// gives the same events and errors), errors are never OK, a file reader's error is sticky, every
// decoded row and query renders as valid JSON, and a file reader never moves backwards.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/mysql/binlog_decoder.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_check.h"
#include "tests/fuzz/mysql_fuzz_util.h"

namespace sluice::fuzz {
namespace {

constexpr uint64_t kMaxDecompressed = uint64_t{16} << 20;
constexpr size_t kMaxJsonDepth = 1024;

// Every row and query of `e` renders as one valid JSON text.
void CheckEvent(const mysql::Event& e) {
  std::string json;
  if (const auto* rows = std::get_if<mysql::RowsEvent>(&e.body)) {
    for (const mysql::RowChange& c : rows->rows) {
      for (const auto* row : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr}) {
        if (!row) continue;
        json.clear();
        AppendRowJson(*row, json);
        SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
      }
    }
  } else if (const auto* q = std::get_if<mysql::Query>(&e.body)) {
    AppendJsonString(q->query, json);
    SLUICE_FUZZ_CHECK(CheckJson(json, kMaxJsonDepth, nullptr), json);
  } else if (const auto* p = std::get_if<mysql::TransactionPayload>(&e.body)) {
    for (const mysql::Event& inner : p->events) CheckEvent(inner);
  }
}

std::string DecodeSequence(std::string_view in) {
  const uint8_t options = static_cast<uint8_t>(in[0]);
  mysql::BinlogDecoder decoder;
  decoder.set_file_name("fuzz-bin.000001");
  decoder.set_max_payload_size(kMaxDecompressed);
  std::string fde = MakeFdeEvent(options & kOptMysqlFde, options & kOptCrc32);
  auto first = decoder.Decode(AsBytes(fde), 4);
  SLUICE_FUZZ_CHECK(first.ok(), first.status().ToString());
  std::string digest;
  size_t pos = 1;
  uint64_t position = 4 + fde.size();
  while (pos + 2 <= in.size()) {
    size_t len =
        static_cast<uint8_t>(in[pos]) | static_cast<size_t>(static_cast<uint8_t>(in[pos + 1])) << 8;
    pos += 2;
    len = std::min(len, in.size() - pos);
    std::string event(in.substr(pos, len));
    pos += len;
    if (options & kOptFixUp) {
      // A FORMAT_DESCRIPTION announces its own checksum: use the algorithm byte it carries.
      bool crc = decoder.format().checksum == mysql::ChecksumAlg::kCrc32;
      if (event.size() > 4 + mysql::kEventHeaderLength &&
          static_cast<uint8_t>(event[4]) ==
              static_cast<uint8_t>(mysql::EventType::kFormatDescription)) {
        crc = event[event.size() - 5] == 1;
      }
      FixUpEvent(event, crc);
    }
    auto ev = decoder.Decode(AsBytes(event), position);
    if (ev.ok()) {
      CheckEvent(*ev);
      AppendEventDigest(*ev, digest);
    } else {
      SLUICE_FUZZ_CHECK(!ev.status().message().empty());
      digest += "error ";
      digest += ev.status().ToString();
      digest += '\n';
    }
    position += event.size();
  }
  return digest;
}

std::string ReadFile(std::string_view in) {
  mysql::BinlogFileReader reader(AsBytes(in), "fuzz-bin.000001");
  std::string digest;
  uint64_t last = 0;
  while (true) {
    auto ev = reader.Next();
    if (!ev.ok()) {
      auto again = reader.Next();
      SLUICE_FUZZ_CHECK(!again.ok() && again.status() == ev.status(), "error not sticky");
      digest += "error ";
      digest += ev.status().ToString();
      break;
    }
    if (!ev->has_value()) {
      SLUICE_FUZZ_CHECK(reader.position() == in.size());
      break;
    }
    SLUICE_FUZZ_CHECK(reader.position() > last && reader.position() <= in.size());
    last = reader.position();
    CheckEvent(**ev);
    AppendEventDigest(**ev, digest);
  }
  return digest;
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::fuzz;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const bool file = in.substr(0, sluice::mysql::kBinlogMagic.size()) == sluice::mysql::kBinlogMagic;
  std::string a = file ? ReadFile(in) : DecodeSequence(in);
  std::string b = file ? ReadFile(in) : DecodeSequence(in);
  SLUICE_FUZZ_CHECK(a == b, "decoding is not deterministic");
  return 0;
}
