// SluiceError: the one error type the client throws for a failed call or stream. It carries the
// gRPC status code (number and name) and the server's message, which names the problem and the
// fix (e.g. "offset 3 is no longer stored (retention removed it); the earliest available offset
// is 120").
//
// Bad arguments to the client's own methods throw TypeError or RangeError before any call.
'use strict';

const {status: Status} = require('@grpc/grpc-js');

const CODE_NAMES = Object.fromEntries(Object.entries(Status).map(([name, code]) => [code, name]));

class SluiceError extends Error {
  // `what` says which call failed ("Subscribe of source 'shop'"); `cause` is the grpc-js error.
  constructor(what, cause) {
    const code = typeof cause?.code === 'number' ? cause.code : Status.UNKNOWN;
    const details = cause?.details || cause?.message || String(cause);
    super(`${what}: ${CODE_NAMES[code] ?? code}: ${details}`, {cause});
    this.name = 'SluiceError';
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? String(code);
    this.details = details;
  }
}

module.exports = {SluiceError, CODE_NAMES};
