// The stages of a run directory, rebuilt from the configs its command saved (pipeline-config.json; the demo's
// resolved-config.json), and their jobs: what the driver submits and what a worker on any node runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendRecord } from '@fidkd/core';
import {
  createStages, planJobs, planPipeline, StageRunner, type JobSpec, type PipelineConfig, type StageDefinition,
} from '@fidkd/orchestrator';
import { planDemo } from '../commands/demo.js';
import { readJsonFile } from '../config-files.js';
import type { DemoConfig } from '../demo/config.js';
import { UserError } from '../ui/errors.js';
import type { JobKind, RunCommand } from './layout.js';
import { readTaskState } from './task-state.js';

/** Every stage of a run in execution order, and its pipeline config. */
export interface RunStages {
  command: RunCommand;
  pipeline: PipelineConfig;
  /** Preparation stages (the demo's synthetic world) first, then the pipeline's. */
  stages: StageDefinition<unknown>[];
}

/** The stages of `command` run with these configs in `runDir`. */
export function runStages(command: RunCommand, runDir: string, pipeline: PipelineConfig, prep: StageDefinition<unknown>[] = []): RunStages {
  const planned = planPipeline(pipeline, runDir, createStages());
  return { command, pipeline, stages: [...prep, ...planned.map((p) => p.definition)] };
}

/** Which command made a run directory, from the configs it saved (the demo's resolved config has `prepare`). */
export function commandOf(runDir: string): RunCommand {
  const resolved = join(runDir, 'resolved-config.json');
  if (existsSync(resolved)) {
    const c = readJsonFile(resolved, 'run config');
    if (c !== null && typeof c === 'object' && 'prepare' in c) return 'demo';
  }
  if (existsSync(join(runDir, 'pipeline-config.json'))) return 'reproduce';
  throw new UserError(`${runDir} is not a run directory of fidkd demo or fidkd reproduce (it has no pipeline-config.json)`);
}

/** Rebuilds the stages of a run directory from its saved configs. */
export function loadRunStages(runDir: string, command: RunCommand = commandOf(runDir)): RunStages {
  if (command === 'demo') {
    // checked when the run was submitted: its saved settings are taken as they are
    const config = readJsonFile(join(runDir, 'resolved-config.json'), 'demo run config') as DemoConfig;
    const { prep, pipeline } = planDemo({ config, problems: [], explicit: [] }, runDir);
    return runStages('demo', runDir, pipeline, prep.stages);
  }
  const pipeline = readJsonFile(join(runDir, 'pipeline-config.json'), 'run config') as PipelineConfig;
  return runStages('reproduce', runDir, pipeline);
}

/**
 * The time each stage of a run took (from its manifest) and whether this submission skipped it (a stage ran by
 * an earlier submission, or without one when `submission` is undefined, counts as skipped), for the run report.
 */
export function stageTimings(runDir: string, command: RunCommand, submission?: string): Array<{ key: string; seconds: number; skipped: boolean }> {
  const runner = new StageRunner({ runDir, lockStages: false });
  return loadRunStages(runDir, command).stages.map((s) => {
    const state = submission ? readTaskState(runDir, s.key) : undefined;
    return { key: s.key, seconds: runner.manifestOf(s.key)?.timings.seconds ?? 0, skipped: !(state?.submission === submission && state?.skipped === false) };
  });
}

/**
 * The backend the stages of a run ran on as jobs, from their workers' state files, for results.json and report.md
 * as a one-process run writes them: `taken` (`cpu+openblas`) and the record; when workers on different nodes
 * took different backends, every distinct record. Undefined when no state says (every stage skipped).
 */
export function jobsBackend(runDir: string, command: RunCommand): { taken: string; record: unknown } | undefined {
  const seen = new Map<string, BackendRecord>();
  for (const s of loadRunStages(runDir, command).stages) {
    const state = readTaskState(runDir, s.key);
    if (state?.backend && !state.skipped) seen.set(JSON.stringify(state.backend), state.backend);
  }
  const records = [...seen.values()];
  if (!records.length) return undefined;
  const taken = records.map((r) => (r.accelerated ? `${r.backend}+${r.accelerated}` : r.backend));
  return records.length === 1 ? { taken: taken[0]!, record: records[0] } : { taken: taken.join(', '), record: records };
}

/** The jobs of a run: the preparation as one job, each other stage one job, the shards of a stage one array. */
export function jobsOf(run: RunStages, runDir: string): Array<JobSpec & { kind: JobKind }> {
  const byKey = new Map(run.stages.map((s) => [s.key, s]));
  return planJobs(run.stages, runDir, { group: (s) => (s.iteration === 'prepare' ? 'prepare' : undefined) }).map((j) => {
    const first = byKey.get(j.keys[0]!)!;
    let kind: JobKind = j.id === 'prepare' ? 'prepare' : first.stage;
    if (kind === 'retrieve' && !j.array && (first.config as { num_shards?: number }).num_shards! > 1) kind = 'retrieve-merge';
    return { ...j, kind };
  });
}
