// One backend's trajectory tests: every case of cases.json against its PyTorch reference.
import { initBackendChoice } from '@fidkd/core';
import { SPEC, runCase } from './cases.js';

/** `cpu` must run @fidkd/tfjs-blas's fused kernels (the path training takes), never a silent fallback. */
export function trajectorySuite(backend: 'cpu' | 'cpu-stock' | 'wasm', label: string): void {
  describe(`training parity with PyTorch on ${label}`, () => {
    beforeAll(async () => {
      const report = await initBackendChoice(backend, { log: () => {} });
      if (backend === 'cpu' && report.accelerated !== 'openblas') {
        throw new Error(`the blas backend is not available (${report.skipped.map((s) => s.reason).join('; ')}): build it with \`npm run setup\``);
      }
    });

    for (const c of SPEC.cases) {
      test(`${c.name}: losses, gradient norms and clipping within 1e-5 per step, parameters within the float32 budget`, async () => {
        const { comparison, report, leaked } = await runCase(c);
        if (!comparison.ok) throw new Error(report);
        expect(comparison.steps).toBe(SPEC.train_steps);
        expect(leaked).toBe(0);
      }, 10 * 60_000); // seconds alone; several minutes when the 2 cores are shared
    }
  });
}
