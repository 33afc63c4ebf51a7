import * as tf from '@tensorflow/tfjs';
import { registerFastKernels } from './fast-kernels.js';
import { registerWasmFallbackKernels } from './wasm-fallback-kernels.js';
import { describeAdapter, tryWebGpu, type WebGpuAdapter } from './webgpu.js';
import { fixWasmFusedMatMul } from './wasm-fused-matmul.js';

/** Backend names {@link initBackend} accepts. */
export type BackendName = 'auto' | 'webgpu' | 'tensorflow-gpu' | 'tensorflow' | 'cpu' | 'wasm';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Try the native OpenBLAS kernels of `@fidkd/tfjs-blas` on the cpu backend (default true); false also removes
   * the ones an earlier call registered (tfjs's own kernels, the "before" of speed comparisons). */
  blas?: boolean;
  /** Where the one-line notices go (default `console.warn`); pass `() => {}` to silence them. */
  log?: (line: string) => void;
}

/** What {@link initBackend} did. */
export interface BackendReport {
  /** The tfjs backend now active: 'webgpu', 'tensorflow', 'cpu' or 'wasm'. */
  backend: string;
  /**
   * What accelerates it ('gpu' or 'software-adapter' for webgpu, 'cuda', 'libtensorflow', 'openblas', 'wasm-simd'),
   * null for plain tfjs cpu.
   */
  accelerated: string | null;
  /** The WebGPU adapter (vendor, architecture, description, software or not) when the backend is webgpu. */
  adapter?: WebGpuAdapter;
  /** Why this backend was taken. */
  reason: string;
  /** Candidates tried before it (auto) and why each was passed over. */
  skipped: { name: string; reason: string }[];
}

