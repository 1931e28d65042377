// Loads sluice's gRPC API (proto/sluice/v1/service.proto and the files it imports) at run time
// with @grpc/proto-loader, and caches the result per directory.
//
// The loader options are the ones the rest of the package relies on:
//   - longs: String   every 64-bit integer (offsets, timestamps, int64 values) is a decimal string,
//                     so no digit is lost above 2^53;
//   - enums: String   enums are their names ('OP_INSERT', 'SOURCE_STATE_STREAMING');
//   - defaults, oneofs: absent scalars read as their zero value, and each oneof has a property
//                     naming its set field (Value.kind, StartPosition.kind);
//   - bytes stay Buffers; field names are camelCase.
//
// Errors: a missing or unreadable directory throws an Error naming the directory and the option
// (`protoDir`) that overrides it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const {buildSchema, mergeDuplicates} = require('./wire_merge');

// The repo's proto root, relative to this file (clients/node/lib -> proto/).
const DEFAULT_PROTO_DIR = path.resolve(__dirname, '..', '..', '..', 'proto');
const SERVICE_FILE = path.join('sluice', 'v1', 'service.proto');

const LOADER_OPTIONS = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

const cache = new Map();

// The proto-loader package definition (keys like 'sluice.v1.ChangeStream'); cached.
function loadDefinition(protoDir = DEFAULT_PROTO_DIR) {
  const dir = path.resolve(protoDir);
  const cached = cache.get(dir);
  if (cached) return cached;
  const file = path.join(dir, SERVICE_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(
        `sluice client: ${file} does not exist; pass the directory that holds sluice/v1/*.proto ` +
        `(the repo's proto/ folder) as the protoDir option`);
  }
  const definition = protoLoader.loadSync(SERVICE_FILE, {...LOADER_OPTIONS, includeDirs: [dir]});
  mergeBeforeDecoding(definition);
  cache.set(dir, definition);
  return definition;
}

// Wraps every method's response decoder so that repeated occurrences of a message field are
// merged first (wire_merge.js): protobufjs alone would keep only the last one.
function mergeBeforeDecoding(definition) {
  const schema = buildSchema(definition);
  for (const [name, service] of Object.entries(definition)) {
    if (service?.format !== undefined) continue;  // a message or enum, not a service
    const pkg = name.slice(0, name.lastIndexOf('.'));
    for (const method of Object.values(service)) {
      const decode = method.responseDeserialize;
      const type = `${pkg}.${method.responseType.type.name}`;
      method.responseDeserialize = (bytes) => {
        let merged = bytes;
        try {
          merged = mergeDuplicates(bytes, type, schema);
        } catch {
          // Malformed bytes: protobufjs reports them.
        }
        return decode(merged);
      };
    }
  }
}

// The `sluice.v1` package object of grpc.loadPackageDefinition: the service client
// constructors (ChangeStream, Admin, Subscriptions).
function loadSluiceApi(protoDir = DEFAULT_PROTO_DIR) {
  return grpc.loadPackageDefinition(loadDefinition(protoDir)).sluice.v1;
}

module.exports = {loadSluiceApi, loadDefinition, DEFAULT_PROTO_DIR};
