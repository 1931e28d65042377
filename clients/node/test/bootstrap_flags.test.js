// Unit tests of lib/bootstrap.js (no server): which messages begin and end a bootstrap, when a
// batch's nextOffset is a position, and the flags each event gets, including a bootstrap that
// breaks off and starts again and one whose messages hold no rows.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {BootstrapTracker, isPosition, eventsOf} = require('../lib/bootstrap');

const row = (id) => ({offset: '0', op: 'r', after: {id}});
const log = (offset) => ({offset: String(offset), op: 'c', after: {id: offset}});

// Messages as proto-loader decodes them, per stream; returns the session's batches.
function batchesOf(streams) {
  const tracker = new BootstrapTracker();
  const out = [];
  for (const stream of streams) {
    tracker.streamOpened();
    for (const m of stream) {
      out.push({events: m.events, nextOffset: m.nextOffset, lastOffset: m.nextOffset,
        ...tracker.flags({snapshotOffset: m.snapshotOffset ?? '0', snapshotDone: m.done ?? false})});
    }
  }
  return out;
}

async function* iterate(list) {
  for (const item of list) yield item;
}

async function collect(batches) {
  const seen = [];
  const done = [];
  for await (const event of eventsOf(iterate(batches), {
    event: (e) => seen.push(e),
    batchDone: (b) => done.push(b.nextOffset),
    closed: () => false,
  })) {
    assert.equal(seen.at(-1), event, 'hooks.event runs before the event is yielded');
  }
  return {events: seen, done};
}

const flagsOf = (e) => [e.offset, e.snapshotOffset, e.snapshotDone, e.bootstrapBegins];

test('tracker: begins, done, a broken bootstrap starting over, an empty log', () => {
  const batches = batchesOf([
    [{events: [row(1), row(2)], nextOffset: '6', snapshotOffset: '5'}],  // breaks off
    [{events: [row(1)], nextOffset: '8', snapshotOffset: '7'},
      {events: [row(3)], nextOffset: '8', snapshotOffset: '7', done: true},
      {events: [log(8)], nextOffset: '9'}],
    [{events: [], nextOffset: '1', snapshotOffset: '0', done: true}],  // empty log: N = 0
  ]);
  assert.deepEqual(batches.map((b) => [b.snapshotOffset, b.snapshotDone, b.bootstrapBegins]), [
    ['5', false, true],
    ['7', false, true],
    ['7', true, false],
    [null, false, false],
    ['0', true, true],
  ]);
  assert.deepEqual(batches.map(isPosition), [false, false, true, true, true]);
});

test('events: rows flagged, the last row of a bootstrap is done, broken ones start over',
    async () => {
      const {events, done} = await collect(batchesOf([
        [{events: [row(1), row(2)], nextOffset: '6', snapshotOffset: '5'}],
        [{events: [row(1), row(2)], nextOffset: '8', snapshotOffset: '7'},
          {events: [row(3)], nextOffset: '8', snapshotOffset: '7'},
          {events: [], nextOffset: '8', snapshotOffset: '7', done: true},
          {events: [log(8), log(9)], nextOffset: '10'}],
      ]));
      assert.deepEqual(events.map(flagsOf), [
        ['0', '5', false, true],
        ['0', '5', false, false],  // held until the next message: not done, that one begins anew
        ['0', '7', false, true],
        ['0', '7', false, false],
        ['0', '7', true, false],   // done: the message after it was the empty snapshot_done one
        ['8', undefined, undefined, undefined],
        ['9', undefined, undefined, undefined],
      ]);
      assert.deepEqual(done, ['6', '8', '8', '8', '10']);
    });

test('events: a bootstrap without rows flags the next event', async () => {
  const {events} = await collect(batchesOf([
    [{events: [row(1)], nextOffset: '4', snapshotOffset: '3'}],
    [{events: [], nextOffset: '5', snapshotOffset: '4', done: true},
      {events: [log(5)], nextOffset: '6'}],
  ]));
  assert.deepEqual(events.map(flagsOf), [
    ['0', '3', false, true],
    ['5', undefined, undefined, true],
  ]);
});