/** A backend that was asked for explicitly and cannot be used. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backendName: string,
    message: string,
  ) {
    super(`backend '${backendName}': ${message}`);
    this.name = 'BackendUnavailableError';
  }
}

type Attempt = { ok: true; report: Omit<BackendReport, 'skipped'> } | { ok: false; reason: string };

async function webgpuAttempt(allowSoftware: boolean): Promise<Attempt> {
  const a = await tryWebGpu(allowSoftware);
  if (!a.ok) return a;
  const reason = `WebGPU on ${describeAdapter(a.adapter)}${a.adapter.software ? ' (a CPU implementation: for tests, slower than the cpu backend)' : ''}`;
  return { ok: true, report: { backend: 'webgpu', accelerated: a.adapter.software ? 'software-adapter' : 'gpu', reason, adapter: a.adapter } };
}

// Specifiers held in variables so TypeScript and bundlers do not require the optional packages to exist.
const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_WASM = '@tensorflow/tfjs-backend-wasm';
const TFJS_BLAS = '@fidkd/tfjs-blas';

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const e = err as { code?: string; message?: string };
  return (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && (e.message ?? '').includes(specifier);
}

function message(err: unknown): string {
  return (err as Error)?.message?.split('\n')[0] ?? String(err);
}

async function tryTensorflow(gpu: boolean): Promise<Attempt> {
  const spec = gpu ? TFJS_NODE_GPU : TFJS_NODE;
  try {
    await import(spec);
  } catch (err) {
    if (isModuleNotFound(err, spec)) {
      return {
        ok: false,
        reason: `${spec} is not installed (optional; add it with \`npm install ${spec}@^4.22.0\`${gpu ? ' on a machine with CUDA 11.2 / cuDNN 8.1' : ''}, ` +
          `where its install script can still fetch libtensorflow 2.9.1: that download has answered 403 since 2026-08, tensorflow/tfjs#8742; ` +
          `a GPU is reached through the webgpu backend instead)`,
      };
    }
    return { ok: false, reason: `${spec} failed to load: ${message(err)}` };
  }
  // both packages register their backend under the name 'tensorflow'
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, reason: `${spec} loaded but the 'tensorflow' backend did not initialise` };
  return {
    ok: true,
    report: {
      backend: 'tensorflow',
      accelerated: gpu ? 'cuda' : 'libtensorflow',
      reason: gpu ? `${spec} is installed (libtensorflow with CUDA)` : `${spec} is installed (native libtensorflow)`,
    },
  };
}

let blasRegistered: string[] | null = null;
let blasModule: { unregisterBlasKernels?: () => void } | null = null;

async function tryBlas(): Promise<{ ok: true; kernels: string[] } | { ok: false; reason: string }> {
  if (blasRegistered) return { ok: true, kernels: blasRegistered };
  let mod: { registerBlasKernels?: () => { registered: string[] }; unregisterBlasKernels?: () => void };
  try {
    mod = (await import(TFJS_BLAS)) as typeof mod;
  } catch (err) {
    if (isModuleNotFound(err, TFJS_BLAS)) return { ok: false, reason: `${TFJS_BLAS} is not installed (\`npm install --ignore-scripts ${TFJS_BLAS} && npx fidkd-build-tfjs-blas\`: the native OpenBLAS kernels; tfjs's stock cpu kernels are many times slower)` };
    return { ok: false, reason: `${TFJS_BLAS} failed to load: ${message(err)}` };
  }
  if (typeof mod.registerBlasKernels !== 'function') return { ok: false, reason: `${TFJS_BLAS} does not export registerBlasKernels()` };
  try {
    const { registered } = mod.registerBlasKernels();
    if (registered.length === 0) return { ok: false, reason: `${TFJS_BLAS} registered no kernel` };
    blasRegistered = registered;
    blasModule = mod;
    return { ok: true, kernels: registered };
  } catch (err) {
    return { ok: false, reason: `${TFJS_BLAS} unavailable: ${message(err)}` };
  }
}

async function tryWasm(): Promise<Attempt> {
  try {
    await import(TFJS_WASM);
  } catch (err) {
    if (isModuleNotFound(err, TFJS_WASM)) return { ok: false, reason: `${TFJS_WASM} is not installed (npm install ${TFJS_WASM}@^4.22.0)` };
    return { ok: false, reason: `${TFJS_WASM} failed to load: ${message(err)}` };
  }
  registerFastKernels(); // before the bridge, so UnsortedSegmentSum gets the direct JS kernel
  const added = registerWasmFallbackKernels();
  fixWasmFusedMatMul(); // its bias is wrong with transposed or batched operands (tfjs-backend-wasm 4.22)
  try {
    if (!(await tf.setBackend('wasm'))) return { ok: false, reason: `the wasm backend did not initialise` };
  } catch (err) {
    return { ok: false, reason: `the wasm backend did not initialise: ${message(err)}` };
  }
  return {
    ok: true,
    report: {
      backend: 'wasm',
      accelerated: 'wasm-simd',
      reason: `${TFJS_WASM} (XNNPACK); UnsortedSegmentSum in JS${added.length ? `; bridged to the cpu kernels: ${added.join(', ')}` : ''}`,
    },
  };
}

async function useCpu(blas: boolean, skipped: { name: string; reason: string }[], explicit: boolean): Promise<Attempt> {
  if (blas) {
    const b = await tryBlas();
    if (b.ok) {
      await tf.setBackend('cpu');
      return { ok: true, report: { backend: 'cpu', accelerated: 'openblas', reason: `${TFJS_BLAS} kernels: ${b.kernels.join(', ')}` } };
    }
    skipped.push({ name: 'cpu+openblas', reason: b.reason });
  } else if (blasRegistered && typeof blasModule?.unregisterBlasKernels === 'function') {
    // asked for the stock kernels after an earlier call registered the native ones: restore tfjs's own
    blasModule.unregisterBlasKernels();
    blasRegistered = null;
  }
  await tf.setBackend('cpu');
  return {
    ok: true,
    report: { backend: 'cpu', accelerated: null, reason: explicit ? 'cpu requested' : 'no faster backend available' },
  };
}

/**
 * Picks and activates the tfjs backend. Only applications call this; libraries never pick a backend.
 *
 * `auto` tries, in order: `webgpu` on a hardware adapter (`@tensorflow/tfjs-backend-webgpu` on Dawn's Node binding,
 * npm `webgpu`; a software adapter such as Mesa's llvmpipe is passed over), `tensorflow-gpu`
 * (`@tensorflow/tfjs-node-gpu`), `tensorflow` (`@tensorflow/tfjs-node`),
 * `cpu` accelerated by `@fidkd/tfjs-blas` (OpenBLAS matmuls), `wasm` (`@tensorflow/tfjs-backend-wasm`, XNNPACK,
 * with JS fallbacks for the training kernels it lacks), and finally the stock tfjs `cpu` backend with a one-line
 * notice. Measured here (2 cores): stock cpu matMul 0.8–0.9 GFLOP/s, wasm 24–30 GFLOP/s (256–512 square).
 *
 * An explicit name either succeeds or throws {@link BackendUnavailableError} saying what to install (`webgpu`
 * takes a software adapter too, and says so in the report);
 * `cpu` uses the BLAS kernels when `@fidkd/tfjs-blas` loads (unless `blas: false`), else the stock kernels.
 */
