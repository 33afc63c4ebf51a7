import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateSyntheticWorld } from '@fidkd/data';
import {
  createStages, didYouMeanSuffix, preflightProblems, readPipelineResult, StageRunner, syntheticPrepareStages, writeJsonAtomic,
  type PipelineConfig, type PipelineResult,
} from '@fidkd/orchestrator';
import { DEFAULT_SPECIAL_TOKENS } from '@fidkd/tokenization';
import { collect, intFlag, layerSettings, notSlurm, readConfigObject, refuseProblems, withoutSlurm, type LayeredSettings } from '../config-files.js';
import type { JobRunOptions } from '../jobs/driver.js';
import { runAsJobs } from '../jobs/driver.js';
import { addExecutorOptions, executorSettings } from '../jobs/executor-options.js';
import { readPlanFile } from '../jobs/layout.js';
import { jobsBackend, loadRunStages, stageTimings } from '../jobs/run-stages.js';
import { checkSlurmClient } from '../jobs/slurm.js';
import { DEMO_DEFAULTS, type DemoConfig } from '../demo/config.js';
import { writeRunReport } from '../demo/report.js';
import { BACKEND_HELP, EMBED_BACKEND_HELP, embedBackendSet, checkRunDirectory, createRunner, lockRun, runAllStages, selectBackend, type SelectedBackend } from '../run-context.js';
import { action, UserError } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';
import { exportWeb, WEB_ASSETS_DIR } from '../web-export/export.js';
import { describeExport } from './web.js';

interface DemoOptions {
  out?: string;
  seed?: string;
  loss?: string;
  iterations?: string;
  backend: string;
  embedBackend?: string;
  config?: string;
  set?: string[];
  baseline: boolean;
  quiet?: boolean;
  executor: string;
  jobs?: string;
  detach?: boolean;
}

type DemoFlags = Pick<DemoOptions, 'config' | 'set' | 'seed' | 'loss' | 'iterations' | 'baseline'>;

/**
 * The demo settings — defaults ← --config file ← --set ← dedicated flags — with every problem of every layer and
 * flag (none stops the others from being read) and the keys set explicitly.
 */
export function resolveDemoSettings(opts: DemoFlags): LayeredSettings<DemoConfig> {
  // the slurm section and --set slurm.… say how the stages run (jobs/slurm-config.ts), not what they compute
  const layered = layerSettings(DEMO_DEFAULTS, opts.config, notSlurm(opts.set), opts.config ? withoutSlurm(readConfigObject(opts.config)) : undefined);
  const c = structuredClone(layered.config);
  const problems = [...layered.problems];
  const explicit = [...layered.explicit];
  const flag = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  const seed = flag(() => intFlag(opts.seed, '--seed'));
  if (seed !== undefined) c.seed = seed;
  if (opts.loss !== undefined) {
    if (!['kl', 'mse', 'margin'].includes(opts.loss)) problems.push(`--loss ${opts.loss}: expected kl, mse or margin`);
    else {
      c.pipeline.retriever.loss = opts.loss as 'kl' | 'mse' | 'margin';
      explicit.push('pipeline.retriever.loss');
    }
  }
  const iterations = flag(() => intFlag(opts.iterations, '--iterations', 1));
  if (iterations !== undefined) c.pipeline.iterations = iterations;
  if (opts.baseline === false) c.pipeline.baseline = { has_answer: false, shuffled_teacher: false, oracle_teacher: false };
  // An empty path unsets a default one: `--set pipeline.reader.init=` trains the reader from scratch (with
  // `pipeline.reader.model`), `--set prepare.tokenizer.file=` trains the world's own vocabulary.
  if (c.pipeline.reader.init === '') delete c.pipeline.reader.init;
  if (c.prepare.tokenizer.file === '') delete c.prepare.tokenizer.file;
  return { config: c, problems, explicit };
}

/** Resolves the demo config (see {@link resolveDemoSettings}); throws a UserError listing every problem. */
export function resolveDemoConfig(opts: DemoFlags): DemoConfig {
  const r = resolveDemoSettings(opts);
  refuseProblems('demo settings', r.problems);
  return r.config;
}

