import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { writeJsonAtomic, writeFileAtomic } from '@fidkd/orchestrator';
import { collect } from '../config-files.js';
import { checkPipelineFiles, loadPipelineConfig } from '../reproduce/load.js';
import { compareWithMatrix, comparisonTable, readMatrix } from '../reproduce/matrix.js';
import { BACKEND_HELP, createRunner, lockRun, runAllStages, selectBackend } from '../run-context.js';
import { action } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

const repoConfigs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'configs');

/** `fidkd reproduce --config FILE`: the iterative procedure on NQ / TriviaQA from local files, compared with the matrix. */
export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description('run the iterative procedure on NaturalQuestions / TriviaQA from local files and compare with the paper')
    .requiredOption('--config <file>', 'pipeline config, e.g. configs/nq-base.json')
    .option('--run-dir <dir>', 'run directory (default ./runs/<config name>)')
    .option('--matrix <file>', 'reproduction matrix (default configs/reproduction-matrix.json)')
    .option('--set <key=value>', 'override one setting, e.g. --set reader.total_steps=100 (repeatable)', collect)
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--strict', 'exit with status 3 when a result is outside the matrix tolerance')
    .action(action(async (opts: { config: string; runDir?: string; matrix?: string; set?: string[]; backend: string; strict?: boolean }) => {
      const config = loadPipelineConfig(opts.config, opts.set);
      checkPipelineFiles(config, opts.config);
      const runDir = resolve(opts.runDir ?? join('runs', config.name));
      // the matrix is read before any training, so that a bad --matrix fails at once
      const matrixFile = opts.matrix ?? join(repoConfigs, 'reproduction-matrix.json');
      const entry = readMatrix(matrixFile).find((e) => e.config === config.name || e.config === basename(opts.config, '.json'));
      const renderer = new Renderer();
      await selectBackend(opts.backend, renderer);
      const release = lockRun(runDir, renderer);
      let result: Awaited<ReturnType<typeof runAllStages>>;
      try {
        result = await runAllStages(createRunner(runDir, renderer), runDir, config);
      } finally {
        release();
      }
      renderer.stop();
      const final = result.iterations[result.iterations.length - 1]!;
      const lines = [`final iteration ${final.iteration}:`, ...Object.entries(final.metrics).map(([k, v]) => `  ${k} = ${(100 * v).toFixed(2)}`)];
      process.stdout.write(lines.join('\n') + '\n');
      if (!entry) {
        process.stdout.write(`(no entry for "${config.name}" in ${matrixFile}: nothing to compare with)\n`);
        return;
      }
      const rows = compareWithMatrix(entry, final.metrics);
      const table = comparisonTable(rows, entry.tolerance);
      writeJsonAtomic(join(runDir, 'comparison.json'), { entry, rows });
      writeFileAtomic(join(runDir, 'comparison.md'), `${table}\n\nsource: ${entry.source}\n`);
      process.stdout.write(`\n${table}\n\nsource: ${entry.source}\n`);
      if (opts.strict && rows.some((r) => !r.ok)) process.exitCode = 3;
    }));
}
