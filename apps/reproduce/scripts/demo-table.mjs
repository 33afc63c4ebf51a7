#!/usr/bin/env node
// Measures the README's demo table: `fidkd demo` over seeds × losses, then one markdown table of R@1/5/20 after
// the last iteration next to BM25, the shuffled-teacher control and the has_answer baseline, the teacher's gold@1
// and the reader's EM, with wall times.
// Usage: node apps/reproduce/scripts/demo-table.mjs [--seeds 11,12,13] [--losses kl,mse,margin] [--out runs/demo-table] [-- extra demo flags]
// Runs of one seed share a run directory, so the world, tokenizer, BM25 and the readers are computed once per
// seed and only the retriever stages rerun per loss (results-<loss>.json is kept for each).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const extraAt = args.indexOf('--');
const extra = extraAt >= 0 ? args.slice(extraAt + 1) : [];
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && (extraAt < 0 || i < extraAt) ? args[i + 1] : def;
};
const seeds = opt('seeds', '11,12,13').split(',').map(Number);
const losses = opt('losses', 'kl,mse,margin').split(',');
const out = opt('out', 'runs/demo-table');
const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(app, 'bin', 'fidkd.js');
if (!existsSync(join(app, 'dist', 'cli.js'))) {
  console.error(`${join(app, 'dist', 'cli.js')} not found: build the app first (npx turbo run build --filter=@fidkd/reproduce...)`);
  process.exit(2);
}
const pct = (x) => (x === undefined || x === null ? '—' : (100 * x).toFixed(1));
const rows = [];
for (const seed of seeds) {
  for (const loss of losses) {
    const dir = join(out, `seed-${seed}`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cli, 'demo', '--seed', String(seed), '--loss', loss, '--out', dir, '--quiet', ...extra], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`demo seed ${seed} loss ${loss} failed (status ${r.status})`);
      process.exit(1);
    }
    copyFileSync(join(dir, 'results.json'), join(dir, `results-${loss}.json`));
    const res = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    rows.push({ seed, loss, res, minutes: (Date.now() - t0) / 60000 });
  }
}
const lines = [
  '| seed | loss | BM25 R@1/5/20 | distilled R@1/5/20 (last iteration) | shuffled teacher R@1/5/20 | has_answer R@1/5/20 | R@5 − BM25 / − shuffled / − has_answer | teacher gold@1 | reader EM (last) | wall min |',
  '|---|---|---|---|---|---|---|---:|---:|---:|',
];
for (const { seed, loss, res, minutes } of rows) {
  const first = res.iterations[0];
  const last = res.iterations[res.iterations.length - 1];
  const b = res.baselines.has_answer?.recall;
  const sh = res.baselines.shuffled_teacher?.recall;
  const f = (r) => (r ? `${pct(r['1'])} / ${pct(r['5'])} / ${pct(r['20'])}` : '—');
  const gain = (r) => (r ? (100 * (last.recall['5'] - r['5'])).toFixed(1) : '—');
  lines.push(`| ${seed} | ${loss} | ${f(first.recall)} | ${f(last.recall)} | ${f(sh)} | ${f(b)} | ${gain(first.recall)} / ${gain(sh)} / ${gain(b)} | ${pct(last.teacher?.gold_at_1)} | ${pct(last.reader_em)} | ${minutes.toFixed(1)} |`);
}
const table = lines.join('\n');
writeFileSync(join(out, 'table.md'), table + '\n');
console.log(table);
