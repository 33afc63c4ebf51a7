#!/usr/bin/env node
// CPU time per passage of bert-base embedding (BiEncoder.embedPassages, 200 real tokens, batch 8) on the blas
// backend with one BLAS thread: process CPU seconds (user + sys) per passage, a figure that holds on a busy machine
// where wall-clock passages/s does not. The README's sizing table turns it into core-hours for 21M passages.
//   node benchmarks/perf/dist/embed-cpu.js [--reps 3]
import { useBackend, loadBlas } from './backends.js';
import { option } from './args.js';
import { embedWorkload } from './suites/retriever.js';

const reps = Number(option(process.argv.slice(2), '--reps', '3'));
const PASSAGES_PER_STEP = 8;
await useBackend('blas');
const blas = await loadBlas();
blas.registerBlasKernels({ threads: 1 });
const w = embedWorkload();
await w.step(); // warm-up: kernel set-up and first allocations
const samples: number[] = [];
for (let r = 0; r < reps; r++) {
  const t0 = process.cpuUsage();
  const wall = performance.now();
  await w.step();
  const d = process.cpuUsage(t0);
  const cpu = (d.user + d.system) / 1e6;
  samples.push(cpu / PASSAGES_PER_STEP);
  console.error(`rep ${r}: ${cpu.toFixed(2)} CPU s, ${((performance.now() - wall) / 1000).toFixed(2)} s wall for ${PASSAGES_PER_STEP} passages`);
}
w.dispose();
samples.sort((a, b) => a - b);
const median = samples[Math.floor(samples.length / 2)]!;
console.log(JSON.stringify({ label: w.label, blas_threads: 1, cpu_seconds_per_passage: median, passages_per_core_second: 1 / median, samples }));
