// Integration test of the client's connection security against a real sluiced started with
// --token-file and --tls-cert/--tls-key: bearer tokens from tokenFile or token, the server's
// roles, and TLS verified against a CA.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const {SluiceClient, SluiceError} = require('..');
const cluster = require('./support/cluster');

const SOURCE = 'shop';
const LIMIT = {timeout: 120000};  // ends a test that would otherwise hang

let db;
let sluiced;
let work;
let tokenFile;
const ADMIN_TOKEN = crypto.randomBytes(16).toString('hex');
const READER_TOKEN = crypto.randomBytes(16).toString('hex');

test.before(async () => {
  db = cluster.startMariaDb();
  assert.ok(db.tlsCa, 'testdb.sh made no TLS files (is the openssl CLI installed?)');
  work = cluster.tempDir('sluice-node-security-');
  tokenFile = path.join(work, 'tokens');
  fs.writeFileSync(tokenFile, `# test tokens\n${ADMIN_TOKEN} admin\n${READER_TOKEN} subscribe\n`,
      {mode: 0o600});
  sluiced = new cluster.Sluiced({dataDir: path.join(work, 'data'),
    source: cluster.mysqlSourceUrl(db, SOURCE, 7104),
    extraArgs: ['--token-file', tokenFile, '--tls-cert', db.tlsCert, '--tls-key', db.tlsKey]});
  await sluiced.start();
});

test.after(async () => {
  await sluiced?.stop();
  db?.stop();
  if (work) fs.rmSync(work, {recursive: true, force: true});
});

async function assertFails(promise, codeName, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SluiceError, String(err));
    assert.equal(err.codeName, codeName, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('the tokenFile and TLS with a CA reach a protected server', LIMIT, async () => {
  // The server's own token file works as the client's: its first token is the admin one.
  const admin = new SluiceClient(sluiced.address, {tokenFile, ca: db.tlsCa});
  await cluster.waitStreaming(admin, SOURCE);
  db.sql('CREATE TABLE secure (id INT PRIMARY KEY)');
  db.sql('INSERT INTO secure VALUES (1)');
  const reader = new SluiceClient(sluiced.address, {token: READER_TOKEN,
    ca: fs.readFileSync(db.tlsCa)});
  const events = reader.subscribe({source: SOURCE, tables: ['test.secure'], ops: ['c']})
      [Symbol.asyncIterator]();
  const [insert] = await cluster.take(events, 1);
  assert.deepEqual(insert.after, {id: 1});
  await events.return();
  // A subscribe token may not call admin RPCs.
  await assertFails(reader.status(), 'PERMISSION_DENIED', /admin/);
  await reader.close();
  await admin.close();
});

test('a missing or wrong token is UNAUTHENTICATED, also for streams', LIMIT, async () => {
  const anonymous = new SluiceClient(sluiced.address, {ca: db.tlsCa});
  await assertFails(anonymous.status(), 'UNAUTHENTICATED', /token/);
  const stranger = new SluiceClient(sluiced.address, {ca: db.tlsCa, token: crypto.randomBytes(16).toString('hex')});
  const subscription = stranger.subscribe({source: SOURCE});
  await assertFails((async () => {
    for await (const event of subscription) assert.fail(`unexpected event ${event.offset}`);
  })(), 'UNAUTHENTICATED', /Subscribe/);
  await anonymous.close();
  await stranger.close();
});

test('TLS is verified: without the CA the call fails; bad options are clear', LIMIT,
    async () => {
      const plain = new SluiceClient(sluiced.address, {tokenFile});
      await assertFails(plain.status(), 'UNAVAILABLE', /Status at 127\.0\.0\.1/);
      await plain.close();
      const unknownRoots = new SluiceClient(sluiced.address, {tokenFile, tls: true});
      await assertFails(unknownRoots.status(), 'UNAVAILABLE', /Status/);
      await unknownRoots.close();
      assert.throws(() => new SluiceClient(sluiced.address, {tokenFile: path.join(work, 'nope')}),
          /tokenFile .*nope: cannot read the file/);
      assert.throws(() => new SluiceClient(sluiced.address, {cert: db.tlsCert}),
          /cert and key go together/);
      const empty = path.join(work, 'empty-tokens');
      fs.writeFileSync(empty, '# nothing\n\n');
      assert.throws(() => new SluiceClient(sluiced.address, {tokenFile: empty}),
          /holds no token/);
    });
