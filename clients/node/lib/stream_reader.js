// StreamReader: pulls the messages of one grpc-js server-streaming or bidi call one at a time,
// with backpressure, and reports how the call ended.
//
// next() resolves to the next message, or to null once the call has ended and every message
// was read; `error` is then the call's error (a grpc-js ServiceError), or null when it ended
// with OK. At most `highWater` messages wait here; beyond that the call is paused, so grpc-js
// stops reading from the socket once its own buffer (16 messages) is full.
//
// Thread-safety: single-threaded JS; one caller of next() at a time.
'use strict';

class StreamReader {
  #call;
  #highWater;
  #queue = [];
  #ended = false;
  #wake = null;

  constructor(call, highWater = 2) {
    this.#call = call;
    this.#highWater = highWater;
    this.error = null;
    call.on('data', (message) => {
      this.#queue.push(message);
      if (this.#queue.length >= this.#highWater) call.pause();
      this.#notify();
    });
    // grpc-js ends the readable side (push(null)) and then emits 'error' for a non-OK status.
    call.on('error', (err) => {
      this.error = err;
      this.#notify();
    });
    call.on('end', () => this.#finish());
    call.on('close', () => this.#finish());
  }

  #finish() {
    this.#ended = true;
    this.#notify();
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async next() {
    for (;;) {
      if (this.#queue.length > 0) {
        const message = this.#queue.shift();
        if (this.#queue.length < this.#highWater) this.#call.resume();
        return message;
      }
      // grpc-js ends the readable side before it reports a failed status, so 'end' (or 'close')
      // always comes, after every message that arrived before the failure.
      if (this.#ended) return null;
      this.#call.resume();
      await new Promise((resolve) => (this.#wake = resolve));
    }
  }

  // Cancels the call; pending and later next() calls resolve to null.
  cancel() {
    this.#queue.length = 0;
    this.#call.cancel();
    this.#finish();
  }
}

module.exports = {StreamReader};
