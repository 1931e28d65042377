// Unit tests of the event and value decoding (no server): messages go through the same
// proto-loader serializer and deserializer that grpc-js uses, then through decodeEvent, and the
// result is checked against the canonical JSON of docs/event-format.md.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadDefinition} = require('../lib/protos');
const {decodeEvent} = require('../lib/event');
const {decodeValue} = require('../lib/values');

const method = loadDefinition()['sluice.v1.ChangeStream'].Subscribe;

// One ChangeEvent through the wire format, as a subscriber receives it.
function wire(event) {
  return method.responseDeserialize(method.responseSerialize({events: [event]})).events[0];
}

function value(v) {
  return decodeValue(wire({after: {fields: [{name: 'v', value: v}]}}).after.fields[0].value);
}

test('integers stay exact: numbers when safe, strings beyond 2^53', () => {
  assert.equal(value({int64: '42'}), 42);
  assert.equal(value({int64: '-9007199254740991'}), -9007199254740991);
  assert.equal(value({int64: '-9223372036854775808'}), '-9223372036854775808');
  assert.equal(value({uint64: '18446744073709551615'}), '18446744073709551615');
  assert.equal(value({uint64: '9007199254740992'}), '9007199254740992');
});

test('doubles, decimals, strings, bytes, bools and nulls', () => {
  assert.equal(value({double: 0.1}), 0.1);
  assert.ok(Object.is(value({double: -0}), -0));
  assert.equal(value({double: NaN}), 'NaN');
  assert.equal(value({double: Infinity}), 'Infinity');
  assert.equal(value({double: -Infinity}), '-Infinity');
  assert.equal(value({decimal: '3.10'}), '3.10');
  assert.equal(value({string: 'red,green'}), 'red,green');
  assert.equal(value({bytes: Buffer.from('f')}), 'Zg==');
  assert.equal(value({bytes: Buffer.from('foo')}), 'Zm9v');
  assert.equal(value({bytes: Buffer.alloc(0)}), '');
  assert.equal(value({bool: true}), true);
  assert.equal(value({null: true}), null);
  assert.equal(value({}), null);
});

test('dates and times follow docs/event-format.md', () => {
  assert.equal(value({date: {year: 2026, month: 1, day: 2}}), '2026-01-02');
  assert.equal(value({date: {year: 0, month: 0, day: 0}}), '0000-00-00');
  assert.equal(value({date: {year: -44, month: 3, day: 15}}), '0044-03-15 BC');
  assert.equal(value({date: {year: 12345, month: 12, day: 31}}), '12345-12-31');
  assert.equal(value({date: {infinity: 1}}), 'infinity');
  assert.equal(value({date: {infinity: -1}}), '-infinity');
  assert.equal(value({time: {hours: 10, minutes: 5, seconds: 3}}), '10:05:03');
  assert.equal(value({time: {negative: true, hours: 838, minutes: 59, seconds: 59}}),
      '-838:59:59');
  assert.equal(value({time: {negative: true}}), '00:00:00');
  assert.equal(value({time: {negative: true, seconds: 1, micros: 250000}}), '-00:00:01.25');
  assert.equal(value({time: {micros: 500000}}), '00:00:00.5');
  assert.equal(value({time: {hours: 10, utcOffsetSeconds: 19800}}), '10:00:00+05:30');
  assert.equal(value({time: {hours: 10, utcOffsetSeconds: -28800}}), '10:00:00-08:00');
  assert.equal(value({time: {hours: 10, utcOffsetSeconds: 0}}), '10:00:00+00:00');
  assert.equal(value({time: {hours: 10, utcOffsetSeconds: 21208}}), '10:00:00+05:53:28');
  assert.equal(value({datetime: {date: {year: 2026, month: 1, day: 2},
    time: {hours: 3, minutes: 4, seconds: 5, micros: 120000}}}), '2026-01-02 03:04:05.12');
  assert.equal(value({datetime: {date: {year: -44, month: 3, day: 15}, time: {hours: 10}}}),
      '0044-03-15 10:00:00 BC');
  assert.equal(value({datetime: {date: {infinity: -1}}}), '-infinity');
});

test('timestamps are UTC, with floor division before 1970 and BC years', () => {
  assert.equal(value({timestampMicros: '1767323045123000'}), '2026-01-02T03:04:05.123Z');
  assert.equal(value({timestampMicros: '-1'}), '1969-12-31T23:59:59.999999Z');
  assert.equal(value({timestampMicros: '0'}), '1970-01-01T00:00:00Z');
  assert.equal(value({timestampMicros: '253402300800000000'}), '10000-01-01T00:00:00Z');
  assert.equal(value({timestampMicros: '-62135596800000000'}), '0001-01-01T00:00:00Z');
  assert.equal(value({timestampMicros: '-62135683200000000'}), '0001-12-31T00:00:00Z BC');
  assert.equal(value({timestampMicros: '9223372036854775807'}), 'infinity');
  assert.equal(value({timestampMicros: '-9223372036854775808'}), '-infinity');
});

