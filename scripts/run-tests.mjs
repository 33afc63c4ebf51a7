#!/usr/bin/env node
// Runs jest over every workspace and closes with the plain line `N passed, N failed` computed from jest's JSON
// results (a suite that fails to load counts as one failure). Exit code: jest's, or 1 if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Per-run results file: concurrent runs (several developers, or a test run inside CI) never clobber each other.
const out = join(tmpdir(), `fidkd-jest-results-${process.pid}.json`);
rmSync(out, { force: true });
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const r = spawnSync(
  process.execPath,
  // --forceExit: a failing test that leaves a child process or a timer behind must not hold CI until its time-out
  // (the results are written before jest exits either way)
  ['--experimental-vm-modules', '--no-warnings', jest, '--ci', '--forceExit', '--json', `--outputFile=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit', cwd: root },
);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const res = JSON.parse(readFileSync(out, 'utf8'));
  passed = res.numPassedTests;
  failed = res.numFailedTests + res.numRuntimeErrorTestSuites;
  skipped = res.numPendingTests + res.numTodoTests;
} else {
  failed = 1;
}
rmSync(out, { force: true });
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status !== 0 ? r.status ?? 1 : failed > 0 ? 1 : 0);
