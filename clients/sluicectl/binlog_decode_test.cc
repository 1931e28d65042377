// DecodeBinlogFiles on the shared fixture binlogs (skipped when ../shared is absent) and on
// damaged copies of them.
#include "clients/sluicectl/binlog_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "proto/base/event_json.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/event_builder_test_util.h"
#include "protocol/mysql/test_util.h"
#include "protocol/mysql/transaction_assembler.h"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  absl::Status status;
  std::vector<std::string> lines;
  BinlogDecodeStats stats;
};

Result Decode(BinlogDecodeOptions options) {
  Result r;
  r.status = DecodeBinlogFiles(
      options,
      [&r](std::string_view line) {
        r.lines.emplace_back(line);
        return absl::OkStatus();
      },
      &r.stats);
  return r;
}

Result Decode(std::vector<std::string> files, bool json = true) {
  BinlogDecodeOptions options;
  options.files = std::move(files);
  options.json = json;
  return Decode(std::move(options));
}

class BinlogDecodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = mysql::testing::FixtureDir();
    if (!dir) GTEST_SKIP() << "../shared/fixtures/mysql-binlogs is absent";
    dir_ = *dir;
    tmp_ = fs::temp_directory_path() / absl::StrCat("sluicectl-binlog-test-", ::getpid());
    fs::create_directories(tmp_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!tmp_.empty()) fs::remove_all(tmp_, ec);
  }
  std::string Fixture(const std::string& name) const { return (dir_ / name).string(); }
  // A copy of the first `size` bytes of fixture `name`, under the same file name.
  std::string Truncated(const std::string& name, size_t size) const {
    const std::string bytes = mysql::testing::ReadFileBytes(dir_ / name);
    const fs::path out = tmp_ / name;
    std::ofstream(out, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(std::min(size, bytes.size())));
    return out.string();
  }

  fs::path dir_;
  fs::path tmp_;
};

TEST_F(BinlogDecodeTest, PrintsTheTailShapeWithoutOffsetAndWithFilePosition) {
  Result r = Decode({Fixture("mariadb-bin.000001")});
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_FALSE(r.lines.empty());
  EXPECT_EQ(
      r.lines[0],
      "{\"op\":\"c\",\"source\":{\"name\":\"\",\"kind\":\"mysql\",\"database\":\"toddy_test\","
      "\"schema\":null,\"table\":\"outbox\",\"position\":\"mariadb-bin.000001:612\","
      "\"gtid\":\"0-1-1\",\"txid\":\"0-1-1\",\"commit_ts\":\"2022-04-20T22:18:04Z\","
      "\"snapshot\":false},\"key\":{\"id\":62},\"before\":null,\"after\":{\"id\":62,"
      "\"topic\":\"foo\",\"event_type\":\"JSON\",\"event\":\"eyJmb28iOjF9\",\"created\":"
      "\"2022-04-20T22:18:04Z\"},\"unchanged\":[],\"txn\":{\"index\":0,\"last\":true}}");
  EXPECT_EQ(r.stats.changes, r.lines.size());
  EXPECT_GT(r.stats.transactions, 0u);
  EXPECT_TRUE(r.stats.unfinished.empty());
}

TEST_F(BinlogDecodeTest, TextLinesStartWithThePosition) {
  Result r = Decode({Fixture("time_issue.000001")}, /*json=*/false);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "time_issue.000001:358 c noria.t after={\"col_1\":\"-507:48:27\"}");
}

TEST_F(BinlogDecodeTest, TxidWithoutGtidIsTheFirstEventOfTheTransactionInThisFile) {
  // This file starts with a ROTATE naming master-bin.000001: txid still names the file read.
  Result r = Decode({Fixture("rpl_unfiltered_hidden_gcol.000001")});
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_FALSE(r.lines.empty());
  EXPECT_NE(r.lines[0].find("\"txid\":\"rpl_unfiltered_hidden_gcol.000001:"), std::string::npos)
      << r.lines[0];
}

