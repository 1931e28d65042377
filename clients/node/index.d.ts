// Type declarations of @sluice/client (hand-written; the code is plain JavaScript in lib/).
// Every 64-bit integer the client returns is a decimal string (Offset); see README.md.

import type {ChannelOptions} from '@grpc/grpc-js';

/** A 64-bit offset as a decimal string, e.g. "17". Offsets start at 1. */
export type Offset = string;
/** An offset argument: a decimal string, a bigint or a safe integer. */
export type OffsetInput = string | bigint | number;

/**
 * Where a subscription starts: an offset, a commit time, either end of the log, or 'snapshot'
 * (SNAPSHOT_THEN_STREAM: the table state as 'r' rows with offset '0', then the log after them;
 * not a position for resetSubscription).
 */
export type StartInput =
  | 'earliest'
  | 'latest'
  | 'snapshot'
  | OffsetInput
  | Date
  | string /* ISO 8601 time, e.g. '2026-01-02T03:04:05Z' */
  | {commitTsMicros: string | bigint | number};

/** Op codes as in events, words, or enum names. */
export type OpInput =
  | 'r' | 'c' | 'u' | 'd' | 't' | 'ddl' | 'm'
  | 'read' | 'insert' | 'create' | 'update' | 'delete' | 'truncate' | 'message'
  | 'OP_READ' | 'OP_INSERT' | 'OP_UPDATE' | 'OP_DELETE' | 'OP_TRUNCATE' | 'OP_DDL' | 'OP_MESSAGE';

/**
 * A column value in the canonical JSON mapping (docs/event-format.md §3). Integers beyond
 * ±(2^53 - 1), decimals, dates, times, timestamps, intervals and base64 bytes are strings;
 * JSON columns are their parsed value.
 */
export type ColumnValue = null | boolean | number | string | unknown[] | {[key: string]: unknown};
export type Row = {[column: string]: ColumnValue};

export interface EventSource {
  name: string;
  kind: 'mysql' | 'postgres' | 'unknown';
  database: string | null;
  schema: string | null;
  table: string | null;
  position: string;
  gtid: string | null;
  txid: string | null;
  /** Source commit time, "YYYY-MM-DDTHH:MM:SS[.f]Z", or null when unknown. */
  commit_ts: string | null;
  snapshot: boolean;
}

/** One change: the canonical JSON line of docs/event-format.md, with `offset` as a string. */
export interface ChangeEvent {
  offset: Offset;
  op: 'r' | 'c' | 'u' | 'd' | 't' | 'ddl' | 'm' | '?';
  source: EventSource;
  key: Row;
  before: Row | null;
  after: Row | null;
  unchanged: string[];
  txn: {index: number; last: boolean};
  /**
   * Rows of a bootstrap (from: 'snapshot'; offset '0', op 'r') only: the log offset N the rows
   * are consistent at; the log continues at N + 1.
   */
  snapshotOffset?: Offset;
  /** Rows of a bootstrap only: true on its last row (a durable consumer acks snapshotOffset). */
  snapshotDone?: boolean;
  /**
   * True on the first event since a bootstrap began (its first row; the next event when it
   * had no row): a copy built from earlier rows starts over before applying this event. A
   * stream that broke mid-bootstrap bootstraps again rather than resuming inside it.
   */
  bootstrapBegins?: boolean;
  ddl?: {statement: string | null;
    columns: {name: string; type: string; nullable: boolean; key: boolean}[]};
  message?: {prefix: string; content: string /* base64 */; transactional: boolean};
}

/** One message of the stream: events in offset order; ack nextOffset - 1 to cover them all. */
export interface Batch {
  events: ChangeEvent[];
  /** The offset the server reads next (past events the filters skipped). */
  nextOffset: Offset;
  /** The log's last offset when the batch was built. */
  lastOffset: Offset;
  /**
   * A message of a bootstrap (from: 'snapshot'): the offset N its rows (offset '0') are
   * consistent at. null when the batch is not part of a bootstrap. nextOffset is a position
   * only once snapshotDone.
   */
  snapshotOffset: Offset | null;
  /** The bootstrap's last message (it may hold rows too); the log after N follows. */
  snapshotDone: boolean;
  /** The first message of a bootstrap: a copy built from earlier rows starts over here. */
  bootstrapBegins: boolean;
}

export interface ReconnectInfo {
  error: SluiceError;
  /** Failed attempts in a row, from 1. */
  attempt: number;
  delayMs: number;
}

export interface ReconnectPolicy {
  initialDelayMs?: number;  // default 100
  maxDelayMs?: number;      // default 5000
  maxAttempts?: number;     // failed attempts in a row before giving up; default Infinity
}

export interface StreamOptions {
  /** Globs over "database.table" / "schema.table"; empty = every table. */
  tables?: string[];
  ops?: OpInput[];
  /** Per table glob, the columns to keep (key columns are always kept). */
  projections?: {[tableGlob: string]: string[]} | {table: string; columns: string[]}[];
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  /** false: never reconnect; default: reconnect with backoff, forever. */
  reconnect?: boolean | ReconnectPolicy;
  onReconnect?: (info: ReconnectInfo) => void;
}

