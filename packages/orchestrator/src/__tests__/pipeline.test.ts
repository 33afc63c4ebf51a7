import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StageRunner, verifyRun } from '../runner/stage-runner.js';
import { MetricsLog } from '../runner/metrics-log.js';
import type { OrchestratorEvent } from '../runner/events.js';
import { planPipeline, runPipeline, STAGE_NAMES } from '../pipeline.js';
import { toyConfig, toyStages, writeToyWorld } from './toy-stages.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let tmp: string;
let data: ReturnType<typeof writeToyWorld>;
let reference: { iterations: unknown; baseline: unknown };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fidkd-orch-'));
  data = writeToyWorld(join(tmp, 'world'), 3);
  writeFileSync(join(tmp, 'world', 'data.json'), JSON.stringify(data));
  const runner = new StageRunner({ runDir: join(tmp, 'reference') });
  const r = await runPipeline(runner, toyConfig(data), toyStages());
  reference = { iterations: r.iterations, baseline: r.baseline };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function allLeftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      if (/\.(tmp|old)-/.test(n.name) || n.name.endsWith('.ckpt')) out.push(join(d, n.name));
      if (n.isDirectory()) walk(join(d, n.name));
    }
  };
  walk(dir);
  return out;
}

test('the plan has the seven stages per iteration, the final reader, and the has_answer baseline', () => {
  const plan = planPipeline(toyConfig(data), '/run', toyStages());
  const keys = plan.map((p) => p.definition.key);
  expect(keys.slice(0, 8)).toEqual([
    'iter-0/train-reader', 'iter-0/score', 'iter-0/train-retriever', 'iter-0/embed-0-of-2', 'iter-0/embed-1-of-2',
    'iter-0/index', 'iter-0/retrieve', 'iter-0/evaluate',
  ]);
  expect(keys).toContain('iter-2/train-reader');
  expect(keys).not.toContain('iter-2/score');
  expect(keys.filter((k) => k.startsWith('baseline-has_answer/'))).toEqual([
    'baseline-has_answer/train-retriever', 'baseline-has_answer/embed-0-of-2', 'baseline-has_answer/embed-1-of-2',
    'baseline-has_answer/index', 'baseline-has_answer/retrieve', 'baseline-has_answer/evaluate',
  ]);
  // iteration 1 reads Dᵗ from iteration 0's retrieve stage
  const r1 = plan.find((p) => p.definition.key === 'iter-1/train-reader')!;
  expect(r1.definition.inputs.train).toBe('/run/iter-0/retrieve/train.json');
  expect(new Set(plan.map((p) => p.name))).toEqual(new Set(STAGE_NAMES));
});

test('teacher-control baselines: iteration 0\'s retriever training (same init, loss, seed) on shuffled or oracle scores', () => {
  const c = toyConfig(data);
  c.baseline = { has_answer: false, shuffled_teacher: true, oracle_teacher: true };
  const plan = planPipeline(c, '/run', toyStages());
  const keys = plan.map((p) => p.definition.key);
  for (const b of ['shuffled_teacher', 'oracle_teacher']) {
    expect(keys.filter((k) => k.startsWith(`baseline-${b}/`))).toEqual([
      `baseline-${b}/train-retriever`, `baseline-${b}/embed-0-of-2`, `baseline-${b}/embed-1-of-2`,
      `baseline-${b}/index`, `baseline-${b}/retrieve`, `baseline-${b}/evaluate`,
    ]);
  }
  expect(keys.some((k) => k.startsWith('baseline-has_answer/'))).toBe(false);
  const it0 = plan.find((p) => p.definition.key === 'iter-0/train-retriever')!.definition;
  const sh = plan.find((p) => p.definition.key === 'baseline-shuffled_teacher/train-retriever')!.definition;
  const or = plan.find((p) => p.definition.key === 'baseline-oracle_teacher/train-retriever')!.definition;
  expect(sh.inputs).toEqual(it0.inputs);
  expect(sh.inputs.train).toBe('/run/iter-0/score/train.json');
  expect(sh.config).toEqual({ ...it0.config, teacher_control: 'shuffled' });
  expect(or.config).toEqual({ ...it0.config, teacher_control: 'oracle' });
  // dev (the teacher's gold@1) reaches the score stage
  expect(plan.find((p) => p.definition.key === 'iter-0/score')!.definition.inputs.dev).toBe(c.data.dev);
  // without an iteration there is no teacher to control
  expect(planPipeline({ ...c, iterations: 0 }, '/run', toyStages()).some((p) => p.definition.key.startsWith('baseline-'))).toBe(false);
});

