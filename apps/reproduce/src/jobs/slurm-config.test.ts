// The `slurm` section: a file's values with `--set slurm.…` over them, every problem named at once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../__tests__/run-cli.js';
import { resolveSlurmConfig, resourcesOf } from './slurm-config.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fidkd-slurm-config-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (slurm: unknown): string => {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify({ seed: 1, slurm }));
  return f;
};

test('--set adds a resource to a kind of job the file already sets, and overrides one it sets', () => {
  const f = file({ cpus: 4, stages: { embed: { gres: 'gpu:1' } } });
  const { slurm, rest } = resolveSlurmConfig(f, ['slurm.stages.embed.mem=64G', 'slurm.stages.embed.gres=gpu:2', 'slurm.stages.index.cpus=16', 'reader.lr=1']);
  expect(resourcesOf(slurm, 'embed')).toEqual({ cpus: 4, gres: 'gpu:2', mem: '64G' });
  expect(resourcesOf(slurm, 'index')).toEqual({ cpus: 16 });
  expect(rest).toEqual(['reader.lr=1']);
});

test('a key that is no resource is refused, in a kind of job or at the top of the section', () => {
  const f = file({ stages: { embed: { gres: 'gpu:1' } } });
  expect(() => resolveSlurmConfig(f, ['slurm.stages.embed.memory=64G'])).toThrow(/slurm\.stages\.embed\.memory: unknown key/);
  expect(() => resolveSlurmConfig(f, ['slurm.embed.mem=64G'])).toThrow(/slurm\.embed: unknown key/);
  expect(() => resolveSlurmConfig(file({ embed: { mem: '8G' } }), [])).toThrow(/slurm\.embed: unknown key/);
});

test('the shipped NQ and TriviaQA configs carry a valid section: GPUs for the model stages, the index memory for index and retrieve', () => {
  for (const name of ['nq-base.json', 'tqa-base.json']) {
    const { slurm } = resolveSlurmConfig(join(ROOT, 'apps', 'reproduce', 'configs', name), []);
    for (const kind of ['train-reader', 'score', 'train-retriever', 'embed']) expect([name, kind, resourcesOf(slurm, kind).gres]).toEqual([name, kind, 'gpu:1']);
    expect(resourcesOf(slurm, 'retrieve').mem).toBe('300G');
  }
});
