/**
 * Padded batch encoding to the typed-array batches the models of @fidkd/core take (./batches.ts): the FiD reader batch (B questions ×
 * n_context passages × text_maxlength tokens, plus answer labels) and plain text batches for the BERT retriever
 * or the T5 encoder. Texts are tokenized without the tokenizer's own post-processor; the special tokens each
 * format needs are added here, so any tokenizer.json works the same way.
 */
import type { ReaderBatch, TokenBatch } from './batches.js';
import { TokenizerError } from './errors.js';
import { formatReaderInput } from './formats.js';
import type { SpecialTokenIds } from './special-tokens.js';

/**
 * What the batch encoders need of a tokenizer: ids without special tokens, the special-token ids, the file named
 * in errors. Both `Tokenizer` (native `tokenizers`) and `WordPieceTokenizer` (plain JavaScript) are one.
 */
export interface EncodingTokenizer {
  encodeMany(texts: readonly string[]): Promise<number[][]>;
  readonly specialIds: SpecialTokenIds;
  readonly file?: string;
}

/** One FiD example: a question, its candidate passages (first n_context used) and an optional target answer. */
export interface ReaderExample {
  question: string;
  passages: readonly { title: string; text: string }[];
  /** Target answer for teacher forcing; when given for one example it must be given for all. */
  target?: string;
}

/** Options of {@link encodeReaderBatch}. */
export interface ReaderBatchOptions {
  /** Passages per question (n_context). Extra passages are dropped, as FiD does. */
  nContext: number;
  /** Tokens per passage row (text_maxlength), INCLUDING the trailing eos. */
  textMaxlength: number;
  /** Label length including the eos; answers longer are truncated (eos kept). ≤ 0: pad to the longest answer. */
  answerMaxlength?: number;
  /** Eos id (default: the tokenizer's `</s>`, see special-tokens.ts). */
  eosId?: number;
  /** Pad id (default: the tokenizer's pad token, else 0). */
  padId?: number;
  /**
   * What to do when an example has fewer than nContext passages: 'error' (default, FiD's batches assume full
   * lists) or 'repeat' (cycle through the passages it has, so every row is a real passage).
   */
  missingPassages?: 'error' | 'repeat';
  /**
   * 'max' (default): every row is textMaxlength tokens, as FiD's collator pads; 'longest': rows end at the longest
   * row of this batch (≤ textMaxlength). Masked positions change no output, so 'longest' only saves the work.
   */
  padTo?: 'max' | 'longest';
}

function requireInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new TokenizerError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

function resolveId(tokenizer: EncodingTokenizer, explicit: number | undefined, found: number | undefined, role: string, token: string): number {
  const id = explicit ?? found;
  if (id === undefined) {
    throw new TokenizerError(`tokenizer${tokenizer.file ? ` ${tokenizer.file}` : ''} has no ${role} token (${token}); pass ${role}Id`);
  }
  return id;
}

/**
 * Encode FiD reader inputs: row b*nContext + j of `inputIds` / `attentionMask` ([B, nContext, textMaxlength]) is
 * `question: {q} title: {t} context: {c}` for passage j of example b, truncated to textMaxlength − 1 tokens, then
 * eos, then pad (0) with mask 0. With targets, `labels` [B, answerLength] = answer ids + eos, padded with −100.
 */