test('a rerun skips every stage; a config change reruns only the stages it reaches', async () => {
  const runDir = join(tmp, 'reference');
  const events: OrchestratorEvent[] = [];
  const runner = new StageRunner({ runDir, listeners: [(e) => events.push(e)] });
  const r = await runPipeline(runner, toyConfig(data), toyStages());
  expect({ iterations: r.iterations, baseline: r.baseline }).toEqual(reference);
  expect(events.filter((e) => e.type === 'stage-start')).toHaveLength(0);
  expect(events.filter((e) => e.type === 'stage-skip').length).toBe(planPipeline(toyConfig(data), runDir, toyStages()).length);

  const changed = toyConfig(data);
  changed.evaluate.k = [1, 2];
  events.length = 0;
  const r2 = await runPipeline(runner, changed, toyStages());
  const started = events.filter((e) => e.type === 'stage-start').map((e) => (e as { key: string }).key);
  expect(started.every((k) => k.endsWith('/evaluate'))).toBe(true);
  expect(started.length).toBe(4);
  expect(Object.keys(r2.iterations[0]!.metrics)).toContain('dev.recall@2');
  expect(verifyRun(runDir)).toEqual([]);
});

test('a stage that throws leaves no output directory and no manifest', async () => {
  const runDir = join(tmp, 'failing');
  const runner = new StageRunner({ runDir });
  await expect(
    runner.run({ stage: 'x', iteration: 0, key: 'iter-0/x', config: {}, inputs: {}, run: async (ctx) => {
      writeFileSync(join(ctx.outDir, 'half.bin'), 'partial');
      throw new Error('boom');
    } }),
  ).rejects.toThrow('boom');
  expect(existsSync(join(runDir, 'iter-0', 'x'))).toBe(false);
  expect(allLeftovers(runDir).filter((p) => !p.endsWith('.ckpt'))).toEqual([]);
});

test('a done stage whose mid-stage checkpoint outlived it (killed between manifest and cleanup) is skipped and cleaned', async () => {
  const runDir = join(tmp, 'late-kill');
  const def = { stage: 'x', iteration: 0, key: 'iter-0/x', config: {}, inputs: {}, run: async (ctx: { outDir: string }) => {
    writeFileSync(join(ctx.outDir, 'out.txt'), 'done');
  } };
  await new StageRunner({ runDir }).run(def);
  // what a SIGKILL right after the manifest was written leaves: the checkpoint dir and a temp sibling
  mkdirSync(join(runDir, 'iter-0', 'x.ckpt'), { recursive: true });
  writeFileSync(join(runDir, 'iter-0', 'x.ckpt', 'state.bin'), 'mid-stage');
  mkdirSync(join(runDir, 'iter-0', 'x.tmp-99999-abc'), { recursive: true });
  const events: OrchestratorEvent[] = [];
  const outcome = await new StageRunner({ runDir, listeners: [(e) => events.push(e)] }).run(def);
  expect(outcome.skipped).toBe(true);
  expect(events.map((e) => e.type)).toEqual(['stage-clean', 'stage-skip']);
  expect(allLeftovers(runDir)).toEqual([]);
  expect(verifyRun(runDir)).toEqual([]);
});

interface ChildRun { events: Array<OrchestratorEvent | { type: 'result'; iterations: unknown; baseline: unknown }>; code: number | null; signal: string | null; killedInside?: boolean }

/** Runs the toy pipeline in a child process; SIGKILLs it inside stage `killAt` (after a checkpoint for training). */
export function runChild(runDir: string, killAt?: string, afterCheckpoint = false, script = 'toy-run.ts', args: string[] = [join(tmp, 'world')]): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', join(here, 'register-ts.mjs'), join(here, script), runDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const run: ChildRun = { events: [], code: null, signal: null };
    let buf = '';
    let stderr = '';
    let inside = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue; // tfjs banners
        const e = JSON.parse(line) as ChildRun['events'][number];
        run.events.push(e);
        const key = (e as { key?: string }).key;
        if (killAt && key === killAt) {
          if (e.type === 'stage-start') inside = true;
          if (e.type === 'stage-end') inside = false;
          const trigger = afterCheckpoint ? e.type === 'checkpoint' : e.type === 'stage-start';
          if (trigger && inside && run.killedInside === undefined) {
            run.killedInside = true;
            setTimeout(() => child.kill('SIGKILL'), afterCheckpoint ? 0 : Math.floor(Math.random() * 15));
          }
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      run.code = code;
      run.signal = signal;
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`toy run failed (${code}): ${stderr}`));
      else resolve(run);
    });
  });
}

