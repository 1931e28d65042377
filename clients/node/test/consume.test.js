// Integration tests of client.consume() (durable subscriptions) against a real sluiced fed by a
// real MariaDB: acks survive a client restart and a kill -9 of sluiced, and a resumed consumer
// gets exactly the events after its last committed ack.
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
let admin;  // a client for status and subscription management
let dataDir;

test.before(async () => {
  db = cluster.startMariaDb();
  dataDir = path.join(cluster.tempDir('sluice-node-consume-'), 'data');
  sluiced = new cluster.Sluiced({dataDir, source: cluster.mysqlSourceUrl(db, SOURCE, 7102)});
  await sluiced.start();
  admin = new SluiceClient(sluiced.address);
  await cluster.waitStreaming(admin, SOURCE);
});

test.after(async () => {
  await admin?.close();
  await sluiced?.stop();
  db?.stop();
  if (dataDir) fs.rmSync(path.dirname(dataDir), {recursive: true, force: true});
});

async function committedOffset(name) {
  const subscriptions = await admin.listSubscriptions(SOURCE);
  return subscriptions.find((s) => s.name === name)?.committedOffset;
}

function insertRows(table, from, to) {
  const values = [];
  for (let i = from; i <= to; i++) values.push(`(${i}, 'row ${i}')`);
  // One transaction per row, so that every row is its own event and transaction.
  for (const v of values) db.sql(`INSERT INTO ${table} VALUES ${v}`);
}

