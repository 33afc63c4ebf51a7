// The PyTorch reference itself: it reproduces the oracle fixtures (Hugging Face transformers / official FiD
// outputs), and it agrees with `fidkd parity --train-steps 10` on fresh random checkpoints neither side has seen.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTorchPython, TORCH_INSTALL_HINT } from '../../../scripts/setup-torch.mjs';
import { runCli, shown } from '../../../apps/reproduce/src/__tests__/run-cli.js';
import { HERE, ROOT } from './cases.js';

const MINUTES = 60_000; // the limits below leave room for a loaded 2-core machine
let dir: string;
let python: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-torch-reference-'));
  const found = findTorchPython();
  if (!found) throw new Error(`PyTorch is not installed: \`npm test\` installs it (scripts/setup-torch.mjs), or run: ${TORCH_INSTALL_HINT}`);
  python = found.python;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function py(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(python, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the reference reproduces every field of the oracle fixtures: to 1e-12 in float64, 1e-4 in float32', () => {
  const r = py([join(HERE, 'torch_reference.py'), '--check-oracle']);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(r.stdout) as { ok: boolean; fields: number; max_scaled_error: Record<string, number> };
  expect(report.ok).toBe(true);
  expect(report.fields).toBeGreaterThan(300);
  for (const [what, err] of Object.entries(report.max_scaled_error)) {
    expect({ what, err: err <= (what.endsWith('float64') ? 1e-12 : 1e-4) }).toEqual({ what, err: true });
  }
  expect(Object.keys(report.max_scaled_error).sort()).toEqual(
    ['bert-tiny', 'bert-tiny-prefixed', 'losses', 't5-fid-official-names', 't5-relu-tied'].flatMap((f) => [`${f} float32`, `${f} float64`]).sort(),
  );
}, 10 * MINUTES);

// Dimensions, seeds and settings that appear nowhere in the fixtures.
const UNSEEN: { name: string; make: string[]; parity: string[] }[] = [
  { name: 't5-gated-tied', make: ['t5', '--gated', '--d-model', '20', '--d-kv', '7', '--heads', '2', '--d-ff', '30', '--layers', '2', '--decoder-layers', '3', '--buckets', '16', '--max-distance', '30', '--vocab', '45', '--seed', '101'], parity: ['--seed', '17', '--batch-size', '3', '--n-context', '2', '--clip', '5'] },
  { name: 't5-relu-untied', make: ['t5', '--untied', '--d-model', '16', '--d-kv', '4', '--heads', '4', '--d-ff', '24', '--layers', '1', '--vocab', '37', '--eps', '1e-5', '--seed', '102'], parity: ['--seed', '18', '--accumulation-steps', '3', '--weight-decay', '0.01', '--lr', '3e-3'] },
  { name: 'bert-proj-unmasked', make: ['bert', '--hidden', '18', '--heads', '3', '--layers', '2', '--intermediate', '30', '--vocab', '41', '--max-positions', '30', '--projection', '12', '--no-question-mask', '--seed', '103'], parity: ['--loss', 'kl', '--temperature-gold', '2', '--temperature-score', '1.5', '--in-batch-negatives', '--seed', '19'] },
  { name: 'bert-cls-margin', make: ['bert', '--hidden', '16', '--heads', '2', '--layers', '2', '--intermediate', '20', '--vocab', '33', '--max-positions', '20', '--extract-cls', '--act', 'relu', '--layout', 'fid-retriever', '--seed', '104'], parity: ['--loss', 'margin', '--gamma', '0.5', '--seed', '20', '--clip', '20'] },
  { name: 'bert-mse', make: ['bert', '--hidden', '12', '--heads', '2', '--layers', '1', '--intermediate', '24', '--vocab', '29', '--max-positions', '18', '--projection', '10', '--layout', 'bert-prefixed', '--seed', '105'], parity: ['--loss', 'mse', '--seed', '21', '--in-batch-negatives'] },
];

describe('fidkd parity --train-steps 10 and the reference agree on checkpoints neither has seen', () => {
  for (const u of UNSEEN) {
    test(u.name, async () => {
      const ck = join(dir, u.name);
      const made = py([join(HERE, 'make_checkpoint.py'), ck, ...u.make]);
      expect(made.code).toBe(0);
      const out = join(dir, `${u.name}.json`);
      const ours = await runCli(['parity', ck, '--train-steps', '10', '--out', out, ...u.parity]);
      if (ours.code !== 0) throw new Error(shown(ours));
      const ref = py([join(HERE, 'torch_reference.py'), ck, '--train-steps', '10', '--batches', `${out}.batches.json`, '--out', join(dir, `${u.name}.ref.json`)]);
      if (ref.code !== 0) throw new Error(ref.stderr);
      const cmp = await runCli(['parity-compare', out, join(dir, `${u.name}.ref.json`), '--batches', `${out}.batches.json`]);
      if (cmp.code !== 0) throw new Error(shown(cmp));
      expect(cmp.stdout).toMatch(/^agree over 10 steps/);
    }, 10 * MINUTES);
  }
});
