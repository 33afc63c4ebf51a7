import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { clozeContextKinds, readerPretrainingStages, writeFileAtomic, writeJsonAtomic } from '@fidkd/orchestrator';
import { applySets, collect, loadConfigFile } from '../config-files.js';
import { PRETRAIN_READER_DEFAULTS } from '../pretrain-reader/config.js';
import { BACKEND_HELP, createRunner, lockRun, selectBackend } from '../run-context.js';
import { action } from '../ui/errors.js';
import { Renderer } from '../ui/render.js';

interface PretrainReaderOptions {
  out: string;
  backend: string;
  config?: string;
  set?: string[];
  export?: string;
  init?: string;
  quiet?: boolean;
}

/**
 * `fidkd pretrain-reader`: the demo's reader starts pretrained, as the paper's T5 does. Self-supervised cloze
 * pretraining over synthetic worlds of seeds no demo uses (see @fidkd/orchestrator pretrain-reader), resumable;
 * `--export DIR` copies the reader (config.json, model.safetensors, tokenizer.json) and the run's log there; when
 * `--init` names an earlier export, its phases' settings and logs come along in `phases/` (phase-1-…, phase-2-…),
 * so a checkpoint made in several phases ships how each was made.
 */
export function registerPretrainReader(program: Command): void {
  program
    .command('pretrain-reader')
    .description('pretrain the demo\'s tiny FiD reader on self-supervised cloze questions over synthetic worlds of other seeds')
    .option('--out <dir>', 'run directory', 'runs/pretrain-reader')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--config <file>', 'JSON overriding any setting (a run\'s resolved-config.json lists them all)')
    .option('--set <key=value>', 'override one setting, e.g. --set reader.total_steps=500 (repeatable)', collect)
    .option('--export <dir>', 'copy the pretrained reader and its log to this directory')
    .option('--init <dir>', 'start from this pretrained reader (a further phase; keeps its tokenizer)')
    .option('--quiet', 'no progress output')
    .action(action(async (opts: PretrainReaderOptions) => {
      const c = applySets(loadConfigFile(PRETRAIN_READER_DEFAULTS, opts.config), opts.set);
      clozeContextKinds(c.reader.contexts, 'pretrain-reader config: reader.contexts'); // before any stage runs
      const out = resolve(opts.out);
      const renderer = new Renderer({ quiet: opts.quiet });
      await selectBackend(opts.backend, renderer);
      // one run per directory at a time, as demo and reproduce
      const release = lockRun(out, renderer);
      try {
        const runner = createRunner(out, renderer);
        writeJsonAtomic(join(out, 'resolved-config.json'), c);
        const { stages, reader } = readerPretrainingStages(c, out, opts.init ? resolve(opts.init) : undefined);
        let metrics: Record<string, number> = {};
        for (const s of stages) metrics = (await runner.run(s)).manifest.metrics;
        renderer.stop();
        process.stdout.write(`pretrained reader: ${reader} (${Object.entries(metrics).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ')})\n`);
        if (opts.export) {
          const dest = resolve(opts.export);
          // written atomically: an export interrupted midway never leaves a half-copied checkpoint
          const files: Array<[string, string]> = [
            ...['config.json', 'model.safetensors', 'tokenizer.json'].map((f): [string, string] => [join(reader, f), f]),
            [join(out, 'metrics.jsonl'), 'metrics.jsonl'], [join(out, 'resolved-config.json'), 'pretrain-config.json'],
          ];
          if (opts.init) files.push(...earlierPhases(resolve(opts.init)));
          for (const [from, to] of files) writeFileAtomic(join(dest, to), readFileSync(from));
          process.stdout.write(`exported to ${dest}\n`);
        }
      } finally {
        release();
      }
    }));
}

/**
 * The settings and logs of the phases that made an exported reader (`phases/phase-K-config.json`,
 * `phases/phase-K-metrics.jsonl`): those it carries, then its own as the next phase. A directory that is not an
 * export (no pretrain-config.json) carries none.
 */
function earlierPhases(init: string): Array<[string, string]> {
  if (!existsSync(join(init, 'pretrain-config.json'))) return [];
  const dir = join(init, 'phases');
  const carried = existsSync(dir) ? readdirSync(dir).filter((f) => /^phase-\d+-(config\.json|metrics\.jsonl)$/.test(f)).sort() : [];
  const k = new Set(carried.map((f) => f.split('-')[1])).size + 1;
  return [
    ...carried.map((f): [string, string] => [join(dir, f), join('phases', f)]),
    [join(init, 'pretrain-config.json'), join('phases', `phase-${k}-config.json`)],
    [join(init, 'metrics.jsonl'), join('phases', `phase-${k}-metrics.jsonl`)],
  ];
}