export async function initBackend(name: BackendName = 'auto', options: InitBackendOptions = {}): Promise<BackendReport> {
  const blas = options.blas ?? true;
  const log = options.log ?? ((line: string) => console.warn(line));
  const skipped: { name: string; reason: string }[] = [];
  // before @fidkd/tfjs-blas registers its kernels, so that they find (and fall back to) the fast one
  registerFastKernels();
  const finish = async (a: Attempt & { ok: true }): Promise<BackendReport> => {
    await tf.ready();
    registerFastKernels();
    // tfjs's cpu backend prints a banner telling Node users to install tfjs-node on first use; the report
    // (and the one-line notice below) already says which backend runs and why, so the banner is switched off.
    const active = tf.backend() as { firstUse?: boolean };
    if (active && 'firstUse' in active) active.firstUse = false;
    return { ...a.report, backend: tf.getBackend(), skipped };
  };
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const a = await tryTensorflow(name === 'tensorflow-gpu');
      if (!a.ok) throw new BackendUnavailableError(name, a.reason);
      return finish(a);
    }
    case 'webgpu': {
      const a = await webgpuAttempt(true);
      if (!a.ok) throw new BackendUnavailableError(name, a.reason);
      return finish(a);
    }
    case 'wasm': {
      const a = await tryWasm();
      if (!a.ok) throw new BackendUnavailableError(name, a.reason);
      return finish(a);
    }
    case 'cpu':
      return finish((await useCpu(blas, skipped, true)) as Attempt & { ok: true });
    case 'auto': {
      for (const [n, attempt] of [
        ['webgpu', () => webgpuAttempt(false)],
        ['tensorflow-gpu', () => tryTensorflow(true)],
        ['tensorflow', () => tryTensorflow(false)],
      ] as const) {
        const a = await attempt();
        if (a.ok) return finish(a);
        skipped.push({ name: n, reason: a.reason });
      }
      if (blas) {
        const b = await tryBlas();
        if (b.ok) {
          await tf.setBackend('cpu');
          return finish({ ok: true, report: { backend: 'cpu', accelerated: 'openblas', reason: `${TFJS_BLAS} kernels: ${b.kernels.join(', ')}` } });
        }
        skipped.push({ name: 'cpu+openblas', reason: b.reason });
      }
      const w = await tryWasm();
      if (w.ok) return finish(w);
      skipped.push({ name: 'wasm', reason: w.reason });
      await tf.setBackend('cpu');
      log(`fidkd: using the plain tfjs cpu backend (slow); ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
      return finish({ ok: true, report: { backend: 'cpu', accelerated: null, reason: 'no faster backend available' } });
    }
    default:
      throw new BackendUnavailableError(String(name), `unknown backend; expected one of auto, webgpu, tensorflow-gpu, tensorflow, cpu, wasm`);
  }
}
