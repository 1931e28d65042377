// Integration tests of bootstraps (from: 'snapshot', SNAPSHOT_THEN_STREAM) against a real
// sluiced fed by a real MariaDB: a copy built from the rows and the log after them equals the
// table, after retention removed the history, while writes continue, and when the stream breaks
// in the middle of the bootstrap (kill -9 and restart of sluiced), for an ephemeral subscription
// and a durable consumer. The copy starts over where a batch or event has bootstrapBegins; a
// client that resumed inside the bootstrap (at its next_offset) would miss the rows not yet sent.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {SluiceClient} = require('..');
const cluster = require('./support/cluster');

const SOURCE = 'boot';
const ROWS = 5000;       // ~2 MB per table: more than grpc-js and HTTP/2 buffer for a stream
const BATCH = 100;       // rows per bootstrap message
// Ends a test that would otherwise hang; no assertion depends on it.
const LIMIT = {timeout: 240000};

let db;
let sluiced;
let client;
let dataDir;

test.before(async () => {
  db = cluster.startMariaDb();
  dataDir = path.join(cluster.tempDir('sluice-node-boot-'), 'data');
  // A small log: retention (checked every second) removes all but the last ~64 KiB of events.
  sluiced = new cluster.Sluiced({dataDir,
    source: `${cluster.mysqlSourceUrl(db, SOURCE, 7301)}&retention_max_bytes=64KiB`,
    extraArgs: ['--retention-interval', '1s']});
  await sluiced.start();
  client = new SluiceClient(sluiced.address, {reconnect: {initialDelayMs: 50, maxDelayMs: 500}});
  await cluster.waitStreaming(client, SOURCE);
});

test.after(async () => {
  await client?.close();
  await sluiced?.stop();
  db?.stop();
  if (dataDir) fs.rmSync(path.dirname(dataDir), {recursive: true, force: true});
});

// A table with ROWS rows written in 10 transactions, then updates and deletes.
function createTable(table) {
  db.sql(`CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(500))`);
  for (let i = 0; i < 10; ++i) {
    const from = i * (ROWS / 10) + 1;
    db.sql(`INSERT INTO ${table} SELECT seq, REPEAT('a', 380) FROM seq_${from}_to_` +
        `${from + ROWS / 10 - 1}`);
  }
  db.sql(`UPDATE ${table} SET v = CONCAT('u', id) WHERE id % 7 = 0`);
  db.sql(`DELETE FROM ${table} WHERE id % 11 = 0`);
}

async function lastOffset() {
  const status = await client.status();
  return BigInt(status.sources.find((s) => s.name === SOURCE).lastOffset);
}

async function firstOffset() {
  const status = await client.status();
  return BigInt(status.sources.find((s) => s.name === SOURCE).firstOffset);
}

// The copy is compared once it holds the marker row (0, 'end-...') and is not inside a
// bootstrap (whose rows begin with id 0).

// Waits until sluiced has stored everything MariaDB logged so far (a marker row in `table`).
async function waitStored(table, marker) {
  db.sql(`REPLACE INTO ${table} VALUES (0, '${marker}')`);
  const rows = () => cluster.sluicectl(sluiced.address, ['table', SOURCE, `test.${table}`,
    '--key', 'id=0', '--format', 'json']);
  await cluster.waitFor(() => rows().includes(marker), `marker ${marker} in the table state`);
}

// Applies one event to `copy` (id -> v), as a replica does: r/c/u upsert, d delete.
function apply(copy, event) {
  if (event.op === 'd') {
    copy.delete(event.before.id);
  } else if (event.op === 'r' || event.op === 'c' || event.op === 'u') {
    if (event.before) copy.delete(event.before.id);
    copy.set(event.after.id, event.after.v);
  } else {
    assert.fail(`unexpected event ${JSON.stringify(event)}`);
  }
}

function assertEqualsTable(copy, table) {
  const rows = db.sql(`SELECT id, v FROM ${table} ORDER BY id`);
  const mine = [...copy.entries()].sort((a, b) => a[0] - b[0]).map(([id, v]) => [String(id), v]);
  assert.equal(mine.length, rows.length, 'the copy has as many rows as the table');
  assert.deepEqual(mine, rows);
}

test('a bootstrap after retention trimmed the history equals the table while writes continue',
    LIMIT, async () => {
      createTable('boot_a');
      const written = await lastOffset();
      await cluster.waitFor(async () => (await firstOffset()) > written / 2n,
          'retention to remove the early history');
      const trimmedTo = await firstOffset();

      const subscription = client.subscribe({source: SOURCE, from: 'snapshot',
        tables: ['test.boot_a'], maxBatchEvents: BATCH});
      const copy = new Map();
      let n = null;
      let rows = 0;
      let begins = 0;
      let done = 0;
      let lastLog = 0n;
      for await (const event of subscription) {
        if (event.bootstrapBegins) {
          begins += 1;
          copy.clear();
        }
        if (event.offset === '0') {
          assert.equal(event.op, 'r');
          assert.equal(event.source.snapshot, true);
          n ??= BigInt(event.snapshotOffset);
          assert.equal(BigInt(event.snapshotOffset), n);
          rows += 1;
          if (event.snapshotDone) done += 1;
          if (rows === 1) {
            // Writes while the bootstrap is being sent: they follow it in the log after N.
            db.sql("INSERT INTO boot_a VALUES (100001, 'new'), (100002, 'new')");
            db.sql("UPDATE boot_a SET v = 'changed' WHERE id IN (1, 2, 3, 4999)");
            db.sql('DELETE FROM boot_a WHERE id IN (5, 6, 4998, 100001)');
            db.sql("REPLACE INTO boot_a VALUES (0, 'end-a')");
          }
        } else {
          assert.equal(event.snapshotOffset, undefined);
          assert.ok(n !== null && BigInt(event.offset) > n, `log event ${event.offset} after N`);
          assert.ok(BigInt(event.offset) > lastLog, 'log events in offset order');
          lastLog = BigInt(event.offset);
        }
        apply(copy, event);
        if (copy.get(0) === 'end-a' && (event.offset !== '0' || event.snapshotDone)) break;
      }
      // The events after N must all still be in the log: N + 1 >= its first offset (N equal to
      // the first offset - 1 is the tightest case, a state taken right at the trim).
      assert.ok(n + 1n >= trimmedTo, `the log after the bootstrap (N = ${n}) is all there ` +
          `(first offset ${trimmedTo})`);
      assert.equal(begins, 1);
      assert.equal(done, 1, 'the last row had snapshotDone');
      assert.ok(rows >= ROWS - ROWS / 11, `${rows} rows`);
      assertEqualsTable(copy, 'boot_a');
    });

