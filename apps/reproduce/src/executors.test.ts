// `--executor local --jobs N`: the job plan a cluster gets, run as worker processes on this machine — the same
// results as a run in one process, retrieval sharded over questions included; a failed job ends the run naming
// it, and the same command then finishes it. The executor flags and the `slurm` section are checked up front.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputError, referenceRun, runCli, shown, TINY_DEMO, tinyDemo } from './__tests__/run-cli.js';

let dir: string;
let ref: string;

beforeAll(async () => ({ dir, ref } = await referenceRun('fidkd-executors-')), 120000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const same = (a: string, b: string, file: string): boolean => readFileSync(join(a, file)).equals(readFileSync(join(b, file)));

test('demo --executor local --jobs 2 with retrieval in 2 question shards: results.json and every Dᵗ⁺¹ byte-identical to the one-process run', async () => {
  const out = join(dir, 'jobs');
  const r = await tinyDemo(out, '--executor', 'local', '--jobs', '2', '--set', 'pipeline.retrieve.num_shards=2');
  expect({ code: r.code, err: r.code === 0 ? '' : shown(r) }).toEqual({ code: 0, err: '' });
  expect(r.stderr).toMatch(/submitted iter-0\/embed-shards \(tasks 0, 1 of 2\), after iter-0\/train-retriever/);
  expect(r.stderr).toMatch(/submitted iter-0\/retrieve, after iter-0\/retrieve-shards/);
  expect(r.stderr).toMatch(/▶ iter-0\/retrieve-1-of-2 \(process \d+/);
  expect(r.stderr).toMatch(/✓ iter-0\/retrieve \d+\.\d s {2}train\.questions=24 dev\.questions=8 test\.questions=8/);
  expect(same(out, ref, 'results.json')).toBe(true);
  for (const d of ['iter-0/retrieve', 'baseline-has_answer/retrieve']) {
    for (const f of ['dev.json', 'test.json']) expect([d, f, same(out, ref, join(d, f))]).toEqual([d, f, true]);
  }
  expect(same(out, ref, 'iter-0/retrieve/train.json')).toBe(true);
  // each stage kept its metrics and a state file; the driver released the run
  expect(readFileSync(join(out, 'jobs', 'metrics', 'iter-0.train-reader.jsonl'), 'utf8')).toMatch(/"kind":"stage"/);
  expect(JSON.parse(readFileSync(join(out, 'jobs', 'state', 'iter-0.retrieve-1-of-2.json'), 'utf8'))).toMatchObject({ state: 'done', key: 'iter-0/retrieve-1-of-2' });
  expect(existsSync(join(out, '.fidkd-run.lock'))).toBe(false);
  const status = await runCli(['status', out]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^iter-0\/retrieve-1-of-2 +done +/m);
  expect(status.stdout.trim().split('\n').pop()).toMatch(/^\d+ done$/);
}, 300000);

test('a failed job ends the run with exit 1 naming the stage, the process and its log; the same command then completes it', async () => {
  const out = join(dir, 'failed');
  const bad = await tinyDemo(out, '--executor', 'local', '--jobs', '2', '--no-baseline', '--set', 'pipeline.reader.lr=1e30', '--set', 'pipeline.reader.clip=0');
  expect(bad.code).toBe(1);
  const m = /iter-0\/train-reader \(process (\d+)\) exit 2: train-reader \(iteration 0\) diverged at step \d+[^\n]*\n\s+log: (\S+)/.exec(bad.stderr);
  expect(m ? m[0] : shown(bad)).toMatch(/diverged/);
  expect(readFileSync(m![2]!, 'utf8')).toMatch(/fidkd: error: train-reader \(iteration 0\) diverged/);
  expect(bad.stderr).toMatch(/rerun the same command to run what is missing/);
  expect(bad.stderr).not.toMatch(/internal error/);
  const status = await runCli(['status', out]);
  expect(status.stdout).toMatch(new RegExp(`^iter-0/train-reader +failed +process ${m![1]} FAILED: train-reader \\(iteration 0\\) diverged`, 'm'));
  expect(status.stdout).toMatch(/^prepare\/world +done/m);
  const good = await tinyDemo(out, '--executor', 'local', '--jobs', '2', '--no-baseline');
  expect({ code: good.code, err: good.code === 0 ? '' : shown(good) }).toEqual({ code: 0, err: '' });
  expect(good.stderr).toMatch(/✓ prepare\/world \(done, skipped\)/);
  expect((await tinyDemo(join(dir, 'failed-ref'), '--no-baseline')).code).toBe(0);
  expect(same(out, join(dir, 'failed-ref'), 'results.json')).toBe(true);
}, 300000);

test('executor flags and the slurm section are checked before anything is written (exit 2, every problem at once)', async () => {
  const out = join(dir, 'flags');
  for (const [args, msg] of [
    [['--executor', 'pbs'], /--executor pbs: expected local or slurm/],
    [['--detach'], /--detach needs --executor slurm/],
    [['--jobs', '0'], /--jobs must be an integer ≥ 1/],
    [['--set', 'slurm.stages.embed.cpus=0', '--set', 'slurm.poll_seconds=-1'], /slurm\.poll_seconds must be a positive number[^]*slurm\.stages\.embed\.cpus must be an integer ≥ 1|slurm\.stages\.embed\.cpus must be an integer ≥ 1[^]*slurm\.poll_seconds/],
    [['--set', 'slurm.partiton=gpu'], /unknown key "slurm\.partiton"/],
  ] as const) {
    const r = await tinyDemo(out, ...args);
    expect([args.join(' '), isInputError(r)]).toEqual([args.join(' '), true]);
    expect(r.stderr).toMatch(msg);
  }
  // the settings' problems and the executor's come in one message: fixing one never reveals the next
  const mixed = await tinyDemo(out, '--set', 'pipeline.reader.lrr=1', '--executor', 'pbs', '--set', 'slurm.partiton=gpu', '--jobs', 'two');
  expect(isInputError(mixed)).toBe(true);
  for (const msg of [/unknown key "pipeline\.reader\.lrr"/, /--executor pbs: expected local or slurm/, /unknown key "slurm\.partiton"/, /--jobs must be an integer/, /4 problems/]) expect(mixed.stderr).toMatch(msg);
  const file = join(dir, 'slurm-bad.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(TINY_DEMO, 'utf8')), slurm: { stages: { embedd: { gres: 'gpu:1' }, index: { mem: 'lots', extra: ['qos=high'] } } } }));
  const r = await runCli(['demo', '--config', file, '--out', out, '--backend', 'cpu']);
  expect(isInputError(r)).toBe(true);
  expect(r.stderr).toMatch(/slurm\.stages\.embedd: not a kind of job/);
  expect(r.stderr).toMatch(/slurm\.stages\.index\.mem must be a memory size/);
  expect(r.stderr).toMatch(/slurm\.stages\.index\.extra must be a list of sbatch flags/);
  expect(existsSync(out)).toBe(false);
}, 120000);
