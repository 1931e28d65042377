// Integration tests of client.subscribe() and client.status() against a real sluiced fed by a
// real MariaDB: row values, filters, the same events as `sluicectl tail --format json`, and
// auto-reconnect across a kill -9 and restart of sluiced.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {SluiceClient, SluiceError} = require('..');
const cluster = require('./support/cluster');

const SOURCE = 'shop';
// Ends a test that would otherwise hang; no assertion depends on it.
const LIMIT = {timeout: 120000};

let db;
let sluiced;
let client;
let dataDir;

test.before(async () => {
  db = cluster.startMariaDb();
  dataDir = path.join(cluster.tempDir('sluice-node-sub-'), 'data');
  sluiced = new cluster.Sluiced({dataDir, source: cluster.mysqlSourceUrl(db, SOURCE, 7101)});
  await sluiced.start();
  client = new SluiceClient(sluiced.address);
  await cluster.waitStreaming(client, SOURCE);
});

test.after(async () => {
  await client?.close();
  await sluiced?.stop();
  db?.stop();
  if (dataDir) fs.rmSync(path.dirname(dataDir), {recursive: true, force: true});
});

test('status() reports the source with 64-bit fields as strings', LIMIT, async () => {
  const status = await client.status();
  const source = status.sources.find((s) => s.name === SOURCE);
  assert.equal(source.kind, 'SOURCE_KIND_MYSQL');
  assert.equal(source.state, 'SOURCE_STATE_STREAMING');
  assert.equal(typeof source.lastOffset, 'string');
  assert.match(source.url, /\*\*\*/);  // the password is redacted
});

test('subscribe yields inserted, updated and deleted rows with their values', LIMIT, async () => {
  db.sql('CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2), note TEXT, ' +
      'big BIGINT UNSIGNED, ratio DOUBLE, day DATE, at DATETIME(3))');
  const subscription = client.subscribe({source: SOURCE, tables: ['test.orders'],
    ops: ['c', 'u', 'd']});
  const events = subscription[Symbol.asyncIterator]();
  db.sql("INSERT INTO orders VALUES (1, 3.10, 'first', 18446744073709551615, 0.5, " +
      "'2026-01-02', '2026-01-02 03:04:05.120')");
  db.sql("UPDATE orders SET note = 'changed', total = 4.25 WHERE id = 1");
  db.sql('DELETE FROM orders WHERE id = 1');
  const [insert, update, del] = await cluster.take(events, 3);

  assert.equal(insert.op, 'c');
  assert.equal(insert.source.name, SOURCE);
  assert.equal(insert.source.kind, 'mysql');
  assert.equal(insert.source.database, 'test');
  assert.equal(insert.source.table, 'orders');
  assert.match(insert.source.commit_ts, /^\d{4}-\d{2}-\d{2}T.*Z$/);
  assert.deepEqual(insert.key, {id: 1});
  assert.equal(insert.before, null);
  assert.deepEqual(insert.after, {id: 1, total: '3.10', note: 'first',
    big: '18446744073709551615', ratio: 0.5, day: '2026-01-02', at: '2026-01-02 03:04:05.12'});
  assert.deepEqual(insert.txn, {index: 0, last: true});

  assert.equal(update.op, 'u');
  assert.deepEqual(update.before, insert.after);
  assert.deepEqual(update.after, {...insert.after, note: 'changed', total: '4.25'});

  assert.equal(del.op, 'd');
  assert.deepEqual(del.key, {id: 1});
  assert.deepEqual(del.before, update.after);
  assert.equal(del.after, null);

  // Offsets are exact decimal strings, increasing.
  for (const e of [insert, update, del]) assert.match(e.offset, /^[1-9][0-9]*$/);
  assert.ok(BigInt(insert.offset) < BigInt(update.offset));
  assert.ok(BigInt(update.offset) < BigInt(del.offset));
  assert.equal(subscription.nextOffset, (BigInt(del.offset) + 1n).toString());

  // Ending the loop ends the subscription.
  await events.return();
  assert.deepEqual(await events.next(), {value: undefined, done: true});
});

