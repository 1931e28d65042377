// Unit tests of argument checking (lib/options.js, lib/reconnect.js): what each option accepts,
// what it becomes on the wire, and the message a bad value gets.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const opts = require('../lib/options');
const {toPolicy, isRetryable} = require('../lib/reconnect');

test('start positions', () => {
  assert.deepEqual(opts.toStartPosition(undefined), {earliest: {}});
  assert.deepEqual(opts.toStartPosition('earliest'), {earliest: {}});
  assert.deepEqual(opts.toStartPosition('latest'), {latest: {}});
  assert.deepEqual(opts.toStartPosition('snapshot'), {snapshotThenStream: {}});
  assert.throws(() => opts.toStartPosition('snapshot', 'to'), /not a reset position/);
  assert.deepEqual(opts.toStartPosition(17), {offset: '17'});
  assert.deepEqual(opts.toStartPosition('18446744073709551615'),
      {offset: '18446744073709551615'});
  assert.deepEqual(opts.toStartPosition(2n ** 60n), {offset: '1152921504606846976'});
  assert.deepEqual(opts.toStartPosition(new Date('2026-01-02T03:04:05.123Z')),
      {commitTsMicros: '1767323045123000'});
  assert.deepEqual(opts.toStartPosition('2026-01-02T03:04:05Z'),
      {commitTsMicros: '1767323045000000'});
  assert.deepEqual(opts.toStartPosition({commitTsMicros: -5n}), {commitTsMicros: '-5'});
  assert.throws(() => opts.toStartPosition('soon'), /'earliest', 'latest', 'snapshot', an offset/);
  assert.throws(() => opts.toStartPosition(0), /out of range: offsets are 1\.\.2\^64-1/);
  assert.throws(() => opts.toStartPosition('18446744073709551616'), /out of range/);
  assert.throws(() => opts.toStartPosition(2 ** 60), /only fit in a string or a bigint/);
  assert.throws(() => opts.toStartPosition(1.5), TypeError);
  assert.throws(() => opts.toStartPosition(new Date('x')), /invalid Date/);
  assert.throws(() => opts.toStartPosition('2026-13-45T00:00:00Z'), /not a valid ISO 8601/);
});

test('ops, tables, projections and counts', () => {
  assert.deepEqual(opts.toOps(['c', 'update', 'OP_DELETE', 'ddl']),
      ['OP_INSERT', 'OP_UPDATE', 'OP_DELETE', 'OP_DDL']);
  assert.deepEqual(opts.toOps(undefined), []);
  assert.throws(() => opts.toOps('c'), /must be an array/);
  assert.throws(() => opts.toOps(['insertt']), /unknown op "insertt"; use r, c, u, d/);
  assert.deepEqual(opts.toStrings(['a.*'], 'tables', ''), ['a.*']);
  assert.throws(() => opts.toStrings(['a', ''], 'tables', "['shop.*']"),
      /tables must be an array of non-empty strings like \['shop\.\*'\]/);
  assert.deepEqual(opts.toProjections({'shop.orders': ['id', 'total']}),
      [{table: 'shop.orders', columns: ['id', 'total']}]);
  assert.deepEqual(opts.toProjections([{table: 'a.b', columns: ['x']}]),
      [{table: 'a.b', columns: ['x']}]);
  assert.throws(() => opts.toProjections([{columns: ['x']}]), /needs a table glob/);
  assert.equal(opts.toCount(undefined, 'n', 10), 0);
  assert.throws(() => opts.toCount(11, 'maxUnackedEvents', 10), /maxUnackedEvents must be/);
  assert.equal(opts.toOffset('007', 'x'), '7');
});

test('reconnect policy', () => {
  assert.equal(toPolicy(undefined).maxAttempts, Infinity);
  assert.equal(toPolicy(false).maxAttempts, 0);
  assert.deepEqual(toPolicy({maxDelayMs: 50}),
      {initialDelayMs: 100, maxDelayMs: 50, maxAttempts: Infinity});
  assert.throws(() => toPolicy({initialDelayMs: -1}), /initialDelayMs must be a number >= 0/);
  assert.throws(() => toPolicy('often'), TypeError);
  assert.equal(isRetryable({code: 14}), true);   // UNAVAILABLE
  assert.equal(isRetryable({code: 5}), false);   // NOT_FOUND
  assert.equal(isRetryable({code: 11}), false);  // OUT_OF_RANGE
  assert.equal(isRetryable({code: 10}, (e) => e.code === 10), true);
});

test('protoDir: the default is the repo, an override must hold sluice/v1/service.proto', () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const {SluiceClient, DEFAULT_PROTO_DIR} = require('..');
  assert.ok(fs.existsSync(path.join(DEFAULT_PROTO_DIR, 'sluice', 'v1', 'event.proto')));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-node-protos-'));
  try {
    assert.throws(() => new SluiceClient('127.0.0.1:1', {protoDir: empty}),
        /service\.proto does not exist; pass the directory that holds sluice\/v1\/\*\.proto/);
    fs.cpSync(path.join(DEFAULT_PROTO_DIR, 'sluice'), path.join(empty, 'sluice'),
        {recursive: true});
    const client = new SluiceClient('127.0.0.1:1', {protoDir: empty});
    assert.equal(client.address, '127.0.0.1:1');
    client.close();
  } finally {
    fs.rmSync(empty, {recursive: true, force: true});
  }
});