// The lines of a whole file built the plain way, as a reference: every event decoded eagerly
// (rows as v1::Row), framed by the TransactionAssembler, each transaction's changes kept until
// its commit and rendered with EventToJson / EventToText. Stops at the first error.
std::vector<std::string> ReferenceLines(const std::string& path, bool json) {
  const std::string bytes = mysql::testing::ReadFileBytes(path);
  const std::string name = fs::path(path).filename().string();
  mysql::BinlogFileReader reader(mysql::testing::AsBytes(bytes), name);
  mysql::TransactionAssembler assembler(BinlogPosition{name, 4});
  assembler.set_skip_statement_dml(true);
  std::vector<std::string> lines;
  std::vector<v1::ChangeEvent> txn;
  std::string gtid, txid, position;
  auto render = [&](const v1::ChangeEvent& e) {
    if (json) {
      std::string line = EventToJson(e);
      line[11] = '{';  // drop "offset":0,
      lines.push_back(line.substr(11));
    } else {
      lines.push_back(e.source().position() + EventToText(e).substr(1));
    }
  };
  mysql::TransactionAssembler::Sink sink;
  sink.begin = [&](const mysql::TransactionBegin& b) {
    txn.clear();
    gtid = b.gtid;
    txid = b.gtid.empty() ? absl::StrCat(name, ":", b.position.offset) : b.gtid;
    return absl::OkStatus();
  };
  sink.change = [&](v1::ChangeEvent e) {
    e.mutable_source()->set_position(position);
    if (!gtid.empty()) e.mutable_source()->set_gtid(gtid);
    e.mutable_source()->set_txid(txid);
    e.set_transaction_index(static_cast<uint32_t>(txn.size()));
    txn.push_back(std::move(e));
    return absl::OkStatus();
  };
  sink.commit = [&](const mysql::TransactionCommit& c) {
    const int64_t micros =
        c.commit_micros ? static_cast<int64_t>(*c.commit_micros) : int64_t{c.timestamp} * 1'000'000;
    for (size_t i = 0; i < txn.size(); ++i) {
      if (micros != 0) txn[i].mutable_source()->set_commit_ts_micros(micros);
      txn[i].set_last_in_transaction(i + 1 == txn.size());
      render(txn[i]);
    }
    txn.clear();
    return absl::OkStatus();
  };
  sink.rollback = [&] {
    txn.clear();
    return absl::OkStatus();
  };
  while (true) {
    const uint64_t at = reader.position();
    auto event = reader.Next();
    if (!event.ok() || !event->has_value()) break;
    position = absl::StrCat(name, ":", at);
    if (!assembler.Feed(**std::move(event), sink).ok()) break;
  }
  for (const v1::ChangeEvent& e : txn) render(e);  // an unfinished transaction
  return lines;
}

TEST_F(BinlogDecodeTest, LinesAreThoseOfTheEagerDecoderWithWholeTransactionsKept) {
  // The CLI decodes rows into flat buffers, renders them itself and learns each transaction's
  // commit time from a look-ahead, without keeping the transaction: the lines must be byte for
  // byte those of the plain path, in JSON and in text.
  size_t compared = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename() == "README.md") continue;
    for (const bool json : {true, false}) {
      Result r = Decode({entry.path().string()}, json);
      EXPECT_EQ(r.lines, ReferenceLines(entry.path().string(), json)) << entry.path();
      compared += r.lines.size();
    }
  }
  EXPECT_GT(compared, 100u);
}

