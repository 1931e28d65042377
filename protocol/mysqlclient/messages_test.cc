#include "protocol/mysqlclient/messages.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::mysqlclient {
namespace {

// A string literal with its embedded NULs (the length comes from the array).
template <size_t N>
std::string S(const char (&p)[N]) {
  return std::string(p, N - 1);
}

TEST(OkErrEofTest, ParsesOk) {
  auto ok = ParseOk(S("\x00\x05\xfc\x00\x01\x02\x00\x01\x00info"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->affected_rows, 5u);
  EXPECT_EQ(ok->last_insert_id, 256u);
  EXPECT_EQ(ok->status_flags, 2);
  EXPECT_EQ(ok->warnings, 1);
  EXPECT_EQ(ok->info, "info");
  EXPECT_EQ(ParseOk(S("\x00\x05")).status().code(), absl::StatusCode::kDataLoss);
}

TEST(OkErrEofTest, ErrBecomesStatusWithStateAndMessage) {
  std::string p = S("\xff\x15\x04#28000Access denied for user 'x'");
  auto e = ParseErr(p);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->code, 1045);
  EXPECT_EQ(e->sql_state, "28000");
  EXPECT_EQ(e->message, "Access denied for user 'x'");
  absl::Status st = ErrPayloadToStatus(p);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "MySQL error 1045 (28000): Access denied for user 'x'");
  // Pre-handshake errors have no SQL state.
  auto e2 = ParseErr(S("\xff\x10\x04Too many connections"));
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->sql_state, "");
  EXPECT_EQ(e2->message, "Too many connections");
  EXPECT_EQ(ErrPayloadToStatus(S("\xff\x01")).code(), absl::StatusCode::kDataLoss);
}

TEST(OkErrEofTest, Classifies) {
  EXPECT_TRUE(IsEofPacket(S("\xfe\x00\x00\x02\x00")));
  EXPECT_FALSE(IsEofPacket(S("\xfe\x00\x00\x02\x00\x00\x00\x00\x00")));
  EXPECT_TRUE(IsErrPacket("\xff"));
  EXPECT_TRUE(IsOkPacket(S("\x00")));
}

// Errors that fail the same way on every retry are permanent (the source stops and says what
// to fix); those a retry can heal are not, nor is a code the table does not know, nor any
// status that did not come from the server.
TEST(OkErrEofTest, ServerErrorsArePermanentOrTransient) {
  auto status_of = [](uint16_t code) {
    ErrPacket e;
    e.code = code;
    e.sql_state = "HY000";
    e.message = "m";
    return ErrToStatus(e);
  };
  for (uint16_t code : {1044, 1045, 1142, 1143, 1227, 1370, 1698}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kPermissionDenied) << code;
  }
  for (uint16_t code : {1049, 1051, 1054, 1109, 1146, 1305}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kNotFound) << code;
  }
  for (uint16_t code : {1052, 1064, 1149}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kInvalidArgument) << code;
  }
  for (uint16_t code : {1115, 1193, 1229, 1231, 1236, 1238, 1273, 1286, 1290, 1356}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kFailedPrecondition) << code;
  }
  for (uint16_t code : {1044, 1049, 1054, 1064, 1143, 1146, 1236, 1356, 1370}) {
    EXPECT_TRUE(IsPermanentMysqlError(status_of(code))) << code;
    EXPECT_EQ(MysqlErrorCode(status_of(code)), code);
  }
  for (uint16_t code : {1040, 1053, 1203, 1226, 1927}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kUnavailable) << code;
  }
  for (uint16_t code : {1205, 1213, 1317, 1412, 1637, 1969, 3024}) {
    EXPECT_EQ(status_of(code).code(), absl::StatusCode::kAborted) << code;
  }
  for (uint16_t code : {1040, 1053, 1205, 1213, 1317, 1412, 1927, 1969, 3024, 1105, 2000}) {
    EXPECT_FALSE(IsPermanentMysqlError(status_of(code))) << code;
    EXPECT_EQ(MysqlErrorCode(status_of(code)), code);
  }
  EXPECT_EQ(status_of(1105).code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status_of(1146).message(), "MySQL error 1146 (HY000): m");
  // Not from the server: never permanent, no code.
  EXPECT_FALSE(IsPermanentMysqlError(absl::NotFoundError("MySQL error 1146: m")));
  EXPECT_EQ(MysqlErrorCode(absl::NotFoundError("x")), std::nullopt);
  // Through the packet parser too.
  absl::Status st = ErrPayloadToStatus(S("\xff\x7a\x04#42S02Table 'd.t' doesn't exist"));
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MysqlErrorCode(st), 1146);
}

