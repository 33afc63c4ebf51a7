// fidkd-bench-retrievers: evaluate retrievers (built-in or any module exporting a RetrieverFactory).
import { Command } from 'commander';
import { BACKEND_CHOICES, backendLines, backendRecord, initBackendChoice } from '@fidkd/core';
import { resolve } from 'node:path';
import { checkCheckpointWorld } from './checkpoint-world.js';
import { fidDataset, syntheticDataset } from './dataset.js';
import { progressLines } from './progress-log.js';
import { markdownTable, writeBenchmarkOutputs } from './report.js';
import { RetrieverFailedError } from './retriever-failed.js';
import { runBenchmark, type RetrieverSpec } from './run.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Parses `key=value` options (values parsed as JSON when they parse). */
export function parseOptions(pairs: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`--option ${p}: expected key=value`);
    const v = p.slice(eq + 1);
    try {
      out[p.slice(0, eq)] = JSON.parse(v);
    } catch {
      out[p.slice(0, eq)] = v;
    }
  }
  return out;
}

export function buildProgram(): Command {
  return new Command()
    .name('fidkd-bench-retrievers')
    .description('score retrievers: R@1/5/20/100, MRR@10 (MRR@k when k < 10), as markdown, JSON and TREC run files; optionally reader EM')
    .option('--backend <name>', `tfjs backend of the dense retriever and the reader: ${BACKEND_CHOICES.join(', ')}`, 'auto')
    .option('--embed-backend <name>', 'engine that embeds passages and questions for dense: auto (ONNX Runtime when onnxruntime-node is installed, else tfjs), ort or tfjs; the same as --option embed_backend=…')
    .option('--quiet', 'no progress lines on stderr')
    .option('--debug', 'print the stack trace of an error (of your retriever\'s code when it threw)')
    .option('--retriever <spec>', 'bm25, dense, or a path to a module exporting a RetrieverFactory (repeatable)', collect)
    .option('--option <key=value>', 'option for the retrievers (repeatable), e.g. checkpoint=runs/demo-1/iter-0/train-retriever', collect)
    .option('--dataset <kind>', 'synthetic or fid', 'synthetic')
    .option('--seed <n>', 'synthetic world seed', '1')
    .option('--split <name>', 'synthetic split: train, dev or test', 'dev')
    .option('--world <json>', 'synthetic world size knobs, e.g. \'{"numEntities":400,"numTrain":1200,"numDev":200,"numTest":200}\' (the demo\'s world)')
    .option('--questions <file>', 'FiD-format question file (dataset fid)')
    .option('--passages <file>', 'passages TSV (dataset fid)')
    .option('--k <list>', 'top-k list', '1,5,20,100')
    .option('--reader <dir>', 'also report the exact match of this FiD reader on the retrieved passages')
    .option('--n-context <n>', 'passages given to the reader', '10')
    .option('--text-maxlength <n>', 'reader text_maxlength', '200')
    .option('--out <dir>', 'write results.md, results.json and <retriever>.trec here')
    .action(async (o: Record<string, string | string[] | undefined>) => {
      try {
        const options = parseOptions(o.option as string[] | undefined);
        if (o.embedBackend !== undefined) options.embed_backend = String(o.embedBackend);
        // a demo run's checkpoint on the synthetic world: it must be the world it was trained on
        if (o.dataset !== 'fid' && typeof options.checkpoint === 'string') {
          checkCheckpointWorld(resolve(String(options.checkpoint)), Number(o.seed), o.world ? (JSON.parse(String(o.world)) as Record<string, number>) : undefined);
        }
        const dataset = o.dataset === 'fid'
          ? await fidDataset(String(o.questions ?? ''), String(o.passages ?? ''))
          : await syntheticDataset({ seed: Number(o.seed), split: o.split as 'dev', world: o.world ? (JSON.parse(String(o.world)) as Record<string, number>) : undefined });
        const log = o.quiet ? () => {} : (l: string) => void process.stderr.write(`${l}\n`);
        // Like the app, pick the fastest backend first: tfjs's stock cpu kernels make `dense` ~10x slower.
        const backend = await initBackendChoice(String(o.backend), { log });
        for (const line of backendLines(backend)) log(line);
        const specs: RetrieverSpec[] = ((o.retriever as string[] | undefined) ?? ['bm25']).map((spec) => ({ spec, options }));
        const results = await runBenchmark(dataset, specs, {
          onProgress: o.quiet ? undefined : progressLines(log),
          ks: String(o.k).split(',').map(Number),
          reader: o.reader ? { checkpoint: resolve(String(o.reader)), n_context: Number(o.nContext), text_maxlength: Number(o.textMaxlength), answer_maxlength: 20 } : undefined,
        });
        process.stdout.write(`${dataset.name}\n\n${markdownTable(results)}\n`);
        if (o.out) for (const f of await writeBenchmarkOutputs(resolve(String(o.out)), results, backendRecord(backend))) process.stdout.write(`wrote ${f}\n`);
      } catch (err) {
        process.stderr.write(`fidkd-bench-retrievers: error: ${(err as Error).message}\n`);
        const thrown = err instanceof RetrieverFailedError ? err.cause : err;
        if (o.debug || process.env.FIDKD_DEBUG === '1') process.stderr.write(`${(thrown as Error)?.stack ?? String(thrown)}\n`);
        else if (err instanceof RetrieverFailedError) process.stderr.write('  (--debug prints its stack trace)\n');
        process.exitCode = 2;
      }
    });
}

/** Runs the harness on `argv` (process.argv layout); `bin/fidkd-bench-retrievers.js` calls it. */
export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
