// Change events: one sluice.v1.ChangeEvent (as proto-loader decodes it) to the plain object of
// the canonical JSON line in docs/event-format.md §1, i.e. what `sluicectl tail --format json`
// prints for it, with one difference: `offset` is a decimal string (offsets are 64-bit), and
// values follow lib/values.js. Pure; never throws on any event.
'use strict';

const {decodeRow, decodeValue, formatTimestampMicros, setColumn} = require('./values');

const OP_CODES = Object.freeze({
  OP_READ: 'r',
  OP_INSERT: 'c',
  OP_UPDATE: 'u',
  OP_DELETE: 'd',
  OP_TRUNCATE: 't',
  OP_DDL: 'ddl',
  OP_MESSAGE: 'm',
});

const KIND_NAMES = Object.freeze({SOURCE_KIND_MYSQL: 'mysql', SOURCE_KIND_POSTGRES: 'postgres'});

const orNull = (s) => (s ? s : null);

function findColumn(row, name) {
  return row?.fields?.find((field) => field.name === name);
}

// The key columns' values: from the after image, else the before image; columns in neither are
// left out.
function decodeKey(event) {
  const key = {};
  for (const column of event.keyColumns ?? []) {
    const field = findColumn(event.after, column) ?? findColumn(event.before, column);
    if (field) setColumn(key, column, decodeValue(field.value));
  }
  return key;
}

function decodeSource(source) {
  const s = source ?? {};
  const commit = s.commitTsMicros && s.commitTsMicros !== '0' ? s.commitTsMicros : null;
  return {
    name: s.name ?? '',
    kind: KIND_NAMES[s.kind] ?? 'unknown',
    database: orNull(s.database),
    schema: orNull(s.schema),
    table: orNull(s.table),
    position: s.position ?? '',
    gtid: orNull(s.gtid),
    txid: orNull(s.txid),
    commit_ts: commit === null ? null : formatTimestampMicros(commit),
    snapshot: Boolean(s.snapshot),
  };
}

function decodeEvent(event) {
  const out = {
    offset: String(event.offset),
    op: OP_CODES[event.op] ?? '?',
    source: decodeSource(event.source),
    key: decodeKey(event),
    before: event.before ? decodeRow(event.before) : null,
    after: event.after ? decodeRow(event.after) : null,
    unchanged: [...(event.unchanged ?? [])],
    txn: {index: event.transactionIndex ?? 0, last: Boolean(event.lastInTransaction)},
  };
  if (out.op === 'ddl') {
    const ddl = event.ddl ?? {};
    out.ddl = {
      statement: orNull(ddl.statement),
      columns: (ddl.columns ?? []).map((c) => ({
        name: c.name,
        type: c.typeName,
        nullable: Boolean(c.nullable),
        key: Boolean(c.key),
      })),
    };
  } else if (out.op === 'm') {
    const message = event.message ?? {};
    out.message = {
      prefix: message.prefix ?? '',
      content: Buffer.from(message.content ?? []).toString('base64'),
      transactional: Boolean(message.transactional),
    };
  }
  return out;
}

module.exports = {decodeEvent, OP_CODES};
