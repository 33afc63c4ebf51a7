import { basename, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkPipelineData, writeJsonAtomic, writeFileAtomic } from '@fidkd/orchestrator';
import { collect } from '../config-files.js';
import { writeRunReport } from '../demo/report.js';
import { loadPipelineConfig } from '../reproduce/load.js';
import { compareWithMatrix, comparisonTable, readMatrix } from '../reproduce/matrix.js';
import { DEFAULT_MATRIX, SHIPPED_CONFIGS } from '../reproduce/shipped.js';
import { BACKEND_HELP, checkRunDirectory, createRunner, lockRun, runAllStages, selectBackend } from '../run-context.js';
import { action } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

/**
 * `fidkd reproduce --config FILE`: the iterative procedure on NQ / TriviaQA — or your own data — from local files;
 * a table, report.md and results.json as the demo writes, and the comparison with the matrix when it has an entry.
 */
export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description('run the iterative procedure on NaturalQuestions / TriviaQA (or your own data) from local files and compare with the paper')
    .requiredOption('--config <file>', `pipeline config: a JSON file, or a shipped one by name (${SHIPPED_CONFIGS.join(', ')})`)
    .option('--run-dir <dir>', 'run directory (default ./runs/<config name>)')
    .option('--matrix <file>', 'reproduction matrix of expected results (default: the one shipped with @fidkd/reproduce)')
    .option('--set <key=value>', 'override one setting, e.g. --set reader.total_steps=100 (repeatable)', collect)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--strict', 'exit with status 3 when a result is outside the matrix tolerance')
    .action(action(async (opts: { config: string; runDir?: string; matrix?: string; set?: string[]; backend: string; strict?: boolean }) => {
      const t0 = performance.now();
      const { config, file } = loadPipelineConfig(opts.config, opts.set, { files: true });
      const runDir = resolve(opts.runDir ?? join('runs', config.name));
      checkRunDirectory(runDir, '--run-dir');
      // the matrix is read before any training, so that a bad --matrix fails at once
      const matrixFile = opts.matrix ?? DEFAULT_MATRIX;
      const entry = readMatrix(matrixFile).find((e) => e.config === config.name || e.config === basename(file, '.json'));
      const renderer = new Renderer();
      const backend = await selectBackend(opts.backend, renderer);
      const release = lockRun(runDir, renderer, '--run-dir');
      let result: Awaited<ReturnType<typeof runAllStages>>;
      try {
        // every data file, before the first stage: a bad record costs seconds, not a trained reader
        const seen = await checkPipelineData(config, { runDir, onProgress: (e) => renderer.progress('data', e) });
        renderer.line(`data checked: ${Object.entries(seen.questions).map(([s, n]) => `${n} ${s}`).join(', ')} questions, ${seen.passages} passages`);
        if (seen.trainWithoutPassages) renderer.line(`  ${seen.trainWithoutPassages} training questions have no passages (ctxs): iteration 0's reader trains without them, later iterations on their retrieved passages`);
        result = await runAllStages(createRunner(runDir, renderer), runDir, config);
      } finally {
        release();
      }
      renderer.stop();
      const table = writeRunReport(runDir, result, config, {
        title: `fidkd reproduce: ${config.name}`, initial: 'initial', seed: config.seed, seconds: (performance.now() - t0) / 1000, backend: backend.taken, backendRecord: backend.record,
        settings: JSON.stringify(config, null, 2),
        timings: result.outcomes.map((o) => ({ key: relative(runDir, o.dir), seconds: o.manifest.timings.seconds, skipped: o.skipped })),
      });
      const final = result.iterations[result.iterations.length - 1]!;
      const lines = [`final iteration ${final.iteration}:`, ...Object.entries(final.metrics).map(([k, v]) => `  ${k} = ${(100 * v).toFixed(2)}`)];
      process.stdout.write(`${table}\n\n${lines.join('\n')}\n\nreport: ${join(runDir, 'report.md')}\n`);
      if (!entry) {
        process.stdout.write(`(the matrix ${matrixFile} has no entry for "${config.name}": nothing to compare with; --matrix FILE names another)\n`);
        return;
      }
      const rows = compareWithMatrix(entry, final.metrics);
      const comparison = comparisonTable(rows, entry.tolerance);
      writeJsonAtomic(join(runDir, 'comparison.json'), { entry, rows });
      writeFileAtomic(join(runDir, 'comparison.md'), `${comparison}\n\nsource: ${entry.source}\n`);
      process.stdout.write(`\n${comparison}\n\nsource: ${entry.source}\n`);
      if (opts.strict && rows.some((r) => !r.ok)) process.exitCode = 3;
    }));
}
