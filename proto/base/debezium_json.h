#pragma once
// Debezium-compatible JSON: a ChangeEvent rendered as the value payload that Debezium's MySQL and
// PostgreSQL connectors write with schemas disabled, so that consumers built for Debezium (Flink's
// debezium-json format, Hudi's Debezium source) can read sluice's log:
//
//   {"before":{...}|null,"after":{...}|null,"source":{...},"op":"c","ts_ms":N,
//    "transaction":{"id":"...","total_order":N,"data_collection_order":N}|null}
//
// docs/event-format.md ("Debezium format") specifies every field and the value mapping: Debezium's
// defaults time.precision.mode=adaptive(_time_microseconds), decimal.handling.mode=string,
// binary.handling.mode=base64, interval.handling.mode=numeric.
//
// Errors: none. Every event renders to valid UTF-8 JSON on one line, whatever its bytes. DDL
// events have no data-change shape in Debezium (it writes them to a separate schema-change topic),
// so DebeziumRenderer::Render returns nullopt for them.
//
// Thread-safety: AppendDebeziumValue is pure and thread-compatible. A DebeziumRenderer keeps
// per-transaction counters and is thread-compatible: feed one instance the events of one stream
// in log order, from one thread at a time.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/v1/event.pb.h"

namespace sluice {

// Debezium's default placeholder for a column whose value the source did not send because it did
// not change (Postgres unchanged TOAST values; unavailable.value.placeholder).
inline constexpr std::string_view kDebeziumUnavailableValue = "__debezium_unavailable_value";

// What `source.version` says: "sluice-" and the sluice version, so that no consumer mistakes the
// stream for one written by a particular Debezium release.
std::string_view DebeziumSourceVersion();

// Appends one column value in Debezium's representation:
//   date -> days since 1970-01-01 (io.debezium.time.Date); MySQL zero dates -> null;
//   time -> microseconds (io.debezium.time.MicroTime), signed for negative MySQL durations;
//   timetz -> "HH:MM:SS[.f]Z" in UTC (io.debezium.time.ZonedTime);
//   datetime -> microseconds since the epoch (io.debezium.time.MicroTimestamp);
//     Postgres infinity -> 9223372036825200000, -infinity -> -9223372036832400000;
//   timestamp (MySQL TIMESTAMP, timestamptz) -> "YYYY-MM-DDTHH:MM:SS[.f]Z"
//     (io.debezium.time.ZonedTimestamp);
//   decimal -> string (decimal.handling.mode=string), NaN as "NAN";
//   interval -> microseconds with 365.25/12 days a month (io.debezium.time.MicroDuration);
//   json -> the document text as a string (io.debezium.data.Json);
//   bytes -> base64 string; array -> JSON array of mapped elements; the rest as value_json.h.
// A date or time outside the range these numbers can hold renders as its canonical JSON string.
void AppendDebeziumValue(const v1::Value& value, std::string& out);

// Renders events one by one, in log order, and keeps what the `transaction` block needs:
// total_order is transaction_index + 1; data_collection_order counts the events of the same table
// within the transaction, so it is known only when the renderer saw the transaction from its first
// event (a stream that starts mid-transaction gets null there until the next transaction).
// Memory: one counter per table of the current transaction.
class DebeziumRenderer {
 public:
  // The envelope for `event` without a trailing newline, or nullopt for a DDL event.
  std::optional<std::string> Render(const v1::ChangeEvent& event);

 private:
  // Updates the transaction state for `event` and returns its data_collection_order, or nullopt
  // when the transaction's earlier events were not seen.
  std::optional<uint64_t> NextDataCollectionOrder(const v1::ChangeEvent& event);

  bool in_transaction_ = false;  // the current transaction was seen from its first event
  std::string source_name_;      // the current transaction: source name and txid
  std::string txid_;
  uint32_t next_index_ = 0;                    // transaction_index expected next
  std::map<std::string, uint64_t> per_table_;  // events per "schema.table" so far
};

}  // namespace sluice