test('a subscription whose stream broke mid-bootstrap bootstraps again and ends with the table',
    LIMIT, async () => {
      createTable('boot_b');
      const subscription = client.subscribe({source: SOURCE, from: 'snapshot',
        tables: ['test.boot_b'], maxBatchEvents: BATCH});
      const copy = new Map();
      const bootstraps = [];  // per bootstrap: {n, rows, done}
      let broken = false;
      for await (const batch of subscription.batches()) {
        if (batch.bootstrapBegins) {
          copy.clear();
          bootstraps.push({n: batch.snapshotOffset, rows: 0, done: false});
        }
        if (batch.snapshotOffset !== null) {
          const current = bootstraps.at(-1);
          assert.equal(batch.snapshotOffset, current.n);
          current.rows += batch.events.length;
          current.done = batch.snapshotDone;
          assert.equal(subscription.nextOffset === null, !batch.snapshotDone,
              'a bootstrap is a position only once done');
        }
        for (const event of batch.events) apply(copy, event);
        if (!broken) {
          // The first message: rows 1..BATCH (key order). Delete some of them and let sluiced
          // store that, then kill it under the stream: the next bootstrap (newer N) has neither
          // the rows nor their deletes (they are before it), so only starting over drops them.
          broken = true;
          assert.ok(copy.has(1) && copy.has(10));
          db.sql('DELETE FROM boot_b WHERE id <= 10');
          db.sql("UPDATE boot_b SET v = 'after' WHERE id > 4000");
          await waitStored('boot_b', 'stored-b');
          await sluiced.kill9();
          await sluiced.start();
          db.sql("REPLACE INTO boot_b VALUES (0, 'end-b')");
        }
        if (copy.get(0) === 'end-b' && (batch.snapshotOffset === null || batch.snapshotDone)) {
          break;
        }
      }
      assert.ok(bootstraps.length >= 2, `the stream broke mid-bootstrap and bootstrapped again: ` +
          JSON.stringify(bootstraps));
      assert.equal(bootstraps[0].done, false, 'the first bootstrap broke off');
      assert.equal(bootstraps.at(-1).done, true);
      assert.ok(BigInt(bootstraps.at(-1).n) > BigInt(bootstraps[0].n));
      assertEqualsTable(copy, 'boot_b');
      assert.ok(!copy.has(1));
    });

test('a durable consumer bootstraps again after a break, acks N, and then resumes after it',
    LIMIT, async () => {
      createTable('boot_c');
      const options = {subscription: 'boot-copy', source: SOURCE, createIfMissing: true,
        from: 'snapshot', tables: ['test.boot_c'], maxBatchEvents: BATCH};
      const consumer = client.consume(options);
      const copy = new Map();
      let begins = 0;
      let n = null;
      let broken = false;
      for await (const event of consumer) {
        if (event.bootstrapBegins) {
          begins += 1;
          copy.clear();
        }
        apply(copy, event);
        if (!broken) {
          broken = true;
          assert.equal(event.offset, '0');
          db.sql('DELETE FROM boot_c WHERE id <= 10');
          await waitStored('boot_c', 'stored-c');
          await sluiced.kill9();
          await sluiced.start();
          db.sql("REPLACE INTO boot_c VALUES (0, 'end-c')");
        }
        if (event.snapshotDone) {
          n = event.snapshotOffset;
          consumer.ack(n);  // the bootstrap's commit
        } else if (event.offset !== '0') {
          consumer.ack(event.offset);
        }
        if (copy.get(0) === 'end-c' && (event.offset !== '0' || event.snapshotDone)) break;
      }
      assert.ok(begins >= 2, `bootstrapped again after the break (${begins})`);
      assertEqualsTable(copy, 'boot_c');
      assert.ok(BigInt(consumer.committedOffset) >= BigInt(n), 'the bootstrap was acked');

      // Acked: a new stream resumes after the committed offset, without the table state.
      db.sql("UPDATE boot_c SET v = 'later' WHERE id = 20");
      const again = client.consume({subscription: 'boot-copy'});
      const [next] = await cluster.take(again[Symbol.asyncIterator](), 1);
      await again.close();
      assert.equal(next.bootstrapBegins, undefined);
      assert.equal(next.op, 'u');
      assert.deepEqual(next.after, {id: 20, v: 'later'});
    });
