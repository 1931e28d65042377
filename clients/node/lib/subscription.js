// Subscription: an ephemeral subscriber (ChangeStream.Subscribe) as an async iterable of events,
// or of batches with batches(). The server remembers nothing about it; after a transient failure
// it reconnects by itself and resumes right after the last event it yielded (or after the last
// batch, which also skips events the filters removed), so the iteration sees every event once,
// in offset order.
//
// Before the first message arrives a reconnect repeats the original `from`; for 'latest' or a
// time that may be a later point than the failed attempt would have started at.
//
// from: 'snapshot' (SNAPSHOT_THEN_STREAM) first yields the table state as 'r' rows with offset
// '0' (a bootstrap, see bootstrap.js), then the log after the rows' snapshotOffset. The rows are
// not a position: a stream that breaks before the bootstrap's last message bootstraps again
// (the first row, or batch, of each bootstrap has bootstrapBegins: start a copy over there).
//
// Errors: a non-transient failure (OUT_OF_RANGE when retention removed the resume offset,
// NOT_FOUND for an unknown source, INVALID_ARGUMENT, UNAUTHENTICATED...) is thrown from the
// iteration as a SluiceError. Thread-safety: single-threaded JS; iterate once.
'use strict';

const {status: Status} = require('@grpc/grpc-js');
const {StreamSession} = require('./session');
const {eventsOf, isPosition} = require('./bootstrap');

class Subscription {
  #session;
  #next = null;  // BigInt: where a reconnect resumes
  #onClose;

  // open(start) -> grpc-js call of Subscribe from StartPosition `start`.
  constructor({open, start, describe, policy, onReconnect, onClose}) {
    this.#onClose = onClose;
    this.#session = new StreamSession({
      open: () => open(this.#next === null ? start : {offset: this.#next.toString()}),
      describe,
      onReconnect,
      retryExtra: (err) => err?.code === Status.ABORTED,
    }, policy);
  }

  // The offset a reconnect would resume at (a decimal string), or null before the first message.
  get nextOffset() {
    return this.#next === null ? null : this.#next.toString();
  }

  async* batches() {
    try {
      for await (const batch of this.#session.batches()) {
        if (isPosition(batch)) this.#next = BigInt(batch.nextOffset);
        yield batch;
      }
    } finally {
      this.close();
    }
  }

  async* #events() {
    try {
      yield* eventsOf(this.#session.batches(), {
        event: (event) => {
          if (event.snapshotOffset === undefined) this.#next = BigInt(event.offset) + 1n;
        },
        batchDone: (batch) => {
          if (isPosition(batch)) this.#next = BigInt(batch.nextOffset);
        },
        closed: () => this.#session.closed,
      });
    } finally {
      this.close();
    }
  }

  [Symbol.asyncIterator]() {
    return this.#events();
  }

  // Ends the subscription: the stream is cancelled and the iteration finishes without an error.
  close() {
    this.#session.cancel();
    this.#onClose?.(this);
  }
}

module.exports = {Subscription};
