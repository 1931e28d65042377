// libFuzzer target for the pgoutput decoder and everything downstream of it.
//
// Input: one pgoutput message (as in protocol/postgres/corpus/pgoutput/). It is decoded outside and inside a
// stream; Relation and Type messages feed a RelationCache, and Insert/Update/Delete are then
// mapped (text values decoded) against whatever the cache holds. A fixed Relation with one
// column of every built-in type is announced first so row messages reach the value decoders.
// The same bytes are also decoded as a CopyData payload.
//
// Checks besides "no crash, no sanitizer report": decoding is deterministic, and an error is
// never OK-with-value.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/postgres/copy_data.h"
#include "protocol/postgres/pg_text_value.h"
#include "protocol/postgres/pg_types.h"
#include "protocol/postgres/pgoutput.h"
#include "protocol/postgres/relation_cache.h"
#include "protocol/postgres/row_mapping.h"

namespace sluice::postgres {
namespace {

RelationCache& SeededCache() {
  static RelationCache* cache = [] {
    auto* c = new RelationCache();
    RelationMessage r;
    r.schema = "public";
    r.name = "fuzz";
    uint8_t flags = kColumnFlagKey;
    for (uint32_t oid = 0; oid < 4000; ++oid) {
      if (!IsBuiltinScalarOid(oid) && !BuiltinArrayElementOid(oid)) continue;
      r.columns.push_back({flags, *BuiltinTypeName(oid), oid, -1});
      flags = 0;
    }
    // Relation ids 0..3 have 1, 2, 3 and all columns, so short tuples map too.
    for (uint32_t relid = 0; relid < 4; ++relid) {
      RelationMessage m = r;
      m.relid = relid;
      if (relid < 3) m.columns.resize(relid + 1);
      c->Apply(m);
    }
    return c;
  }();
  return *cache;
}

void Exercise(std::string_view bytes, bool in_stream) {
  auto first = DecodePgoutput(bytes, in_stream);
  auto second = DecodePgoutput(bytes, in_stream);
  if (first.ok() != second.ok() || first.status() != second.status()) std::abort();
  if (!first.ok()) return;
  RelationCache& cache = SeededCache();
  TypeResolver resolver = cache.Resolver();
  if (auto* r = std::get_if<RelationMessage>(&*first)) {
    RelationCache scratch;  // keep the seeded cache stable
    scratch.Apply(*r);
    scratch.Apply(*r);
  } else if (auto* i = std::get_if<InsertMessage>(&*first)) {
    (void)MapInsert(cache, *i, resolver);
  } else if (auto* u = std::get_if<UpdateMessage>(&*first)) {
    (void)MapUpdate(cache, *u, resolver);
  } else if (auto* d = std::get_if<DeleteMessage>(&*first)) {
    (void)MapDelete(cache, *d, resolver);
  }
}

}  // namespace
}  // namespace sluice::postgres

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  sluice::postgres::Exercise(bytes, false);
  sluice::postgres::Exercise(bytes, true);
  (void)sluice::postgres::DecodeCopyData(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
  // The text decoders alone: first byte picks a type, the rest is the text.
  if (size > 0) {
    uint32_t oids[] = {sluice::postgres::kInt8Oid,      sluice::postgres::kNumericOid,
                       sluice::postgres::kFloat8Oid,    sluice::postgres::kByteaOid,
                       sluice::postgres::kDateOid,      sluice::postgres::kTimetzOid,
                       sluice::postgres::kTimestampOid, sluice::postgres::kTimestamptzOid,
                       sluice::postgres::kIntervalOid,  sluice::postgres::kTextArrayOid,
                       sluice::postgres::kInt4ArrayOid, sluice::postgres::kIntervalArrayOid};
    const uint32_t oid = oids[data[0] % (sizeof(oids) / sizeof(oids[0]))];
    (void)sluice::postgres::DecodeTextValue(oid, bytes.substr(1));
  }
  return 0;
}
