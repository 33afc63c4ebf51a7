// `--executor slurm` on a real one-node Slurm cluster started by this suite (__tests__/slurm-cluster.ts): a tiny
// reproduce gives the results of a run in one process, byte for byte; a cancelled embedding task is reported
// (stage, shard, Slurm job, log) and the same command resubmits only what is missing; `fidkd status` tells what
// runs, what is done and what failed; locks hold across nodes through Slurm; no sbatch is exit 2.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInputError, referenceRun, runCli, shown, TINY_DEMO, type CliRun } from './__tests__/run-cli.js';
import { startSlurmCluster, type SlurmCluster } from './__tests__/slurm-cluster.js';

let cluster: SlurmCluster;
let dir: string;
let ref: string;
let config: string;
let local: string;

beforeAll(async () => {
  cluster = await startSlurmCluster();
  ({ dir, ref } = await referenceRun('fidkd-slurm-'));
  // a reproduce config over the reference demo's world: embedding and retrieval in two shards each
  const tiny = JSON.parse(readFileSync(TINY_DEMO, 'utf8')) as { pipeline: Record<string, Record<string, unknown>> };
  const p = tiny.pipeline;
  config = join(dir, 'tiny-slurm.json');
  writeFileSync(config, JSON.stringify({
    name: 'tiny-slurm', seed: 3, ...p,
    data: {
      passages: join(ref, 'prepare/world/passages.tsv'), train: join(ref, 'prepare/bm25/train.json'),
      dev: join(ref, 'prepare/bm25/dev.json'), test: join(ref, 'prepare/bm25/test.json'),
    },
    tokenizer: { reader: join(ref, 'prepare/tokenizer/tokenizer.json'), retriever: join(ref, 'prepare/tokenizer/tokenizer.json') },
    reader: { ...p.reader, init: undefined, accumulation_steps: 1 },
    // the pretrained retriever's config.json defines the model: a model beside the init is refused (issue 20)
    retriever: { ...p.retriever, model: undefined, indexing_dimension: 0, scheduler_steps: 6, init: join(ref, 'prepare/pretrain-retriever') },
    retrieve: { ...p.retrieve, num_shards: 2 },
    baseline: { has_answer: true },
    slurm: { poll_seconds: 0.5, cpus: 1, mem: '2G', time: '00:30:00', stages: { 'retrieve-merge': { cpus: 1, mem: '1G' } } },
  }));
  local = join(dir, 'local');
  const r = await runCli(['reproduce', '--config', config, '--run-dir', local, '--backend', 'cpu']);
  if (r.code !== 0) throw new Error(`the one-process reference failed: ${shown(r)}`);
}, 900000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60000);

const slurmRun = (runDir: string, ...extra: string[]): Promise<CliRun> =>
  runCli(['reproduce', '--config', config, '--run-dir', runDir, '--backend', 'cpu', '--executor', 'slurm', ...extra], { env: cluster.env });
const status = (runDir: string): Promise<CliRun> => runCli(['status', runDir], { env: cluster.env });
const same = (a: string, b: string, file: string): boolean => readFileSync(join(a, file)).equals(readFileSync(join(b, file)));
const ok = (r: CliRun) => ({ code: r.code, err: r.code === 0 ? '' : shown(r) });

