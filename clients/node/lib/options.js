// Argument checks and conversions shared by subscribe() and consume(): start positions, offsets,
// op lists and table filters, turned into the fields of SubscribeRequest / ConsumeRequest.Open.
// Pure. Bad input throws TypeError or RangeError whose message names the option, what was
// wrong and what is accepted.
'use strict';

const {OP_CODES} = require('./event');

const UINT64_MAX = (1n << 64n) - 1n;

// An offset given as a decimal string, a bigint or a safe integer, as a canonical decimal
// string in 1..2^64-1. `what` names the argument in errors.
function toOffset(value, what) {
  let big;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    big = BigInt(value);
  } else if (typeof value === 'string' && /^[0-9]+$/.test(value)) {
    big = BigInt(value);
  } else {
    throw new TypeError(
        `${what} must be an offset: a decimal string, a bigint or a safe integer, got ` +
        `${describe(value)} (offsets above 2^53 only fit in a string or a bigint)`);
  }
  if (big < 1n || big > UINT64_MAX) {
    throw new RangeError(`${what} ${big} is out of range: offsets are 1..2^64-1`);
  }
  return big.toString();
}

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return `Date(${value.toISOString?.() ?? 'invalid'})`;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function micros(date, what) {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is an invalid Date`);
  return (BigInt(ms) * 1000n).toString();
}

// `from`: 'earliest' (the default), 'latest', 'snapshot' (SNAPSHOT_THEN_STREAM: the table state
// first, then the log after it; not for `to` of a reset), an offset, a Date or an ISO 8601 time
// string (the first transaction committed at or after it), or {commitTsMicros}.
function toStartPosition(from, what = 'from') {
  if (from === undefined || from === null || from === 'earliest') return {earliest: {}};
  if (from === 'latest') return {latest: {}};
  if (from === 'snapshot') {
    if (what === 'to') {
      throw new TypeError(`${what} 'snapshot' is not a reset position (a reset is a log ` +
          'position): delete the subscription and create it again with from: \'snapshot\'');
    }
    return {snapshotThenStream: {}};
  }
  if (from instanceof Date) return {commitTsMicros: micros(from, what)};
  if (typeof from === 'object' && 'commitTsMicros' in from) {
    const v = String(from.commitTsMicros);
    if (!/^-?[0-9]+$/.test(v)) {
      throw new TypeError(`${what}.commitTsMicros must be an integer, got ${describe(v)}`);
    }
    return {commitTsMicros: v};
  }
  if (typeof from === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(from)) {
    const date = new Date(from);
    if (Number.isNaN(date.getTime())) {
      throw new RangeError(`${what} ${JSON.stringify(from)} is not a valid ISO 8601 time`);
    }
    return {commitTsMicros: micros(date, what)};
  }
  if (typeof from === 'string' && !/^[0-9]+$/.test(from)) {
    throw new TypeError(
        `${what} ${JSON.stringify(from)} is not a start position: use 'earliest', 'latest', ` +
        `'snapshot', an offset, a Date or an ISO 8601 time like '2026-01-02T03:04:05Z'`);
  }
  return {offset: toOffset(from, what)};
}

const OP_NAMES = Object.fromEntries(Object.entries(OP_CODES).map(([name, code]) => [code, name]));
const OP_WORDS = {read: 'OP_READ', insert: 'OP_INSERT', create: 'OP_INSERT', update: 'OP_UPDATE',
  delete: 'OP_DELETE', truncate: 'OP_TRUNCATE', message: 'OP_MESSAGE'};

// ops: ['c', 'u', 'd'] (codes as in events), words ('insert') or enum names ('OP_INSERT').
function toOps(ops, what = 'ops') {
  if (ops === undefined || ops === null) return [];
  if (!Array.isArray(ops)) throw new TypeError(`${what} must be an array like ['c', 'u', 'd']`);
  return ops.map((op) => {
    const name = OP_NAMES[op] ?? OP_WORDS[op] ?? (op in OP_CODES ? op : undefined);
    if (!name) {
      throw new RangeError(
          `${what}: unknown op ${describe(op)}; use r, c, u, d, t, ddl or m (or OP_INSERT, ...)`);
    }
    return name;
  });
}

function toStrings(list, what, example) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new TypeError(`${what} must be an array of non-empty strings like ${example}`);
  }
  return [...list];
}

// projections: {'db.table_glob': ['col', ...]} or [{table, columns}], in priority order.
function toProjections(projections, what = 'projections') {
  if (projections === undefined || projections === null) return [];
  const entries = Array.isArray(projections) ?
      projections.map((p) => [p?.table, p?.columns]) :
      Object.entries(projections);
  return entries.map(([table, columns]) => {
    if (typeof table !== 'string' || table === '') {
      throw new TypeError(`${what}: each projection needs a table glob like 'shop.orders'`);
    }
    return {table, columns: toStrings(columns, `${what}['${table}']`, "['id', 'total']")};
  });
}

function toCount(value, what, max) {
  if (value === undefined || value === null) return 0;
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer in 0..${max} (0 = the server's default)`);
  }
  return value;
}

function requireName(value, what, example) {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${what} is required: a non-empty string like ${example}`);
  }
  return value;
}

module.exports = {
  toOffset,
  toStartPosition,
  toOps,
  toStrings,
  toProjections,
  toCount,
  requireName,
};
