import { planPipeline } from '../pipeline.js';
import { toyConfig, toyStages } from '../__tests__/toy-stages.js';
import { jobIdOf, planJobs, type PlanStage } from './job-plan.js';

const data = { passages: '/data/p.tsv', train: '/data/train.json', dev: '/data/dev.json', test: '/data/test.json' };

test('the shards of a stage form one array job; dependencies come from the inputs; jobs are in dependency order', () => {
  const c = toyConfig(data as never);
  c.iterations = 1;
  c.baseline = { has_answer: false };
  c.retrieve.num_shards = 3;
  const plan = planPipeline(c, '/run', toyStages());
  const jobs = planJobs(plan.map((p) => p.definition), '/run');
  const byId = Object.fromEntries(jobs.map((j) => [j.id, j]));
  expect(jobs.map((j) => j.id)).toEqual([
    'iter-0/train-reader', 'iter-0/score', 'iter-0/train-retriever', 'iter-0/embed-shards', 'iter-0/index',
    'iter-0/retrieve-shards', 'iter-0/retrieve', 'iter-0/evaluate', 'iter-1/train-reader', 'iter-1/evaluate',
  ]);
  expect(byId['iter-0/embed-shards']).toMatchObject({ array: true, keys: ['iter-0/embed-0-of-2', 'iter-0/embed-1-of-2'], after: ['iter-0/train-retriever'] });
  expect(byId['iter-0/index']!.after).toEqual(['iter-0/embed-shards']);
  expect(byId['iter-0/retrieve-shards']).toMatchObject({ array: true, keys: ['iter-0/retrieve-0-of-3', 'iter-0/retrieve-1-of-3', 'iter-0/retrieve-2-of-3'] });
  expect(new Set(byId['iter-0/retrieve-shards']!.after)).toEqual(new Set(['iter-0/train-retriever', 'iter-0/index']));
  // the merge is a job of its own after the shards; iteration 1 reads the merged files
  expect(byId['iter-0/retrieve']).toMatchObject({ array: false, keys: ['iter-0/retrieve'], after: ['iter-0/retrieve-shards'] });
  expect(byId['iter-1/train-reader']!.after).toEqual(['iter-0/retrieve']);
  expect(byId['iter-0/evaluate']!.after).toEqual(['iter-0/train-reader']);
  // data files outside the run make no dependency
  expect(byId['iter-0/train-reader']!.after).toEqual([]);
});

test('a group runs its stages in order as one job, and a plan that reads a later stage is refused', () => {
  const stages: PlanStage[] = [
    { stage: 'world', iteration: 'prepare', key: 'prepare/world', inputs: {} },
    { stage: 'bm25', iteration: 'prepare', key: 'prepare/bm25', inputs: { w: '/run/prepare/world/passages.tsv' } },
    { stage: 'train', iteration: 0, key: 'iter-0/train', inputs: { d: '/run/prepare/bm25/train.json' } },
  ];
  const jobs = planJobs(stages, '/run', { group: (s) => (s.iteration === 'prepare' ? 'prepare' : undefined) });
  expect(jobs).toEqual([
    { id: 'prepare', keys: ['prepare/world', 'prepare/bm25'], array: false, after: [] },
    { id: 'iter-0/train', keys: ['iter-0/train'], array: false, after: ['prepare'] },
  ]);
  expect(() => planJobs([stages[2]!, stages[0]!, stages[1]!], '/run')).toThrow(/iter-0\/train reads the output of prepare\/bm25, which comes later/);
  expect(jobIdOf('iter-2/embed-10-of-12')).toBe('iter-2/embed-shards');
  // a path that merely starts like a stage directory is not its output
  expect(planJobs([stages[0]!, { stage: 'x', iteration: 0, key: 'x', inputs: { a: '/run/prepare/world-old/f' } }], '/run')[1]!.after).toEqual([]);
});
