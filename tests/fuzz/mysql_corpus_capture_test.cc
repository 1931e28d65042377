// Captures the seeds of the MySQL fuzz targets from our own throwaway MariaDB 10.11 (never from
// ../shared or anywhere else) and checks that every captured byte decodes:
//   mysql_packet_fuzz  whole server responses as they arrive on a raw TCP socket: handshake,
//                      auth OK/ERR/switch, result sets with many column types, OK, ERR,
//                      COM_REGISTER_SLAVE and a non-blocking COM_BINLOG_DUMP stream
//   binlog_event_fuzz  the server's binlog files of a workload with every common column type,
//                      one seed per transaction (GTID ... XID) and whole small files, with
//                      log_bin_compress off and on
//   rows_fuzz          each TABLE_MAP body with the body of each of its row events (compressed
//                      ones decompressed first)
//   text_value_fuzz    column definitions and text rows of SELECTs over a table of every common
//                      column type (as the snapshot read them with the text protocol)
//   binary_value_fuzz  the same with prepared statements: column definitions and binary rows
//                      (as the snapshot reads them now)
//
//   SLUICE_MYSQL_WRITE_CORPUS=tests/fuzz/corpus build/tests/fuzz/mysql_corpus_capture_test
//
// writes <dir>/<target>/seed-<name>. Without the variable it only checks.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocol/mysql/binlog_decoder.h"
#include "protocol/mysql/compressed_event.h"
#include "protocol/mysql/test_util.h"
#include "protocol/mysqlclient/binary_protocol.h"
#include "protocol/mysqlclient/binary_value.h"
#include "protocol/mysqlclient/handshake.h"
#include "protocol/mysqlclient/messages.h"
#include "protocol/mysqlclient/packet.h"
#include "protocol/mysqlclient/text_value.h"
#include "tests/fuzz/mysql_fuzz_util.h"
#include "tests/testing/test_database.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;
using ::sluice::testing::TestDatabase;
using namespace ::sluice::mysqlclient;

TestDatabase* Db() {
  absl::StatusOr<TestDatabase*> db = TestDatabase::Shared(TestDatabase::Kind::kMariaDb);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *db : nullptr;
}

std::map<std::string, std::string>& Seeds() {
  static auto* seeds = new std::map<std::string, std::string>();
  return *seeds;
}

