// `fidkd worker RUN_DIR --job ID [--task K]`: what every job of a run executed as jobs runs, on any node. It
// rebuilds the run's stages from the configs in the run directory, runs its task's stages (skipping those already
// done) under their stage locks, and keeps a state file per stage for the driver and `fidkd status`.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  createStages, currentSlurmJob, readPipelineResult, RUN_LOCK_FILE, StageRunner, type LockHolder, type PipelineConfig,
} from '@fidkd/orchestrator';
import { planDemo, writeDemoOutputs } from '../commands/demo.js';
import { writeReproduceOutputs } from '../commands/reproduce.js';
import { intFlag, readJsonFile } from '../config-files.js';
import type { DemoConfig } from '../demo/config.js';
import { explainMissing, selectBackend } from '../run-context.js';
import { action, UserError } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';
import { metricsFile, readPlanFile, taskKeys, type PlanFile } from './layout.js';
import { jobsBackend, loadRunStages, stageTimings } from './run-stages.js';
import { TaskStateWriter } from './task-state.js';

export function registerWorker(program: Command): void {
  program
    .command('worker', { hidden: true })
    .description('run one task of the job plan of a run directory (started by the slurm and local executors)')
    .argument('<run-dir>', 'run directory holding jobs/plan.json')
    .requiredOption('--job <id>', 'job of the plan, e.g. iter-0/embed')
    .option('--task <k>', 'task of an array job (default: $SLURM_ARRAY_TASK_ID)')
    .action(action(async (dir: string, opts: { job: string; task?: string }) => {
      const runDir = resolve(dir);
      const plan = readPlanFile(runDir);
      if (!plan) throw new UserError(`${runDir} has no jobs/plan.json: a worker runs a task of a submitted run`);
      const job = plan.jobs.find((j) => j.id === opts.job);
      if (!job) throw new UserError(`job ${opts.job} is not in ${runDir}/jobs/plan.json (jobs: ${plan.jobs.map((j) => j.id).join(', ')})`);
      const task = intFlag(opts.task ?? process.env.SLURM_ARRAY_TASK_ID ?? '0', '--task', 0)!;
      if (job.array && task >= job.keys.length) throw new UserError(`--task ${task}: job ${job.id} has ${job.keys.length} tasks`);
      const renderer = new Renderer({ bars: false });
      const slurmJob = currentSlurmJob();
      renderer.line(`fidkd worker: ${job.id}${job.array ? ` task ${task}` : ''} of submission ${plan.submission} on ${hostname()} (pid ${process.pid}${slurmJob ? `, Slurm job ${slurmJob}` : ''})`);
      if (job.id === 'report') {
        await writeReport(runDir, plan);
        releaseDetachedLock(runDir);
        return;
      }
      const states = new TaskStateWriter(runDir, plan.submission);
      // scancel (SIGTERM), a time limit or Ctrl-C: say so in the state file before going
      const onSignal = (signal: NodeJS.Signals): void => {
        states.fail('cancelled', `stopped by ${signal}`);
        process.stderr.write(`fidkd worker: stopped by ${signal}\n`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      states.backend = (await selectBackend(plan.backend, renderer)).record;
      const run = loadRunStages(runDir, plan.command);
      const defs = new Map(run.stages.map((s) => [s.key, s]));
      for (const key of taskKeys(job, task)) {
        const def = defs.get(key);
        if (!def) throw new UserError(`${key} is not a stage of the run as its configs now say: were they changed after the submission? Resubmit the run`);
        const runner = new StageRunner({ runDir, listeners: [renderer.listener, states.listener], metricsFile: metricsFile(runDir, key) });
        states.start(key);
        try {
          await runner.run(def);
        } catch (err) {
          states.fail('failed', err instanceof Error ? err.message : String(err));
          throw explainMissing(err, run.pipeline);
        }
      }
      renderer.stop();
    }));
}

/** The last job of a detached run: the outputs the driver would have written. */
async function writeReport(runDir: string, plan: PlanFile): Promise<void> {
  const seconds = (Date.now() - Date.parse(plan.submitted_at)) / 1000;
  if (plan.command === 'demo') {
    const c = readJsonFile(join(runDir, 'resolved-config.json'), 'demo run config') as DemoConfig;
    await writeDemoOutputs(runDir, c, planDemo({ config: c, problems: [], explicit: [] }, runDir).pipeline, plan.backend, seconds, plan.submission);
    return;
  }
  const config = readJsonFile(join(runDir, 'pipeline-config.json'), 'run config') as PipelineConfig;
  const result = readPipelineResult(new StageRunner({ runDir, lockStages: false }), config, createStages());
  const ran = jobsBackend(runDir, 'reproduce');
  writeReproduceOutputs(runDir, config, result, plan.matrix!, undefined, {
    seconds, backend: ran?.taken ?? plan.backend, backendRecord: ran?.record, timings: stageTimings(runDir, 'reproduce', plan.submission),
  });
}

/** The detached submission's run lock, held by its jobs: released by its last job. */
function releaseDetachedLock(runDir: string): void {
  const file = join(runDir, RUN_LOCK_FILE);
  if (!existsSync(file)) return;
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    const me = process.env.SLURM_JOB_ID;
    if (h.detached && me && h.jobs?.includes(me)) rmSync(file, { force: true });
  } catch {
    /* not ours to judge */
  }
}
