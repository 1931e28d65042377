// index.d.ts type-checks, and the usage in types-usage.ts compiles against it (tsc --strict).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {spawnSync} = require('node:child_process');
const path = require('node:path');

const NODE_DIR = path.resolve(__dirname, '..');

test('index.d.ts and a typed usage compile with tsc --strict', () => {
  const tsc = path.join(NODE_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022',
    '--module', 'commonjs', '--moduleResolution', 'node', '--types', 'node',
    path.join(NODE_DIR, 'index.d.ts'), path.join(__dirname, 'types-usage.ts')],
  {encoding: 'utf8', cwd: NODE_DIR});
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