std::string ColumnDef(std::string_view name) {
  std::string p;
  auto lenenc = [&](std::string_view s) {
    p.push_back(static_cast<char>(s.size()));
    p += s;
  };
  lenenc("def");
  lenenc("");
  lenenc("");
  lenenc("");
  lenenc(name);
  lenenc("");
  p += S("\x0c\x21\x00\x10\x00\x00\x00\xfd\x00\x00\x27\x00\x00");
  return p;
}

TEST(ResultSetTest, TwoColumnsWithNull) {
  TextResultSetReader rs;
  std::vector<std::string> payloads = {
      S("\x02"),
      ColumnDef("@@version"),
      ColumnDef("@@binlog_format"),
      S("\xfe\x00\x00\x02\x00"),
      S("\x07" "10.11.6" "\x03ROW"),
      S("\xfb\x00"),
      S("\xfe\x00\x00\x02\x00"),
  };
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto done = rs.Add(payloads[i]);
    ASSERT_TRUE(done.ok()) << i << ": " << done.status();
    EXPECT_EQ(*done, i + 1 == payloads.size()) << i;
  }
  ResultSet& r = rs.result();
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.columns[1].name, "@@binlog_format");
  EXPECT_EQ(r.columns[0].type, 0xfd);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0][0], "10.11.6");
  EXPECT_EQ(r.rows[0][1], "ROW");
  EXPECT_EQ(r.rows[1][0], std::nullopt);
  EXPECT_EQ(r.rows[1][1], "");
}

TEST(ResultSetTest, StreamedRowsGoToTheSinkAndParseWithoutCopies) {
  TextResultSetReader rs;
  std::vector<std::string> rows;
  rs.StreamRows([&](std::string_view row) {
    EXPECT_EQ(rs.result().columns.size(), 2u);  // the columns are known by the first row
    rows.emplace_back(row);
    return rows.size() < 3 ? absl::OkStatus() : absl::AbortedError("enough");
  });
  std::vector<std::string> payloads = {
      S("\x02"), ColumnDef("a"), ColumnDef("b"), S("\xfe\x00\x00\x02\x00"),
      S("\x07" "10.11.6" "\x03ROW"), S("\xfb\x00"), S("\x01x\x01y"),
  };
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto done = rs.Add(payloads[i]);
    if (i + 1 == payloads.size()) {
      EXPECT_EQ(done.status().code(), absl::StatusCode::kAborted);  // the sink's error
    } else {
      ASSERT_TRUE(done.ok()) << i << ": " << done.status();
    }
  }
  EXPECT_TRUE(rs.result().rows.empty());
  ASSERT_EQ(rows.size(), 3u);
  TextRowView values;
  ASSERT_TRUE(ParseTextRowView(rows[0], 2, values).ok());
  EXPECT_EQ(values, (TextRowView{"10.11.6", "ROW"}));
  EXPECT_GE(values[0]->data(), rows[0].data());  // borrowed from the payload
  EXPECT_LT(values[0]->data(), rows[0].data() + rows[0].size());
  ASSERT_TRUE(ParseTextRowView(rows[1], 2, values).ok());
  EXPECT_EQ(values, (TextRowView{std::nullopt, ""}));
  EXPECT_FALSE(ParseTextRowView(rows[2], 3, values).ok());
  EXPECT_FALSE(ParseTextRowView(S("\x01" "ab"), 1, values).ok());  // trailing byte
}

