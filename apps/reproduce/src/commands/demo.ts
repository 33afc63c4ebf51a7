import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { generateSyntheticWorld } from '@fidkd/data';
import {
  preflightPipelineConfig, syntheticPrepareStages, writeFileAtomic, writeJsonAtomic,
  type PipelineConfig,
} from '@fidkd/orchestrator';
import { applySets, collect, intFlag, loadConfigFile, userFacing } from '../config-files.js';
import { DEMO_DEFAULTS, type DemoConfig } from '../demo/config.js';
import { buildResults, recallPlotSvg, reportMarkdown, resultsTable } from '../demo/report.js';
import { BACKEND_HELP, createRunner, lockRun, runAllStages, selectBackend } from '../run-context.js';
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
  config?: string;
  set?: string[];
  baseline: boolean;
  quiet?: boolean;
}

/** Resolves the demo config: defaults ← --config file ← --set ← dedicated flags. */
export function resolveDemoConfig(opts: Pick<DemoOptions, 'config' | 'set' | 'seed' | 'loss' | 'iterations' | 'baseline'>): DemoConfig {
  let c = applySets(loadConfigFile(DEMO_DEFAULTS, opts.config), opts.set);
  c = structuredClone(c);
  const seed = intFlag(opts.seed, '--seed');
  if (seed !== undefined) c.seed = seed;
  if (opts.loss !== undefined) {
    if (!['kl', 'mse', 'margin'].includes(opts.loss)) throw new UserError(`--loss ${opts.loss}: expected kl, mse or margin`);
    c.pipeline.retriever.loss = opts.loss as 'kl' | 'mse' | 'margin';
  }
  const iterations = intFlag(opts.iterations, '--iterations', 1);
  if (iterations !== undefined) c.pipeline.iterations = iterations;
  if (opts.baseline === false) c.pipeline.baseline = { has_answer: false, shuffled_teacher: false, oracle_teacher: false };
  // An empty path unsets a default one: `--set pipeline.reader.init=` trains the reader from scratch (with
  // `pipeline.reader.model`), `--set prepare.tokenizer.file=` trains the world's own vocabulary.
  if (c.pipeline.reader.init === '') delete c.pipeline.reader.init;
  if (c.prepare.tokenizer.file === '') delete c.prepare.tokenizer.file;
  return c;
}

/** `fidkd demo`: the whole method on the synthetic world with tiny models, then the report. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the method on the synthetic world (BM25 D⁰, distillation iterations, has_answer baseline) and write a report')
    .option('--out <dir>', 'run directory (default ./runs/demo-<seed>)')
    .option('--seed <n>', `world and training seed (default ${DEMO_DEFAULTS.seed})`)
    .option('--loss <name>', 'distillation loss: kl, mse or margin (default kl)')
    .option('--iterations <n>', `distillation iterations (default ${DEMO_DEFAULTS.pipeline.iterations})`)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--config <file>', 'JSON overriding any demo setting (see apps/reproduce/src/demo/config.ts)')
    .option('--set <key=value>', 'override one setting, e.g. --set pipeline.reader.total_steps=200 (repeatable)', collect)
    .option('--no-baseline', 'skip the baselines (has_answer-supervised, shuffled teacher)')
    .option('--quiet', 'no progress output')
    .action(action(async (opts: DemoOptions) => {
      const t0 = performance.now();
      const c = resolveDemoConfig(opts);
      const out = resolve(opts.out ?? join('runs', `demo-${c.seed}`));
      // Everything is checked before any file is written or any stage runs.
      const { prep, pipeline } = planDemo(c, out);
      const renderer = new Renderer({ quiet: opts.quiet });
      const backend = await selectBackend(opts.backend, renderer);
      const release = lockRun(out, renderer);
      try {
        await runDemo(c, out, prep, pipeline, renderer, backend, t0);
      } finally {
        release();
      }
    }));
}

/** Checks the demo's own settings (the preparation) that the pipeline validation does not see. */
function validateDemoSettings(c: DemoConfig, problems: string[]): void {
  const posInt = (v: unknown, name: string): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) problems.push(`${name} must be an integer ≥ 1 (got ${JSON.stringify(v)})`);
  };
  // the world's options are an open section: its keys are the ones the generator resolves (a tiny world tells)
  const worldKeys = Object.keys(generateSyntheticWorld({ numEntities: 24, numTrain: 1, numDev: 1, numTest: 1 }).options).filter((k) => k !== 'seed');
  for (const k of Object.keys(c.prepare.world)) {
    if (!worldKeys.includes(k)) problems.push(`prepare.world.${k}: not an option of the synthetic world (known: ${worldKeys.join(', ')})`);
  }
  posInt(c.prepare.tokenizer.vocab_size, 'prepare.tokenizer.vocab_size');
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
function planDemo(c: DemoConfig, out: string): { prep: ReturnType<typeof syntheticPrepareStages>; pipeline: PipelineConfig } {
  const problems: string[] = [];
  validateDemoSettings(c, problems);
  if (problems.length) throw new UserError(`demo config:\n  - ${problems.join('\n  - ')}`);
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
  if (prep.data.retriever) pipeline.retriever.init = prep.data.retriever;
  // the retriever's init is the pretraining's output, which exists only later: check the fresh-model settings
  userFacing(() => preflightPipelineConfig(pipeline, 'demo config', { keyPrefix: 'pipeline.' }));
  return { prep, pipeline };
}

async function runDemo(
  c: DemoConfig, out: string, prep: ReturnType<typeof syntheticPrepareStages>, pipeline: PipelineConfig,
  renderer: Renderer, backend: string, t0: number,
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
  const ks = pipeline.evaluate.k.map(String);
  const results = buildResults(result.iterations, result.baselines, pipeline.evaluate.k);
  const seconds = (performance.now() - t0) / 1000;
  writeJsonAtomic(join(out, 'results.json'), results);
  writeFileAtomic(join(out, 'recall.svg'), recallPlotSvg(results, ks));
  writeFileAtomic(join(out, 'report.md'), reportMarkdown(results, ks, {
    seed: c.seed, loss: pipeline.retriever.loss, iterations: pipeline.iterations, seconds, backend,
    settings: JSON.stringify(c, null, 2), timings,
  }));
  process.stdout.write(`\n${resultsTable(results, ks)}\n\nwall time ${(seconds / 60).toFixed(1)} min; report: ${join(out, 'report.md')}\n`);
  // the web page of the run (fidkd export-web), unless the page's files were never built (a source checkout)
  if (existsSync(join(WEB_ASSETS_DIR, 'index.html'))) process.stdout.write(describeExport(await exportWeb(out)));
  else process.stdout.write(`web page not written: its files are missing (${WEB_ASSETS_DIR}); once built (\`npm run build\` in a clone), run \`fidkd export-web ${out}\`\n`);
}