/** `fidkd demo`: the whole method on the synthetic world with tiny models, then the report. */
export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the method on the synthetic world (BM25 D⁰, distillation iterations, has_answer baseline) and write a report')
    .option('--out <dir>', 'run directory (default ./runs/demo-<seed>)')
    .option('--seed <n>', `world and training seed (default ${DEMO_DEFAULTS.seed})`)
    .option('--loss <name>', 'distillation loss: kl, mse or margin (default kl)')
    .option('--iterations <n>', `distillation iterations (default ${DEMO_DEFAULTS.pipeline.iterations})`)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--embed-backend <name>', EMBED_BACKEND_HELP)
    .option('--config <file>', 'JSON overriding any demo setting (a run\'s resolved-config.json lists them all)')
    .option('--set <key=value>', 'override one setting, e.g. --set pipeline.reader.total_steps=200 (repeatable)', collect)
    .option('--no-baseline', 'skip the baselines (has_answer-supervised, shuffled teacher)')
    .option('--quiet', 'no progress output');
  addExecutorOptions(cmd)
    .action(action(async (opts: DemoOptions) => {
      const t0 = performance.now();
      const settings = resolveDemoSettings({ ...opts, set: [...(opts.set ?? []), ...embedBackendSet(opts.embedBackend, 'pipeline.embed.backend')] });
      const c = settings.config;
      const out = resolve(opts.out ?? join('runs', `demo-${c.seed}`));
      // Everything is checked before any file is written or any stage runs, and every problem reported at once:
      // the settings, the executor flags and the slurm section together.
      const executor = executorSettings(opts, opts.config, opts.backend);
      const { prep, pipeline } = planDemo({ ...settings, problems: [...settings.problems, ...executor.problems] }, out);
      checkRunDirectory(out, '--out');
      const exec = executor.exec;
      if (exec?.executor === 'slurm') checkSlurmClient();
      const renderer = new Renderer({ quiet: opts.quiet });
      // jobs select their backend themselves (the same --backend, recorded in the plan)
      const backend = exec ? undefined : await selectBackend(opts.backend, renderer);
      const release = lockRun(out, renderer);
      try {
        if (exec) await runDemoAsJobs(c, out, pipeline, renderer, exec, t0);
        else await runDemo(c, out, prep, pipeline, renderer, backend!, t0);
      } finally {
        release();
      }
    }));
}

/** The demo as jobs (Slurm, or worker processes): the same stages, then the same outputs. */
async function runDemoAsJobs(c: DemoConfig, out: string, pipeline: PipelineConfig, renderer: Renderer, exec: JobRunOptions, t0: number): Promise<void> {
  writeJsonAtomic(join(out, 'resolved-config.json'), c);
  writeJsonAtomic(join(out, 'pipeline-config.json'), pipeline);
  renderer.line(`run directory: ${out} (executor ${exec.executor}${exec.executor === 'local' ? `, ${exec.jobs} processes` : ''})`);
  const run = loadRunStages(out, 'demo');
  if (await runAsJobs(run, out, renderer, exec) === 'detached') return;
  await writeDemoOutputs(out, c, pipeline, exec.backend, (performance.now() - t0) / 1000, readPlanFile(out)?.submission);
}

/**
 * results.json, recall.svg, report.md and the web page of a demo run whose stages ran as jobs (read from the manifests), and
 * the table on stdout: by the driver, or by the last job of a detached run.
 */
export async function writeDemoOutputs(out: string, c: DemoConfig, pipeline: PipelineConfig, backend: string, seconds: number, submission?: string): Promise<void> {
  const result = readPipelineResult(new StageRunner({ runDir: out, lockStages: false }), pipeline, createStages());
  const ran = jobsBackend(out, 'demo');
  writeDemoFiles(out, c, pipeline, result, stageTimings(out, 'demo', submission), ran?.taken ?? backend, seconds, ran?.record);
  await writeDemoWeb(out);
}

