// Test support: a real MariaDB 10.11 (tests/testdb/testdb.sh) and a real sluiced (from
// SLUICE_BINARY_DIR, default ../../build relative to clients/node) for the integration tests,
// and small helpers around them. Nothing here is mocked.
//
// Every process is started with SLUICE_TESTDB_OWNER_PID or killed on exit, and every temporary
// directory is removed by the matching stop().
'use strict';

const assert = require('node:assert/strict');
const {spawn, spawnSync} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const NODE_DIR = path.resolve(__dirname, '..', '..');
const REPO_ROOT = path.resolve(NODE_DIR, '..', '..');
// SLUICE_BINARY_DIR is taken relative to the working directory, the default to clients/node.
const BINARY_DIR = process.env.SLUICE_BINARY_DIR ? path.resolve(process.env.SLUICE_BINARY_DIR) :
  path.resolve(NODE_DIR, '..', '..', 'build');
const SLUICED = path.join(BINARY_DIR, 'server', 'daemon', 'sluiced');
const SLUICECTL = path.join(BINARY_DIR, 'clients', 'sluicectl', 'sluicectl');
const TESTDB = path.join(REPO_ROOT, 'tests', 'testdb', 'testdb.sh');

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Starts a throwaway MariaDB; resolves to {port, user, password, adminUser, adminPassword, dir,
// sql(text), stop()}.
function startMariaDb() {
  const dir = tempDir('sluice-node-db-');
  const result = spawnSync(TESTDB, ['start', 'mariadb', dir], {
    encoding: 'utf8',
    env: {...process.env, SLUICE_TESTDB_OWNER_PID: String(process.pid)},
  });
  if (result.status !== 0) {
    throw new Error(`testdb.sh start mariadb failed (${result.status}):\n${result.stderr}`);
  }
  const env = Object.fromEntries(result.stdout.trim().split('\n').map((line) => {
    const eq = line.indexOf('=');
    return [line.slice(0, eq), line.slice(eq + 1)];
  }));
  const db = {
    port: Number(env.PORT),
    user: env.USER,
    password: env.PASSWORD,
    adminUser: env.ADMIN_USER,
    adminPassword: env.ADMIN_PASSWORD,
    dir,
    // The throwaway CA and the server certificate (IP:127.0.0.1) testdb.sh made for MariaDB;
    // empty when the openssl CLI is missing.
    tlsCa: env.TLS_CA,
    tlsCert: env.TLS_CA ? path.join(path.dirname(env.TLS_CA), 'server-cert.pem') : '',
    tlsKey: env.TLS_CA ? path.join(path.dirname(env.TLS_CA), 'server-key.pem') : '',
    // Runs SQL as the administrator in database `test`; returns the rows as arrays of strings
    // (tab-separated batch output; NULL is the string 'NULL').
    sql(text) {
      const r = spawnSync('mariadb', ['-h', '127.0.0.1', '-P', String(db.port), '-u',
        db.adminUser, `-p${db.adminPassword}`, '--batch', '--skip-column-names', '-e', text,
        'test'], {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024});
      if (r.status !== 0) throw new Error(`mariadb -e ${JSON.stringify(text)}: ${r.stderr}`);
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    },
    stop() {
      spawnSync(TESTDB, ['stop', dir], {stdio: 'inherit'});
    },
  };
  return db;
}

// The --source URL of a MariaDB source named `name` streaming test.* from "now" on.
function mysqlSourceUrl(db, name, serverId) {
  return `mysql://${db.user}:${db.password}@127.0.0.1:${db.port}/?name=${name}` +
      `&server_id=${serverId}&tables=test.*&snapshot=never`;
}

// A sluiced process. start() resolves once it printed "serving on port P".
class Sluiced {
  constructor({dataDir, source, extraArgs = []}) {
    this.dataDir = dataDir;
    this.source = source;
    this.extraArgs = extraArgs;
    this.port = 0;
    this.child = null;
    this.stderr = '';
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  // Starts on this.port (0 the first time: a free port; the same port on a restart).
  start() {
    assert.ok(fs.existsSync(SLUICED), `${SLUICED} does not exist: build it (ninja sluiced) ` +
        'or point SLUICE_BINARY_DIR at the build directory');
    const child = spawn(SLUICED, ['--data-dir', this.dataDir, '--listen',
      `127.0.0.1:${this.port}`, '--source', this.source, ...this.extraArgs],
    {stdio: ['ignore', 'ignore', 'pipe']});
    this.child = child;
    // Never leave a sluiced behind, even when the test process fails.
    const killOnExit = () => child.kill('SIGKILL');
    process.on('exit', killOnExit);
    child.on('exit', () => process.off('exit', killOnExit));
    this.stderr = '';
    return new Promise((resolve, reject) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text) => {
        this.stderr += text;
        // Only whole lines: the port may arrive in two pieces.
        const m = /serving on port (\d+)\D.*\n/.exec(this.stderr);
        if (m && this.port === 0) this.port = Number(m[1]);
        if (m) resolve(this);
      });
      child.on('exit', (code, signal) => reject(new Error(
          `sluiced exited (${code ?? signal}) before serving:\n${this.stderr}`)));
    });
  }

  #exit(signal) {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  kill9() {
    return this.#exit('SIGKILL');
  }

  stop() {
    return this.#exit('SIGTERM');
  }
}

// Polls `check` (sync or async; truthy = done) until it holds. The timeout only ends a test that
// would otherwise hang; the assertion is the condition itself.
async function waitFor(check, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what} (last: ${last?.stack ?? last})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Waits until the source reports SOURCE_STATE_STREAMING through client.status().
function waitStreaming(client, source) {
  return waitFor(async () => {
    const status = await client.status();
    return status.sources.find((s) => s.name === source)?.state === 'SOURCE_STATE_STREAMING';
  }, `source '${source}' to stream`);
}

// Takes the next `n` items of an async iterator (without ending it).
async function take(iterator, n) {
  const out = [];
  while (out.length < n) {
    const {value, done} = await iterator.next();
    if (done) throw new Error(`the iteration ended after ${out.length} of ${n} items`);
    out.push(value);
  }
  return out;
}

// Runs sluicectl with `args` against `address`; returns stdout.
function sluicectl(address, args) {
  const r = spawnSync(SLUICECTL, ['--server', address, ...args], {encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`sluicectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

module.exports = {
  NODE_DIR,
  startMariaDb,
  mysqlSourceUrl,
  Sluiced,
  tempDir,
  waitFor,
  waitStreaming,
  take,
  sluicectl,
};