test('SIGKILL inside every stage, then resume: same final metrics, no corrupted or leftover file', async () => {
  const runDir = join(tmp, 'killed');
  const targets: Array<[string, boolean]> = [
    ['iter-0/train-reader', true], ['iter-0/score', false], ['iter-0/train-retriever', true],
    ['iter-0/embed-0-of-2', false], ['iter-0/embed-1-of-2', false], ['iter-0/index', false], ['iter-0/retrieve', false],
    ['iter-0/evaluate', false], ['iter-1/train-reader', false], ['iter-1/train-retriever', true],
    ['baseline-has_answer/train-retriever', false], ['baseline-has_answer/retrieve', false],
  ];
  let sawClean = 0;
  let sawResume = 0;
  for (const [key, afterCheckpoint] of targets) {
    const r = await runChild(runDir, key, afterCheckpoint);
    expect(r.signal).toBe('SIGKILL');
    expect(r.killedInside).toBe(true);
    if (r.events.some((e) => e.type === 'stage-clean')) sawClean++;
    if (r.events.some((e) => e.type === 'log' && /resuming from step/.test(e.message))) sawResume++;
  }
  const final = await runChild(runDir);
  expect(final.code).toBe(0);
  const result = final.events.find((e) => e.type === 'result') as { iterations: unknown; baseline: unknown };
  expect({ iterations: result.iterations, baseline: result.baseline }).toEqual(reference);
  // every kill left a temp dir that a later run cleaned; training resumed from its checkpoints
  expect(sawClean + (final.events.some((e) => e.type === 'stage-clean') ? 1 : 0)).toBeGreaterThanOrEqual(targets.length - 1);
  expect(sawResume).toBeGreaterThanOrEqual(2);
  expect(verifyRun(runDir)).toEqual([]);
  expect(allLeftovers(runDir)).toEqual([]);
  expect(() => MetricsLog.read(join(runDir, 'metrics.jsonl'))).not.toThrow();
}, 120000);

test('real stages (tiny T5 / BERT, faiss, synthetic world): SIGKILL inside each stage, resume, identical metrics', async () => {
  const ref = await runChild(join(tmp, 'real-reference'), undefined, false, 'real-run.ts', []);
  expect(ref.code).toBe(0);
  const expected = ref.events.find((e) => e.type === 'result') as { iterations: unknown; baseline: unknown };
  const runDir = join(tmp, 'real-killed');
  const targets: Array<[string, boolean]> = [
    ['iter-0/train-reader', true], ['iter-0/score', false], ['iter-0/train-retriever', true], ['iter-0/embed-1-of-2', false],
    ['iter-0/index', false], ['iter-0/retrieve', false], ['iter-0/evaluate', false],
  ];
  let resumed = 0;
  for (const [key, afterCheckpoint] of targets) {
    const r = await runChild(runDir, key, afterCheckpoint, 'real-run.ts', []);
    expect({ key, signal: r.signal, inside: r.killedInside }).toEqual({ key, signal: 'SIGKILL', inside: true });
    if (r.events.some((e) => e.type === 'log' && /resuming from step/.test(e.message))) resumed++;
  }
  const final = await runChild(runDir, undefined, false, 'real-run.ts', []);
  expect(final.code).toBe(0);
  if (final.events.some((e) => e.type === 'log' && /resuming from step/.test(e.message))) resumed++;
  const got = final.events.find((e) => e.type === 'result') as { iterations: unknown; baseline: unknown };
  expect(got).toEqual(expected);
  expect(resumed).toBeGreaterThanOrEqual(2); // both training stages continued from their mid-stage checkpoints
  expect(verifyRun(runDir)).toEqual([]);
  expect(allLeftovers(runDir)).toEqual([]);
}, 600000);
