/**
 * Typed progress events. Libraries emit them through an optional `onProgress` callback; only the CLI renders
 * them (as progress bars). `task` names the long step (e.g. 'embed-passages'), `unit` what is counted.
 */
export type ProgressEvent =
  | { type: 'start'; task: string; total?: number; unit?: string }
  | { type: 'progress'; task: string; done: number; total?: number; unit?: string; ratePerSecond?: number; info?: Record<string, number | string> }
  | { type: 'end'; task: string; done: number; seconds: number; unit?: string; ratePerSecond?: number };

export type ProgressListener = (event: ProgressEvent) => void;

/**
 * A small helper that turns counts into start / progress / end events with rates, throttled so that a
 * callback is not called more often than every `minIntervalMs`.
 */
export class ProgressReporter {
  private done = 0;
  private readonly t0 = performance.now();
  private lastEmit = 0;

  constructor(
    private readonly task: string,
    private readonly listener: ProgressListener | undefined,
    private readonly total?: number,
    private readonly unit?: string,
    private readonly minIntervalMs = 100,
  ) {
    listener?.({ type: 'start', task, total, unit });
  }

  /** Adds `n` finished units; `info` carries extra figures (loss, lr …) for the renderer. */
  tick(n = 1, info?: Record<string, number | string>): void {
    this.done += n;
    if (!this.listener) return;
    const now = performance.now();
    if (now - this.lastEmit < this.minIntervalMs && (this.total === undefined || this.done < this.total)) return;
    this.lastEmit = now;
    const seconds = (now - this.t0) / 1000;
    this.listener({
      type: 'progress', task: this.task, done: this.done, total: this.total, unit: this.unit,
      ratePerSecond: seconds > 0 ? this.done / seconds : undefined, info,
    });
  }

  end(): void {
    const seconds = (performance.now() - this.t0) / 1000;
    this.listener?.({
      type: 'end', task: this.task, done: this.done, seconds, unit: this.unit,
      ratePerSecond: seconds > 0 ? this.done / seconds : undefined,
    });
  }
}
