// Peak resident memory of one workload, measured the same way for fidkd and PyTorch: a fresh process builds the
// model, runs the workload (warm-up + one run) and reports its VmHWM (/proc/self/status). A fresh process per
// workload keeps memory left behind by earlier suites out of the figure.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './suite.js';

/** The process's peak resident set (VmHWM) in MB, or null where /proc is not available. */
export function peakRssMb(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Workloads rss-probe.js knows: those of profile.js, and ONNX Runtime embedding of bert-base — `embed-ort` (OrtEmbedder.load
 * of the checkpoint directory in `extra` --checkpoint) and `embed-ort-reference` (a session on the ONNX file --onnx).
 */
export type ProbeModel = 'embed' | 'reader-t5-small' | 'embed-ort' | 'embed-ort-reference';

/** Runs dist/rss-probe.js for `model` on `backend` in a child process; its peak RSS in MB. */
export function probePeakRss(model: ProbeModel, backend: string, extra: readonly string[] = []): number {
  const script = fileURLToPath(new URL('./rss-probe.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--model', model, '--backend', backend, ...extra], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`rss-probe ${model} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  const out = JSON.parse(lines[lines.length - 1]!) as { peak_rss_mb: number | null };
  if (out.peak_rss_mb === null) throw new Error('rss-probe: /proc/self/status has no VmHWM here');
  return out.peak_rss_mb;
}

/** A peak-RSS row (MB, lower is better) beside PyTorch's figure when there is one. */
export function rssRow(name: string, backend: string, mb: number, ref: { label: string; rssMb: number | null } | null, notes: string): BenchRow {
  const refMb = ref?.rssMb ?? null;
  return {
    name, backend, value: mb, unit: 'MB', reference: ref?.label ?? null, reference_value: refMb,
    ratio: refMb ? mb / refMb : null, ratio_kind: 'memory', notes,
  };
}
