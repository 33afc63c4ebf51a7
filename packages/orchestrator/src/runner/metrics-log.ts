import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, appendFileSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line of `metrics.jsonl`. */
export interface MetricsRecord {
  time: string;
  kind: 'step' | 'stage';
  stage: string;
  iteration: number | string;
  step?: number;
  metrics: Record<string, number>;
  seconds?: number;
}

/**
 * Append-only `metrics.jsonl`. Each record is one `write` of one line; a process killed in the middle of a
 * write can leave a partial last line, which is cut off when the log is opened again (so the file always
 * parses line by line). Steps replayed after a resume appear twice, with the same values.
 */
export class MetricsLog {
  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    repairTail(file);
  }

  append(record: Omit<MetricsRecord, 'time'>): void {
    appendFileSync(this.file, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }

  /** Parses every line (for reports and tests). */
  static read(file: string): MetricsRecord[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, i) => {
        try {
          return JSON.parse(l) as MetricsRecord;
        } catch {
          throw new Error(`${file}:${i + 1}: not a JSON line`);
        }
      });
  }
}

/** Truncates a file after its last newline if it does not end with one. */
function repairTail(file: string): void {
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) return;
  const fd = openSync(file, 'r+');
  try {
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    const start = size - chunk.length;
    readSync(fd, chunk, 0, chunk.length, start);
    if (chunk[chunk.length - 1] === 0x0a) return;
    const lastNl = chunk.lastIndexOf(0x0a);
    ftruncateSync(fd, lastNl < 0 ? (start === 0 ? 0 : start) : start + lastNl + 1);
  } finally {
    closeSync(fd);
  }
}
