/**
 * Tokenization glue of the stages: the tokenizer file of a run, FiD reader batches (n_context passages per
 * question, `question: … title: … context: …`), retriever question / passage batches, decoding of answers.
 */
import type { ReaderBatch, TokenBatch } from '@fidkd/core';
import { DataFormatError } from '@fidkd/data';
import * as tok from '@fidkd/tokenization';
import type { FidExample } from './io.js';

export type StageTokenizer = tok.Tokenizer;

const cache = new Map<string, StageTokenizer>();
/** Loads (once per process) a tokenizer.json. */
export async function loadStageTokenizer(file: string): Promise<StageTokenizer> {
  let t = cache.get(file);
  if (!t) {
    t = tok.loadTokenizer(file);
    cache.set(file, t);
  }
  return t;
}

/** A reader batch of `examples` with their first n_context passages (targets for teacher forcing, optional). */
export async function readerBatch(
  tokenizer: StageTokenizer,
  examples: FidExample[],
  targets: string[] | undefined,
  c: { n_context: number; text_maxlength: number; answer_maxlength: number },
  /** The question file, named in errors. */
  file = 'questions',
): Promise<ReaderBatch> {
  for (const ex of examples) {
    if (ex.ctxs.length < c.n_context) {
      throw new DataFormatError(file, `question ${JSON.stringify(ex.id)}`, `has ${ex.ctxs.length} passages (ctxs), fewer than reader.n_context ${c.n_context}`);
    }
  }
  return tok.encodeReaderBatch(
    tokenizer,
    examples.map((ex, i) => ({
      question: ex.question,
      passages: ex.ctxs.slice(0, c.n_context).map((p) => ({ title: p.title, text: p.text })),
      target: targets?.[i],
    })),
    // rows end at the batch's longest passage row: masked positions change no output, and the work is less
    { nContext: c.n_context, textMaxlength: c.text_maxlength, answerMaxlength: c.answer_maxlength, padTo: 'longest' },
  );
}

/** Retriever input for questions: the question text, [CLS] … [SEP], truncated to `maxLength`. */
export async function questionBatch(tokenizer: StageTokenizer, questions: string[], maxLength: number): Promise<TokenBatch> {
  return tok.encodeTexts(tokenizer, questions, { maxLength, kind: 'bert' });
}

/** Retriever input for passages: `title text` as in the FiD repo. */
export function passageBatch(tokenizer: StageTokenizer, passages: Array<{ title: string; text: string }>, maxLength: number): Promise<TokenBatch> {
  return tok.encodeTexts(tokenizer, passages.map((p) => tok.formatRetrieverPassage(p.title, p.text)), { maxLength, kind: 'bert' });
}

/** Decodes generated ids (row r of [rows, length]) into answer strings, dropping special tokens. */
export async function decodeAnswers(tokenizer: StageTokenizer, ids: Int32Array, rows: number, length: number): Promise<string[]> {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) out.push(await tokenizer.decode(ids.subarray(r * length, (r + 1) * length), true));
  return out;
}

/** Vocabulary size of a tokenizer (models created from scratch take theirs from it). */
export function tokenizerVocabSize(tokenizer: StageTokenizer): number {
  return tokenizer.vocabSize;
}
