// Bootstraps (start 'snapshot', SNAPSHOT_THEN_STREAM): which messages of a stream belong to one,
// and the flags the client hands out with them. See docs/subscriptions.md ("Bootstrap").
//
// A bootstrap is the table state sent as 'r' rows with offset 0, consistent at a log offset N
// (`snapshot_offset`), before the log from N + 1. Every message of it carries snapshot_offset =
// N; the last one also carries snapshot_done (N is 0 only for an empty log, so a message is part
// of a bootstrap when snapshot_offset != 0 or snapshot_done). A stream that breaks before
// snapshot_done (ephemeral), or before N was acked (durable), bootstraps again on the next
// stream at a newer N: rows deleted in between are in neither the new rows nor the log after
// the new N, so a copy built from the rows must start over where a bootstrap begins. The rows
// are never a resume position: their next_offset (N + 1) is where the log follows only once
// every row was sent.
//
// Pure apart from the state of one tracker; single-threaded JS.
'use strict';

// Tracks the bootstrap state of one subscription across its streams.
class BootstrapTracker {
  #inBootstrap = false;  // the open stream is sending a bootstrap's rows (snapshot_done not yet)

  // A new stream opened: whatever it sends next begins anew.
  streamOpened() {
    this.#inBootstrap = false;
  }

  // The flags of one SubscribeResponse (as proto-loader decodes it, 64-bit fields as strings):
  // {snapshotOffset: N as a string, or null when the message is not part of a bootstrap,
  //  snapshotDone, bootstrapBegins: the first message of a bootstrap}.
  flags(message) {
    const snapshotDone = Boolean(message.snapshotDone);
    const snapshotOffset = String(message.snapshotOffset ?? '0');
    const inBootstrap = snapshotOffset !== '0' || snapshotDone;
    const bootstrapBegins = inBootstrap && !this.#inBootstrap;
    this.#inBootstrap = inBootstrap && !snapshotDone;
    return {snapshotOffset: inBootstrap ? snapshotOffset : null, snapshotDone, bootstrapBegins};
  }
}

// Whether a batch's nextOffset is a position to resume (or ack up to): not while a bootstrap
// is still sending rows.
function isPosition(batch) {
  return batch.snapshotOffset === null || batch.snapshotDone;
}

// The events of `batches` (an async iterable of the session's batches) one by one, each row of
// a bootstrap with snapshotOffset, snapshotDone (true on the bootstrap's last row) and
// bootstrapBegins (true on its first row); see index.d.ts (ChangeEvent). A bootstrap whose
// first message holds no row (filters, an empty state) puts bootstrapBegins on the next event
// yielded, whatever it is, so that a copy is started over before that event is applied.
//
// To know whether a row is a bootstrap's last, the last row of a bootstrap message that is not
// snapshot_done is held until the next message arrives (the server sends a bootstrap's messages
// back to back). hooks.event(event) runs before each event is yielded, hooks.batchDone(batch)
// once a batch's events (except a held row) were yielded, and hooks.closed() ends the iteration
// after a yield when it returns true.
async function* eventsOf(batches, hooks) {
  let held = null;        // the last row of a bootstrap message that was not snapshot_done
  let beginPending = false;
  for await (const batch of batches) {
    if (held !== null) {
      const same = !batch.bootstrapBegins && batch.snapshotOffset !== null;
      held.snapshotDone = same && batch.snapshotDone && batch.events.length === 0;
      const event = held;
      held = null;
      hooks.event(event);
      yield event;
      if (hooks.closed()) return;
    }
    if (batch.bootstrapBegins) beginPending = true;
    const rows = batch.snapshotOffset !== null;
    const count = batch.events.length;
    for (let i = 0; i < count; ++i) {
      const event = batch.events[i];
      if (rows) {
        event.snapshotOffset = batch.snapshotOffset;
        event.snapshotDone = batch.snapshotDone && i === count - 1;
        event.bootstrapBegins = beginPending;
      } else if (beginPending) {
        event.bootstrapBegins = true;
      }
      beginPending = false;
      if (rows && !batch.snapshotDone && i === count - 1) {
        held = event;
        break;
      }
      hooks.event(event);
      yield event;
      if (hooks.closed()) return;
    }
    hooks.batchDone(batch);
  }
}

module.exports = {BootstrapTracker, isPosition, eventsOf};