test('events equal what sluicectl tail --format json prints for them', LIMIT, async () => {
  db.sql('CREATE TABLE kinds (id BIGINT PRIMARY KEY, i INT, u BIGINT UNSIGNED, f FLOAT, ' +
      'd DOUBLE, n DECIMAL(20,6), s VARCHAR(20), b VARBINARY(8), j JSON, dt DATE, t TIME(6), ' +
      'ts TIMESTAMP(6) NULL, dtm DATETIME, e ENUM(\'x\',\'y\'), st SET(\'a\',\'b\',\'c\'), ' +
      'bt BIT(5), y YEAR, nul INT NULL)');
  db.sql("INSERT INTO kinds VALUES (-9223372036854775808, -5, 9007199254740993, 0.1, -0.0, " +
      "'-12345678901234.500000', 'héllo \"q\"\\n', x'00ff10', '{\"a\": [1, 2.50, null]}', " +
      "'0000-00-00', '-838:59:59.000001', '2001-02-03 04:05:06.700000', '1999-12-31 23:59:59', " +
      "'y', 'a,c', b'10101', 2026, NULL)");
  db.sql("UPDATE kinds SET s = 'bye', d = 1e300 WHERE i = -5");
  const subscription = client.subscribe({source: SOURCE, tables: ['test.kinds']});
  const events = subscription[Symbol.asyncIterator]();
  const ours = await cluster.take(events, 2);
  await events.return();
  assert.deepEqual(ours.map((e) => e.op), ['c', 'u']);

  const lines = cluster.sluicectl(sluiced.address, ['tail', SOURCE, '--from', ours[0].offset,
    '--table', 'test.kinds', '--format', 'json', '--limit', '2']).trim().split('\n');
  assert.equal(lines.length, 2);
  for (let i = 0; i < 2; i++) {
    const theirs = JSON.parse(lines[i]);
    // The JSON text of integers beyond 2^53 is exact; ours keeps them as strings.
    const exact = lines[i].match(/-?\d{16,}/g) ?? [];
    const mine = JSON.stringify({...ours[i], offset: Number(ours[i].offset)});
    // JSON.parse rounds those integers in `theirs`; round ours the same way to compare the rest.
    const rounded = JSON.parse(mine, (k, v) => (/^-?\d{16,}$/.test(v) ? Number(v) : v));
    assert.deepEqual(rounded, theirs, `event ${i}`);
    for (const digits of exact) assert.ok(mine.includes(digits), `${digits} in ${mine}`);
  }
  assert.equal(ours[0].after.i, -5);
  assert.equal(ours[0].after.id, '-9223372036854775808');
  assert.equal(ours[0].after.u, '9007199254740993');
  assert.equal(ours[0].after.nul, null);
});
test('a bad request is a SluiceError naming the problem', LIMIT, async () => {
  const subscription = client.subscribe({source: 'no-such-source'});
  await assert.rejects(async () => {
    for await (const event of subscription) assert.fail(`unexpected event ${event.offset}`);
  }, (err) => err instanceof SluiceError && err.codeName === 'NOT_FOUND' &&
      /no-such-source/.test(err.message));
  assert.throws(() => client.subscribe({source: SOURCE, from: 'yesterday'}),
      /'earliest', 'latest', 'snapshot', an offset/);
  assert.throws(() => client.subscribe({source: SOURCE, ops: ['x']}), /unknown op "x"/);
  assert.throws(() => client.subscribe({source: SOURCE, from: 0}), /offsets are 1\.\.2\^64-1/);
  assert.throws(() => client.subscribe({}), /source is required/);
});

test('subscribe reconnects after kill -9 of sluiced, resuming after the last event', LIMIT,
    async () => {
      db.sql('CREATE TABLE ticks (id INT PRIMARY KEY, v INT)');
      const reconnects = [];
      const subscription = client.subscribe({source: SOURCE, tables: ['test.ticks'], ops: ['c'],
        onReconnect: (info) => reconnects.push(info)});
      const events = subscription[Symbol.asyncIterator]();
      for (let i = 1; i <= 5; i++) db.sql(`INSERT INTO ticks VALUES (${i}, ${i * 10})`);
      const before = await cluster.take(events, 5);

      await sluiced.kill9();
      for (let i = 6; i <= 8; i++) db.sql(`INSERT INTO ticks VALUES (${i}, ${i * 10})`);
      await sluiced.start();
      for (let i = 9; i <= 10; i++) db.sql(`INSERT INTO ticks VALUES (${i}, ${i * 10})`);
      const after = await cluster.take(events, 5);
      await events.return();

      const all = [...before, ...after];
      assert.deepEqual(all.map((e) => e.after.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(all.map((e) => e.after.v), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
      for (let i = 1; i < all.length; i++) {
        assert.ok(BigInt(all[i - 1].offset) < BigInt(all[i].offset), 'offsets increase');
      }
      assert.ok(reconnects.length >= 1, 'the stream was reopened');
      assert.ok(reconnects.every((r) => r.error instanceof SluiceError));
      await cluster.waitStreaming(client, SOURCE);
    });