// DecodeBinlogFilesChunked (what the CLI runs): the chunks are the lines of DecodeBinlogFiles,
// each followed by '\n', cut only between lines, whatever the chunk size (1 byte: a chunk as soon
// as a line is released, the held line moved to the front of the buffer; the default: one chunk
// per fixture).
TEST_F(BinlogDecodeTest, ChunksAreTheLinesEachFollowedByANewline) {
  size_t lines = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename() == "README.md") continue;
    for (const bool json : {true, false}) {
      const Result r = Decode({entry.path().string()}, json);
      std::string expected;
      for (const std::string& line : r.lines) absl::StrAppend(&expected, line, "\n");
      for (const size_t chunk_bytes : {size_t{1}, size_t{700}, size_t{1} << 20}) {
        BinlogDecodeOptions options;
        options.files = {entry.path().string()};
        options.json = json;
        options.chunk_bytes = chunk_bytes;
        std::string text;
        size_t chunks = 0;
        BinlogDecodeStats stats;
        const absl::Status st = DecodeBinlogFilesChunked(
            options,
            [&](std::string_view chunk) {
              ++chunks;
              EXPECT_TRUE(chunk.ends_with('\n')) << entry.path();
              text.append(chunk);
              return absl::OkStatus();
            },
            &stats);
        EXPECT_EQ(st, r.status) << entry.path();
        EXPECT_EQ(text, expected) << entry.path() << " chunk_bytes " << chunk_bytes;
        EXPECT_EQ(stats.changes, r.lines.size()) << entry.path();
        if (chunk_bytes == 1 && r.lines.size() >= 2) {
          EXPECT_GE(chunks, 2u) << entry.path();  // the held line came in a later chunk
        }
      }
      lines += r.lines.size();
    }
  }
  EXPECT_GT(lines, 100u);
}

// The file is read through a window of window_bytes: with windows smaller than the events (so
// that every event spans refills and grows the buffer) and just above one header, and with the
// look-ahead keeping one, three or all of its windows, every fixture decodes to the same lines,
// status and stats as with the defaults, also with start and stop positions and several files in
// one call.
TEST_F(BinlogDecodeTest, TheSameLinesWhateverTheReadWindow) {
  std::vector<std::vector<std::string>> inputs;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename() == "README.md") continue;
    inputs.push_back({entry.path().string()});
  }
  inputs.push_back({Fixture("mariadb-bin.000001"), Fixture("time_issue.000001"),
                    Fixture("json.binlog.000001")});
  size_t lines = 0;
  for (const auto& files : inputs) {
    for (const bool json : {true, false}) {
      for (const auto& [start, stop] : std::vector<std::pair<uint64_t, uint64_t>>{
               {0, 0}, {200, 0}, {0, 1000}, {4, 3000}}) {
        BinlogDecodeOptions options;
        options.files = files;
        options.json = json;
        if (start != 0) options.start_position = start;
        if (stop != 0) options.stop_position = stop;
        const Result expected = Decode(options);
        for (const size_t window : {size_t{1}, size_t{20}, size_t{97}, size_t{4096}}) {
          // The look-ahead keeps one window, a few, or the whole file.
          for (const size_t ahead : {size_t{0}, 3 * window, size_t{1} << 20}) {
            options.window_bytes = window;
            options.read_ahead_bytes = ahead;
            const Result r = Decode(options);
            const std::string what =
                absl::StrCat(files[0], " window ", window, " read ahead ", ahead, " start ",
                             start, " stop ", stop, " json ", json);
            EXPECT_EQ(r.status, expected.status) << what;
            EXPECT_EQ(r.lines, expected.lines) << what;
            EXPECT_EQ(r.stats.events, expected.stats.events) << what;
            EXPECT_EQ(r.stats.bytes, expected.stats.bytes) << what;
            EXPECT_EQ(r.stats.unfinished, expected.stats.unfinished) << what;
          }
        }
        lines += expected.lines.size();
      }
    }
  }
  EXPECT_GT(lines, 400u);
}

TEST_F(BinlogDecodeTest, StartAndStopPositionsLikeMysqlbinlog) {
  BinlogDecodeOptions options;
  options.files = {Fixture("mariadb-bin.000001")};
  options.start_position = 330;  // the first transaction's GTID event
  options.stop_position = 985;   // inside the second transaction's rows event (984..1043)
  Result r = Decode(options);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[0].find("\"position\":\"mariadb-bin.000001:612\""), std::string::npos);
  EXPECT_NE(r.lines[1].find("\"position\":\"mariadb-bin.000001:984\""), std::string::npos);
  // The second transaction has no commit before the stop position.
  EXPECT_NE(r.lines[1].find("\"commit_ts\":null"), std::string::npos) << r.lines[1];
  EXPECT_NE(r.lines[1].find("\"last\":false"), std::string::npos) << r.lines[1];

  options.stop_position = 612;
  r = Decode(options);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.lines.empty());
}