void AddSeed(const std::string& target, const std::string& name, const std::string& bytes) {
  Seeds()[target + "/seed-" + name] = bytes;
  const char* dir = std::getenv("SLUICE_MYSQL_WRITE_CORPUS");
  if (!dir) return;
  fs::path path = fs::path(dir) / target / ("seed-" + name);
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// A blocking TCP client that keeps every byte the server sends for the current response.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }

  void Send(const std::string& payload, uint8_t seq) {
    std::string bytes = EncodePackets(payload, seq);
    ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  // Starts a new response whose first packet has sequence id `seq`.
  void Begin(uint8_t seq) {
    transcript_.clear();
    assembler_.set_expected_seq(seq);
  }

  // The next payload of the current response (empty optional on timeout or error).
  std::optional<std::string> Next() {
    while (true) {
      auto p = assembler_.Next();
      if (!p.ok()) return std::nullopt;
      if (p->has_value()) {
        // Keep exactly the bytes of the payloads returned so far.
        consumed_ = transcript_.size() - assembler_.buffered();
        return **p;
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (poll(&pfd, 1, 10000) <= 0) return std::nullopt;
      char buf[65536];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return std::nullopt;
      transcript_.append(buf, static_cast<size_t>(n));
      assembler_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }

  // The bytes of the payloads returned since Begin().
  std::string Transcript() const { return transcript_.substr(0, consumed_); }

 private:
  int fd_ = -1;
  bool ok_ = false;
  PacketAssembler assembler_;
  std::string transcript_;
  size_t consumed_ = 0;
};

std::string PacketSeed(uint8_t options, uint8_t seq, const std::string& stream) {
  return std::string{static_cast<char>(options), static_cast<char>(seq)} + stream;
}

// Logs in as `user` offering `plugin`; returns the connection or nullptr. Records seeds under
// `prefix` when it is not empty.
std::unique_ptr<RawConnection> Login(TestDatabase* db, const std::string& password,
                                     std::string_view plugin, const std::string& prefix) {
  auto c = std::make_unique<RawConnection>(db->port());
  EXPECT_TRUE(c->ok());
  c->Begin(0);
  std::optional<std::string> hello = c->Next();
  EXPECT_TRUE(hello.has_value());
  if (!hello) return nullptr;
  auto hs = ParseHandshake(*hello);
  EXPECT_TRUE(hs.ok()) << hs.status();
  if (!hs.ok()) return nullptr;
  if (!prefix.empty())
    AddSeed("mysql_packet_fuzz", prefix + "handshake", PacketSeed(0, 0, c->Transcript()));
  HandshakeResponse r;
  r.user = db->user();
  r.auth_plugin_name = std::string(plugin);
  r.auth_response = plugin == kNativePassword
                        ? NativePasswordScramble(password, hs->auth_plugin_data)
                        : CachingSha2Scramble(password, hs->auth_plugin_data);
  c->Send(EncodeHandshakeResponse(r), 1);
  c->Begin(2);
  std::optional<std::string> reply = c->Next();
  EXPECT_TRUE(reply.has_value());
  if (!reply) return nullptr;
  if (!prefix.empty())
    AddSeed("mysql_packet_fuzz", prefix + "auth_reply", PacketSeed(0, 2, c->Transcript()));
  if (!reply->empty() && (*reply)[0] == '\xFE') {
    auto sw = ParseAuthSwitchRequest(*reply);
    EXPECT_TRUE(sw.ok()) << sw.status();
    if (!sw.ok()) return nullptr;
    EXPECT_EQ(sw->plugin_name, kNativePassword);
    c->Send(NativePasswordScramble(password, sw->plugin_data), 3);
    c->Begin(4);
    reply = c->Next();
    EXPECT_TRUE(reply.has_value());
    if (!reply) return nullptr;
    if (!prefix.empty())
      AddSeed("mysql_packet_fuzz", prefix + "switch_reply", PacketSeed(0, 4, c->Transcript()));
  }
  if (IsErrPacket(*reply)) return nullptr;
  EXPECT_TRUE(IsOkPacket(*reply));
  return c;
}

// Runs one COM_QUERY and records the whole response.
void QuerySeed(RawConnection& c, const std::string& name, const std::string& sql) {
  c.Send(EncodeComQuery(sql), 0);
  c.Begin(1);
  TextResultSetReader reader;
  while (true) {
    std::optional<std::string> p = c.Next();
    ASSERT_TRUE(p.has_value()) << sql;
    auto done = reader.Add(*p);
    if (!done.ok() || *done) break;
  }
  AddSeed("mysql_packet_fuzz", "query_" + name, PacketSeed(0, 1, c.Transcript()));
}

const char* kCreateTypes =
    "CREATE TABLE fz_types (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, "
    "mi MEDIUMINT UNSIGNED, i INT, bi BIGINT, bu BIGINT UNSIGNED, d DECIMAL(20,6), "
    "dn DECIMAL(5,0), f FLOAT, db DOUBLE, bt BIT(13), y YEAR, dt DATE, tm TIME(3), t0 TIME, "
    "dtm DATETIME(6), ts TIMESTAMP(2) NULL, c CHAR(10), vc VARCHAR(300), "
    "lat VARCHAR(20) CHARACTER SET latin1, gbk VARCHAR(20) CHARACTER SET gbk, "
    "bg5 VARCHAR(20) CHARACTER SET big5, sj VARCHAR(20) CHARACTER SET sjis, "
    "kr VARCHAR(20) CHARACTER SET euckr, uj VARCHAR(20) CHARACTER SET ujis, "
    "u2 VARCHAR(10) CHARACTER SET ucs2, u16 VARCHAR(10) CHARACTER SET utf16, "
    "u32 CHAR(3) CHARACTER SET utf32, bn BINARY(4), vb VARBINARY(20), tx TEXT, bl BLOB, "
    "lt LONGTEXT, e ENUM('a','b','c'), st SET('x','y','z'), j JSON, g GEOMETRY, ip INET6, "
    "uu UUID)";

const char* kInsertTypes =
    "INSERT INTO fz_types VALUES "
    "(1, -128, 255, -32768, 16777215, -2147483648, -9223372036854775808, "
    "18446744073709551615, -12345678901234.567891, 99999, -1.5e-10, 2.2250738585072014e-308, "
    "b'1010101010101', 2155, '2024-02-29', '-838:59:59.999', '25:00:01', "
    "'9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.99', 'char', REPEAT('v', 300), "
    "'caf\xc3\xa9', '\xe4\xb8\xad\xe6\x96\x87', '\xe4\xb8\xad\xe6\x96\x87', "
    "'\xe6\x97\xa5\xe6\x9c\xac\xef\xbd\xb1\\\\~', '\xed\x95\x9c\xea\xb5\xad', "
    "'\xe6\x97\xa5\xe6\x9c\xac', 'h\xc3\xa9', '\xf0\x9f\x98\x80', 'x\xf0\x9f\x98\x80', "
    "X'00FF0102', X'DEADBEEF', 'text \xf0\x9f\x98\x80', X'0001FEFF', REPEAT('L', 2000), 'b', "
    "'x,z', '{\"a\": [1, 2.5, \"s\", null, true], \"b\": {\"c\": -1}}', "
    "ST_GeomFromText('POINT(1 2)'), '2001:db8::1', '123e4567-e89b-12d3-a456-426614174000'), "
    "(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 0, '0000-00-00', '00:00:00', '-00:00:01', "
    "'0000-00-00 00:00:00', NULL, '', '', '', '', '', '', '', '', '', '', '', X'00000000', '', "
    "'', '', '', 'a', '', '[]', NULL, '::', '00000000-0000-0000-0000-000000000000'), "
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";

void Workload(TestDatabase* db, const std::string& suffix) {
  const std::string t = "fz_types" + suffix;
  auto exec = [&](std::string sql) {
    for (size_t at = sql.find("fz_types"); at != std::string::npos;
         at = sql.find("fz_types", at + t.size())) {
      sql.replace(at, 8, t);
    }
    absl::Status st = db->Exec(sql);
    ASSERT_TRUE(st.ok()) << sql.substr(0, 200) << ": " << st;
  };
  exec("SET SESSION sql_mode = ''");
  exec(kCreateTypes);
  exec(kInsertTypes);
  exec(
      "UPDATE fz_types SET vc = 'updated', j = JSON_SET(j, '$.b.c', 7), tm = '-01:02:03.5' "
      "WHERE id = 1");
  exec(
      "BEGIN; UPDATE fz_types SET i = i + 1 WHERE id = 1; DELETE FROM fz_types WHERE id = 3; "
      "COMMIT");
  exec("SET SESSION binlog_row_image = 'MINIMAL'");
  exec("UPDATE fz_types SET ti = 5 WHERE id = 2");
  exec("SET SESSION binlog_row_image = 'FULL'");
  exec("DELETE FROM fz_types WHERE id = 2");
}

std::string BinlogPath(TestDatabase* db, const std::string& file) {
  auto rows = db->Query("SELECT @@datadir");
  EXPECT_TRUE(rows.ok());
  return (*rows)[0][0] + "/" + file;
}

std::string CurrentBinlog(TestDatabase* db) {
  auto rows = db->Query("SHOW MASTER STATUS");
  EXPECT_TRUE(rows.ok() && !rows->empty());
  return rows.ok() && !rows->empty() ? (*rows)[0][0] : "";
}

// Seeds for binlog_event_fuzz and rows_fuzz from one binlog file.
void SeedsFromFile(const std::string& bytes, const std::string& file, const std::string& tag) {
  mysql::testing::Decoded d = mysql::testing::DecodeAll(bytes, file);
  ASSERT_TRUE(d.status.ok()) << d.status;
  if (bytes.size() < 64 * 1024) AddSeed("binlog_event_fuzz", tag + "_file", bytes);
  // One seed per transaction: the events from a GTID through the next XID or standalone query.
  std::string seq(1, static_cast<char>(kOptCrc32 | kOptFixUp));
  int txn = 0;
  std::map<uint64_t, std::string> table_maps;  // table id -> TABLE_MAP body
  mysql::BinlogDecoder decoder;
  for (size_t i = 0; i < d.events.size(); ++i) {
    const mysql::Event& e = d.events[i];
    std::string raw = bytes.substr(e.position, e.header.event_size);
    std::string body = raw.substr(mysql::kEventHeaderLength,
                                  raw.size() - mysql::kEventHeaderLength - mysql::kChecksumLength);
    if (e.header.type == static_cast<uint8_t>(mysql::EventType::kFormatDescription)) {
      ASSERT_TRUE(decoder.Decode(AsBytes(raw), e.position).ok());
      continue;
    }
    if (e.header.type == static_cast<uint8_t>(mysql::EventType::kMariaGtid) && seq.size() > 1) {
      AddSeed("binlog_event_fuzz", absl::StrCat(tag, "_txn", txn++), seq);
      seq.resize(1);
    }
    seq.push_back(static_cast<char>(raw.size() & 0xFF));
    seq.push_back(static_cast<char>(raw.size() >> 8));
    seq += raw;
    if (e.header.type == static_cast<uint8_t>(mysql::EventType::kTableMap)) {
      table_maps[std::get<std::shared_ptr<const mysql::TableMap>>(e.body)->table_id] = body;
      continue;
    }
    const auto* rows = std::get_if<mysql::RowsEvent>(&e.body);
    if (!rows) continue;
    uint8_t type = e.header.type;
    if (auto plain = mysql::UncompressedEventType(type)) {
      auto dec = mysql::DecompressEvent(type, AsBytes(body), decoder.format(), 1 << 30);
      ASSERT_TRUE(dec.ok()) << dec.status();
      body = dec->body;
      type = *plain;
    }
    size_t selector = 0;
    while (selector < 7 && kRowsTypes[selector] != type) ++selector;
    ASSERT_LT(selector, 7u);
    // Where the first row's values start: header 8, ncols (1 byte here), bitmaps, NULL bitmap.
    const size_t ncols = static_cast<uint8_t>(body[8]);
    const size_t bitmap = (ncols + 7) / 8;
    size_t present = 0;
    for (size_t k = 0; k < bitmap; ++k) present += std::popcount(static_cast<uint8_t>(body[9 + k]));
    const bool update = rows->kind == mysql::RowsKind::kUpdate;
    const size_t skip = 9 + bitmap * (update ? 2 : 1) + (present + 7) / 8;
    const std::string& tm = table_maps[rows->table_id];
    std::string seed{static_cast<char>(selector), static_cast<char>(std::min<size_t>(skip, 255)),
                     static_cast<char>(tm.size() & 0xFF), static_cast<char>(tm.size() >> 8)};
    AddSeed("rows_fuzz",
            absl::StrCat(tag, "_", i, "_", std::string(mysql::EventTypeName(e.header.type))),
            seed + tm + body);
  }
  if (seq.size() > 1) AddSeed("binlog_event_fuzz", absl::StrCat(tag, "_txn", txn), seq);
}

TEST(MysqlCorpusCaptureTest, Binlogs) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  // Plain events.
  ASSERT_TRUE(db->Exec("FLUSH BINARY LOGS").ok());
  std::string file = CurrentBinlog(db);
  Workload(db, "");
  ASSERT_TRUE(db->Exec("FLUSH BINARY LOGS").ok());
  SeedsFromFile(mysql::testing::ReadFileBytes(BinlogPath(db, file)), file, "plain");
  // MariaDB compressed events.
  ASSERT_TRUE(db->Exec("SET GLOBAL log_bin_compress=ON, log_bin_compress_min_len=10").ok());
  file = CurrentBinlog(db);
  Workload(db, "_z");
  ASSERT_TRUE(
      db->Exec("CREATE TABLE fz_long (id INT) COMMENT='" + std::string(500, 'q') + "'").ok());
  ASSERT_TRUE(db->Exec("FLUSH BINARY LOGS").ok());
  ASSERT_TRUE(db->Exec("SET GLOBAL log_bin_compress=OFF, log_bin_compress_min_len=256").ok());
  SeedsFromFile(mysql::testing::ReadFileBytes(BinlogPath(db, file)), file, "compressed");
  ASSERT_TRUE(db->Exec("DROP TABLE fz_types; DROP TABLE fz_types_z; DROP TABLE fz_long").ok());
  EXPECT_GT(Seeds().size(), 20u);
}

TEST(MysqlCorpusCaptureTest, Packets) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(
      db->Exec("CREATE TABLE IF NOT EXISTS fz_q (id INT PRIMARY KEY, s VARCHAR(20), "
               "d DECIMAL(6,2), t DATETIME, n INT); REPLACE INTO fz_q VALUES "
               "(1, 'a\xc3\xa9', 1.25, '2024-01-02 03:04:05', NULL), (2, '', -0.5, NULL, 7)")
          .ok());
  std::unique_ptr<RawConnection> c = Login(db, db->password(), kNativePassword, "native_");
  ASSERT_NE(c, nullptr);
  // caching_sha2_password offered: MariaDB switches to mysql_native_password.
  ASSERT_NE(Login(db, db->password(), kCachingSha2Password, "switch_"), nullptr);
  EXPECT_EQ(Login(db, "wrong", kNativePassword, "wrong_"), nullptr);

  QuerySeed(*c, "rows", "SELECT * FROM sluice_test.fz_q ORDER BY id");
  QuerySeed(*c, "types", "SELECT 1, -2.5, 'x', NULL, X'00FF', NOW(6), CAST('{}' AS JSON)");
  QuerySeed(*c, "empty", "SELECT 1 FROM DUAL WHERE 1 = 0");
  QuerySeed(*c, "variables", "SHOW VARIABLES LIKE 'binlog_%'");
  QuerySeed(*c, "ok", "SET @x = 1");
  QuerySeed(*c, "error", "SELECT * FROM no_such_table");
  QuerySeed(*c, "checksum", "SET @master_binlog_checksum = @@global.binlog_checksum");

  // Register as a replica and dump the current binlog without blocking.
  ASSERT_TRUE(db->Exec("FLUSH BINARY LOGS").ok());
  const std::string file = CurrentBinlog(db);
  ASSERT_TRUE(db->Exec("INSERT INTO fz_q VALUES (3, 'dump', 9.99, NOW(), 1)").ok());
  c->Send(EncodeRegisterSlave(4242), 0);
  c->Begin(1);
  ASSERT_TRUE(c->Next().has_value());
  AddSeed("mysql_packet_fuzz", "register", PacketSeed(0, 1, c->Transcript()));
  c->Send(EncodeBinlogDump(file, 4, 4242, kBinlogDumpNonBlock), 0);
  c->Begin(1);
  mysql::BinlogDecoder decoder;
  decoder.set_initial_checksum(mysql::ChecksumAlg::kCrc32);
  int events = 0;
  while (true) {
    std::optional<std::string> p = c->Next();
    ASSERT_TRUE(p.has_value());
    auto packet = ParseBinlogPacket(*p);
    ASSERT_TRUE(packet.ok()) << packet.status();
    if (packet->eof) break;
    auto ev = decoder.Decode(packet->event, 0);
    ASSERT_TRUE(ev.ok()) << ev.status();
    ++events;
  }
  EXPECT_GT(events, 5);
  AddSeed("mysql_packet_fuzz", "binlog_dump", PacketSeed(0, 1, c->Transcript()));
  AddSeed("mysql_packet_fuzz", "binlog_dump_split", PacketSeed(4, 1, c->Transcript()));
  ASSERT_TRUE(db->Exec("DROP TABLE fz_q").ok());
}

// text_value_fuzz: the column definitions and each row of a few result sets over the table of
// every column type, as a snapshot reads them (time_zone +00:00), and a check that each value
// decodes to its type's kind, not raw.
TEST(MysqlCorpusCaptureTest, TextRows) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  for (std::string sql : {std::string(kCreateTypes), std::string(kInsertTypes)}) {
    sql.replace(sql.find("fz_types"), 8, "fz_types_text");
    absl::Status st = db->Exec("SET SESSION sql_mode = ''; " + sql);
    ASSERT_TRUE(st.ok()) << st;
  }
  std::unique_ptr<RawConnection> c = Login(db, db->password(), kNativePassword, "");
  ASSERT_NE(c, nullptr);
  const std::pair<const char*, const char*> queries[] = {
      {"all", "*"},
      {"numbers", "id, ti, tu, si, mi, i, bi, bu, d, dn, f, db, bt, y"},
      {"times", "id, dt, tm, t0, dtm, ts"},
      {"strings", "id, c, vc, lat, bn, vb, tx, bl, e, st, j, g, ip, uu"},
  };
  for (const char* setup : {"SET time_zone = '+00:00'", "SET NAMES utf8mb4"}) {
    c->Send(EncodeComQuery(setup), 0);
    c->Begin(1);
    std::optional<std::string> ok = c->Next();
    ASSERT_TRUE(ok.has_value() && IsOkPacket(*ok)) << setup;
  }
  int rows = 0;
  for (const auto& [name, select] : queries) {
    c->Send(EncodeComQuery(absl::StrCat("SELECT ", select,
                                        " FROM sluice_test.fz_types_text ORDER BY id")),
            0);
    c->Begin(1);
    std::vector<std::string> payloads;
    TextResultSetReader reader;
    std::vector<std::string> row_payloads;
    reader.StreamRows([&](std::string_view p) {
      row_payloads.emplace_back(p);
      return absl::OkStatus();
    });
    while (true) {
      std::optional<std::string> p = c->Next();
      ASSERT_TRUE(p.has_value()) << select;
      payloads.push_back(*p);
      auto done = reader.Add(*p);
      ASSERT_TRUE(done.ok()) << done.status();
      if (*done) break;
    }
    const size_t n = reader.result().columns.size();
    ASSERT_GT(n, 0u);
    ASSERT_LT(n, 256u);
    std::string header(1, static_cast<char>(n));
    for (size_t k = 1; k <= n; ++k) {  // payloads[0] is the column count
      ASSERT_LT(payloads[k].size(), 65536u);
      header.push_back(static_cast<char>(payloads[k].size() & 0xFF));
      header.push_back(static_cast<char>(payloads[k].size() >> 8));
      header += payloads[k];
    }
    for (size_t r = 0; r < row_payloads.size(); ++r) {
      auto values = ParseTextRow(row_payloads[r], n);
      ASSERT_TRUE(values.ok()) << values.status();
      for (size_t k = 0; k < n; ++k) {
        const ColumnDefinition& col = reader.result().columns[k];
        const v1::Value v = DecodeTextColumn(col, (*values)[k]);
        EXPECT_NE(v.kind_case(), v1::Value::kRaw)
            << name << " row " << r << " " << col.name << ": " << v.ShortDebugString();
        EXPECT_EQ(v.kind_case() == v1::Value::kNull, !(*values)[k].has_value());
      }
      AddSeed("text_value_fuzz", absl::StrCat(name, "_row", r), header + row_payloads[r]);
      ++rows;
    }
  }
  EXPECT_GE(rows, 8);
  ASSERT_TRUE(db->Exec("DROP TABLE fz_types_text").ok());
}