export async function encodeReaderBatch(
  tokenizer: EncodingTokenizer,
  examples: readonly ReaderExample[],
  options: ReaderBatchOptions,
): Promise<ReaderBatch> {
  const { nContext, answerMaxlength = -1, missingPassages = 'error', padTo = 'max' } = options;
  requireInt('nContext', nContext, 1);
  requireInt('textMaxlength', options.textMaxlength, 2);
  const eos = resolveId(tokenizer, options.eosId, tokenizer.specialIds.eos, 'eos', '</s>');
  const pad = options.padId ?? tokenizer.specialIds.pad ?? 0;

  const texts: string[] = [];
  examples.forEach((ex, b) => {
    const ps = ex.passages;
    if (ps.length < nContext && (missingPassages === 'error' || ps.length === 0)) {
      throw new TokenizerError(`example ${b}: ${ps.length} passages, n_context is ${nContext} (use missingPassages: 'repeat' to cycle them)`);
    }
    for (let j = 0; j < nContext; j++) {
      const p = ps[j % ps.length]!;
      texts.push(formatReaderInput(ex.question, p.title, p.text));
    }
  });
  const rows = await tokenizer.encodeMany(texts);
  const textMaxlength = padTo === 'longest' ? Math.min(options.textMaxlength, longest(rows) + 1) : options.textMaxlength;
  const inputIds = new Int32Array(rows.length * textMaxlength).fill(pad);
  const attentionMask = new Int32Array(rows.length * textMaxlength);
  rows.forEach((ids, r) => writeRow(inputIds, attentionMask, r * textMaxlength, ids, textMaxlength - 1, [eos]));

  const batch: ReaderBatch = { inputIds, attentionMask, batchSize: examples.length, nContext, textMaxlength };
  const withTarget = examples.filter((e) => e.target !== undefined).length;
  if (withTarget === 0) return batch;
  if (withTarget !== examples.length) {
    const missing = examples.findIndex((e) => e.target === undefined);
    throw new TokenizerError(`example ${missing} has no target while others do`);
  }
  const answers = await tokenizer.encodeMany(examples.map((e) => e.target!));
  const answerLength = answerMaxlength > 0 ? answerMaxlength : longest(answers) + 1;
  const labels = new Int32Array(examples.length * answerLength).fill(-100);
  answers.forEach((ids, b) => writeRow(labels, undefined, b * answerLength, ids, answerLength - 1, [eos]));
  return { ...batch, labels, answerLength };
}

function longest(rows: readonly (readonly number[])[]): number {
  let m = 0;
  for (const r of rows) if (r.length > m) m = r.length;
  return m;
}

/** Write prefix + ids[:maxContent] + suffix at `offset`, setting the mask to 1 on written positions. */
function writeRow(
  out: Int32Array,
  mask: Int32Array | undefined,
  offset: number,
  ids: readonly number[],
  maxContent: number,
  suffix: readonly number[],
  prefix: readonly number[] = [],
): number {
  let p = offset;
  for (const id of prefix) out[p++] = id;
  const n = Math.min(ids.length, maxContent);
  for (let i = 0; i < n; i++) out[p++] = ids[i]!;
  for (const id of suffix) out[p++] = id;
  if (mask) mask.fill(1, offset, p);
  return p - offset;
}

/** Options of {@link encodeTexts}. */
export interface EncodeTextsOptions {
  /** Row length including the special tokens; longer texts are truncated. */
  maxLength: number;
  /** 'bert': `[CLS] … [SEP]` (retriever questions / passages); 't5': `… </s>` (T5 encoder input). */
  kind: 'bert' | 't5';
  /** 'max' (default): every row is maxLength, as FiD's collators pad; 'longest': pad to the longest row. */
  padTo?: 'max' | 'longest';
  padId?: number;
  clsId?: number;
  sepId?: number;
  eosId?: number;
}

/** Encode texts into a padded [count, length] batch with attention mask (1 = token, 0 = padding). */
export async function encodeTexts(tokenizer: EncodingTokenizer, texts: readonly string[], options: EncodeTextsOptions): Promise<TokenBatch> {
  const { maxLength, kind, padTo = 'max' } = options;
  let prefix: number[];
  let suffix: number[];
  if (kind === 'bert') {
    prefix = [resolveId(tokenizer, options.clsId, tokenizer.specialIds.cls, 'cls', '[CLS]')];
    suffix = [resolveId(tokenizer, options.sepId, tokenizer.specialIds.sep, 'sep', '[SEP]')];
  } else if (kind === 't5') {
    prefix = [];
    suffix = [resolveId(tokenizer, options.eosId, tokenizer.specialIds.eos, 'eos', '</s>')];
  } else {
    throw new TokenizerError(`encodeTexts: kind must be 'bert' or 't5', got ${JSON.stringify(kind)}`);
  }
  const specials = prefix.length + suffix.length;
  requireInt('maxLength', maxLength, specials + 1);
  const pad = options.padId ?? tokenizer.specialIds.pad ?? 0;
  const rows = await tokenizer.encodeMany(texts);
  const length = padTo === 'longest' ? Math.min(maxLength, longest(rows) + specials) : maxLength;
  const ids = new Int32Array(rows.length * length).fill(pad);
  const mask = new Int32Array(rows.length * length);
  rows.forEach((r, i) => writeRow(ids, mask, i * length, r, length - specials, suffix, prefix));
  return { ids, mask, count: rows.length, length };
}
