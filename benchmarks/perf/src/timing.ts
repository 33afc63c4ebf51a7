// Timing helpers: warm-up, then the median of repeated runs (robust to the noise of a shared machine).

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs fn `warmup` times untimed then `reps` times; returns seconds per run (median) and all samples. `between`
 * (untimed) runs before every timed run: a reference sampled under the same load.
 */
export async function timeIt(fn: () => void | Promise<void>, reps: number, warmup = 1, between?: () => void | Promise<void>): Promise<{ seconds: number; samples: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    if (between) await between();
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(samples), samples };
}
