// Locks across nodes: a lock's pid means something only on its own host; elsewhere the Slurm job it was taken in
// (or the jobs a detached run submitted) says whether it is live. squeue is faked by a script on PATH.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, holderAlive, RunLockedError, updateLock } from './lock.js';
import { currentSlurmJob, slurmJobsActive } from './slurm-jobs.js';

let dir: string;
const path0 = process.env.PATH;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fidkd-lock-slurm-'));
  // a fake squeue: job 77 and array task 80_3 are running, every other id is unknown to Slurm
  writeFileSync(join(dir, 'squeue'), `#!/bin/sh
ids=$(echo "$@" | sed 's/.*-j //')
out=""
for id in $(echo "$ids" | tr ',' ' '); do case "$id" in 77|80_3) out="$out$id|RUNNING\\n";; esac; done
if [ -z "$out" ]; then echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1; fi
printf "$out"
`);
  chmodSync(join(dir, 'squeue'), 0o755);
  process.env.PATH = `${dir}:${path0}`;
});
afterAll(() => {
  process.env.PATH = path0;
  rmSync(dir, { recursive: true, force: true });
});

const holder = (extra: Record<string, unknown>) => ({ pid: 999999, host: 'node-17', startedAt: 'x', command: 'fidkd worker', ...extra });

test('squeue decides: running jobs are active, finished or unknown ones are not, no squeue means unknown', () => {
  expect(slurmJobsActive(['77'])).toBe(true);
  expect(slurmJobsActive(['12', '80_3'])).toBe(true);
  expect(slurmJobsActive(['12', '80_2'])).toBe(false);
  expect(slurmJobsActive([])).toBe(false);
  process.env.PATH = '/nonexistent';
  try {
    expect(slurmJobsActive(['77'])).toBeUndefined();
    // when Slurm cannot be asked, a lock from another node stays respected
    expect(holderAlive(holder({ slurm_job: '12' }))).toBe(true);
  } finally {
    process.env.PATH = `${dir}:${path0}`;
  }
  expect(currentSlurmJob({ SLURM_JOB_ID: '81', SLURM_ARRAY_JOB_ID: '80', SLURM_ARRAY_TASK_ID: '3' })).toBe('80_3');
  expect(currentSlurmJob({ SLURM_JOB_ID: '77' })).toBe('77');
  expect(currentSlurmJob({})).toBeUndefined();
});

test('a lock from another node is live while its Slurm job runs and stale once Slurm has ended it', () => {
  expect(holderAlive(holder({ slurm_job: '80_3' }))).toBe(true);
  expect(holderAlive(holder({ slurm_job: '80_2' }))).toBe(false);
  expect(holderAlive(holder({}))).toBe(true); // another host, no Slurm job: respected as before
  expect(holderAlive(holder({ detached: true, jobs: ['12', '77'] }))).toBe(true);
  expect(holderAlive(holder({ detached: true, jobs: ['12', '13'] }))).toBe(false);
  // on this host: the pid, or jobs still queued
  expect(holderAlive({ ...holder({ jobs: ['77'] }), host: hostname() })).toBe(true);
  expect(holderAlive({ ...holder({ jobs: ['12'] }), host: hostname() })).toBe(false);

  const stale = join(dir, 'stage.lock');
  writeFileSync(stale, JSON.stringify(holder({ slurm_job: '80_2' })));
  const release = acquireLock(stale); // taken over
  release();
  writeFileSync(stale, JSON.stringify(holder({ slurm_job: '77' })));
  expect(() => acquireLock(stale)).toThrow(RunLockedError);
  expect(() => acquireLock(stale)).toThrow(/in use by process 999999 on node-17 .* in Slurm job 77/);
  rmSync(stale);
});

test('a detached submission keeps the run lock after its driver exits, naming its jobs', () => {
  const file = join(dir, 'run.lock');
  const release = acquireLock(file);
  expect(updateLock(file, { jobs: ['77', '78'], detached: true })).toBe(true);
  release();
  // still there: its jobs hold the run; another process is refused while job 77 runs
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), pid: 999999 }));
  expect(() => acquireLock(file)).toThrow(/in use by Slurm job\(s\) 77, 78 submitted by process 999999/);
  writeFileSync(file, JSON.stringify(holder({ host: hostname(), jobs: ['12'], detached: true })));
  acquireLock(file)(); // all its jobs ended: taken over
  expect(updateLock(file, { jobs: ['1'] })).toBe(false); // not ours
});
