// Selecting the tfjs backend a row measures. `blas` is the stock cpu backend with @fidkd/tfjs-blas's native
// kernels registered; `blas-unfused` the same without its fused kernels (T5 attention, RMS norm: the reader's
// path before they existed); `cpu` the stock cpu kernels; `wasm` tfjs-backend-wasm; `tensorflow` tfjs-node;
// `webgpu` tfjs-backend-webgpu on Dawn (any adapter, software included: the rows name it).
import * as tf from '@tensorflow/tfjs';
import { initBackend, type WebGpuAdapter } from '@fidkd/core';

/** The subset of @fidkd/tfjs-blas the harness uses (imported dynamically: no build-order coupling). */
export interface TfjsBlasModule {
  BLAS_KERNELS: Readonly<Record<string, unknown>>;
  registerBlasKernels(options?: { threads?: number; kernels?: readonly string[] }): { registered: string[] };
  unregisterBlasKernels(): void;
  isBlasAvailable(): boolean;
  blasInfo(): { blasThreads: number; poolThreads: number; library: string; corename: string };
  benchSgemm(m: number, n: number, k: number, reps: number): number[];
}

let blasModule: TfjsBlasModule | undefined;

/** Loads @fidkd/tfjs-blas (throws its BlasUnavailableError message when the addon is not built). */
export async function loadBlas(): Promise<TfjsBlasModule> {
  if (!blasModule) {
    const spec = '@fidkd/tfjs-blas';
    blasModule = (await import(spec)) as TfjsBlasModule;
  }
  return blasModule;
}

/** Makes `name` the active backend; throws with the reason when it cannot run here. */
export async function useBackend(name: string): Promise<void> {
  switch (name) {
    case 'blas': {
      const blas = await loadBlas();
      blas.registerBlasKernels();
      await setOrThrow('cpu');
      return;
    }
    case 'blas-unfused': {
      const blas = await loadBlas();
      blas.unregisterBlasKernels();
      blas.registerBlasKernels({ kernels: Object.keys(blas.BLAS_KERNELS) });
      await setOrThrow('cpu');
      return;
    }
    case 'cpu': {
      if (blasModule) blasModule.unregisterBlasKernels();
      await setOrThrow('cpu');
      return;
    }
    case 'wasm': {
      // core's initBackend also supplies the kernels tfjs-backend-wasm lacks (UnsortedSegmentSum, …).
      await initBackend('wasm');
      await setOrThrow('wasm');
      return;
    }
    case 'webgpu': {
      const report = await initBackend('webgpu', { log: () => {} });
      webgpu = report.adapter;
      await setOrThrow('webgpu');
      return;
    }
    case 'tensorflow': {
      const spec = '@tensorflow/tfjs-node';
      await import(spec);
      await setOrThrow('tensorflow');
      return;
    }
    default:
      throw new Error(`unknown backend ${name} (expected blas, blas-unfused, cpu, wasm, webgpu or tensorflow)`);
  }
}

let webgpu: WebGpuAdapter | undefined;

/** The adapter the `webgpu` rows ran on (once the backend was used). */
export function webgpuAdapter(): WebGpuAdapter | undefined {
  return webgpu;
}

/**
 * Backends whose every kernel is slow enough that a suite runs fewer repetitions or a smaller workload: the
 * stock cpu and wasm kernels, and webgpu on a software adapter (a CPU running the GPU's shaders).
 */
export function isSlowBackend(name: string): boolean {
  return name === 'cpu' || name === 'wasm' || (name === 'webgpu' && webgpu?.software !== false);
}

async function setOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tfjs backend ${name} failed to initialise`);
}