/** Checks the demo's own settings (the preparation) that the pipeline validation does not see. */
function validateDemoSettings(c: DemoConfig, explicit: string[], problems: string[]): void {
  const set = (prefix: string): string | undefined => explicit.find((p) => p === prefix || p.startsWith(`${prefix}.`));
  // a setting the demo would not use is refused, not silently saved (resolved-config.json) and ignored
  const ignored = (prefix: string, why: string): void => {
    const key = set(prefix);
    if (key) problems.push(`${key} is ignored: ${why}`);
  };
  if (c.pipeline.reader.init && c.pipeline.reader.model) ignored('pipeline.reader.model', `the reader starts from ${c.pipeline.reader.init} (pipeline.reader.init), whose config.json defines the model; set pipeline.reader.init= (empty) to train one from scratch with pipeline.reader.model`);
  if (c.prepare.tokenizer.file) ignored('prepare.tokenizer.vocab_size', `the vocabulary is ${c.prepare.tokenizer.file} (prepare.tokenizer.file); set prepare.tokenizer.file= (empty) to train one of this size on the world`);
  if (c.pretrain_retriever.enabled) {
    if (c.pipeline.retriever.init) ignored('pipeline.retriever.init', 'the retriever starts from its pretraining (pretrain_retriever); set pretrain_retriever.enabled=false to start from pipeline.retriever.init');
    if (c.pipeline.retriever.indexing_dimension) ignored('pipeline.retriever.indexing_dimension', 'the retriever starts from its pretraining, which has no projection; set pretrain_retriever.enabled=false to train one with a projection');
  } else {
    // (pretrain_retriever's settings stay allowed when it is off: a file keeps them for when it is on again)
    if (c.pipeline.retriever.init && c.pipeline.retriever.model) ignored('pipeline.retriever.model', `the retriever starts from ${c.pipeline.retriever.init} (pipeline.retriever.init), whose config.json defines the model`);
  }
  const posInt = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) problems.push(`${name} must be an integer ≥ 1 (got ${JSON.stringify(v)})`);
  };
  // the world's options are an open section: its keys are the ones the generator resolves (a tiny world tells)
  const worldKeys = Object.keys(generateSyntheticWorld({ numEntities: 24, numTrain: 1, numDev: 1, numTest: 1 }).options).filter((k) => k !== 'seed');
  for (const k of Object.keys(c.prepare.world)) {
    if (!worldKeys.includes(k)) problems.push(`prepare.world.${k}: not an option of the synthetic world${didYouMeanSuffix(k, worldKeys) || ` (known: ${worldKeys.join(', ')})`}`);
  }
  if (!c.prepare.tokenizer.file) {
    const v = c.prepare.tokenizer.vocab_size;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= DEFAULT_SPECIAL_TOKENS.length) {
      problems.push(`prepare.tokenizer.vocab_size must be an integer above the ${DEFAULT_SPECIAL_TOKENS.length} special tokens (got ${JSON.stringify(v)})`);
    }
  }
  posInt(c.prepare.bm25.n_passages, 'prepare.bm25.n_passages');
  for (const k of ['numEntities', 'numTrain', 'numDev', 'numTest'] as const) {
    if (c.prepare.world[k] !== undefined) posInt(c.prepare.world[k], `prepare.world.${k}`);
  }
  for (const section of ['reader', 'retriever'] as const) {
    const n = c.pipeline[section].n_context;
    if (typeof n === 'number' && c.prepare.bm25.n_passages < n) problems.push(`prepare.bm25.n_passages (${c.prepare.bm25.n_passages}) must be ≥ pipeline.${section}.n_context (${n})`);
  }
  if (c.pretrain_retriever.enabled) {
    for (const k of ['total_steps', 'batch_size', 'namesake_group'] as const) posInt(c.pretrain_retriever[k], `pretrain_retriever.${k}`);
    if (!(c.pretrain_retriever.lr > 0 && Number.isFinite(c.pretrain_retriever.lr))) problems.push(`pretrain_retriever.lr must be a positive number (got ${JSON.stringify(c.pretrain_retriever.lr)})`);
  }
}