// binary_value_fuzz: the same table read with prepared statements (binary protocol, as the
// snapshot reads it): the column definitions and each binary row, and a check that each value
// stores the same bytes as the text protocol's (FLOAT and DOUBLE aside: text rounds them).
TEST(MysqlCorpusCaptureTest, BinaryRows) {
  TestDatabase* db = Db();
  ASSERT_NE(db, nullptr);
  for (std::string sql : {std::string(kCreateTypes), std::string(kInsertTypes)}) {
    sql.replace(sql.find("fz_types"), 8, "fz_types_binary");
    absl::Status st = db->Exec("SET SESSION sql_mode = ''; " + sql);
    ASSERT_TRUE(st.ok()) << st;
  }
  std::unique_ptr<RawConnection> c = Login(db, db->password(), kNativePassword, "");
  ASSERT_NE(c, nullptr);
  for (const char* setup : {"SET time_zone = '+00:00'", "SET NAMES utf8mb4"}) {
    c->Send(EncodeComQuery(setup), 0);
    c->Begin(1);
    std::optional<std::string> ok = c->Next();
    ASSERT_TRUE(ok.has_value() && IsOkPacket(*ok)) << setup;
  }
  // Reads one whole result: the column definition payloads and the row payloads.
  auto result = [&](std::vector<std::string>& defs, std::vector<std::string>& rows) {
    TextResultSetReader reader;
    reader.StreamRows([&](std::string_view p) {
      rows.emplace_back(p);
      return absl::OkStatus();
    });
    while (true) {
      std::optional<std::string> p = c->Next();
      ASSERT_TRUE(p.has_value());
      auto done = reader.Add(*p);
      ASSERT_TRUE(done.ok()) << done.status();
      if (reader.result().columns.size() > defs.size()) defs.push_back(*p);  // a definition
      if (*done) break;
    }
  };
  const std::pair<const char*, const char*> queries[] = {
      {"all", "*"},
      {"numbers", "id, ti, tu, si, mi, i, bi, bu, d, dn, f, db, bt, y"},
      {"times", "id, dt, tm, t0, dtm, ts"},
  };
  int rows_seen = 0;
  for (const auto& [name, select] : queries) {
    const std::string sql =
        absl::StrCat("SELECT ", select, " FROM sluice_test.fz_types_binary ORDER BY id");
    std::vector<std::string> text_defs, text_rows;
    c->Send(EncodeComQuery(sql), 0);
    c->Begin(1);
    result(text_defs, text_rows);
    c->Send(EncodeStmtPrepare(sql), 0);
    c->Begin(1);
    std::optional<std::string> first = c->Next();
    ASSERT_TRUE(first.has_value());
    auto prepared = ParsePrepareOk(*first);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    ASSERT_EQ(prepared->params, 0);
    for (int k = 0; k <= prepared->columns; ++k) ASSERT_TRUE(c->Next().has_value());
    c->Send(EncodeStmtExecute(prepared->statement_id), 0);
    c->Begin(1);
    std::vector<std::string> defs, rows;
    result(defs, rows);
    c->Send(EncodeStmtClose(prepared->statement_id), 0);
    const size_t n = defs.size();
    ASSERT_EQ(n, prepared->columns);
    ASSERT_EQ(rows.size(), text_rows.size());
    std::vector<ColumnDefinition> columns;
    std::string header(1, static_cast<char>(n));
    for (const std::string& d : defs) {
      auto col = ParseColumnDefinition(d);
      ASSERT_TRUE(col.ok()) << col.status();
      columns.push_back(*col);
      ASSERT_LT(d.size(), 65536u);
      header.push_back(static_cast<char>(d.size() & 0xFF));
      header.push_back(static_cast<char>(d.size() >> 8));
      header += d;
    }
    for (size_t r = 0; r < rows.size(); ++r) {
      BinaryRowView binary;
      ASSERT_TRUE(ParseBinaryRowView(rows[r], columns, binary).ok());
      auto text = ParseTextRow(text_rows[r], n);
      ASSERT_TRUE(text.ok()) << text.status();
      for (size_t k = 0; k < n; ++k) {
        std::string from_binary, from_text;
        ASSERT_TRUE(AppendBinaryColumnWire(columns[k], binary[k], from_binary).ok());
        const auto& t = (*text)[k];
        AppendTextColumnWire(columns[k], t ? std::optional<std::string_view>(*t) : std::nullopt,
                             from_text);
        const auto type = static_cast<mysql::ColumnType>(columns[k].type);
        if (type == mysql::ColumnType::kFloat || type == mysql::ColumnType::kDouble) continue;
        EXPECT_EQ(from_binary, from_text) << name << " row " << r << " " << columns[k].name;
      }
      AddSeed("binary_value_fuzz", absl::StrCat(name, "_row", r), header + rows[r]);
      ++rows_seen;
    }
  }
  EXPECT_GE(rows_seen, 9);
  ASSERT_TRUE(db->Exec("DROP TABLE fz_types_binary").ok());
}

}  // namespace
}  // namespace sluice::fuzz