TEST_F(BinlogDecodeTest, StartPositionErrorsSayHowToPickOne) {
  BinlogDecodeOptions options;
  options.files = {Fixture("mariadb-bin.000001")};
  options.start_position = 500;  // inside an event
  Result r = Decode(options);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("mariadb-bin.000001:500"), std::string::npos) << r.status;
  EXPECT_NE(r.status.message().find("--start-position 500"), std::string::npos) << r.status;

  options.start_position = 612;  // a rows event whose TABLE_MAP came before
  r = Decode(options);
  EXPECT_NE(r.status.message().find("TABLE_MAP"), std::string::npos) << r.status;
  EXPECT_NE(r.status.message().find("GTID or BEGIN"), std::string::npos) << r.status;

  options.start_position = 1 << 30;
  r = Decode(options);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  EXPECT_NE(r.status.message().find("past the end"), std::string::npos) << r.status;
}

TEST_F(BinlogDecodeTest, SeveralFilesAreOneStream) {
  const std::string a = Fixture("mariadb-bin.000001");
  const std::string b = Fixture("time_issue.000001");
  Result both = Decode({a, b});
  ASSERT_TRUE(both.status.ok()) << both.status;
  std::vector<std::string> expected = Decode({a}).lines;
  for (std::string& line : Decode({b}).lines) expected.push_back(std::move(line));
  EXPECT_EQ(both.lines, expected);
}

TEST_F(BinlogDecodeTest, ErrorsNameTheFileAndPosition) {
  Result r = Decode({(tmp_ / "missing.000001").string()});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kNotFound) << r.status;
  EXPECT_NE(r.status.message().find("missing.000001"), std::string::npos);

  r = Decode({Fixture("README.md")});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(r.status.message().find("README.md:0: not a binlog file"), std::string::npos);

  r = Decode({Fixture("binlog_truncated_event.000001")});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(r.status.message().find("binlog_truncated_event.000001:4: truncated"),
            std::string::npos)
      << r.status;

  r = Decode({tmp_.string()});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition) << r.status;
}

TEST_F(BinlogDecodeTest, ChangesBeforeAnErrorArePrinted) {
  // mariadb-bin.000001 cut in the middle of its second transaction's rows event (984..1043).
  const Result whole = Decode({Fixture("mariadb-bin.000001")});
  ASSERT_TRUE(whole.status.ok());
  ASSERT_EQ(whole.lines.size(), 2u);
  const std::string cut = Truncated("mariadb-bin.000001", 1020);
  Result r = Decode({cut});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(r.status.message().find(cut + ":984: truncated"), std::string::npos) << r.status;
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], whole.lines[0]);
}

TEST_F(BinlogDecodeTest, AFileThatEndsInsideATransactionIsReported) {
  // Cut right after the second transaction's rows event, before its XID (1043..1074).
  const std::string cut = Truncated("mariadb-bin.000001", 1043);
  Result r = Decode({cut});
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.stats.unfinished.size(), 1u);
  EXPECT_EQ(r.stats.unfinished[0], cut);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_NE(r.lines[1].find("\"last\":false"), std::string::npos) << r.lines[1];
}

TEST_F(BinlogDecodeTest, AnErrorFromTheSinkStopsDecoding) {
  BinlogDecodeOptions options;
  options.files = {Fixture("mariadb-bin.000001")};
  size_t calls = 0;
  absl::Status st = DecodeBinlogFiles(
      options,
      [&calls](std::string_view) {
        ++calls;
        return absl::CancelledError("reader went away");
      },
      nullptr);
  EXPECT_EQ(st.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1u);
}

