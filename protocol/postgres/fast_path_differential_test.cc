// Randomized differential checks of the COPY binary fast paths (262f993, 83966c4,
// 3e30933) beyond what FastPathTest and copy_binary_fuzz reach: numerics with any header word,
// timestamps over the whole int64 range, random bytes of every decoded type, and tuples of up to
// 1,664 columns with lengths near INT32_MAX / negative, against a reference parser.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "protocol/postgres/copy_binary.h"
#include "protocol/postgres/pg_binary_value.h"
#include "protocol/postgres/pg_types.h"

namespace sluice::postgres {
namespace {

void PutBe(uint64_t v, int bytes, std::string& out) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// fast took it => general OK with the same bytes; fast refused => nothing appended.
void Diff(uint32_t oid, const std::string& bytes) {
  std::string fast = "p", general = "p", scratch;
  const bool took = binary_internal::AppendBinaryValueWireFast(oid, bytes, fast);
  const absl::Status s =
      binary_internal::AppendBinaryValueWireGeneral(oid, bytes, nullptr, scratch, general);
  if (!took) {
    ASSERT_EQ(fast, "p") << oid << " " << absl::CHexEscape(bytes);
    return;
  }
  ASSERT_TRUE(s.ok()) << oid << " " << absl::CHexEscape(bytes) << " " << s;
  ASSERT_EQ(absl::CHexEscape(fast), absl::CHexEscape(general))
      << oid << " " << absl::CHexEscape(bytes);
}

TEST(FastPathDifferential, NumericsWithAnyHeader) {
  std::mt19937_64 rng(7);
  const int16_t weights[] = {-32768, -32767, -100, -33, -32, -31, -2, -1, 0, 1, 2, 28, 29,
                             30, 31, 32, 100, 32766, 32767};
  const uint16_t dscales[] = {0, 1, 3, 4, 5, 100, 115, 116, 117, 118, 119, 120, 121, 122,
                              123, 124, 125, 126, 127, 128, 0x3FFF, 0x4000, 0xFFFF};
  for (int i = 0; i < 400000; ++i) {
    std::string b;
    const size_t nd = rng() % 40;
    PutBe(nd, 2, b);
    PutBe(static_cast<uint16_t>(rng() % 3 ? weights[rng() % std::size(weights)]
                                         : static_cast<int16_t>(rng())),
          2, b);
    const uint16_t signs[] = {0, 0x4000, 0xC000, 0xD000, 0xF000, 0x8000, 0x4001};
    PutBe(signs[rng() % 7], 2, b);
    PutBe(rng() % 3 ? dscales[rng() % std::size(dscales)] : static_cast<uint16_t>(rng()), 2, b);
    for (size_t d = 0; d < nd; ++d) PutBe(rng() % 8 ? rng() % 10000 : 9999 + rng() % 3, 2, b);
    if (rng() % 50 == 0) b.resize(rng() % (b.size() + 1));
    Diff(kNumericOid, b);
  }
}

TEST(FastPathDifferential, TimestampsOverInt64) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 400000; ++i) {
    uint64_t v = rng();
    if (i % 2) v = static_cast<uint64_t>(static_cast<int64_t>(v) >> (rng() % 64));
    std::string b;
    PutBe(v, 8, b);
    Diff(kTimestampOid, b);
    Diff(kTimestamptzOid, b);
    Diff(kFloat8Oid, b);
    Diff(kInt8Oid, b);
  }
}

TEST(FastPathDifferential, RandomBytesEveryType) {
  std::mt19937_64 rng(9);
  const uint32_t oids[] = {kInt2Oid,  kInt4Oid,    kInt8Oid,     kOidOid,     kBoolOid,
                           kFloat8Oid, kTextOid,   kVarcharOid,  kBpcharOid,  kNameOid,
                           kJsonOid,   kJsonbOid,  kNumericOid,  kTimestampOid,
                           kTimestamptzOid, kUuidOid};
  for (int i = 0; i < 300000; ++i) {
    std::string b(rng() % 20, '\0');
    for (char& c : b) c = static_cast<char>(rng() % 4 ? rng() : 0);
    for (uint32_t oid : oids) Diff(oid, b);
  }
}

