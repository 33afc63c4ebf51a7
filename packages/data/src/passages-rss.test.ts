import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Writes `rows` DPR-style rows fast (big string batches, no per-row syscalls). */
function writeBigTsv(file: string, rows: number): void {
  const fd = openSync(file, 'w');
  const words = ['river', 'stone', 'harbour', 'mill', 'tower', 'bridge', 'north', 'valley', 'glass', 'salt', 'clock'];
  let batch = 'id\ttext\ttitle\n';
  for (let i = 1; i <= rows; i++) {
    let text = '';
    for (let w = 0; w < 24; w++) text += `${words[(i * 7 + w * 13) % words.length]} `;
    batch += `${i}\t"${text}""quoted"" ${i}"\tTitle ${i}\n`;
    if (batch.length > 1 << 22) {
      writeSync(fd, batch);
      batch = '';
    }
  }
  writeSync(fd, batch);
  closeSync(fd);
}

describe('passages TSV at scale', () => {
  test('a 1M-row passages TSV streams under 300 MB RSS, and its byte-offset index answers by id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fidkd-data-rss-'));
    try {
      const file = join(dir, 'psgs.tsv');
      writeBigTsv(file, 1_000_000);
      // A child process, so the RSS measured is the reader's alone (not jest's).
      const out = execFileSync(
        process.execPath,
        ['--import', join(here, '__tests__', 'register-ts.mjs'), join(here, '__tests__', 'stream-rss-child.ts'), file, 'store'],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number & unknown>;
      console.log(`1M-row TSV: ${JSON.stringify(r)}`);
      expect(r.count).toBe(1_000_000);
      expect(r.streamPeakRssMB).toBeLessThan(300);
      expect(r.size).toBe(1_000_000);
      expect(r.sample).toEqual(['Title 1', 'Title 500000', 'Title 1000000', null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
