// The prepared-statement commands and the binary row grammar (binary_protocol.h): the
// commands' bytes, a prepare_ok, and a row of every field kind built from the grammar with
// each of its truncations. Rows captured from our test MariaDB are split and decoded in
// binary_value_test.cc (CapturedRows) and replayed by binary_value_fuzz_replay.
#include "protocol/mysqlclient/binary_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"

namespace sluice::mysqlclient {
namespace {

std::string Hex(absl::string_view hex) { return absl::HexStringToBytes(hex); }

ColumnDefinition Column(uint8_t type, std::string name) {
  ColumnDefinition c;
  c.type = type;
  c.name = std::move(name);
  return c;
}

TEST(BinaryProtocolTest, Commands) {
  EXPECT_EQ(EncodeStmtPrepare("SELECT 1"), std::string("\x16SELECT 1"));
  EXPECT_EQ(EncodeStmtExecute(0x01020304),
            std::string("\x17\x04\x03\x02\x01\x00\x01\x00\x00\x00", 10));
  EXPECT_EQ(EncodeStmtClose(7), std::string("\x19\x07\x00\x00\x00", 5));
}

TEST(BinaryProtocolTest, PrepareOk) {
  // A prepare_ok for a 14-column SELECT without parameters (statement 1), as the grammar says.
  auto ok = ParsePrepareOk(Hex("00010000000e000000000000"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->statement_id, 1u);
  EXPECT_EQ(ok->columns, 14);
  EXPECT_EQ(ok->params, 0);
  EXPECT_EQ(ok->warnings, 0);
  EXPECT_TRUE(absl::IsDataLoss(ParsePrepareOk(Hex("00010000000e00")).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParsePrepareOk(Hex("ff010000000e0000000000")).status()));
  EXPECT_TRUE(absl::IsDataLoss(ParsePrepareOk("").status()));
}

// Columns id INT, ti TINYINT, si SMALLINT, bi BIGINT, d DECIMAL, f FLOAT, db DOUBLE, y YEAR,
// dt DATE, tm TIME, dtm DATETIME, ts TIMESTAMP, vc VARCHAR.
std::vector<ColumnDefinition> Columns() {
  return {Column(3, "id"),   Column(1, "ti"), Column(2, "si"),  Column(8, "bi"),  Column(246, "d"),
          Column(4, "f"),    Column(5, "db"), Column(13, "y"),  Column(10, "dt"), Column(11, "tm"),
          Column(12, "dtm"), Column(7, "ts"), Column(253, "vc")};
}

TEST(BinaryProtocolTest, SplitsARow) {
  // 13 columns: bitmap of (13 + 9) / 8 = 2 bytes; column 12 (vc) NULL is bit 14.
  const std::string row =
      Hex("00"
          "0040"                        // header, NULL bitmap: vc
          "01000000"                    // id 1
          "80"                          // ti -128
          "0080"                        // si -32768
          "ffffffffffffff7f"            // bi
          "052d312e3530"                // d "-1.50"
          "00006040"                    // f 3.5
          "000000000000e03f"            // db 0.5
          "6b08"                        // y 2155
          "04e807021d"                  // dt 2024-02-29
          "0c0122000000163b3b3f420f00"  // tm -838:59:59.999999
          "00"                          // dtm zero
          "07b20701010000"
          "01");  // ts 1970-01-01 00:00:01
  BinaryRowView v;
  ASSERT_TRUE(ParseBinaryRowView(row, Columns(), v).ok());
  ASSERT_EQ(v.size(), 13u);
  EXPECT_EQ(*v[0], Hex("01000000"));
  EXPECT_EQ(*v[1], Hex("80"));
  EXPECT_EQ(*v[3], Hex("ffffffffffffff7f"));
  EXPECT_EQ(*v[4], "-1.50");
  EXPECT_EQ(*v[8], Hex("e807021d"));
  EXPECT_EQ(*v[9], Hex("0122000000163b3b3f420f00"));
  EXPECT_EQ(*v[10], "");
  EXPECT_EQ(*v[11], Hex("b2070101000001"));
  EXPECT_FALSE(v[12].has_value());

  // Every truncation fails, as do a byte too many, a bad header and a bad temporal length.
  for (size_t n = 0; n < row.size(); ++n) {
    EXPECT_TRUE(absl::IsDataLoss(ParseBinaryRowView(row.substr(0, n), Columns(), v))) << n;
  }
  EXPECT_TRUE(absl::IsDataLoss(ParseBinaryRowView(row + "x", Columns(), v)));
  std::string bad = row;
  bad[0] = '\x01';
  EXPECT_TRUE(absl::IsDataLoss(ParseBinaryRowView(bad, Columns(), v)));
  bad = row;
  bad.replace(bad.find(Hex("04e807021d")), 1, Hex("05"));
  EXPECT_TRUE(absl::IsDataLoss(ParseBinaryRowView(bad, Columns(), v)));
}

TEST(BinaryProtocolTest, AllNull) {
  std::vector<ColumnDefinition> cols = Columns();
  BinaryRowView v;
  // Bits 2..14 set.
  ASSERT_TRUE(ParseBinaryRowView(Hex("00fc7f"), cols, v).ok());
  for (const auto& x : v) EXPECT_FALSE(x.has_value());
  EXPECT_TRUE(ParseBinaryRowView(Hex("00"), {}, v).ok() == false);  // bitmap of 1 byte missing
  EXPECT_TRUE(ParseBinaryRowView(Hex("0000"), {}, v).ok());
  EXPECT_TRUE(v.empty());
}

}  // namespace
}  // namespace sluice::mysqlclient
