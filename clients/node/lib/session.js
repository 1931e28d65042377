// StreamSession: the reconnecting core shared by subscribe() and consume(). It opens a stream,
// yields its messages as batches of decoded events, and when the stream fails with a transient
// error (reconnect.js) waits with backoff and opens it again through the caller's `open`, which
// decides where the new stream starts.
//
// Batches: {events, nextOffset, lastOffset, snapshotOffset, snapshotDone, bootstrapBegins},
// offsets as decimal strings (the bootstrap flags: bootstrap.js). A message without events is
// yielded only when it moves nextOffset forward (filters skipped events) or begins or ends a
// bootstrap; ack confirmations are absorbed (`onMessage` sees every message first).
//
// Errors: a non-transient end, or more than reconnect.maxAttempts failed attempts in a row,
// throws a SluiceError from the iterator. close() ends the iteration without an error.
// Thread-safety: single-threaded JS; one iteration per session.
'use strict';

const {status: Status} = require('@grpc/grpc-js');
const {BootstrapTracker} = require('./bootstrap');
const {decodeEvent} = require('./event');
const {SluiceError} = require('./errors');
const {StreamReader} = require('./stream_reader');
const {isRetryable, backoffMs, sleep} = require('./reconnect');

class StreamSession {
  #hooks;
  #policy;
  #closed = false;
  #abort = new AbortController();
  #reader = null;
  #iterating = false;
  #bootstrap = new BootstrapTracker();

  // hooks: open() -> grpc-js call; describe: string for errors; retryExtra(err) -> bool;
  // beforeReopen() -> Promise (may throw a grpc error, counted as a failed attempt);
  // onMessage(message); onStreamEnd(error or null); onReconnect({error, attempt, delayMs}).
  constructor(hooks, policy) {
    this.#hooks = hooks;
    this.#policy = policy;
  }

  get closed() {
    return this.#closed;
  }

  // Stops the iteration: the open stream is cancelled and a waiting next() ends (done).
  cancel() {
    this.#closed = true;
    this.#abort.abort();
    this.#reader?.cancel();
  }

  async* #messages() {
    let attempt = 0;
    while (!this.#closed) {
      let error = null;
      try {
        if (attempt > 0) await this.#hooks.beforeReopen?.();
      } catch (err) {
        error = err;
      }
      if (error === null && !this.#closed) {
        const reader = new StreamReader(this.#hooks.open());
        this.#reader = reader;
        this.#bootstrap.streamOpened();
        try {
          for (let message; (message = await reader.next()) !== null;) {
            attempt = 0;
            this.#hooks.onMessage?.(message);
            yield message;
            if (this.#closed) return;
          }
        } finally {
          this.#reader = null;
          reader.cancel();  // a no-op once the call has ended
          this.#hooks.onStreamEnd?.(reader.error);
        }
        error = reader.error ??
            {code: Status.UNAVAILABLE, details: 'the server ended the stream without an error'};
      }
      if (this.#closed) return;
      attempt += 1;
      if (!isRetryable(error, this.#hooks.retryExtra) || attempt > this.#policy.maxAttempts) {
        throw new SluiceError(this.#hooks.describe, error);
      }
      const delayMs = backoffMs(this.#policy, attempt);
      this.#hooks.onReconnect?.({error: new SluiceError(this.#hooks.describe, error), attempt,
        delayMs});
      await sleep(delayMs, this.#abort.signal);
    }
  }

  async* batches() {
    if (this.#iterating) {
      throw new Error('sluice client: a subscription can be iterated only once');
    }
    this.#iterating = true;
    let next = null;
    for await (const message of this.#messages()) {
      const events = (message.events ?? []).map(decodeEvent);
      const nextOffset = BigInt(message.nextOffset);
      const flags = this.#bootstrap.flags(message);
      // A bootstrap's first and last message always count, even without rows.
      if (events.length === 0 && next !== null && nextOffset <= next && !flags.bootstrapBegins &&
          !flags.snapshotDone) {
        continue;
      }
      next = nextOffset;
      yield {events, nextOffset: message.nextOffset, lastOffset: message.lastOffset, ...flags};
    }
  }
}

module.exports = {StreamSession};
