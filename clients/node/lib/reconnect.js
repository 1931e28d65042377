// The reconnect policy of subscribe() and consume(): which stream endings are worth another
// attempt, and how long to wait before it (exponential backoff with jitter, reset once a
// message arrives). Pure apart from the timer in sleep(); no state is shared between streams.
'use strict';

const {status: Status} = require('@grpc/grpc-js');

const DEFAULTS = Object.freeze({initialDelayMs: 100, maxDelayMs: 5000, maxAttempts: Infinity});

// Codes that say "the server or the network went away", not "your request is wrong".
const TRANSIENT = new Set([
  Status.UNAVAILABLE,
  Status.CANCELLED,  // the server cancelled the stream (ours are never retried: see isRetryable)
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
  Status.UNKNOWN,
  Status.RESOURCE_EXHAUSTED,
]);

// `reconnect` option: true/undefined = defaults, false = never, or {initialDelayMs, maxDelayMs,
// maxAttempts} (attempts in a row without receiving a message).
function toPolicy(reconnect) {
  if (reconnect === false) return {...DEFAULTS, maxAttempts: 0};
  if (reconnect === undefined || reconnect === true) return {...DEFAULTS};
  if (typeof reconnect !== 'object') {
    throw new TypeError(
        'reconnect must be true, false or {initialDelayMs, maxDelayMs, maxAttempts}');
  }
  const policy = {...DEFAULTS, ...reconnect};
  for (const key of ['initialDelayMs', 'maxDelayMs', 'maxAttempts']) {
    if (!(policy[key] >= 0)) throw new RangeError(`reconnect.${key} must be a number >= 0`);
  }
  return policy;
}

// Whether a stream that ended with `err` should be reopened. `extra(err)` may accept more
// (Subscribe: ABORTED; Consume: ABORTED after a reset of the subscription).
function isRetryable(err, extra = () => false) {
  return TRANSIENT.has(err?.code) || extra(err);
}

// The delay before attempt `attempt` (1-based) with +/-20% jitter.
function backoffMs(policy, attempt) {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

// Resolves after `ms`, or early when `signal` (an AbortSignal) fires.
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, {once: true});
  });
}

module.exports = {toPolicy, isRetryable, backoffMs, sleep};