// A handcrafted binlog (no fixtures needed): a transaction that ends in ROLLBACK prints nothing,
// the next prints its rows with the XID's time as commit_ts and the last one marked last, and one
// cut off by the end of the file prints its rows without a commit.
TEST(BinlogDecodeStreamingTest, RollbackPrintsNothingAndCommitTimeComesFromTheXid) {
  using mysql::EventType;
  using mysql::testing::MakeEvent;
  using mysql::testing::PutLe;
  auto query = [](const std::string& sql) {
    std::string body;
    PutLe(body, 7, 4);  // thread id
    PutLe(body, 0, 4);  // exec time
    body.push_back(1);  // db length
    PutLe(body, 0, 2);  // error code
    PutLe(body, 0, 2);  // status vars length
    body += "d";
    body.push_back('\0');
    body += sql;
    return MakeEvent(static_cast<uint8_t>(EventType::kQuery), body, false);
  };
  auto table_map = [] {
    std::string body;
    PutLe(body, 42, 6);  // table id
    PutLe(body, 0, 2);   // flags
    body += std::string(
                "\x01"
                "d",
                2) +
            '\0' +
            std::string(
                "\x01"
                "t",
                2) +
            '\0';
    body.push_back(1);  // columns
    body.push_back(static_cast<char>(mysql::ColumnType::kLong));
    body.push_back(0);  // metadata length
    body.push_back(0);  // NULL bitmap
    return MakeEvent(static_cast<uint8_t>(EventType::kTableMap), body, false);
  };
  auto write_rows = [](std::initializer_list<uint32_t> ids) {
    std::string body;
    PutLe(body, 42, 6);
    PutLe(body, 1, 2);  // end of statement
    PutLe(body, 2, 2);  // extra data length (itself only)
    body.push_back(1);  // columns
    body.push_back(1);  // present bitmap
    for (uint32_t id : ids) {
      body.push_back(0);  // NULL bitmap
      PutLe(body, id, 4);
    }
    return MakeEvent(static_cast<uint8_t>(EventType::kWriteRowsV2), body, false);
  };
  std::string xid_body;
  PutLe(xid_body, 99, 8);
  std::string xid = MakeEvent(static_cast<uint8_t>(EventType::kXid), xid_body, false);
  xid[0] = 5;  // header timestamp 1700000005: 2023-11-14T22:13:25Z

  std::string file = std::string(mysql::kBinlogMagic) + mysql::testing::MakeFde(false);
  file += query("BEGIN") + table_map() + write_rows({1, 2}) + query("ROLLBACK");
  file += query("BEGIN") + table_map() + write_rows({3, 4}) + write_rows({5}) + xid;
  file += query("BEGIN") + table_map() + write_rows({6});  // the file ends here

  const fs::path path =
      fs::temp_directory_path() / absl::StrCat("sluicectl-binlog-rollback-", ::getpid(), ".000001");
  std::ofstream(path, std::ios::binary)
      .write(file.data(), static_cast<std::streamsize>(file.size()));
  Result r = Decode({path.string()});
  fs::remove(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  std::vector<std::string> summary;
  for (const std::string& line : r.lines) {
    const size_t after = line.find("\"after\":");
    const size_t commit = line.find("\"commit_ts\":");
    const size_t txn = line.find("\"txn\":");
    ASSERT_NE(after, std::string::npos);
    summary.push_back(line.substr(commit, line.find(',', commit) - commit) + " " +
                      line.substr(after, line.find('}', after) + 1 - after) + " " +
                      line.substr(txn));
  }
  EXPECT_THAT(
      summary,
      ::testing::ElementsAre(
          "\"commit_ts\":\"2023-11-14T22:13:25Z\" \"after\":{\"col_1\":3} "
          "\"txn\":{\"index\":0,\"last\":false}}",
          "\"commit_ts\":\"2023-11-14T22:13:25Z\" \"after\":{\"col_1\":4} "
          "\"txn\":{\"index\":1,\"last\":false}}",
          "\"commit_ts\":\"2023-11-14T22:13:25Z\" \"after\":{\"col_1\":5} "
          "\"txn\":{\"index\":2,\"last\":true}}",
          "\"commit_ts\":null \"after\":{\"col_1\":6} \"txn\":{\"index\":0,\"last\":false}}"));
  EXPECT_EQ(r.stats.transactions, 1u);
  EXPECT_EQ(r.stats.unfinished.size(), 1u);
}

}  // namespace
}  // namespace sluice::cli