/** The preparation stages and the pipeline config of a demo run, validated (every problem at once). */
export function planDemo(settings: LayeredSettings<DemoConfig>, out: string): { prep: ReturnType<typeof syntheticPrepareStages>; pipeline: PipelineConfig } {
  const { config: c, explicit } = settings;
  const problems = [...settings.problems];
  validateDemoSettings(c, explicit, problems);
  const { enabled: pretrain, ...pretrainSettings } = c.pretrain_retriever;
  const prep = syntheticPrepareStages({
    seed: c.seed, ...c.prepare,
    pretrain_retriever: pretrain ? {
      ...pretrainSettings, model: c.pipeline.retriever.model ?? {},
      question_maxlength: c.pipeline.retriever.question_maxlength, passage_maxlength: c.pipeline.retriever.passage_maxlength,
    } : undefined,
  }, out);
  const pipeline: PipelineConfig = {
    name: 'demo', seed: c.seed, ...structuredClone(c.pipeline),
    data: { passages: prep.data.passages, train: prep.data.train, dev: prep.data.dev, test: prep.data.test },
    tokenizer: { reader: prep.data.tokenizer, retriever: prep.data.tokenizer },
  };
  // defaults the run would not use leave the pipeline (a model beside an init; a KL temperature with another
  // loss); the ones a user set are refused above, or by the pipeline's own checks below
  const userSet = (prefix: string): boolean => explicit.some((p) => p === prefix || p.startsWith(`${prefix}.`));
  if (pipeline.reader.init) delete pipeline.reader.model;
  if (pipeline.retriever.loss !== 'kl') {
    for (const t of ['temperature_gold', 'temperature_score'] as const) if (!userSet(`pipeline.retriever.${t}`)) delete pipeline.retriever[t];
  }
  if (pipeline.retriever.init) delete pipeline.retriever.model;
  // the retriever's init is the pretraining's output, which exists only later: its fresh-model settings are checked
  problems.push(...preflightProblems(pipeline, { keyPrefix: 'pipeline.' }));
  if (prep.data.retriever) {
    pipeline.retriever.init = prep.data.retriever;
    delete pipeline.retriever.model;
  }
  refuseProblems('demo settings', problems);
  return { prep, pipeline };
}

async function runDemo(
  c: DemoConfig, out: string, prep: ReturnType<typeof syntheticPrepareStages>, pipeline: PipelineConfig,
  renderer: Renderer, backend: SelectedBackend, t0: number,
): Promise<void> {
  const runner = createRunner(out, renderer);
  writeJsonAtomic(join(out, 'resolved-config.json'), c);
  renderer.line(`run directory: ${out}`);
  const timings: Array<{ key: string; seconds: number; skipped: boolean }> = [];
  for (const s of prep.stages) {
    const o = await runner.run(s);
    timings.push({ key: s.key, seconds: o.manifest.timings.seconds, skipped: o.skipped });
  }
  const result = await runAllStages(runner, out, pipeline);
  renderer.stop();
  for (const o of result.outcomes) timings.push({ key: relative(out, o.dir), seconds: o.manifest.timings.seconds, skipped: o.skipped });
  writeDemoFiles(out, c, pipeline, result, timings, backend.taken, (performance.now() - t0) / 1000, backend.record);
  await writeDemoWeb(out);
}

/** The web page of a demo run (fidkd export-web), unless the page's files were never built (a source checkout). */
async function writeDemoWeb(out: string): Promise<void> {
  if (existsSync(join(WEB_ASSETS_DIR, 'index.html'))) process.stdout.write(describeExport(await exportWeb(out)));
  else process.stdout.write(`web page not written: its files are missing (${WEB_ASSETS_DIR}); once built (\`npm run build\` in a clone), run \`fidkd export-web ${out}\`\n`);
}

function writeDemoFiles(
  out: string, c: DemoConfig, pipeline: PipelineConfig, result: PipelineResult,
  timings: Array<{ key: string; seconds: number; skipped: boolean }>, backend: string, seconds: number, backendRecord?: unknown,
): void {
  const table = writeRunReport(out, result, pipeline, { seed: c.seed, seconds, backend, backendRecord, settings: JSON.stringify(c, null, 2), timings });
  process.stdout.write(`\n${table}\n\nwall time ${(seconds / 60).toFixed(1)} min; report: ${join(out, 'report.md')}\n`);
}