test('reproduce --executor slurm: stages as dependent jobs, shards as arrays, progress shown; results.json byte-identical to one process', async () => {
  const out = join(dir, 'slurm');
  const r = await slurmRun(out);
  expect(ok(r)).toEqual({ code: 0, err: '' });
  expect(r.stderr).toMatch(/submitted iter-0\/train-reader as Slurm job \d+\n/);
  expect(r.stderr).toMatch(/submitted iter-0\/embed-shards \(tasks 0, 1 of 2\) as Slurm job \d+, after iter-0\/train-retriever/);
  expect(r.stderr).toMatch(/submitted iter-0\/retrieve as Slurm job \d+, after iter-0\/retrieve-shards/);
  expect(r.stderr).toMatch(/▶ iter-0\/embed-1-of-2 \(Slurm job \d+_1/);
  expect(r.stderr).toMatch(/✓ iter-0\/train-reader \d+\.\d s {2}train_loss=/);
  expect(r.stdout).toMatch(/final iteration 1:/);
  expect(same(out, local, 'results.json')).toBe(true);
  for (const f of ['train.json', 'dev.json', 'test.json']) expect([f, same(out, local, `iter-0/retrieve/${f}`)]).toEqual([f, true]);
  // one job script per job, with the config's resources
  const script = readFileSync(join(out, 'jobs', 'scripts', 'iter-0.embed-shards.sh'), 'utf8');
  expect(script).toMatch(/#SBATCH --cpus-per-task=1\n#SBATCH --mem=2G\n#SBATCH --time=00:30:00/);
  expect(readFileSync(join(out, 'jobs', 'scripts', 'iter-0.retrieve.sh'), 'utf8')).toMatch(/#SBATCH --mem=1G/);
  expect(existsSync(join(out, '.fidkd-run.lock'))).toBe(false);
  const s = await status(out);
  expect(s.code).toBe(0);
  expect(s.stdout).toMatch(/executor slurm/);
  expect(s.stdout).toMatch(/not in use/);
  expect(s.stdout.trim().split('\n').pop()).toBe('20 done');
  // a second run has nothing to submit
  const again = await slurmRun(out);
  expect(ok(again)).toEqual({ code: 0, err: '' });
  expect(again.stderr).not.toMatch(/submitted/);
  expect(same(out, local, 'results.json')).toBe(true);
}, 600000);

test('scancel of one embedding task mid-run: reported with stage, shard, Slurm job and log (exit 1); the same command reruns only that task, detached, to the same results.json', async () => {
  const out = join(dir, 'cancelled');
  let cancelled = '';
  // the embedding tasks wait a few seconds before fidkd starts, so that one can be cancelled while it runs
  const run = slurmRun(out, '--set', 'slurm.stages={"embed":{"setup":["sleep 5"]}}');
  const deadline = Date.now() + 300_000;
  while (!cancelled && Date.now() < deadline) {
    const q = cluster.client('squeue', ['-h', '-r', '-o', '%i|%T|%j']).stdout;
    const task = q.split('\n').find((l) => /_1\|RUNNING\|fidkd:iter-0\/embed-shards$/.test(l.trim()));
    if (task) {
      cancelled = task.trim().split('|')[0]!;
      expect(cluster.client('scancel', [cancelled]).status).toBe(0);
    } else await new Promise((r) => setTimeout(r, 100));
  }
  expect(cancelled).toMatch(/^\d+_1$/);
  const r = await run;
  expect(r.code).toBe(1);
  const m = new RegExp(`iter-0/embed shard 1 of 2 \\(Slurm job ${cancelled}\\) CANCELLED[^\\n]*\\n\\s+log: (\\S+)`).exec(r.stderr);
  expect(m ? m[0] : shown(r)).toMatch(/CANCELLED/);
  expect(existsSync(m![1]!)).toBe(true);
  expect(m![1]).toBe(join(out, 'jobs', 'logs', `iter-0.embed-shards.${cancelled}.log`));
  expect(r.stderr).not.toMatch(/internal error/);
  // the other shard finished its stage; nothing downstream ran
  expect(existsSync(join(out, 'iter-0/embed-0-of-2/stage-manifest.json'))).toBe(true);
  expect(existsSync(join(out, 'iter-0/index'))).toBe(false);
  const st = await status(out);
  expect(st.stdout).toMatch(new RegExp(`^iter-0/embed-1-of-2 +failed +Slurm job ${cancelled} CANCELLED.*log: ${m![1]!.replace(/[.]/g, '\\.')}$`, 'm'));
  expect(st.stdout).toMatch(/^iter-0\/embed-0-of-2 +done/m);
  expect(st.stdout).toMatch(/^iter-0\/index +cancelled/m);
  const shard0 = statSync(join(out, 'iter-0/embed-0-of-2/stage-manifest.json')).mtimeMs;

  const again = await slurmRun(out, '--detach');
  expect(ok(again)).toEqual({ code: 0, err: '' });
  expect(again.stderr).toMatch(/✓ iter-0\/embed-0-of-2 \(done, skipped\)/);
  expect(again.stderr).toMatch(/submitted iter-0\/embed-shards \(tasks 1 of 2\) as Slurm job \d+\n/);
  expect(again.stderr).toMatch(/detached: \d+ Slurm job\(s\) run on their own/);
  // while its jobs run, the run is theirs: another run refuses, naming them; status says what runs
  const busy = await slurmRun(out);
  expect(isInputError(busy)).toBe(true);
  expect(busy.stderr).toMatch(/\.fidkd-run\.lock: in use by Slurm job\(s\) \d+/);
  const during = await status(out);
  expect(during.stdout).toMatch(/in use: Slurm job\(s\)/);
  expect(during.stdout).toMatch(/^iter-0\/(embed-1-of-2|index|retrieve\S*|evaluate|train-reader) +(running|queued) +Slurm job \d+/m);
  let last = '';
  for (const end = Date.now() + 300_000; Date.now() < end;) {
    last = (await status(out)).stdout;
    if (/not in use/.test(last) && /^\d+ done$/m.test(last)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(last.trim().split('\n').pop()).toBe('20 done');
  expect(statSync(join(out, 'iter-0/embed-0-of-2/stage-manifest.json')).mtimeMs).toBe(shard0);
  expect(same(out, local, 'results.json')).toBe(true);
  expect(existsSync(join(out, '.fidkd-run.lock'))).toBe(false);
}, 600000);

test('a stage lock taken in a Slurm job on another node holds while Slurm runs the job and is taken over once it ended', async () => {
  const out = join(dir, 'slurm');
  const job = cluster.client('sbatch', ['--parsable', '-o', '/dev/null', '--wrap', 'sleep 120']).stdout.trim();
  expect(job).toMatch(/^\d+$/);
  for (let i = 0; i < 100 && !/RUNNING/.test(cluster.client('squeue', ['-h', '-o', '%T', '-j', job]).stdout); i++) await new Promise((r) => setTimeout(r, 100));
  const lock = join(out, 'iter-0', 'score.lock');
  writeFileSync(lock, JSON.stringify({ pid: 1, host: 'node-elsewhere', startedAt: 'earlier', command: 'fidkd worker', slurm_job: job }));
  const held = await runCli(['score', '--run-dir', out, '--backend', 'cpu'], { env: cluster.env });
  expect(isInputError(held)).toBe(true);
  expect(held.stderr).toMatch(new RegExp(`score\\.lock: in use by process 1 on node-elsewhere .* in Slurm job ${job}`));
  cluster.client('scancel', [job]);
  for (let i = 0; i < 200 && cluster.client('squeue', ['-h', '-j', job]).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 100));
  const taken = await runCli(['score', '--run-dir', out, '--backend', 'cpu'], { env: cluster.env });
  expect(ok(taken)).toEqual({ code: 0, err: '' });
  expect(taken.stdout).toMatch(/already done/);
  expect(existsSync(lock)).toBe(false);
}, 120000);

test('--executor slurm without sbatch on PATH: exit 2 saying what to install, before anything is written', async () => {
  const empty = mkdtempSync(join(dir, 'no-slurm-'));
  const out = join(dir, 'no-sbatch');
  const r = await runCli(['reproduce', '--config', config, '--run-dir', out, '--backend', 'cpu', '--executor', 'slurm'], { env: { ...cluster.env, PATH: empty } });
  expect(isInputError(r)).toBe(true);
  expect(r.stderr).toMatch(/--executor slurm: sbatch, squeue, scontrol, scancel not found on PATH/);
  expect(r.stderr).toMatch(/apt-get install slurm-client/);
  expect(existsSync(out)).toBe(false);
});
