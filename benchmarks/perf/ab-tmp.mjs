import { useBackend, loadBlas } from './dist/backends.js';
import { DEMO_READER, readerStep } from './dist/suites/demo-steps.js';
await useBackend('blas');
const blas = await loadBlas();
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const r = readerStep(DEMO_READER);
r.step(); r.step();
const res = { 1: [], 2: [] };
for (let i = 0; i < 6; i++) for (const th of [1, 2]) {
  blas.registerBlasKernels({ threads: th });
  const t0 = performance.now(); r.step(); res[th].push(performance.now() - t0);
}
console.log('threads 1', med(res[1]).toFixed(0), 'ms; threads 2', med(res[2]).toFixed(0), 'ms');
r.dispose();
