import { initBackend, type BackendReport, type InitBackendOptions } from './init-backend.js';

/**
 * The backends a command line offers (`--backend`): initBackend's names, plus `cpu-stock`, tfjs's own cpu
 * kernels without @fidkd/tfjs-blas (the "before" of speed comparisons).
 */
export const BACKEND_CHOICES = ['auto', 'cpu', 'cpu-stock', 'wasm', 'tensorflow', 'tensorflow-gpu'] as const;

/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** Whether `name` is one of {@link BACKEND_CHOICES}. */
export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

/** {@link initBackend} for a `--backend` value; a RangeError listing the choices for anything else. */
export async function initBackendChoice(choice: string, options: Omit<InitBackendOptions, 'blas'> = {}): Promise<BackendReport> {
  if (!isBackendChoice(choice)) throw new RangeError(`--backend ${choice}: expected one of ${BACKEND_CHOICES.join(', ')}`);
  return choice === 'cpu-stock' ? initBackend('cpu', { ...options, blas: false }) : initBackend(choice, options);
}
