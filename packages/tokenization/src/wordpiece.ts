/**
 * A WordPiece tokenizer.json (BERT's) encoded in plain JavaScript: the same ids as the Hugging Face `tokenizers`
 * library, without its native code, so that a retriever's questions can be tokenized in a browser. Encoding
 * follows the library's pipeline: added tokens matched in the raw text (those with `normalized: false`, e.g.
 * `[CLS]`, `[MASK]`), the rest normalized (BertNormalizer), added tokens with `normalized: true` matched in the
 * normalized text, then BertPreTokenizer words, then the WordPiece model (greedy longest match first, `##`
 * continuation pieces, a word longer than `max_input_chars_per_word` characters or with no piece for a part of
 * it becomes `[UNK]`). Special tokens are not added (as `Tokenizer.encode`); the batch encoders add them.
 */
import { bertNormalize, bertPreTokenize, type BertNormalizerOptions } from './bert-normalizer.js';
import { TokenizerError } from './errors.js';
import { findSpecialTokenIds, type SpecialTokenIds } from './special-tokens.js';

/** One entry of tokenizer.json's `added_tokens` (with the id the library gives it). */
interface AddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** An added token with the string it is matched against (its content, normalized when `normalized`). */
interface AddedPattern {
  token: AddedToken;
  pattern: string;
}

/** A piece of the input: plain text still to tokenize, or the id of an added token found in it. */
type Piece = { text: string } | { id: number };

// Rust regex classes used by the added-token options: \w (single_word) and \s (lstrip, rstrip).
const WORD_AT_END = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const WORD_AT_START = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const SPACES_AT_END = /\p{White_Space}*$/u;
const SPACES_AT_START = /^\p{White_Space}*/u;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A BERT-style WordPiece tokenizer from a tokenizer.json, in plain JavaScript (works in browsers). */
export class WordPieceTokenizer {
  /** Special-token ids found by name, as `Tokenizer.specialIds`. */
  readonly specialIds: SpecialTokenIds;
  private readonly vocab: Map<string, number>;
  private readonly added: Map<string, number>;
  private readonly tokens: Map<number, string>;
  private readonly rawPatterns: AddedPattern[];
  private readonly normalizedPatterns: AddedPattern[];
  private readonly unkId: number;
  private readonly prefix: string;
  private readonly maxInputCharsPerWord: number;
  private readonly normalizer: BertNormalizerOptions | null;
  private readonly preTokenize: boolean;

  private constructor(json: Record<string, unknown>, readonly file?: string) {
    const where = file ?? 'tokenizer.json';
    const fail = (msg: string): never => {
      throw new TokenizerError(`${where}: ${msg}`);
    };
    const model = json.model;
    if (!isObject(model) || model.type !== 'WordPiece') fail(`model.type must be "WordPiece" (got ${JSON.stringify(isObject(model) ? model.type : model)})`);
    const m = model as Record<string, unknown>;
    if (!isObject(m.vocab)) fail('model.vocab must be an object of token → id');
    this.vocab = new Map();
    for (const [token, id] of Object.entries(m.vocab as Record<string, unknown>)) {
      if (!Number.isSafeInteger(id) || (id as number) < 0) fail(`model.vocab[${JSON.stringify(token)}] must be an id ≥ 0 (got ${JSON.stringify(id)})`);
      this.vocab.set(token, id as number);
    }
    this.prefix = typeof m.continuing_subword_prefix === 'string' ? m.continuing_subword_prefix : '##';
    this.maxInputCharsPerWord = Number.isSafeInteger(m.max_input_chars_per_word) ? (m.max_input_chars_per_word as number) : 100;
    const unk = typeof m.unk_token === 'string' ? m.unk_token : '[UNK]';
    const unkId = this.vocab.get(unk);
    if (unkId === undefined) fail(`the unknown token ${JSON.stringify(unk)} is not in model.vocab`);
    this.unkId = unkId!;

    const n = json.normalizer;
    if (n === null || n === undefined) this.normalizer = null;
    else if (isObject(n) && n.type === 'BertNormalizer') this.normalizer = n as BertNormalizerOptions;
    else this.normalizer = fail(`normalizer ${JSON.stringify(isObject(n) ? n.type : n)} is not supported (BertNormalizer or none)`);
    const p = json.pre_tokenizer;
    if (p === null || p === undefined) this.preTokenize = false;
    else if (isObject(p) && p.type === 'BertPreTokenizer') this.preTokenize = true;
    else this.preTokenize = fail(`pre_tokenizer ${JSON.stringify(isObject(p) ? p.type : p)} is not supported (BertPreTokenizer or none)`);

    this.added = new Map();
    this.rawPatterns = [];
    this.normalizedPatterns = [];
    const addedTokens = json.added_tokens ?? [];
    if (!Array.isArray(addedTokens)) fail('added_tokens must be a list');
    let maxAdded = -1;
    (addedTokens as unknown[]).forEach((t, i) => {
      if (!isObject(t) || typeof t.content !== 'string') fail(`added_tokens[${i}] needs a string "content"`);
      const token = { ...(t as unknown as AddedToken) };
      if (!token.content) return;
      // ids as the library assigns them on load: the known id of the content, else the next one after the
      // vocabulary and the tokens added so far (the file's "id" is only checked by the library, with a warning)
      const size = this.vocab.size;
      token.id = this.added.get(token.content) ?? this.vocab.get(token.content) ?? (maxAdded >= size || (maxAdded >= 0 && size === 0) ? maxAdded + 1 : size);
      this.added.set(token.content, token.id);
      maxAdded = Math.max(maxAdded, token.id);
      // special tokens default to not normalized, others to normalized (AddedToken::from)
      const normalized = token.normalized ?? !token.special;
      if (normalized) this.normalizedPatterns.push({ token, pattern: this.normalize(token.content) });
      else this.rawPatterns.push({ token, pattern: token.content });
    });
    this.tokens = new Map();
    for (const [t, id] of this.vocab) this.tokens.set(id, t);
    for (const [t, id] of this.added) this.tokens.set(id, t);
    this.specialIds = findSpecialTokenIds(this);
  }

