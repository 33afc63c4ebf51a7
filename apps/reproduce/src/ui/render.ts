import cliProgress from 'cli-progress';
import type { ProgressEvent } from '@fidkd/core';
import type { OrchestratorEvent } from '@fidkd/orchestrator';

/** Options of the terminal renderer. */
export interface RendererOptions {
  /** Draw progress bars (default: when stderr is a TTY). Without bars, plain lines at most every `intervalMs`. */
  bars?: boolean;
  intervalMs?: number;
  /** Where lines and bars go (default process.stderr, keeping stdout for results). */
  stream?: NodeJS.WriteStream;
  quiet?: boolean;
}

const fmt = (m: Record<string, number>): string =>
  Object.entries(m).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(' ');

/**
 * Renders orchestrator events (and the libraries' ProgressEvents they carry): a cli-progress bar per running
 * task on a TTY; otherwise plain periodic lines, so logs of batch jobs stay readable.
 */
export class Renderer {
  private readonly bars: boolean;
  private readonly intervalMs: number;
  private readonly stream: NodeJS.WriteStream;
  private multi?: cliProgress.MultiBar;
  private readonly active = new Map<string, cliProgress.SingleBar>();
  private readonly lastLine = new Map<string, number>();

  constructor(private readonly options: RendererOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.bars = options.bars ?? Boolean(process.stdout.isTTY && this.stream.isTTY);
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  /** A listener to pass to the StageRunner. */
  readonly listener = (e: OrchestratorEvent): void => this.onEvent(e);

  /** Writes a line above the bars. */
  line(text: string): void {
    if (this.options.quiet) return;
    if (this.multi) this.multi.log(text + '\n');
    else this.stream.write(text + '\n');
  }

  /** Renders a bare ProgressEvent (for commands that call libraries directly). */
  progress(label: string, e: ProgressEvent): void {
    const id = `${label}:${e.task}`;
    if (e.type === 'start') this.open(id, `${label} ${e.task}`, e.total, e.unit);
    else if (e.type === 'progress') this.update(id, `${label} ${e.task}`, e.done, e.total, e.unit, e.ratePerSecond, e.info);
    else {
      this.close(id);
      this.line(`  ${label} ${e.task}: ${e.done}${e.unit ? ' ' + e.unit : ''} in ${e.seconds.toFixed(1)} s`);
    }
  }

  onEvent(e: OrchestratorEvent): void {
    if (this.options.quiet) return;
    switch (e.type) {
      case 'stage-start':
        this.line(`▶ ${e.key}`);
        break;
      case 'stage-skip':
        this.line(`✓ ${e.key} (done, skipped)`);
        break;
      case 'stage-end':
        this.close(`${e.key}:steps`);
        this.line(`✓ ${e.key} ${e.seconds.toFixed(1)} s${Object.keys(e.metrics).length ? '  ' + fmt(e.metrics) : ''}`);
        break;
      case 'stage-clean':
        this.line(`  ${e.key}: removed ${e.removed.length} leftover(s) of an interrupted run`);
        break;
      case 'checkpoint':
        break;
      case 'log':
        this.line(`${e.level === 'warn' ? '! ' : '  '}${e.stage ? `${e.stage}: ` : ''}${e.message}`);
        break;
      case 'step': {
        const id = `${e.key}:steps`;
        if (!this.active.has(id) && !this.lastLine.has(id)) this.open(id, `${e.key}`, e.total, 'steps');
        this.update(id, e.key, e.step, e.total, 'steps', undefined, e.metrics);
        break;
      }
      case 'progress':
        this.progress(e.key, e.event);
        break;
    }
  }

  private open(id: string, label: string, total?: number, unit?: string): void {
    if (!this.bars) {
      this.lastLine.set(id, 0);
      return;
    }
    this.multi ??= new cliProgress.MultiBar(
      { clearOnComplete: true, hideCursor: true, format: ' {label} |{bar}| {value}/{total} {unit} {info}', stream: this.stream, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    this.active.set(id, this.multi.create(total ?? 0, 0, { label, unit: unit ?? '', info: '' }));
  }

  private update(id: string, label: string, done: number, total?: number, unit?: string, rate?: number, info?: Record<string, number | string>): void {
    const infoText = [rate ? `${rate.toFixed(1)}/s` : '', info ? Object.entries(info).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : v}`).join(' ') : ''].filter(Boolean).join(' ');
    if (this.bars) {
      if (!this.active.has(id)) this.open(id, label, total, unit);
      const bar = this.active.get(id);
      if (!bar) return;
      if (total !== undefined) bar.setTotal(total);
      bar.update(done, { info: infoText });
      return;
    }
    const now = Date.now();
    const last = this.lastLine.get(id) ?? 0;
    if (now - last < this.intervalMs && !(total !== undefined && done >= total)) return;
    this.lastLine.set(id, now);
    this.stream.write(`  ${label}: ${done}${total !== undefined ? `/${total}` : ''} ${unit ?? ''} ${infoText}\n`);
  }

  private close(id: string): void {
    const bar = this.active.get(id);
    if (bar && this.multi) {
      bar.stop();
      this.multi.remove(bar);
    }
    this.active.delete(id);
    this.lastLine.delete(id);
    if (this.multi && this.active.size === 0) {
      this.multi.stop();
      this.multi = undefined;
    }
  }

  /** Stops every bar (call before printing results). */
  stop(): void {
    for (const id of [...this.active.keys()]) this.close(id);
  }
}
