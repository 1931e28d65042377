// Consumer: a durable subscription (Subscriptions.Consume) as an async iterable of events, or
// of batches with batches(), plus cumulative acks.
//
// Delivery: the server starts every stream at the subscription's committed offset + 1. After a
// transient failure the consumer reconnects by itself (first committing, with the unary Ack RPC,
// any ack the broken stream may not have carried), so events that were yielded but not acked
// (or whose ack was not yet committed) are yielded AGAIN, in order: processing must tolerate
// seeing an event twice (skip offsets you have already applied, or apply idempotently).
// Nothing after the last committed ack is ever skipped.
//
// ack(offset): cumulative; every event at or below `offset` is processed. It is sent on the
// stream at once; flush() (and close(), and leaving a for-await loop) waits until it is durable.
// An ack is at most the highest offset yielded so far, or a batch's nextOffset - 1 once that
// batch was yielded (which also covers events the filters skipped).
//
// Errors: a non-transient failure (NOT_FOUND: no such subscription and no createIfMissing;
// FAILED_PRECONDITION: other source or filters, or retention removed its next event; ABORTED:
// another consumer opened the same subscription, or it was deleted) is thrown from the iteration
// as a SluiceError. A reset of the subscription (ABORTED "was reset") reconnects from the new
// position (so does a reset made while the consumer was away, seen as a committed offset that
// went down); acks not committed before the reset are dropped, and only offsets delivered after
// it may be acked. ack() of an offset that was never delivered throws RangeError.
//
// A subscription created with from: 'snapshot' bootstraps (bootstrap.js): its streams first send
// the table state as 'r' rows with offset '0', consistent at snapshotOffset N, then the log after
// N. Ack N once the bootstrap's last row (snapshotDone) or batch was handed out (a batch's
// nextOffset - 1 is N then): until that ack is committed, every new stream bootstraps again at a
// newer N, and its first row (or batch) has bootstrapBegins, where a copy starts over.
// Thread-safety: single-threaded JS; iterate once.
'use strict';

const {status: Status} = require('@grpc/grpc-js');
const {StreamSession} = require('./session');
const {eventsOf} = require('./bootstrap');
const {toOffset} = require('./options');

const max = (a, b) => (a > b ? a : b);
const isReset = (err) => err?.code === Status.ABORTED && /was reset/.test(err.details ?? '');
const min = (a, b) => (a < b ? a : b);

class Consumer {
  #name;
  #session;
  #commit;           // (offset string) -> Promise<committed offset string> (unary Ack)
  #call = null;      // the open Consume call
  #streamSent = 0n;  // the highest offset the open stream has sent (nextOffset - 1)
  #streamAcked = 0n; // the highest ack written on the open stream
  #wanted = 0n;      // the highest ack the application gave
  #ackable = 0n;     // the highest offset the application may ack
  #committed = 0n;   // the highest committed offset the server confirmed
  #fresh = false;    // no message has arrived yet on the open stream
  #closing = null;
  #onClose;

  // open() -> grpc-js duplex call with the `open` message written; commit(offset) -> Promise.
  constructor({name, open, commit, describe, policy, onReconnect, onClose}) {
    this.#onClose = onClose;
    this.#name = name;
    this.#commit = commit;
    this.#session = new StreamSession({
      open: () => {
        this.#streamSent = 0n;
        this.#streamAcked = 0n;
        this.#fresh = true;
        this.#call = open();
        return this.#call;
      },
      describe,
      onReconnect,
      beforeReopen: () => this.#commitWanted(),
      onStreamEnd: (err) => {
        this.#call = null;
        if (isReset(err)) this.#forgetAcks();
      },
      retryExtra: isReset,
      onMessage: (message) => {
        const committed = BigInt(message.committedOffset ?? 0);
        // Every ack was committed before this stream opened, so a lower committed offset means
        // the subscription was reset (or re-created) while the consumer was away.
        if (this.#fresh && committed < this.#committed) this.#forgetAcks();
        this.#fresh = false;
        this.#committed = max(this.#committed, committed);
        this.#streamSent = max(this.#streamSent, BigInt(message.nextOffset) - 1n);
        this.#sendAcks();
      },
    }, policy);
  }

  get subscription() {
    return this.#name;
  }

  // The committed offset the server last confirmed (a decimal string; '0' before any).
  get committedOffset() {
    return this.#committed.toString();
  }

  ack(offset) {
    const wanted = BigInt(toOffset(offset, 'ack(offset)'));
    if (wanted > this.#ackable) {
      throw new RangeError(
          `ack(${wanted}) of subscription '${this.#name}': only offsets up to ${this.#ackable} ` +
          `were delivered; ack the offset of an event you received (or a batch's nextOffset - 1)`);
    }
    this.#wanted = max(this.#wanted, wanted);
    this.#sendAcks();
  }

  // Writes the wanted ack on the open stream, as far as that stream has sent (after a reconnect
  // it may not yet have re-sent what an older stream did; the rest follows as it does).
  #sendAcks() {
    const target = min(this.#wanted, this.#streamSent);
    if (this.#call === null || target <= this.#streamAcked || target <= this.#committed) return;
    this.#streamAcked = target;
    this.#call.write({ack: target.toString()});
  }

  // After a reset the subscription starts over at its new position: acks given before it must
  // not move the committed offset again, and only what is delivered from now on may be acked.
  #forgetAcks() {
    this.#wanted = 0n;
    this.#committed = 0n;
    this.#ackable = 0n;
  }

  async #commitWanted() {
    if (this.#wanted <= this.#committed) return;
    this.#committed = max(this.#committed, BigInt(await this.#commit(this.#wanted.toString())));
  }

  // Makes every ack given so far durable (the unary Ack RPC) and resolves to the committed
  // offset. Rejects with a SluiceError when the server cannot be reached.
  async flush() {
    await this.#commitWanted();
    return this.committedOffset;
  }

  async* batches() {
    try {
      for await (const batch of this.#session.batches()) {
        this.#ackable = max(this.#ackable, BigInt(batch.nextOffset) - 1n);
        yield batch;
      }
    } finally {
      await this.close();
    }
  }

  async* #events() {
    try {
      yield* eventsOf(this.#session.batches(), {
        event: (event) => {
          // A bootstrap's rows (offset 0) are acked as a whole, by acking N once the last one
          // was yielded.
          const offset = event.snapshotOffset === undefined ? event.offset :
              event.snapshotDone ? event.snapshotOffset : '0';
          this.#ackable = max(this.#ackable, BigInt(offset));
        },
        batchDone: (batch) => {
          this.#ackable = max(this.#ackable, BigInt(batch.nextOffset) - 1n);
        },
        closed: () => this.#session.closed,
      });
    } finally {
      await this.close();
    }
  }

  [Symbol.asyncIterator]() {
    return this.#events();
  }

  // Commits the acks given so far (best effort: a failure is swallowed; call flush() first to
  // see it), then ends the stream; the iteration finishes without an error. Idempotent.
  close() {
    this.#closing ??= this.#commitWanted().catch(() => {}).then(() => {
      this.#call = null;
      this.#session.cancel();
      this.#onClose?.(this);
    });
    return this.#closing;
  }
}

module.exports = {Consumer};