TEST(ResultSetTest, OkInsteadOfResultSet) {
  TextResultSetReader rs;
  auto done = rs.Add(S("\x00\x00\x00\x02\x00\x00\x00"));
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_TRUE(rs.result().ok.has_value());
}

TEST(ResultSetTest, ErrAndMalformed) {
  TextResultSetReader rs;
  EXPECT_EQ(rs.Add(S("\xff\x28\x04#42000syntax")).status().code(),
            absl::StatusCode::kInvalidArgument);
  TextResultSetReader rs2;
  ASSERT_TRUE(rs2.Add("\x01").ok());
  EXPECT_EQ(rs2.Add("\x03""def").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(ParseTextRow(S("\x05" "ab"), 1).ok());
  EXPECT_FALSE(ParseTextRow(S("\x01" "ab"), 1).ok());  // trailing byte
  EXPECT_FALSE(ParseTextRow("", 1).ok());
}

TEST(ResultSetTest, DeprecateEofTerminator) {
  TextResultSetReader rs(/*deprecate_eof=*/true);
  ASSERT_TRUE(rs.Add("\x01").ok());
  ASSERT_TRUE(rs.Add(ColumnDef("a")).ok());
  ASSERT_TRUE(rs.Add(S("\x01x")).ok());
  auto done = rs.Add(S("\xfe\x00\x00\x02\x00\x00\x00"));
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_EQ(rs.result().rows.size(), 1u);
}

TEST(CommandsTest, Encoders) {
  EXPECT_EQ(EncodeComQuery("SELECT 1"), "\x03SELECT 1");
  EXPECT_EQ(EncodeRegisterSlave(4242),
            S("\x15\x92\x10") + std::string(15, '\0'));  // 1+4+3+2+4+4 = 18 bytes
  EXPECT_EQ(EncodeBinlogDump("mysql-bin.000001", 0x01020304, 4242, 1),
            S("\x12\x04\x03\x02\x01\x01\x00\x92\x10\x00\x00") + "mysql-bin.000001");
}

TEST(CommandsTest, BinlogDumpGtid) {
  // The empty GTID set (n_sids = 0): stream everything the server still has.
  std::string empty_set(8, '\0');
  EXPECT_EQ(EncodeBinlogDumpGtid(empty_set, 4242),
            S("\x1e"                              // COM_BINLOG_DUMP_GTID
              "\x04\x00"                          // flags: BINLOG_THROUGH_GTID
              "\x92\x10\x00\x00"                  // server id 4242
              "\x00\x00\x00\x00"                  // file name length 0
              "\x04\x00\x00\x00\x00\x00\x00\x00"  // position 4
              "\x08\x00\x00\x00") +               // data length 8
                empty_set);
  // A file name, a 64-bit position, NON_BLOCK kept beside THROUGH_GTID.
  EXPECT_EQ(EncodeBinlogDumpGtid("GTID", 7, "b.000002", 0x0102030405, kBinlogDumpNonBlock),
            S("\x1e\x05\x00\x07\x00\x00\x00\x08\x00\x00\x00") + "b.000002" +
                S("\x05\x04\x03\x02\x01\x00\x00\x00\x04\x00\x00\x00") + "GTID");
}

TEST(BinlogPacketTest, Classifies) {
  const std::string payload = S("\x00\x01\x02\x03");  // `event` views it
  auto ev = ParseBinlogPacket(payload);
  ASSERT_TRUE(ev.ok());
  EXPECT_FALSE(ev->eof);
  ASSERT_EQ(ev->event.size(), 3u);
  EXPECT_EQ(ev->event[0], std::byte{1});
  auto eof = ParseBinlogPacket(S("\xfe\x00\x00\x00\x00"));
  ASSERT_TRUE(eof.ok());
  EXPECT_TRUE(eof->eof);
  auto err = ParseBinlogPacket(S("\xff\xd4\x04#HY000Could not find first log file"));
  EXPECT_EQ(err.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(err.status().message().find("Could not find first log"), std::string::npos);
  EXPECT_EQ(ParseBinlogPacket("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseBinlogPacket("\x07zz").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sluice::mysqlclient
