// SluiceClient: one gRPC channel to a sluiced, and the calls a subscriber or operator makes on
// it. See ../README.md for the API and ../index.d.ts for the types.
//
// Every 64-bit integer the client returns or yields (offsets, timestamps) is a decimal string;
// arguments that are offsets may be strings, bigints or safe integers.
//
// Errors: bad arguments throw TypeError/RangeError at once; a failed call rejects (a stream
// throws) with a SluiceError carrying the gRPC code and the server's message.
// Thread-safety: single-threaded JS; any number of calls and streams may share one client.
'use strict';

const grpc = require('@grpc/grpc-js');
const {loadSluiceApi} = require('./protos');
const {SluiceError} = require('./errors');
const {channelCredentials, bearerToken} = require('./credentials');
const {toPolicy} = require('./reconnect');
const {Subscription} = require('./subscription');
const {Consumer} = require('./consumer');
const opts = require('./options');

const DEFAULT_ADDRESS = '127.0.0.1:7070';
const SUBSCRIPTION_NAME = /^[A-Za-z0-9._-]{1,128}$/;

const CHANNEL_DEFAULTS = Object.freeze({
  // Reconnect quickly after a server restart (grpc-js otherwise backs off up to 2 minutes).
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
});

function subscriptionName(name) {
  opts.requireName(name, 'subscription', "'lake-writer'");
  if (!SUBSCRIPTION_NAME.test(name)) {
    throw new RangeError(`subscription name ${JSON.stringify(name)} is not valid: use 1 to 128 ` +
      'letters, digits, dots, underscores or dashes');
  }
  return name;
}

class SluiceClient {
  #address;
  #token;
  #deadlineMs;
  #policy;
  #onReconnect;
  #stub;     // {changeStream, admin, subscriptions}
  #streams = new Set();

