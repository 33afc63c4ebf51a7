import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTrainingCheckpoint, saveTrainingCheckpoint, type SaveStage } from '../index.js';
import { buildCoreForChild } from './__tests__/child-build.js';

const resumeChild = fileURLToPath(new URL('./__tests__/resume-child.mjs', import.meta.url));
const saveChild = fileURLToPath(new URL('./__tests__/save-child.mjs', import.meta.url));

let core: { index: string; cleanup: () => void };
let dir: string;

beforeAll(async () => {
  core = await buildCoreForChild();
});
afterAll(() => core?.cleanup());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-resume-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function node(script: string, ...args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [script, core.index, ...args], { encoding: 'utf8', timeout: 60_000 });
}

function run(script: string, ...args: string[]): void {
  const r = node(script, ...args);
  if (r.status !== 0) throw new Error(`child ${args[0]} exited ${r.status} ${r.signal}:\n${r.stderr}`);
}

const N = 8;
const K = 3;

test('N steps straight = k steps + save + load in a fresh process + N-k steps, bit for bit', () => {
  const straight = join(dir, 'straight.json');
  const resumed = join(dir, 'resumed.json');
  const fresh = join(dir, 'fresh.json');
  const ckpt = join(dir, 'ckpt');
  run(resumeChild, 'straight', String(N), straight);
  run(resumeChild, 'part1', String(K), String(N), ckpt);
  expect(readdirSync(ckpt).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
  const saved = loadTrainingCheckpoint(ckpt);
  expect(saved.step).toBe(K);
  expect(saved.optimizerStep).toBe(K);
  expect([...saved.optimizerState.keys()].sort()).toEqual([
    'exp_avg.linear.bias', 'exp_avg.linear.weight', 'exp_avg_sq.linear.bias', 'exp_avg_sq.linear.weight',
  ]);
  run(resumeChild, 'part2', String(N), ckpt, resumed);
  const a = JSON.parse(readFileSync(straight, 'utf8')) as Record<string, number[]>;
  const b = JSON.parse(readFileSync(resumed, 'utf8')) as Record<string, number[]>;
  expect(Object.keys(a).sort()).toEqual(['linear.bias', 'linear.weight']);
  expect(b).toEqual(a); // float32 bit patterns
  // the comparison has teeth: dropping the optimizer moments on resume changes the weights
  run(resumeChild, 'part2', String(N), ckpt, fresh, 'fresh-optimizer');
  expect(JSON.parse(readFileSync(fresh, 'utf8'))).not.toEqual(a);
  // and the checkpoint's weights (after k steps) are not the final ones
  expect(Array.from(new Uint32Array(Float32Array.from(saved.weights.get('linear.bias')!.data as Float32Array).buffer))).not.toEqual(a['linear.bias']);
});

function savePlain(target: string, value: number): void {
  saveTrainingCheckpoint(target, {
    weights: new Map([['w', { dtype: 'F32', shape: [1], data: Float32Array.of(value) }]]),
    config: { value },
    optimizer: new Map(),
    step: value,
  });
}

function valueOf(target: string): number {
  const c = loadTrainingCheckpoint(target);
  expect(c.config['value']).toBe(c.step);
  return (c.weights.get('w')!.data as Float32Array)[0]!;
}

test.each<[SaveStage, number]>([
  ['weights-written', 1],
  ['temp-complete', 1],
  ['old-moved-aside', 1],
  ['new-moved-in', 2],
])('a save killed at %s leaves a readable checkpoint (value %d); the next save cleans up', (stage, expected) => {
  const target = join(dir, 'ckpt');
  savePlain(target, 1);
  const r = node(saveChild, target, '2', stage);
  expect(r.signal).toBe('SIGKILL');
  expect(valueOf(target)).toBe(expected);
  // killed between the two renames, only <dir>.previous is complete and load falls back to it
  expect(loadTrainingCheckpoint(target).dir.endsWith('.previous')).toBe(stage === 'old-moved-aside');
  savePlain(target, 3);
  expect(valueOf(target)).toBe(3);
  expect(readdirSync(dir)).toEqual(['ckpt']); // no .partial-* of the dead writer, no .previous
});

test('a completed save replaces the old checkpoint; load errors name the file', () => {
  const target = join(dir, 'ckpt');
  savePlain(target, 1);
  savePlain(target, 2);
  expect(valueOf(target)).toBe(2);
  expect(existsSync(`${target}.previous`)).toBe(false);
  expect(() => loadTrainingCheckpoint(join(dir, 'missing'))).toThrow(/missing: no such checkpoint directory/);
  rmSync(join(target, 'trainer_state.json'));
  expect(() => loadTrainingCheckpoint(target)).toThrow(/trainer_state\.json: cannot read/);
});