test('consume, ack, and a new client gets exactly the events after the last ack', LIMIT,
    async () => {
      db.sql('CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20))');
      insertRows('items', 1, 10);
      const options = {subscription: 'items-reader', source: SOURCE, createIfMissing: true,
        tables: ['test.items'], ops: ['c']};

      const first = new SluiceClient(sluiced.address);
      const consumer = first.consume(options);
      const seen = await cluster.take(consumer[Symbol.asyncIterator](), 10);
      assert.deepEqual(seen.map((e) => e.after.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(seen[3].after, {id: 4, label: 'row 4'});
      consumer.ack(seen[3].offset);
      assert.equal(await consumer.flush(), seen[3].offset);
      assert.equal(await committedOffset('items-reader'), seen[3].offset);
      // Acks are checked: nothing beyond what was delivered.
      assert.throws(() => consumer.ack(BigInt(seen[9].offset) + 1n), /only offsets up to/);
      await first.close();

      // A new client (createIfMissing is harmless now) resumes after the ack: 5..10, once each.
      const second = new SluiceClient(sluiced.address);
      const resumed = second.consume(options)[Symbol.asyncIterator]();
      const again = await cluster.take(resumed, 6);
      assert.deepEqual(again.map((e) => e.offset), seen.slice(4).map((e) => e.offset));
      assert.deepEqual(again.map((e) => e.after), seen.slice(4).map((e) => e.after));
      // New rows follow without a gap.
      insertRows('items', 11, 12);
      const more = await cluster.take(resumed, 2);
      assert.deepEqual(more.map((e) => e.after.id), [11, 12]);
      await resumed.return();  // leaving the loop commits nothing new: nothing more was acked
      assert.equal(await committedOffset('items-reader'), seen[3].offset);
      await second.close();
    });

test('acks on the stream are committed when the loop ends', LIMIT, async () => {
  db.sql('CREATE TABLE notes (id INT PRIMARY KEY, label VARCHAR(20))');
  insertRows('notes', 1, 3);
  const client = new SluiceClient(sluiced.address);
  const consumer = client.consume({subscription: 'notes-reader', source: SOURCE,
    createIfMissing: true, tables: ['test.notes']});
  let last;
  for await (const event of consumer) {
    if (event.op !== 'c') continue;
    consumer.ack(event.offset);
    last = event;
    if (event.after.id === 3) break;
  }
  assert.equal(consumer.committedOffset, last.offset);
  assert.equal(await committedOffset('notes-reader'), last.offset);
  await client.close();
});

test('a consumer survives kill -9 of sluiced: it resumes after its last committed ack',
    LIMIT, async () => {
      db.sql('CREATE TABLE orders (id INT PRIMARY KEY, label VARCHAR(20))');
      insertRows('orders', 1, 6);
      const client = new SluiceClient(sluiced.address);
      const reconnects = [];
      const consumer = client.consume({subscription: 'orders-reader', source: SOURCE,
        createIfMissing: true, tables: ['test.orders'], ops: ['c'],
        onReconnect: (info) => reconnects.push(info)});
      const events = consumer[Symbol.asyncIterator]();
      const seen = await cluster.take(events, 6);
      consumer.ack(seen[2].offset);
      await consumer.flush();

      await sluiced.kill9();
      insertRows('orders', 7, 8);  // written while sluiced is down
      await sluiced.start();

      // Events 4..6 were not acked: they come again, then 7 and 8, with no gap.
      const resumed = await cluster.take(events, 5);
      assert.deepEqual(resumed.map((e) => e.after.id), [4, 5, 6, 7, 8]);
      assert.deepEqual(resumed.slice(0, 3).map((e) => e.offset),
          seen.slice(3).map((e) => e.offset));
      assert.ok(reconnects.length >= 1, 'the stream was reopened');

      // Ack everything, kill -9 again, and a fresh client starts after the last ack.
      consumer.ack(resumed[4].offset);
      await consumer.flush();
      await client.close();
      await sluiced.kill9();
      await sluiced.start();
      await cluster.waitStreaming(admin, SOURCE);
      assert.equal(await committedOffset('orders-reader'), resumed[4].offset);
      insertRows('orders', 9, 9);
      const fresh = new SluiceClient(sluiced.address);
      const next = await cluster.take(fresh.consume({subscription: 'orders-reader'})
          [Symbol.asyncIterator](), 1);
      assert.deepEqual(next.map((e) => e.after.id), [9]);
      await fresh.close();
    });

test('maxUnackedEvents holds delivery until an ack', LIMIT, async () => {
  db.sql('CREATE TABLE slow (id INT PRIMARY KEY, label VARCHAR(20))');
  insertRows('slow', 1, 5);
  const client = new SluiceClient(sluiced.address);
  const consumer = client.consume({subscription: 'slow-reader', source: SOURCE,
    createIfMissing: true, tables: ['test.slow'], ops: ['c'], maxUnackedEvents: 3,
    maxBatchEvents: 1});
  const events = consumer[Symbol.asyncIterator]();
  const firstThree = await cluster.take(events, 3);
  const info = (await admin.listSubscriptions(SOURCE)).find((s) => s.name === 'slow-reader');
  assert.equal(info.connected, true);
  assert.equal(info.unackedEvents, '3');
  const fourth = events.next();  // held by the server until the ack below
  consumer.ack(firstThree[2].offset);
  assert.equal((await fourth).value.after.id, 4);
  await client.close();
});

test('bad consume arguments and unknown subscriptions are clear errors', LIMIT, async () => {
  const client = new SluiceClient(sluiced.address);
  assert.throws(() => client.consume({subscription: 'bad name!'}), /is not valid/);
  assert.throws(() => client.consume({subscription: 'x', createIfMissing: true}),
      /needs the source/);
  const missing = client.consume({subscription: 'nobody'});
  await assert.rejects(async () => {
    for await (const event of missing) assert.fail(`unexpected event ${event.offset}`);
  }, (err) => err instanceof SluiceError && err.codeName === 'NOT_FOUND' &&
      /nobody/.test(err.message));
  await client.close();
});

test('a reset of the subscription restarts delivery at the new position', LIMIT, async () => {
  db.sql('CREATE TABLE resets (id INT PRIMARY KEY, label VARCHAR(20))');
  insertRows('resets', 1, 4);
  const client = new SluiceClient(sluiced.address);
  const consumer = client.consume({subscription: 'resets-reader', source: SOURCE,
    createIfMissing: true, tables: ['test.resets'], ops: ['c']});
  const events = consumer[Symbol.asyncIterator]();
  const seen = await cluster.take(events, 4);
  // Not flushed: whether this ack is committed before the reset or refused after it, the
  // consumer must not commit it again when it reconnects.
  consumer.ack(seen[3].offset);

  await admin.resetSubscription('resets-reader', seen[1].offset);
  insertRows('resets', 5, 5);
  const again = await cluster.take(events, 4);
  assert.deepEqual(again.map((e) => e.after.id), [2, 3, 4, 5]);
  assert.deepEqual(again.slice(0, 3).map((e) => e.offset), seen.slice(1).map((e) => e.offset));
  // The ack given before the reset did not move the committed offset back up.
  assert.equal(await committedOffset('resets-reader'), (BigInt(seen[1].offset) - 1n).toString());
  consumer.ack(again[0].offset);
  assert.equal(await consumer.flush(), again[0].offset);
  await client.close();
});

test('a reset while the consumer is disconnected also restarts delivery', LIMIT, async () => {
  db.sql('CREATE TABLE away (id INT PRIMARY KEY, label VARCHAR(20))');
  insertRows('away', 1, 4);
  const client = new SluiceClient(sluiced.address);
  // A slow first reconnect, so that the reset below usually happens while the consumer is away
  // (if it reconnects first, the reset ends its stream instead: the outcome is the same).
  const consumer = client.consume({subscription: 'away-reader', source: SOURCE,
    createIfMissing: true, tables: ['test.away'], ops: ['c'],
    reconnect: {initialDelayMs: 2000}});
  const events = consumer[Symbol.asyncIterator]();
  const seen = await cluster.take(events, 4);
  consumer.ack(seen[3].offset);
  await consumer.flush();

  await sluiced.kill9();
  await sluiced.start();
  await cluster.waitFor(() => admin.resetSubscription('away-reader', seen[1].offset),
      'the reset to succeed');
  const again = await cluster.take(events, 3);
  assert.deepEqual(again.map((e) => e.after.id), [2, 3, 4]);
  // Acks of redelivered events count again.
  consumer.ack(again[0].offset);
  assert.equal(await consumer.flush(), again[0].offset);
  assert.equal(await committedOffset('away-reader'), again[0].offset);
  await client.close();
});
