// The contract between the perf harness and its suites.
import type { WebGpuAdapter } from '@fidkd/core';

/** One measured number, side by side with its reference when there is one. */
export interface BenchRow {
  /** Benchmark name, e.g. `gemm_512x768x3072`. */
  name: string;
  /** tfjs backend measured: `blas` (cpu + @fidkd/tfjs-blas kernels), `cpu` (stock), `wasm`, `webgpu`, `tensorflow`. */
  backend: string;
  /** The measured value (median over repetitions), in `unit`. */
  value: number | null;
  unit: string;
  /** What the value is compared with, e.g. `openblas-sgemm` or `pytorch-1.13 (2 threads)`; null when none. */
  reference: string | null;
  reference_value: number | null;
  /**
   * value / reference_value. For a throughput (GFLOP/s) higher is better; for a time (ms) or a memory (MB)
   * lower is better: `ratio_kind` says which.
   */
  ratio: number | null;
  ratio_kind?: 'throughput' | 'time' | 'memory';
  /** The WebGPU adapter a `webgpu` row ran on (vendor, architecture, description, software or not). */
  adapter?: WebGpuAdapter;
  /** Set when the row could not be measured. */
  error?: string;
  /** Free-form details (repetitions, sizes, caveats). */
  notes?: string;
}

/** What the harness gives each suite. */
export interface SuiteContext {
  /** Backends the user asked for (`blas`, `cpu`, `wasm`, ...); a suite measures those it supports. */
  backends: readonly string[];
  /** Repetitions for timed loops (suites may use fewer for slow backends). */
  reps: number;
  /** Progress lines (stderr). */
  log(message: string): void;
}

/** A benchmark suite: named, self-contained, returns rows (never throws for an unavailable reference). */
export interface Suite {
  name: string;
  description: string;
  /** Backends measured when the user does not pass --backend. */
  defaultBackends: readonly string[];
  run(ctx: SuiteContext): Promise<BenchRow[]>;
}

/** An error row for a suite or a backend that failed, so that the table shows it and the run continues. */
export function errorRow(name: string, backend: string, err: unknown): BenchRow {
  const message = err instanceof Error ? err.message : String(err);
  return { name, backend, value: null, unit: '', reference: null, reference_value: null, ratio: null, error: message };
}