export interface SubscribeOptions extends StreamOptions {
  source: string;
  /** Default 'earliest'. */
  from?: StartInput;
}

export interface ConsumeOptions extends StreamOptions {
  subscription: string;
  /** Needed with createIfMissing; otherwise, when given, it must match the stored source. */
  source?: string;
  createIfMissing?: boolean;
  /** Where a created subscription starts; default 'earliest'. */
  from?: StartInput;
  /** Delivery pauses while this many delivered events are not acked (server default 65536). */
  maxUnackedEvents?: number;
  maxUnackedBytes?: number;
}

export interface ClientOptions {
  /** Bearer token, or a file whose first word is one (the server's token file works). */
  token?: string;
  tokenFile?: string;
  /** TLS: CA / client certificate / key as PEM text, a Buffer, or a file path. */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** TLS with the system's root CAs. */
  tls?: boolean;
  /** The directory holding sluice/v1/*.proto; default: the repo's proto/ folder. */
  protoDir?: string;
  /** Deadline of unary calls (status, ack, ...); default 10000. */
  deadlineMs?: number;
  reconnect?: boolean | ReconnectPolicy;
  onReconnect?: (info: ReconnectInfo) => void;
  channelOptions?: ChannelOptions;
}

/** An ephemeral subscription: iterate it for events, or batches() for batches. */
export declare class Subscription implements AsyncIterable<ChangeEvent> {
  /** Where a reconnect resumes; null before the first message. */
  readonly nextOffset: Offset | null;
  [Symbol.asyncIterator](): AsyncGenerator<ChangeEvent, void, undefined>;
  batches(): AsyncGenerator<Batch, void, undefined>;
  close(): void;
}

/** A durable subscription with cumulative acks; un-acked events are redelivered on reconnect. */
export declare class Consumer implements AsyncIterable<ChangeEvent> {
  readonly subscription: string;
  /** The committed offset last confirmed by the server ('0' before any). */
  readonly committedOffset: Offset;
  [Symbol.asyncIterator](): AsyncGenerator<ChangeEvent, void, undefined>;
  batches(): AsyncGenerator<Batch, void, undefined>;
  /** Cumulative; throws RangeError beyond what was delivered. */
  ack(offset: OffsetInput): void;
  /** Makes the acks given so far durable; resolves to the committed offset. */
  flush(): Promise<Offset>;
  /** Commits the acks (best effort) and ends the stream. */
  close(): Promise<void>;
}

/** Messages as the proto (camelCase fields, 64-bit integers as strings, enums as names). */
export interface SourceStatus {
  name: string;
  kind: string;
  state: string;
  firstOffset: Offset;
  lastOffset: Offset;
  checkpoint: string;
  lastError: string;
  lastErrorTsMicros: string;
  url: string;
  storedBytes: string;
  lastCommitTsMicros: string;
  lagMicros: string;
  [field: string]: unknown;
}

export interface StatusResponse {
  sources: SourceStatus[];
  version: string;
}

export interface SubscriptionInfo {
  name: string;
  source: string;
  committedOffset: Offset;
  tables: string[];
  ops: string[];
  projections: {table: string; columns: string[]}[];
  createdTsMicros: string;
  ackedTsMicros: string;
  lastOffset: Offset;
  lagEvents: string;
  unackedEvents: string;
  connected: boolean;
}

export declare class SluiceClient {
  /** address: "HOST:PORT"; default $SLUICE_SERVER or "127.0.0.1:7070". */
  constructor(address?: string, options?: ClientOptions);
  readonly address: string;
  status(): Promise<StatusResponse>;
  subscribe(options: SubscribeOptions): Subscription;
  consume(options: ConsumeOptions): Consumer;
  /** Commits a cumulative ack without a stream; resolves to the committed offset. */
  ack(subscription: string, offset: OffsetInput): Promise<Offset>;
  listSubscriptions(source?: string): Promise<SubscriptionInfo[]>;
  createSubscription(options: {name: string; source: string; from?: StartInput; tables?: string[];
    ops?: OpInput[]; projections?: StreamOptions['projections']}): Promise<SubscriptionInfo>;
  resetSubscription(name: string, to: StartInput): Promise<SubscriptionInfo>;
  deleteSubscription(name: string): Promise<void>;
  /** Ends every subscription of this client (consumers commit their acks) and the channel. */
  close(): Promise<void>;
}

export declare class SluiceError extends Error {
  /** The gRPC status code and its name (e.g. 5, 'NOT_FOUND'). */
  readonly code: number;
  readonly codeName: string;
  /** The server's message. */
  readonly details: string;
}

/** Decoding helpers (used by the client; exported for tools that read raw messages). */
export declare function decodeEvent(event: object): ChangeEvent;
export declare function decodeValue(value: object | null | undefined): ColumnValue;
export declare function decodeRow(row: object): Row;
export declare const DEFAULT_PROTO_DIR: string;
