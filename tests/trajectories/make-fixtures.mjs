#!/usr/bin/env node
// Regenerates the training-parity fixtures (after `npm run setup`, with PyTorch: node scripts/setup-torch.mjs):
//   node tests/trajectories/make-fixtures.mjs
// 1. the tiny random checkpoints of cases.json (make_checkpoint.py, torch's seeded generator);
// 2. per case, the fixed batches: `fidkd parity CHECKPOINT --train-steps N --seed S ARGS --out x` → x.batches.json
//    copied to fixtures/<case>/batches.json;
// 3. per case, the PyTorch trajectory: `torch_reference.py CHECKPOINT --train-steps N --batches ... --out
//    fixtures/<case>/reference.json`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTorch } from '../../scripts/setup-torch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const spec = JSON.parse(readFileSync(join(here, 'cases.json'), 'utf8'));
const { python } = ensureTorch();
const run = (cmd, args) => {
  console.error(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
};
const only = process.argv.slice(2);
for (const [dir, args] of Object.entries(spec.checkpoints)) {
  if (only.length === 0) run(python, [join(here, 'make_checkpoint.py'), dir, ...args]);
}
const scratch = mkdtempSync(join(tmpdir(), 'fidkd-trajectory-fixtures-'));
try {
  for (const c of spec.cases) {
    if (only.length && !only.includes(c.name)) continue;
    const out = join(here, 'fixtures', c.name);
    mkdirSync(out, { recursive: true });
    const tmp = join(scratch, `${c.name}.json`);
    run(process.execPath, [join(root, 'apps', 'reproduce', 'bin', 'fidkd.js'), 'parity', c.checkpoint, '--train-steps', String(spec.train_steps), '--seed', String(c.seed), ...c.args, '--out', tmp]);
    copyFileSync(`${tmp}.batches.json`, join(out, 'batches.json'));
    run(python, [join(here, 'torch_reference.py'), c.checkpoint, '--train-steps', String(spec.train_steps), '--batches', join(out, 'batches.json'), '--out', join(out, 'reference.json')]);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
