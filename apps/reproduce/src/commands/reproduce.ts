import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import {
  createStages, readPipelineResult, StageRunner, writeFileAtomic, writeJsonAtomic, type PipelineConfig, type PipelineResult,
} from '@fidkd/orchestrator';
import { collect } from '../config-files.js';
import { buildResults } from '../demo/report.js';
import { runAsJobs } from '../jobs/driver.js';
import { addExecutorOptions, resolveExecutor } from '../jobs/executor-options.js';
import { loadRunStages } from '../jobs/run-stages.js';
import { checkPipelineFiles, loadPipelineConfig } from '../reproduce/load.js';
import { compareWithMatrix, comparisonTable, readMatrix, type MatrixComparison } from '../reproduce/matrix.js';
import { BACKEND_HELP, createRunner, lockRun, runAllStages, selectBackend } from '../run-context.js';
import { action } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

const repoConfigs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'configs');

interface ReproduceOptions {
  config: string; runDir?: string; matrix?: string; set?: string[]; backend: string; strict?: boolean;
  executor: string; jobs?: string; detach?: boolean;
}

/** `fidkd reproduce --config FILE`: the iterative procedure on NQ / TriviaQA from local files, compared with the matrix. */
export function registerReproduce(program: Command): void {
  const cmd = program
    .command('reproduce')
    .description('run the iterative procedure on NaturalQuestions / TriviaQA from local files and compare with the paper')
    .requiredOption('--config <file>', 'pipeline config, e.g. configs/nq-base.json')
    .option('--run-dir <dir>', 'run directory (default ./runs/<config name>)')
    .option('--matrix <file>', 'reproduction matrix (default configs/reproduction-matrix.json)')
    .option('--set <key=value>', 'override one setting, e.g. --set reader.total_steps=100 (repeatable)', collect)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--strict', 'exit with status 3 when a result is outside the matrix tolerance');
  addExecutorOptions(cmd)
    .action(action(async (opts: ReproduceOptions) => {
      const config = loadPipelineConfig(opts.config, opts.set);
      checkPipelineFiles(config, opts.config);
      const runDir = resolve(opts.runDir ?? join('runs', config.name));
      // the matrix is read before any training, so that a bad --matrix fails at once
      const matrixFile = resolve(opts.matrix ?? join(repoConfigs, 'reproduction-matrix.json'));
      readMatrix(matrixFile);
      const exec = resolveExecutor(opts, opts.config, opts.backend, matrixFile);
      const renderer = new Renderer();
      if (!exec) await selectBackend(opts.backend, renderer);
      const release = lockRun(runDir, renderer);
      let result: PipelineResult;
      try {
        if (exec) {
          writeJsonAtomic(join(runDir, 'pipeline-config.json'), config);
          renderer.line(`run directory: ${runDir} (executor ${exec.executor}${exec.executor === 'local' ? `, ${exec.jobs} processes` : ''})`);
          if (await runAsJobs(loadRunStages(runDir, 'reproduce'), runDir, renderer, exec) === 'detached') return;
          result = readPipelineResult(new StageRunner({ runDir, lockStages: false }), config, createStages());
        } else {
          result = await runAllStages(createRunner(runDir, renderer), runDir, config);
        }
      } finally {
        release();
      }
      renderer.stop();
      const rows = writeReproduceOutputs(runDir, config, result, matrixFile, opts.config);
      if (opts.strict && rows.some((r) => !r.ok)) process.exitCode = 3;
    }));
}

/**
 * results.json (as the demo's), the final metrics and the comparison with the matrix (comparison.json / .md) of a
 * finished run, printed on stdout: by the command, or by the last job of a detached run. Returns the comparison.
 */
export function writeReproduceOutputs(runDir: string, config: PipelineConfig, result: PipelineResult, matrixFile: string, configFile?: string): MatrixComparison[] {
  const split = config.evaluate.splits.includes('dev') ? 'dev' : 'test';
  writeJsonAtomic(join(runDir, 'results.json'), buildResults(result.iterations, result.baselines, config.evaluate.k, split));
  const final = result.iterations[result.iterations.length - 1]!;
  const lines = [`final iteration ${final.iteration}:`, ...Object.entries(final.metrics).map(([k, v]) => `  ${k} = ${(100 * v).toFixed(2)}`)];
  process.stdout.write(lines.join('\n') + '\n');
  const entry = readMatrix(matrixFile).find((e) => e.config === config.name || (configFile && e.config === basename(configFile, '.json')));
  if (!entry) {
    process.stdout.write(`(no entry for "${config.name}" in ${matrixFile}: nothing to compare with)\n`);
    return [];
  }
  const rows = compareWithMatrix(entry, final.metrics);
  const table = comparisonTable(rows, entry.tolerance);
  writeJsonAtomic(join(runDir, 'comparison.json'), { entry, rows });
  writeFileAtomic(join(runDir, 'comparison.md'), `${table}\n\nsource: ${entry.source}\n`);
  process.stdout.write(`\n${table}\n\nsource: ${entry.source}\n`);
  return rows;
}