// A reference of the tuple grammar (copy_binary.h), for a message after the header.
std::optional<std::vector<std::optional<std::string>>> Reference(const std::string& m,
                                                                 size_t columns) {
  size_t at = 0;
  auto rd = [&](size_t n, int64_t& v) {
    if (m.size() - at < n) return false;
    uint64_t u = 0;
    for (size_t i = 0; i < n; ++i) u = u << 8 | static_cast<uint8_t>(m[at + i]);
    at += n;
    v = n == 2 ? static_cast<int16_t>(u) : static_cast<int32_t>(u);
    return true;
  };
  int64_t count;
  if (!rd(2, count) || count < 0 || static_cast<size_t>(count) != columns) return std::nullopt;
  std::vector<std::optional<std::string>> out;
  for (size_t c = 0; c < columns; ++c) {
    int64_t len;
    if (!rd(4, len)) return std::nullopt;
    if (len == -1) {
      out.emplace_back();
      continue;
    }
    if (len < 0 || static_cast<uint64_t>(len) > m.size() - at) return std::nullopt;
    out.emplace_back(m.substr(at, static_cast<size_t>(len)));
    at += static_cast<size_t>(len);
  }
  if (at != m.size()) return std::nullopt;
  return out;
}

TEST(FastPathDifferential, TuplesUpTo1664ColumnsAgainstAReference) {
  std::mt19937_64 rng(10);
  const int32_t odd[] = {-1, -2, INT32_MIN, INT32_MAX, INT32_MAX - 1, 0, 1, 3};
  for (int i = 0; i < 20000; ++i) {
    const size_t columns = rng() % 4 == 0 ? 1600 + rng() % 65 : rng() % 200;
    std::string m;
    const size_t count = rng() % 8 == 0 ? rng() % 65536 : columns;
    PutBe(count, 2, m);
    for (size_t c = 0; c < columns; ++c) {
      if (rng() % 500 == 0) {
        PutBe(static_cast<uint32_t>(odd[rng() % std::size(odd)]), 4, m);
        continue;
      }
      if (rng() % 3 == 0) {
        PutBe(0xFFFFFFFFu, 4, m);
        continue;
      }
      const size_t len = rng() % 6;
      PutBe(len, 4, m);
      for (size_t k = 0; k < len; ++k) m.push_back(static_cast<char>(rng()));
    }
    if (rng() % 20 == 0) m.resize(rng() % (m.size() + 1));
    if (rng() % 20 == 0) m.push_back('x');
    CopyBinaryRow row;
    std::string first(kCopyBinarySignature);
    PutBe(0, 8, first);
    PutBe(columns, 2, first);
    for (size_t c = 0; c < columns; ++c) PutBe(0xFFFFFFFFu, 4, first);
    ASSERT_TRUE(row.Parse(first, columns).ok());
    const absl::Status st = row.Parse(m, columns);
    const auto ref = Reference(m, columns);
    const bool trailer = m.size() == 2 && m == "\xFF\xFF";
    if (trailer) continue;
    ASSERT_EQ(st.ok(), ref.has_value()) << st << " columns " << columns;
    if (!st.ok()) {
      ASSERT_EQ(st.code(), absl::StatusCode::kDataLoss);
      continue;
    }
    ASSERT_EQ(row.values().size(), columns);
    for (size_t c = 0; c < columns; ++c) {
      ASSERT_EQ(row.values()[c].has_value(), (*ref)[c].has_value());
      if ((*ref)[c]) {
        ASSERT_EQ(std::string(*row.values()[c]), *(*ref)[c]);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::postgres
