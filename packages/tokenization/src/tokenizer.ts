/**
 * `Tokenizer`: a Hugging Face `tokenizers` tokenizer (loaded from tokenizer.json or trained here) together with
 * its resolved special-token ids. Encoding runs in the native library's thread pool (async).
 */
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import hf from 'tokenizers';
import { TokenizerError } from './errors.js';
import { findSpecialTokenIds, type SpecialTokenIds } from './special-tokens.js';

/** Texts are sent to the native encoder in chunks of this many (bounds memory on huge batches). */
const ENCODE_CHUNK = 8192;

/** A tokenizer.json-backed tokenizer with its special-token ids. */
export class Tokenizer {
  /** Special-token ids found by name (see special-tokens.ts for the lookup rules). */
  readonly specialIds: SpecialTokenIds;

  constructor(
    /** The underlying `tokenizers` object (for anything this wrapper does not cover). */
    readonly native: hf.Tokenizer,
    /** Where it was loaded from or last saved to, if anywhere. */
    public file?: string,
  ) {
    this.specialIds = findSpecialTokenIds(native);
  }

  /** Parse a tokenizer.json string. */
  static fromString(json: string, file?: string): Tokenizer {
    return new Tokenizer(hf.Tokenizer.fromString(json), file);
  }

  /** Vocabulary size including added tokens. */
  get vocabSize(): number {
    return this.native.getVocabSize(true);
  }

  /** Id of `token`, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.native.tokenToId(token) ?? undefined;
  }

  /** Token string of `id`, or undefined. */
  idToToken(id: number): string | undefined {
    return this.native.idToToken(id) ?? undefined;
  }

  /** Token ids of `text` WITHOUT special tokens (the encode functions add the ones their format needs). */
  async encode(text: string): Promise<number[]> {
    const e = await this.native.encode(text, null, { addSpecialTokens: false });
    return e.getIds();
  }

  /** Token ids of many texts without special tokens, encoded in parallel by the native library. */
  async encodeMany(texts: readonly string[]): Promise<number[][]> {
    const out: number[][] = new Array(texts.length);
    for (let start = 0; start < texts.length; start += ENCODE_CHUNK) {
      const chunk = texts.slice(start, start + ENCODE_CHUNK);
      const encs = await this.native.encodeBatch(chunk as string[], { addSpecialTokens: false });
      for (let i = 0; i < encs.length; i++) out[start + i] = encs[i]!.getIds();
    }
    return out;
  }

  /** Text of `ids`: special tokens (pad, eos…) skipped by default; negative ids (label padding -100) dropped. */
  async decode(ids: ArrayLike<number>, skipSpecialTokens = true): Promise<string> {
    const list = Array.from(ids).filter((id) => id >= 0);
    return this.native.decode(list, skipSpecialTokens);
  }

  /** Save as tokenizer.json, atomically (temp file next to it, then rename). */
  save(file: string): void {
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    try {
      this.native.save(tmp, false);
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new TokenizerError(`${file}: cannot save tokenizer: ${(e as Error).message}`);
    }
    this.file = file;
  }
}

/**
 * Load a tokenizer.json (any model the HF library supports: BERT WordPiece, T5 Unigram, BPE…).
 * @throws TokenizerError naming the file when it is missing, not JSON, or not a tokenizer.
 */
export function loadTokenizer(file: string): Tokenizer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TokenizerError(`${file}: cannot read tokenizer: ${(e as Error).message}`);
  }
  try {
    JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${file}: tokenizer is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return Tokenizer.fromString(text, file);
  } catch (e) {
    throw new TokenizerError(`${file}: not a valid tokenizer.json: ${(e as Error).message}`);
  }
}