test('intervals follow Postgres iso_8601', () => {
  const hms = (h, m, s) => String(((h * 60 + m) * 60) * 1000000 + s * 1000000);
  assert.equal(value({interval: {}}), 'PT0S');
  assert.equal(value({interval: {months: 14, days: 3, micros: hms(4, 5, 6.5)}}),
      'P1Y2M3DT4H5M6.5S');
  assert.equal(value({interval: {months: -14, days: 3, micros: '-' + hms(4, 5, 6)}}),
      'P-1Y-2M3DT-4H-5M-6S');
  assert.equal(value({interval: {micros: '-500000'}}), 'PT-0.5S');
  assert.equal(value({interval: {days: 1}}), 'P1D');
});

test('json, arrays and raw values', () => {
  assert.deepEqual(value({json: '{"a": [1, 2]}'}), {a: [1, 2]});
  assert.equal(value({json: "{'a':1}"}), "{'a':1}");
  assert.deepEqual(value({array: {elements: [{int64: '1'}, {array: {elements: [{int64: '2'},
    {null: true}]}}, {string: 'x'}]}}), [1, [2, null], 'x']);
  assert.equal(value({raw: {typeName: 'point', text: '(1,2)'}}), '(1,2)');
});

test('an insert decodes to the canonical JSON line of docs/event-format.md', () => {
  const event = decodeEvent(wire({
    offset: '17',
    op: 'OP_INSERT',
    source: {name: 'shop-mysql', kind: 'SOURCE_KIND_MYSQL', database: 'shop', table: 'orders',
      position: 'binlog.000003:1234', gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:23',
      txid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:23', commitTsMicros: '1767323045123000'},
    keyColumns: ['id'],
    after: {fields: [{name: 'id', value: {int64: '1'}},
      {name: 'note', value: {string: 'hi "there"'}}, {name: 'amount', value: {decimal: '3.10'}}]},
    transactionIndex: 0,
    lastInTransaction: true,
  }));
  const line = '{"offset":17,"op":"c","source":{"name":"shop-mysql","kind":"mysql","database":' +
      '"shop","schema":null,"table":"orders","position":"binlog.000003:1234","gtid":' +
      '"3e11fa47-71ca-11e1-9e33-c80aa9429562:23",' +
      '"txid":"3e11fa47-71ca-11e1-9e33-c80aa9429562:23",' +
      '"commit_ts":"2026-01-02T03:04:05.123Z","snapshot":false},"key":{"id":1},"before":null,' +
      '"after":{"id":1,"note":"hi \\"there\\"","amount":"3.10"},"unchanged":[],"txn":{"index":0,' +
      '"last":true}}';
  assert.deepEqual(event, {...JSON.parse(line), offset: '17'});
  assert.equal(JSON.stringify({...event, offset: 17}), line);
});

test('update, delete, ddl and message events', () => {
  const update = decodeEvent(wire({
    offset: '18', op: 'OP_UPDATE',
    source: {name: 'app-pg', kind: 'SOURCE_KIND_POSTGRES', database: 'app', schema: 'public',
      table: 'users', position: '0/16B3748', txid: '731'},
    keyColumns: ['id'],
    before: {fields: [{name: 'id', value: {int64: '7'}}, {name: 'name', value: {string: 'a'}}]},
    after: {fields: [{name: 'id', value: {int64: '7'}}, {name: 'name', value: {string: 'b'}}]},
    unchanged: ['avatar', 'bio'], transactionIndex: 2,
  }));
  assert.deepEqual(update.key, {id: 7});
  assert.deepEqual(update.before, {id: 7, name: 'a'});
  assert.deepEqual(update.unchanged, ['avatar', 'bio']);
  assert.deepEqual(update.txn, {index: 2, last: false});
  assert.equal(update.source.commit_ts, null);
  assert.equal(update.source.gtid, null);

  // The key comes from the before image when the after image lacks it (or there is none).
  const del = decodeEvent(wire({offset: '19', op: 'OP_DELETE', keyColumns: ['id', 'gone'],
    before: {fields: [{name: 'id', value: {int64: '9'}}]}}));
  assert.equal(del.op, 'd');
  assert.deepEqual(del.key, {id: 9});
  assert.equal(del.after, null);
  assert.equal(del.source.kind, 'unknown');

  const ddl = decodeEvent(wire({offset: '20', op: 'OP_DDL', ddl: {statement: '',
    columns: [{name: 'id', typeName: 'bigint', key: true}]}}));
  assert.deepEqual(ddl.ddl, {statement: null,
    columns: [{name: 'id', type: 'bigint', nullable: false, key: true}]});
  assert.deepEqual(ddl.key, {});

  const message = decodeEvent(wire({offset: '21', op: 'OP_MESSAGE',
    message: {prefix: 'audit', content: Buffer.from('hi\0'), transactional: true}}));
  assert.deepEqual(message.message, {prefix: 'audit', content: 'aGkA', transactional: true});
  assert.equal(message.ddl, undefined);
});

test('a column named __proto__ is an ordinary column', () => {
  const event = decodeEvent(wire({offset: '1', op: 'OP_INSERT', keyColumns: ['__proto__'],
    after: {fields: [{name: '__proto__', value: {int64: '5'}}]}}));
  assert.equal(Object.getPrototypeOf(event.after), Object.prototype);
  assert.deepEqual(Object.keys(event.after), ['__proto__']);
  assert.equal(event.key['__proto__'], 5);
});
