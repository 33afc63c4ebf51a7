import * as tf from '@tensorflow/tfjs';
import { useBackend } from '/work/wt-perf/benchmarks/perf/dist/backends.js';
import { DEMO_READER, readerStep } from '/work/wt-perf/benchmarks/perf/dist/suites/demo-steps.js';
await useBackend('blas');
const r = readerStep(DEMO_READER);
r.step(); r.step();
const prof = await tf.profile(() => r.step());
const by = new Map();
for (const k of prof.kernels) {
  if (process.argv[2] && k.name !== process.argv[2]) continue;
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = by.get(key) ?? { ms: 0, calls: 0 }; e.ms += Number(k.kernelTimeMs); e.calls++; by.set(key, e);
}
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) console.log(e.ms.toFixed(1).padStart(7), String(e.calls).padStart(4), k);
r.dispose();
