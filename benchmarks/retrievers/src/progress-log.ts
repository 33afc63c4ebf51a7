import type { ProgressEvent, ProgressListener } from '@fidkd/core';

/**
 * Progress of long steps (embedding the collection, retrieving) as plain lines on `write` (stderr by default):
 * start and end of each task, and in between at most one line per `everyMs`.
 */
export function progressLines(write: (line: string) => void = (l) => void process.stderr.write(`${l}\n`), everyMs = 5000): ProgressListener {
  let last = 0;
  const count = (e: { done?: number; total?: number; unit?: string }) =>
    `${e.done ?? 0}${e.total !== undefined ? `/${e.total}` : ''}${e.unit ? ` ${e.unit}` : ''}`;
  return (e: ProgressEvent) => {
    if (e.type === 'start') {
      last = Date.now();
      write(`${e.task}: started${e.total !== undefined ? ` (${e.total}${e.unit ? ` ${e.unit}` : ''})` : ''}`);
    } else if (e.type === 'progress') {
      if (Date.now() - last < everyMs) return;
      last = Date.now();
      write(`${e.task}: ${count(e)}${e.ratePerSecond ? `, ${e.ratePerSecond.toFixed(1)}/s` : ''}`);
    } else {
      write(`${e.task}: ${count(e)} in ${e.seconds.toFixed(1)} s`);
    }
  };
}