  /** Parses a tokenizer.json (its text or the parsed object); `file` is named in errors. */
  static fromJson(json: string | object, file?: string): WordPieceTokenizer {
    let parsed: unknown = json;
    if (typeof json === 'string') {
      try {
        parsed = JSON.parse(json);
      } catch (e) {
        throw new TokenizerError(`${file ?? 'tokenizer.json'}: not valid JSON: ${(e as Error).message}`);
      }
    }
    if (!isObject(parsed)) throw new TokenizerError(`${file ?? 'tokenizer.json'}: expected a JSON object`);
    return new WordPieceTokenizer(parsed, file);
  }

  /** Vocabulary size including added tokens (as `Tokenizer.vocabSize`). */
  get vocabSize(): number {
    return new Set([...this.vocab.keys(), ...this.added.keys()]).size;
  }

  /** Id of `token` (added tokens first, then the vocabulary), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.added.get(token) ?? this.vocab.get(token);
  }

  /** Token string of `id`, or undefined. */
  idToToken(id: number): string | undefined {
    return this.tokens.get(id);
  }

  /** Token ids of `text` without special tokens (the same as `Tokenizer.encode`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.splitAdded(text, this.rawPatterns)) {
      if ('id' in piece) {
        ids.push(piece.id);
        continue;
      }
      for (const inner of this.splitAdded(this.normalize(piece.text), this.normalizedPatterns)) {
        if ('id' in inner) ids.push(inner.id);
        else for (const word of this.preTokenize ? bertPreTokenize(inner.text) : [inner.text]) this.wordPieces(word, ids);
      }
    }
    return ids;
  }

  /** {@link encode} for many texts; async only to match `Tokenizer.encodeMany` (the batch encoders take either). */
  async encodeMany(texts: readonly string[]): Promise<number[][]> {
    return texts.map((t) => this.encode(t));
  }

  private normalize(text: string): string {
    return this.normalizer ? bertNormalize(text, this.normalizer) : text;
  }

  /**
   * Splits `text` on the added tokens of `patterns`: leftmost-longest non-overlapping matches, a `single_word` one
   * skipped when a word character touches it, `lstrip` / `rstrip` taking the whitespace beside it.
   */
  private splitAdded(text: string, patterns: readonly AddedPattern[]): Piece[] {
    if (!patterns.length || !text) return text ? [{ text }] : [];
    const pieces: Piece[] = [];
    let done = 0;
    let pos = 0;
    while (pos < text.length) {
      let best: AddedPattern | undefined;
      for (const p of patterns) {
        if (p.pattern && text.startsWith(p.pattern, pos) && (!best || p.pattern.length > best.pattern.length)) best = p;
      }
      if (!best) {
        pos++;
        continue;
      }
      let start = pos;
      const matchEnd = pos + best.pattern.length;
      let stop = matchEnd;
      pos = matchEnd;
      const t = best.token;
      if (t.single_word && (WORD_AT_END.test(text.slice(0, start)) || WORD_AT_START.test(text.slice(stop)))) continue;
      if (t.lstrip) start = Math.max(start - SPACES_AT_END.exec(text.slice(0, start))![0].length, done);
      if (t.rstrip) stop += SPACES_AT_START.exec(text.slice(stop))![0].length;
      if (done < start) pieces.push({ text: text.slice(done, start) });
      pieces.push({ id: t.id });
      done = stop;
    }
    if (done < text.length) pieces.push({ text: text.slice(done) });
    return pieces;
  }

  /** The WordPiece model on one word: greedy longest pieces, or the unknown token for the whole word. */
  private wordPieces(word: string, out: number[]): void {
    const chars = Array.from(word);
    if (chars.length > this.maxInputCharsPerWord) {
      out.push(this.unkId);
      return;
    }
    const pieces: number[] = [];
    for (let start = 0; start < chars.length; ) {
      let end = chars.length;
      let id: number | undefined;
      for (; end > start; end--) {
        const sub = chars.slice(start, end).join('');
        id = this.vocab.get(start > 0 ? this.prefix + sub : sub);
        if (id !== undefined) break;
      }
      if (id === undefined) {
        out.push(this.unkId);
        return;
      }
      pieces.push(id);
      start = end;
    }
    out.push(...pieces);
  }
}
