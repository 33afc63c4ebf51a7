/**
 * The data of a run checked before any stage runs, so that a bad record costs seconds, not a trained reader:
 * every question file read record by record, the passages TSV's header, then the whole TSV in one streaming pass
 * (its byte-offset index, built in the run directory's `cache/` and reused by retrieve: short rows and duplicate
 * ids and empty passages reported by TSV line), its size against retrieve.n_passages, and the gold passage ids of
 * the questions looked up in it.
 */
import type { ProgressListener } from '@fidkd/core';
import { DataFormatError, readPassagesColumns, readQuestions } from '@fidkd/data';
import type { PipelineConfig } from './config.js';
import { passageLookup } from './stages/io.js';

/** Options of {@link checkPipelineData}. */
export interface DataCheckOptions {
  /** The run directory: the passage index goes to its `cache/`. */
  runDir: string;
  /** Progress of the TSV pass ('read-passages', bytes). */
  onProgress?: ProgressListener;
  /** Prefix of the config keys named in messages (as the user typed them). */
  keyPrefix?: string;
}

/** What the check saw, for the log. */
export interface DataCheckSummary {
  questions: Record<string, number>;
  passages: number;
  /** Training questions without D⁰ passages: left out of iteration 0's reader, trained on from D¹ on. */
  trainWithoutPassages: number;
}

/**
 * Checks every data file of `c` (see the module comment); the first bad record throws a DataFormatError naming
 * the file and the record. Mirrors what the stages would refuse later: training questions need an answer and
 * reader.n_context passages (questions without passages are left out, as train-reader does), evaluated splits
 * need questions with reader.n_context passages when the reader's EM is computed.
 */
export async function checkPipelineData(c: PipelineConfig, options: DataCheckOptions): Promise<DataCheckSummary> {
  const pre = options.keyPrefix ?? '';
  await readPassagesColumns(c.data.passages).catch((err: unknown) => {
    // a missing or unreadable TSV is named as such (the header read is what meets it first)
    if ((err as NodeJS.ErrnoException).code) throw new DataFormatError(c.data.passages, undefined, `cannot read passages TSV: ${(err as NodeJS.ErrnoException).code}`);
    throw err;
  });
  const splits: Array<['train' | 'dev' | 'test', string]> = [['train', c.data.train], ['dev', c.data.dev]];
  if (c.data.test) splits.push(['test', c.data.test]);
  const evaluated = new Set<string>(['dev', ...(c.evaluate.splits ?? [])]);
  const n = c.reader.n_context;
  const gold: Array<{ file: string; where: string; id: string }> = [];
  const questions: Record<string, number> = {};
  let trainWithoutPassages = 0;
  for (const [split, file] of splits) {
    let count = 0;
    let withPassages = 0;
    for await (const q of readQuestions(file)) {
      const where = `record ${count} (id ${JSON.stringify(q.id)})`;
      count++;
      if (split === 'train') {
        if (!q.target && !q.answers.some((a) => a.length > 0)) throw new DataFormatError(file, where, 'a training question needs an answer: "answers" is empty and there is no "target"');
        if (q.ctxs.length > 0 && q.ctxs.length < n) throw new DataFormatError(file, where, `has ${q.ctxs.length} passages (ctxs), fewer than ${pre}reader.n_context ${n}`);
      } else if (evaluated.has(split)) {
        if (!q.answers.some((a) => a.length > 0)) throw new DataFormatError(file, where, `an evaluated question needs an answer: "answers" is empty (R@k and exact match compare against them)`);
        if (c.evaluate.reader_em && q.ctxs.length < n) throw new DataFormatError(file, where, `has ${q.ctxs.length} passages (ctxs), fewer than ${pre}reader.n_context ${n} (the reader's exact match reads that many)`);
      }
      const empty = q.ctxs.findIndex((p) => !/\S/.test(p.text));
      if (empty >= 0) throw new DataFormatError(file, where, `field "ctxs[${empty}].text" is empty (passage id ${JSON.stringify(q.ctxs[empty]!.id)})`);
      if (q.ctxs.length > 0) withPassages++;
      for (const g of q.gold_passage_ids ?? []) gold.push({ file, where, id: g });
    }
    if (split === 'train' && withPassages === 0) throw new DataFormatError(file, undefined, 'no question with passages (ctxs) to train the reader on');
    if (split === 'train') trainWithoutPassages = count - withPassages;
    if (split !== 'train' && count === 0) throw new DataFormatError(file, undefined, `no questions (the ${split} split is empty)`);
    questions[split] = count;
  }
  const lookup = await passageLookup(c.data.passages, options.runDir, options.onProgress);
  try {
    // retrieval takes the top retrieve.n_passages of the collection: a smaller one would leave questions short
    if (lookup.size < c.retrieve.n_passages) {
      throw new DataFormatError(c.data.passages, undefined, `has ${lookup.size} passages, fewer than ${pre}retrieve.n_passages ${c.retrieve.n_passages} (each question retrieves that many)`);
    }
    // FiD's shards split the collection's rows: more shards than rows would embed empty shards
    if (lookup.size < c.embed.num_shards) {
      throw new DataFormatError(c.data.passages, undefined, `has ${lookup.size} passages, fewer than ${pre}embed.num_shards ${c.embed.num_shards} (each shard embeds a share of them)`);
    }
    for (const g of gold) {
      if (!lookup.get(g.id)) throw new DataFormatError(g.file, g.where, `gold passage id ${JSON.stringify(g.id)} is not in the passages TSV ${c.data.passages} (${pre}data.passages), so gold recall would count it as never retrieved`);
    }
    return { questions, passages: lookup.size, trainWithoutPassages };
  } finally {
    lookup.close();
  }
}
