import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** One retrieved document of a ranked list. */
export interface TrecRunHit {
  docid: string;
  score: number;
}

/** A run: question id → its documents, best first (file order of ranks). */
export type TrecRun = Map<string, TrecRunHit[]>;

/** A TREC run file that cannot be read or a run that cannot be written. */
export class TrecRunError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`);
    this.name = 'TrecRunError';
  }
}

const NO_SPACE = /^\S+$/u;

/**
 * Writes a run in the TREC format `qid Q0 docid rank score tag`, one line per hit, ranks 1.. in list order
 * (lists must be best first). The file is written to a temporary name beside it and renamed, so an existing
 * run is never left half-written. Ids must be non-empty and contain no whitespace; scores must be finite.
 */
export async function writeTrecRun(file: string, run: TrecRun, options: { tag?: string } = {}): Promise<void> {
  const tag = options.tag ?? 'fidkd';
  if (!NO_SPACE.test(tag)) throw new TrecRunError(file, undefined, `tag ${JSON.stringify(tag)} must be non-empty without whitespace`);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    let chunk = '';
    for (const [qid, hits] of run) {
      if (!NO_SPACE.test(qid)) throw new TrecRunError(file, undefined, `question id ${JSON.stringify(qid)} must be non-empty without whitespace`);
      hits.forEach((h, i) => {
        if (!NO_SPACE.test(h.docid)) throw new TrecRunError(file, undefined, `question ${qid}: document id ${JSON.stringify(h.docid)} must be non-empty without whitespace`);
        if (!Number.isFinite(h.score)) throw new TrecRunError(file, undefined, `question ${qid}: score of ${h.docid} is ${h.score}, expected a finite number`);
        chunk += `${qid} Q0 ${h.docid} ${i + 1} ${h.score} ${tag}\n`;
      });
      if (chunk.length > 1 << 20) {
        await fh.write(chunk);
        chunk = '';
      }
    }
    await fh.write(chunk);
    await fh.sync();
    await fh.close();
    await rename(tmp, file);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Reads a TREC run file (`qid Q0 docid rank score tag`, whitespace separated; blank lines ignored). Each
 * question's hits are returned sorted by rank. Errors name the file and line: wrong field count, a rank that is
 * not a positive integer, a score that is not a finite number, a repeated rank or document within a question.
 */
export async function readTrecRun(file: string): Promise<TrecRun> {
  const ranked = new Map<string, { rank: number; hit: TrecRunHit }[]>();
  const seen = new Map<string, Set<string>>();
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new TrecRunError(file, undefined, `cannot open: ${(err as Error).message}`);
  }
  const rl = createInterface({ input: fh.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = raw.trim();
      if (line === '') continue;
      const f = line.split(/\s+/u);
      if (f.length !== 6) throw new TrecRunError(file, lineNo, `expected 6 fields "qid Q0 docid rank score tag", found ${f.length}`);
      const [qid, , docid, rankText, scoreText] = f as [string, string, string, string, string, string];
      const rank = Number(rankText);
      if (!/^\d+$/u.test(rankText) || rank < 1) throw new TrecRunError(file, lineNo, `rank ${JSON.stringify(rankText)} is not a positive integer`);
      const score = Number(scoreText);
      if (scoreText === '' || !Number.isFinite(score)) throw new TrecRunError(file, lineNo, `score ${JSON.stringify(scoreText)} is not a finite number`);
      let list = ranked.get(qid);
      let keys = seen.get(qid);
      if (!list || !keys) {
        list = [];
        keys = new Set();
        ranked.set(qid, list);
        seen.set(qid, keys);
      }
      if (keys.has(`d:${docid}`)) throw new TrecRunError(file, lineNo, `document ${docid} appears twice for question ${qid}`);
      if (keys.has(`r:${rank}`)) throw new TrecRunError(file, lineNo, `rank ${rank} appears twice for question ${qid}`);
      keys.add(`d:${docid}`);
      keys.add(`r:${rank}`);
      list.push({ rank, hit: { docid, score } });
    }
  } catch (err) {
    if (err instanceof TrecRunError) throw err;
    throw new TrecRunError(file, lineNo || undefined, `cannot read: ${(err as Error).message}`);
  } finally {
    rl.close();
    await fh.close().catch(() => undefined);
  }
  const run: TrecRun = new Map();
  for (const [qid, list] of ranked) run.set(qid, list.sort((a, b) => a.rank - b.rank).map((x) => x.hit));
  return run;
}
