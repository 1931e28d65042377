// Unit tests of lib/wire_merge.js: repeated occurrences of a singular message field are merged
// as protobuf specifies, on bytes captured from a real sluiced and on hand-made bytes.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {loadDefinition} = require('../lib/protos');
const {buildSchema, mergeDuplicates} = require('../lib/wire_merge');

const definition = loadDefinition();
const schema = buildSchema(definition);
const method = definition['sluice.v1.ChangeStream'].Subscribe;

// A SubscribeResponse of the DDL and the insert of `CREATE TABLE orders (id INT PRIMARY KEY,
// v INT); INSERT INTO orders VALUES (1, 2)` in database `test`, as sluiced sent it: each event
// carries two `source` fields (the stored one with database and table, then the position).
const captured = fs.readFileSync(path.join(__dirname, 'fixtures',
    'subscribe-response-mariadb.bin'));

test('captured events keep database and table from their first source field', () => {
  const [ddl, insert] = method.responseDeserialize(captured).events;
  assert.equal(ddl.source.database, 'test');
  assert.equal(ddl.source.name, 'shop');
  assert.equal(ddl.source.position, 'mariadb-bin.000001:495');
  assert.equal(insert.source.database, 'test');
  assert.equal(insert.source.table, 'orders');
  assert.equal(insert.source.kind, 'SOURCE_KIND_MYSQL');
  assert.equal(insert.source.typedPosition.binlog.position, '728');
  assert.deepEqual(insert.after.fields.map((f) => [f.name, f.value.int64]), [['id', '1'],
    ['v', '2']]);
});

test('nested duplicates are merged too, and scalars keep the last value', () => {
  const encode = (object) => method.responseSerialize({events: [object]}).subarray(2);
  // Two halves of one event, each a serialized ChangeEvent; concatenated they are one event
  // whose source (and source.typed_position.binlog) occur twice.
  const first = encode({offset: '7', source: {database: 'db', table: 't', gtid: 'old',
    typedPosition: {binlog: {file: 'f1'}}}});
  const second = encode({source: {name: 'n', gtid: 'new',
    typedPosition: {binlog: {position: '99'}}}});
  const event = Buffer.concat([first, second]);
  const response = Buffer.concat([Buffer.from([0x0a, event.length]), event]);
  const decoded = method.responseDeserialize(response).events[0];
  assert.equal(decoded.offset, '7');
  assert.equal(decoded.source.database, 'db');
  assert.equal(decoded.source.table, 't');
  assert.equal(decoded.source.name, 'n');
  assert.equal(decoded.source.gtid, 'new');
  assert.deepEqual([decoded.source.typedPosition.binlog.file,
    decoded.source.typedPosition.binlog.position], ['f1', '99']);
});

test('bytes without duplicates come back unchanged', () => {
  const bytes = method.responseSerialize({events: [{offset: '1', source: {name: 'a'},
    after: {fields: [{name: 'x', value: {date: {year: 2026}}}]}}], nextOffset: '2'});
  assert.equal(mergeDuplicates(bytes, 'sluice.v1.SubscribeResponse', schema), bytes);
});

test('malformed bytes are a RangeError', () => {
  assert.throws(() => mergeDuplicates(Buffer.from([0x0a, 0x05, 0x01]),
      'sluice.v1.SubscribeResponse', schema), RangeError);
  assert.throws(() => mergeDuplicates(Buffer.from([0x0b]), 'sluice.v1.SubscribeResponse',
      schema), /wire type 3/);
});
