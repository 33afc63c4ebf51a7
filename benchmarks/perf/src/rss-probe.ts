#!/usr/bin/env node
// Child process of peak-rss.ts: builds one workload (embed | reader-t5-small), runs it twice (warm-up + one run)
// and prints {"peak_rss_mb": VmHWM in MB} as its last line.
//   node benchmarks/perf/dist/rss-probe.js --model embed|reader-t5-small [--backend blas]
//   node benchmarks/perf/dist/rss-probe.js --model embed-ort --checkpoint DIR | --model embed-ort-reference --onnx FILE
import { option } from './args.js';
import { useBackend } from './backends.js';
import { peakRssMb } from './peak-rss.js';
import { embedWorkload } from './suites/retriever.js';
import { readerT5SmallWorkload } from './suites/reader.js';
import { ortEmbedWorkload, ortReferenceWorkload } from './suites/embed-ort.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => option(argv, name, dflt);
  const model = opt('--model', 'embed');
  const make = {
    embed: embedWorkload,
    'reader-t5-small': readerT5SmallWorkload,
    'embed-ort': () => ortEmbedWorkload(opt('--checkpoint', '')),
    'embed-ort-reference': () => ortReferenceWorkload(opt('--onnx', '')),
  }[model];
  if (!make) throw new Error(`--model must be embed, reader-t5-small, embed-ort or embed-ort-reference, got ${model}`);
  await useBackend(opt('--backend', 'blas'));
  const w = await make();
  await w.step();
  await w.step();
  w.dispose();
  console.log(JSON.stringify({ peak_rss_mb: peakRssMb() }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
