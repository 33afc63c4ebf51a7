import { basename, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  checkPipelineData, createStages, readPipelineResult, StageRunner, writeFileAtomic, writeJsonAtomic, type PipelineConfig, type PipelineResult,
} from '@fidkd/orchestrator';
import { collect } from '../config-files.js';
import { writeRunReport, type RunReportInfo } from '../demo/report.js';
import { runAsJobs } from '../jobs/driver.js';
import { addExecutorOptions, executorSettings } from '../jobs/executor-options.js';
import { readPlanFile } from '../jobs/layout.js';
import { jobsBackend, loadRunStages, stageTimings } from '../jobs/run-stages.js';
import { checkSlurmClient } from '../jobs/slurm.js';
import { loadPipelineConfig } from '../reproduce/load.js';
import { compareWithMatrix, comparisonTable, readMatrix, type MatrixComparison } from '../reproduce/matrix.js';
import { DEFAULT_MATRIX, resolveConfigArgument, SHIPPED_CONFIGS } from '../reproduce/shipped.js';
import { BACKEND_HELP, EMBED_BACKEND_HELP, embedBackendSet, checkRunDirectory, createRunner, lockRun, runAllStages, selectBackend } from '../run-context.js';
import { action } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

interface ReproduceOptions {
  config: string; runDir?: string; matrix?: string; set?: string[]; backend: string; embedBackend?: string; strict?: boolean;
  executor: string; jobs?: string; detach?: boolean;
}

/**
 * `fidkd reproduce --config FILE`: the iterative procedure on NQ / TriviaQA — or your own data — from local files
 * (in this process, as local worker processes or as Slurm jobs); a table, report.md and results.json as the demo
 * writes, and the comparison with the matrix when it has an entry.
 */
export function registerReproduce(program: Command): void {
  const cmd = program
    .command('reproduce')
    .description('run the iterative procedure on NaturalQuestions / TriviaQA (or your own data) from local files and compare with the paper')
    .requiredOption('--config <file>', `pipeline config: a JSON file, or a shipped one by name (${SHIPPED_CONFIGS.join(', ')})`)
    .option('--run-dir <dir>', 'run directory (default ./runs/<config name>)')
    .option('--matrix <file>', 'reproduction matrix of expected results (default: the one shipped with @fidkd/reproduce)')
    .option('--set <key=value>', 'override one setting, e.g. --set reader.total_steps=100 (repeatable)', collect)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--embed-backend <name>', EMBED_BACKEND_HELP)
    .option('--strict', 'exit with status 3 when a result is outside the matrix tolerance');
  addExecutorOptions(cmd)
    .action(action(async (opts: ReproduceOptions) => {
      const t0 = performance.now();
      const matrixFile = resolve(opts.matrix ?? DEFAULT_MATRIX);
      // the executor flags and the config's slurm section are checked with the rest of the settings, at once
      const executor = executorSettings(opts, resolveConfigArgument(opts.config).file, opts.backend, matrixFile);
      const { config, file } = loadPipelineConfig(opts.config, [...(opts.set ?? []), ...embedBackendSet(opts.embedBackend, 'embed.backend')], { files: true, problems: executor.problems });
      const exec = executor.exec;
      const runDir = resolve(opts.runDir ?? join('runs', config.name));
      checkRunDirectory(runDir, '--run-dir');
      // the matrix is read before any training, so that a bad --matrix fails at once
      readMatrix(matrixFile);
      if (exec?.executor === 'slurm') checkSlurmClient();
      const renderer = new Renderer();
      // jobs select their backend themselves (the same --backend, recorded in the plan)
      const backend = exec ? undefined : await selectBackend(opts.backend, renderer);
      const release = lockRun(runDir, renderer, '--run-dir');
      let result: PipelineResult;
      try {
        // every data file, before the first stage: a bad record costs seconds, not a trained reader
        const seen = await checkPipelineData(config, { runDir, onProgress: (e) => renderer.progress('data', e) });
        renderer.line(`data checked: ${Object.entries(seen.questions).map(([s, n]) => `${n} ${s}`).join(', ')} questions, ${seen.passages} passages`);
        if (seen.trainWithoutPassages) renderer.line(`  ${seen.trainWithoutPassages} training questions have no passages (ctxs): iteration 0's reader trains without them, later iterations on their retrieved passages`);
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
      const seconds = (performance.now() - t0) / 1000;
      const timings = exec
        ? stageTimings(runDir, 'reproduce', readPlanFile(runDir)?.submission)
        : result.outcomes.map((o) => ({ key: relative(runDir, o.dir), seconds: o.manifest.timings.seconds, skipped: o.skipped }));
      // jobs: the backend their workers took (their state files), as results.json of one process records it
      const taken = backend ?? jobsBackend(runDir, 'reproduce');
      const rows = writeReproduceOutputs(runDir, config, result, matrixFile, file, {
        seconds, backend: taken?.taken ?? opts.backend, backendRecord: taken?.record, timings,
      });
      if (opts.strict && rows.some((r) => !r.ok)) process.exitCode = 3;
    }));
}

/**
 * report.md, results.json and recall.svg (writeRunReport, as the demo's), the final metrics and the comparison
 * with the matrix (comparison.json / .md) of a finished run, printed on stdout: by the command, or by the last
 * job of a detached run. Returns the comparison (empty when the matrix has no entry for the config).
 */
export function writeReproduceOutputs(
  runDir: string, config: PipelineConfig, result: Pick<PipelineResult, 'iterations' | 'baselines'>, matrixFile: string, configFile: string | undefined,
  info: Pick<RunReportInfo, 'seconds' | 'backend' | 'backendRecord' | 'timings'>,
): MatrixComparison[] {
  const table = writeRunReport(runDir, result, config, {
    title: `fidkd reproduce: ${config.name}`, initial: 'initial', seed: config.seed, settings: JSON.stringify(config, null, 2), ...info,
  });
  const final = result.iterations[result.iterations.length - 1]!;
  const lines = [`final iteration ${final.iteration}:`, ...Object.entries(final.metrics).map(([k, v]) => `  ${k} = ${(100 * v).toFixed(2)}`)];
  process.stdout.write(`${table}\n\n${lines.join('\n')}\n\nreport: ${join(runDir, 'report.md')}\n`);
  const entry = readMatrix(matrixFile).find((e) => e.config === config.name || (configFile !== undefined && e.config === basename(configFile, '.json')));
  if (!entry) {
    process.stdout.write(`(the matrix ${matrixFile} has no entry for "${config.name}": nothing to compare with; --matrix FILE names another)\n`);
    return [];
  }
  const rows = compareWithMatrix(entry, final.metrics);
  const comparison = comparisonTable(rows, entry.tolerance);
  writeJsonAtomic(join(runDir, 'comparison.json'), { entry, rows });
  writeFileAtomic(join(runDir, 'comparison.md'), `${comparison}\n\nsource: ${entry.source}\n`);
  process.stdout.write(`\n${comparison}\n\nsource: ${entry.source}\n`);
  return rows;
}
