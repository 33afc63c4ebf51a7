/**
 * The losses of the last `size` optimizer steps, whose mean a training stage reports as `train_loss`. It is
 * saved with each mid-stage checkpoint (`extra.recent_losses`) so that a resumed stage reports the same value as
 * an uninterrupted one.
 */
export class RecentLosses {
  private values: number[] = [];

  constructor(readonly size = 20) {}

  push(loss: number): void {
    this.values.push(loss);
    if (this.values.length > this.size) this.values.shift();
  }

  mean(): number {
    return this.values.reduce((a, b) => a + b, 0) / Math.max(1, this.values.length);
  }

  /** For the checkpoint's `extra`. */
  toJSON(): number[] {
    return [...this.values];
  }

  /** Restores what {@link toJSON} saved (a checkpoint written before this existed restores nothing). */
  restore(extra: unknown): void {
    const saved = (extra as { recent_losses?: unknown } | undefined)?.recent_losses;
    if (Array.isArray(saved) && saved.every((v) => typeof v === 'number')) this.values = saved.slice(-this.size);
  }
}
