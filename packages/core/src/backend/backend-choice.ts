import { initBackend, type BackendReport, type InitBackendOptions } from './init-backend.js';
import type { WebGpuAdapter } from './webgpu.js';

/**
 * The backends a command line offers (`--backend`): initBackend's names, plus `cpu-stock`, tfjs's own cpu
 * kernels without @fidkd/tfjs-blas (the "before" of speed comparisons).
 */
export const BACKEND_CHOICES = ['auto', 'cpu', 'cpu-stock', 'wasm', 'webgpu', 'tensorflow', 'tensorflow-gpu'] as const;

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

/** What a run records of its backend (results.json, benchmark output): the tfjs backend, its accelerator, the WebGPU adapter. */
export interface BackendRecord {
  backend: string;
  accelerated: string | null;
  adapter?: WebGpuAdapter;
}

/** The {@link BackendRecord} of a report. */
export function backendRecord(report: BackendReport): BackendRecord {
  return { backend: report.backend, accelerated: report.accelerated, ...(report.adapter ? { adapter: report.adapter } : {}) };
}

/**
 * The lines a command logs about its backend: `backend: <name>[+<accelerator>] (<why>)`, the WebGPU adapter
 * when there is one, then each candidate `auto` passed over and why.
 */
export function backendLines(report: BackendReport): string[] {
  const taken = report.accelerated ? `${report.backend}+${report.accelerated}` : report.backend;
  const lines = [`backend: ${taken} (${report.reason})`];
  const a = report.adapter;
  if (a) lines.push(`  adapter: vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}, description ${a.description || '?'}, ${a.software ? 'software (no GPU)' : 'hardware'}`);
  for (const s of report.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  return lines;
}