  constructor(address = process.env.SLUICE_SERVER || DEFAULT_ADDRESS, options = {}) {
    if (typeof address !== 'string' || address === '') {
      throw new TypeError(`address must be "HOST:PORT" like "${DEFAULT_ADDRESS}"`);
    }
    this.#address = address;
    this.#token = bearerToken(options);
    this.#deadlineMs = options.deadlineMs ?? 10000;
    this.#policy = toPolicy(options.reconnect);
    this.#onReconnect = options.onReconnect;
    const api = loadSluiceApi(options.protoDir);
    const channelOptions = {...CHANNEL_DEFAULTS, ...options.channelOptions};
    const changeStream = new api.ChangeStream(address, channelCredentials(options), channelOptions);
    const shared = {...channelOptions, channelOverride: changeStream.getChannel()};
    this.#stub = {
      changeStream,
      admin: new api.Admin(address, grpc.credentials.createInsecure(), shared),
      subscriptions: new api.Subscriptions(address, grpc.credentials.createInsecure(), shared),
    };
  }

  get address() {
    return this.#address;
  }

  #metadata() {
    const metadata = new grpc.Metadata();
    if (this.#token !== null) metadata.set('authorization', `Bearer ${this.#token}`);
    return metadata;
  }

  #unary(service, method, request, what) {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.#deadlineMs);
      this.#stub[service][method](request, this.#metadata(), {deadline}, (err, response) => {
        if (err) {
          reject(new SluiceError(`${what} at ${this.#address}`, err));
        } else {
          resolve(response);
        }
      });
    });
  }

  #track(stream) {
    this.#streams.add(stream);
    return stream;
  }

  // Admin.Status: {sources: [SourceStatus], version}, as the proto with camelCase names.
  status() {
    return this.#unary('admin', 'Status', {}, 'Status');
  }

  // An ephemeral subscription (ChangeStream.Subscribe): an async iterable of events.
  subscribe(options = {}) {
    const source = opts.requireName(options.source, 'source', "'shop'");
    const request = {
      source,
      tables: opts.toStrings(options.tables, 'tables', "['shop.orders', 'shop.*']"),
      ops: opts.toOps(options.ops),
      projections: opts.toProjections(options.projections),
      maxBatchEvents: opts.toCount(options.maxBatchEvents, 'maxBatchEvents', 2 ** 32 - 1),
      maxBatchBytes: opts.toCount(options.maxBatchBytes, 'maxBatchBytes', 2 ** 32 - 1),
    };
    const start = opts.toStartPosition(options.from);
    const subscription = new Subscription({
      open: (from) => this.#stub.changeStream.Subscribe({...request, start: from},
          this.#metadata()),
      start,
      describe: `Subscribe to source '${source}' at ${this.#address}`,
      policy: options.reconnect === undefined ? this.#policy : toPolicy(options.reconnect),
      onReconnect: options.onReconnect ?? this.#onReconnect,
      onClose: (stream) => this.#streams.delete(stream),
    });
    return this.#track(subscription);
  }

  // A durable subscription (Subscriptions.Consume): an async iterable of events with ack().
  consume(options = {}) {
    const name = subscriptionName(options.subscription);
    if (options.createIfMissing && !options.source) {
      throw new TypeError(`consume(): createIfMissing needs the source to create subscription ` +
        `'${name}' on: pass source`);
    }
    const open = {
      subscription: name,
      createIfMissing: Boolean(options.createIfMissing),
      source: options.source ?? '',
      tables: opts.toStrings(options.tables, 'tables', "['shop.orders', 'shop.*']"),
      ops: opts.toOps(options.ops),
      projections: opts.toProjections(options.projections),
      maxBatchEvents: opts.toCount(options.maxBatchEvents, 'maxBatchEvents', 2 ** 32 - 1),
      maxBatchBytes: opts.toCount(options.maxBatchBytes, 'maxBatchBytes', 2 ** 32 - 1),
      maxUnackedEvents: opts.toCount(options.maxUnackedEvents, 'maxUnackedEvents', 2 ** 32 - 1),
      maxUnackedBytes: String(opts.toCount(options.maxUnackedBytes, 'maxUnackedBytes',
          Number.MAX_SAFE_INTEGER)),
    };
    if (options.from !== undefined) open.start = opts.toStartPosition(options.from);
    const consumer = new Consumer({
      name,
      open: () => {
        const call = this.#stub.subscriptions.Consume(this.#metadata());
        call.write({open});
        return call;
      },
      commit: (offset) => this.ack(name, offset),
      describe: `Consume of subscription '${name}' at ${this.#address}`,
      policy: options.reconnect === undefined ? this.#policy : toPolicy(options.reconnect),
      onReconnect: options.onReconnect ?? this.#onReconnect,
      onClose: (stream) => this.#streams.delete(stream),
    });
    return this.#track(consumer);
  }

  // Subscriptions.Ack: commits a cumulative ack without a stream; resolves to the committed
  // offset once it is durable.
  async ack(subscription, offset) {
    const request = {subscription: subscriptionName(subscription),
      offset: opts.toOffset(offset, 'offset')};
    const response = await this.#unary('subscriptions', 'Ack', request,
        `Ack of subscription '${subscription}'`);
    return response.committedOffset;
  }

  // Subscriptions.ListSubscriptions: [SubscriptionInfo] (of one source, or of all).
  async listSubscriptions(source = '') {
    const response = await this.#unary('subscriptions', 'ListSubscriptions', {source},
        'ListSubscriptions');
    return response.subscriptions;
  }

  // Subscriptions.CreateSubscription: resolves to its SubscriptionInfo.
  createSubscription(options = {}) {
    const request = {
      name: subscriptionName(options.name),
      source: opts.requireName(options.source, 'source', "'shop'"),
      start: opts.toStartPosition(options.from),
      tables: opts.toStrings(options.tables, 'tables', "['shop.orders', 'shop.*']"),
      ops: opts.toOps(options.ops),
      projections: opts.toProjections(options.projections),
    };
    return this.#unary('subscriptions', 'CreateSubscription', request,
        `CreateSubscription '${request.name}'`);
  }

  // Subscriptions.ResetSubscription: the next event delivered is `to`.
  resetSubscription(name, to) {
    if (to === undefined) throw new TypeError('resetSubscription(name, to): to is required');
    const request = {name: subscriptionName(name), start: opts.toStartPosition(to, 'to')};
    return this.#unary('subscriptions', 'ResetSubscription', request,
        `ResetSubscription '${name}'`);
  }

  async deleteSubscription(name) {
    await this.#unary('subscriptions', 'DeleteSubscription', {name: subscriptionName(name)},
        `DeleteSubscription '${name}'`);
  }

  // Ends every subscription of this client (consumers commit their acks first) and closes the
  // channel.
  async close() {
    await Promise.all([...this.#streams].map((stream) => stream.close()));
    this.#stub.changeStream.close();
  }
}

module.exports = {SluiceClient};
