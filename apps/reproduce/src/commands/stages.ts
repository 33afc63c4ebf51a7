import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createStages, preflightProblems, runPipeline, STAGE_NAMES, type PipelineConfig, type StageName } from '@fidkd/orchestrator';
import { collect, intFlag, layerSettings, readJsonFile, refuseProblems } from '../config-files.js';
import { loadPipelineConfig } from '../reproduce/load.js';
import { BACKEND_HELP, EMBED_BACKEND_HELP, embedBackendSet, checkRunUnlocked, createRunner, explainMissing, selectBackend } from '../run-context.js';
import { action, UserError } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

interface StageOptions {
  config?: string;
  runDir?: string;
  iteration?: string;
  baseline?: boolean;
  shardId?: string;
  numShards?: string;
  set?: string[];
  backend: string;
  embedBackend?: string;
}

const DESCRIPTIONS: Record<StageName, string> = {
  'train-reader': 'train the FiD reader of iteration t on Dᵗ',
  score: 'compute the reader relevance scores G of the training passages (the teacher signal)',
  'train-retriever': 'train the retriever of iteration t on G with the distillation loss',
  embed: 'embed one shard of the passage collection with the retriever of iteration t',
  index: 'build the FAISS index of iteration t from the embedding shards',
  retrieve: 'retrieve Dᵗ⁺¹ for the train/dev/test questions (with has_answer)',
  evaluate: 'evaluate R@k of Dᵗ and the reader EM of iteration t',
};

/** The config of a stage command: --config FILE, else the run directory's pipeline-config.json (written by demo/reproduce). */
function stageConfig(opts: StageOptions, runDir: string): PipelineConfig {
  if (opts.config) return loadPipelineConfig(opts.config, opts.set, { files: true }).config;
  const saved = join(runDir, 'pipeline-config.json');
  if (!existsSync(saved)) throw new UserError(`no --config given and ${saved} does not exist`, 'pass --config FILE (e.g. nq-base, or a run\'s pipeline-config.json), or --run-dir of a run started by `fidkd demo` / `fidkd reproduce`');
  // the run's own settings as written (no defaults merged in, which would change the stages' keys)
  const layered = layerSettings(readJsonFile(saved, 'run config') as PipelineConfig, undefined, opts.set);
  refuseProblems(saved, [...layered.problems, ...preflightProblems(layered.config)]);
  return layered.config;
}

/** One command per stage: runs (or skips, when done) that stage of a run directory. */
export function registerStageCommands(program: Command): void {
  for (const name of STAGE_NAMES) {
    const cmd = program
      .command(name)
      .description(DESCRIPTIONS[name])
      .option('--config <file>', 'pipeline config (default: <run-dir>/pipeline-config.json)')
      .option('--run-dir <dir>', 'run directory (default ./runs/<config name>)')
      .option('--iteration <t>', 'iteration t', '0')
      .option('--set <key=value>', 'override one setting (repeatable)', collect)
      .option('--backend <name>', BACKEND_HELP, 'auto');
    if (name !== 'train-reader' && name !== 'score') cmd.option('--baseline', 'the has_answer baseline branch instead of iteration t');
    if (name === 'embed') cmd.option('--shard-id <k>', 'shard to embed (0-based)', '0').option('--embed-backend <name>', EMBED_BACKEND_HELP);
    if (name === 'retrieve') cmd.option('--shard-id <k>', 'shard of the questions to retrieve for (0-based; without it: all questions, or the merge of the shards)');
    if (name === 'embed' || name === 'index') cmd.option('--num-shards <n>', 'number of shards (default: embed.num_shards of the config)');
    if (name === 'retrieve') cmd.option('--num-shards <n>', 'number of question shards (default: retrieve.num_shards of the config, else 1)');
    cmd.action(action(async (opts: StageOptions) => {
      const runDir0 = opts.runDir ? resolve(opts.runDir) : undefined;
      const config = stageConfig({ ...opts, set: [...(opts.set ?? []), ...embedBackendSet(opts.embedBackend, 'embed.backend')] }, runDir0 ?? resolve('runs'));
      const runDir = runDir0 ?? resolve(join('runs', config.name));
      const numShards = intFlag(opts.numShards, '--num-shards', 1);
      if (numShards !== undefined) {
        if (name === 'retrieve') config.retrieve.num_shards = numShards;
        else config.embed.num_shards = numShards;
      }
      const shardId = intFlag(opts.shardId, '--shard-id', 0);
      const shards = name === 'retrieve' ? config.retrieve.num_shards ?? 1 : config.embed.num_shards;
      if (shardId !== undefined && (shardId >= shards || name === 'retrieve' && shards === 1)) {
        throw new UserError(`--shard-id ${shardId} must be < --num-shards ${shards}${shards === 1 ? ' (set --num-shards, or retrieve.num_shards in the config)' : ''}`);
      }
      const iteration = opts.baseline ? 'baseline' : intFlag(opts.iteration, '--iteration', 0)!;
      if (iteration !== 'baseline' && iteration > config.iterations) {
        throw new UserError(`--iteration ${iteration} is beyond the config's iterations (${config.iterations})`);
      }
      checkRunUnlocked(runDir);
      const renderer = new Renderer();
      await selectBackend(opts.backend, renderer);
      const runner = createRunner(runDir, renderer);
      let ran = 0;
      try {
        const result = await runPipeline(runner, config, createStages(), {
          only: (p) => p.name === name && p.iteration === iteration && (name === 'embed' || name === 'retrieve' ? p.shard?.id === shardId : true),
        });
        ran = result.outcomes.length;
        renderer.stop();
        for (const o of result.outcomes) {
          process.stdout.write(`${o.dir}${o.skipped ? ' (already done)' : ''}\n`);
          for (const [k, v] of Object.entries(o.manifest.metrics)) process.stdout.write(`  ${k} = ${v}\n`);
        }
      } catch (err) {
        throw explainMissing(err, config);
      }
      if (ran === 0) throw new UserError(`the plan has no ${name} stage for iteration ${iteration} (iterations: ${config.iterations}; score/train-retriever/embed/index/retrieve run for t < iterations)`);
    }));
  }
}
