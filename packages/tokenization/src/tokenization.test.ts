import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DEFAULT_SPECIAL_TOKENS,
  Tokenizer,
  TokenizerError,
  encodeReaderBatch,
  encodeTexts,
  formatReaderInput,
  formatRetrieverPassage,
  loadTokenizer,
  splitWordsLikeBert,
  trainWordPiece,
} from './index.js';
import hf from 'tokenizers';
import { bertWordPieceJson, t5UnigramJson } from './__tests__/hf-tokenizers.js';

const tmp = mkdtempSync(join(tmpdir(), 'fidkd-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small seeded corpus in the synthetic world's style. */
function corpus(n: number): string[] {
  const names = ['Alaric Venn', 'Brisa Toller', 'Corwin Hale', 'Dessa Marrow', 'Evander Quill', 'Fenna Rook'];
  const cities = ['Paris', 'Lisbon', 'Oslo', 'Quito', 'Hanoi', 'Accra'];
  const verbs = ['was born in', 'died in', 'worked in', 'studied in', 'moved to'];
  let s = 12345;
  const pick = <T>(xs: T[]): T => {
    s = (s * 16807) % 2147483647;
    return xs[s % xs.length]!;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${pick(names)} ${pick(verbs)} ${pick(cities)} in ${1800 + (i % 200)}.`);
  return out;
}

function row(a: Int32Array, r: number, len: number): number[] {
  return Array.from(a.subarray(r * len, (r + 1) * len));
}

describe('formats', () => {
  it('match the FiD reader and retriever strings', () => {
    expect(formatReaderInput('who wrote it?', 'The Book', 'It was written by X.')).toBe(
      'question: who wrote it? title: The Book context: It was written by X.',
    );
    expect(formatRetrieverPassage('The Book', 'It was written by X.')).toBe('The Book It was written by X.');
  });
});

describe('trainWordPiece', () => {
  let tok: Tokenizer;
  beforeAll(() => {
    tok = trainWordPiece(corpus(2000), { vocabSize: 400 });
  });

  it('puts the special tokens first ([PAD]=0, </s>=1, …) and reaches the requested size', () => {
    DEFAULT_SPECIAL_TOKENS.forEach((t, i) => expect(tok.tokenToId(t)).toBe(i));
    expect(tok.specialIds).toEqual({ pad: 0, eos: 1, unk: 2, cls: 3, sep: 4, mask: 5 });
    expect(tok.vocabSize).toBe(400);
  });

  it('keeps the most frequent merges: frequent words become single tokens, text decodes back (lower-cased)', async () => {
    const ids = await tok.encode('Corwin Hale was born in Paris');
    expect(ids.every((id) => id !== tok.specialIds.unk)).toBe(true);
    expect(ids.length).toBeLessThanOrEqual(8);
    expect(await tok.decode(ids)).toBe('corwin hale was born in paris');
  });

  it('round-trips through tokenizer.json: same ids and vocabulary after reload', async () => {
    const file = join(tmp, 'tokenizer.json');
    tok.save(file);
    const again = loadTokenizer(file);
    expect(again.file).toBe(file);
    expect(again.vocabSize).toBe(tok.vocabSize);
    expect(again.specialIds).toEqual(tok.specialIds);
    expect(again.native.getVocab(true)).toEqual(tok.native.getVocab(true));
    const texts = [...corpus(50), 'Zyxx unseen Ünïcode wörds!', ''];
    expect(await again.encodeMany(texts)).toEqual(await tok.encodeMany(texts));
    expect(JSON.parse(readFileSync(file, 'utf8')).model.type).toBe('WordPiece');
  });

  it('a smaller vocabulary is a prefix of a larger one (greedy merges), never dropping the alphabet', () => {
    const small = trainWordPiece(corpus(2000), { vocabSize: 200 });
    const big = tok.native.getVocab(true);
    for (const [t, id] of Object.entries(small.native.getVocab(true))) expect(big[t]).toBe(id);
    const tiny = trainWordPiece(corpus(200), { vocabSize: 7, lowercase: false, initialAlphabet: [], extraWords: [] });
    expect(tiny.vocabSize).toBeGreaterThan(7); // the whole alphabet is kept
    expect(tiny.tokenToId('P')).toBeDefined();
    expect(tiny.tokenToId('Z')).toBeUndefined(); // not in this corpus, no initial alphabet
  });

  it('always has printable ASCII and the FiD format words, so unseen ASCII text never becomes [UNK]', async () => {
    const t = trainWordPiece(['aaa bbb'], { vocabSize: 500 });
    for (const w of ['question', 'title', 'context']) expect(await t.encode(w)).toEqual([t.tokenToId(w)]);
    const ids = await t.encode('Zebra #42: quux~{x}!');
    expect(ids).not.toContain(t.specialIds.unk);
    expect(await t.decode(ids)).toBe('zebra # 42 : quux ~ { x }!');
  });

  it('is deterministic: the same corpus gives the same vocabulary', () => {
    const again = trainWordPiece(corpus(2000), { vocabSize: 400 });
    expect(again.native.getVocab(true)).toEqual(tok.native.getVocab(true));
  });

  it('splits words exactly as the native BertNormalizer + BertPreTokenizer do', () => {
    const samples = [
      "Héllo  WORLD, it's 1850! Ünïcode—dash «quotes» e.g. U.S.A.",
      'tabs\tand\nnewlines\r\n mixed\u00a0nbsp \u200bzero-width \u0007bell',
      '中文字符 and 日本語 mixed with ascii; (parens) [brackets] {braces} #hash $dollar',
      'Ǆemal ΣΊΣΥΦΟΣ İstanbul café naïve Øresund',
    ];
    for (const lowercase of [true, false]) {
      const norm = hf.bertNormalizer({ lowercase });
      const pre = hf.bertPreTokenizer();
      for (const s of samples) {
        const native = pre.preTokenizeString(norm.normalizeString(s)).map(([w]) => w);
        expect(splitWordsLikeBert(s, lowercase)).toEqual(native);
      }
    }
  });

  it('rejects bad options', () => {
    expect(() => trainWordPiece(['a b'], { vocabSize: 3 })).toThrow(TokenizerError);
    expect(() => trainWordPiece(['a b'], { vocabSize: 100, specialTokens: ['[PAD]', '</s>'] })).toThrow(/must include \[UNK\]/);
    expect(() => trainWordPiece([], { vocabSize: 100 })).toThrow(/corpus is empty/);
  });
});

describe('encodeReaderBatch', () => {
  let tok: Tokenizer;
  beforeAll(() => {
    tok = trainWordPiece(corpus(2000), { vocabSize: 400 });
  });
  const examples = [
    {
      question: 'Where was Corwin Hale born?',
      passages: [
        { title: 'Corwin Hale', text: 'Corwin Hale was born in Paris in 1850.' },
        { title: 'Oslo', text: 'Oslo '.repeat(40) },
        { title: 'Fenna Rook', text: 'Fenna Rook died in Quito.' },
        { title: 'ignored', text: 'beyond n_context' },
      ],
      target: 'Paris',
    },
    {
      question: 'Where did Dessa Marrow die?',
      passages: [
        { title: 'Dessa Marrow', text: 'Dessa Marrow died in Hanoi.' },
        { title: 'Accra', text: 'Accra.' },
        { title: 'Lisbon', text: 'Brisa Toller moved to Lisbon.' },
      ],
      target: 'Hanoi Accra Lisbon Oslo Quito Paris',
    },
  ];

  it('gives [B, n_context, text_maxlength] ids and mask: formatted text, truncated, eos, pad 0', async () => {
    const L = 24;
    const batch = await encodeReaderBatch(tok, examples, { nContext: 3, textMaxlength: L, answerMaxlength: 4 });
    expect([batch.batchSize, batch.nContext, batch.textMaxlength]).toEqual([2, 3, L]);
    expect(batch.inputIds.length).toBe(2 * 3 * L);
    expect(batch.attentionMask.length).toBe(2 * 3 * L);
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 3; j++) {
        const p = examples[b]!.passages[j]!;
        const want = await tok.encode(formatReaderInput(examples[b]!.question, p.title, p.text));
        const r = b * 3 + j;
        const ids = row(batch.inputIds, r, L);
        const mask = row(batch.attentionMask, r, L);
        const n = Math.min(want.length, L - 1);
        expect(ids.slice(0, n)).toEqual(want.slice(0, n));
        expect(ids[n]).toBe(1); // eos, also when truncated
        expect(ids.slice(n + 1).every((x) => x === 0)).toBe(true);
        expect(mask).toEqual([...new Array(n + 1).fill(1), ...new Array(L - n - 1).fill(0)]);
      }
    }
    // The long passage filled its row: truncated to L-1 tokens + eos.
    expect(row(batch.attentionMask, 1, L).every((m) => m === 1)).toBe(true);
    expect(batch.inputIds[2 * L - 1]).toBe(1);
  });

  it("padTo 'longest' ends the rows at the batch's longest row (capped at text_maxlength), same ids and mask", async () => {
    const short = examples.map((ex) => ({ ...ex, passages: ex.passages.filter((p) => p.title !== 'Oslo') }));
    const L = 40;
    const full = await encodeReaderBatch(tok, short, { nContext: 2, textMaxlength: L });
    const trimmed = await encodeReaderBatch(tok, short, { nContext: 2, textMaxlength: L, padTo: 'longest' });
    const lens = [0, 1, 2, 3].map((r) => row(full.attentionMask, r, L).reduce((a, m) => a + m, 0));
    const n = Math.max(...lens);
    expect(n).toBeLessThan(L);
    expect(trimmed.textMaxlength).toBe(n);
    for (let r = 0; r < 4; r++) {
      expect(row(trimmed.inputIds, r, n)).toEqual(row(full.inputIds, r, L).slice(0, n));
      expect(row(trimmed.attentionMask, r, n)).toEqual(row(full.attentionMask, r, L).slice(0, n));
    }
    // a row longer than text_maxlength still ends at text_maxlength (truncated, eos kept)
    const capped = await encodeReaderBatch(tok, examples, { nContext: 3, textMaxlength: 24, padTo: 'longest' });
    expect(capped.textMaxlength).toBe(24);
    expect(capped.inputIds[2 * 24 - 1]).toBe(1);
  });

  it('labels are answer ids + eos, -100 padded, truncated to answer_maxlength keeping the eos', async () => {
    const batch = await encodeReaderBatch(tok, examples, { nContext: 3, textMaxlength: 16, answerMaxlength: 4 });
    expect(batch.answerLength).toBe(4);
    const paris = await tok.encode('Paris');
    expect(row(batch.labels!, 0, 4)).toEqual([...paris, 1, ...new Array(3 - paris.length).fill(-100)]);
    const long = await tok.encode(examples[1]!.target);
    expect(row(batch.labels!, 1, 4)).toEqual([...long.slice(0, 3), 1]);
    const unbounded = await encodeReaderBatch(tok, examples, { nContext: 3, textMaxlength: 16 });
    expect(unbounded.answerLength).toBe(long.length + 1);
    expect(row(unbounded.labels!, 1, long.length + 1)).toEqual([...long, 1]);
    expect(await tok.decode(row(unbounded.labels!, 0, long.length + 1))).toBe('paris');
  });

  it('omits labels without targets, and refuses mixed targets or too few passages', async () => {
    const noTarget = examples.map(({ question, passages }) => ({ question, passages }));
    const batch = await encodeReaderBatch(tok, noTarget, { nContext: 2, textMaxlength: 12 });
    expect(batch.labels).toBeUndefined();
    await expect(encodeReaderBatch(tok, [examples[0]!, noTarget[1]!], { nContext: 2, textMaxlength: 12 })).rejects.toThrow(
      /example 1 has no target/,
    );
    await expect(encodeReaderBatch(tok, examples, { nContext: 4, textMaxlength: 12 })).rejects.toThrow(
      /example 1: 3 passages, n_context is 4/,
    );
    const repeated = await encodeReaderBatch(tok, examples, { nContext: 4, textMaxlength: 12, missingPassages: 'repeat' });
    expect(row(repeated.inputIds, 7, 12)).toEqual(row(repeated.inputIds, 4, 12)); // passage 3 of ex. 1 = passage 0
  });

  it('works with a T5 Unigram tokenizer.json (</s> = 1, <pad> = 0)', async () => {
    const t5 = Tokenizer.fromString(t5UnigramJson());
    expect(t5.specialIds).toMatchObject({ pad: 0, eos: 1, unk: 2 });
    const batch = await encodeReaderBatch(t5, [{ question: 'who wrote the book?', passages: [{ title: 'the book', text: 'paris' }] }], {
      nContext: 1,
      textMaxlength: 20,
    });
    const ids = row(batch.inputIds, 0, 20);
    const want = await t5.encode('question: who wrote the book? title: the book context: paris');
    expect(ids.slice(0, want.length + 1)).toEqual([...want, 1]);
    expect(want.slice(0, 2)).toEqual([t5.tokenToId('▁question'), t5.tokenToId(':')]);
  });
});

describe('encodeTexts', () => {
  it("'bert' kind: [CLS] … [SEP], padded with [PAD], truncated, mask; on an HF BERT tokenizer.json", async () => {
    const bert = Tokenizer.fromString(bertWordPieceJson());
    expect(bert.specialIds).toMatchObject({ pad: 0, unk: 2, cls: 3, sep: 4, mask: 5, eos: 4 });
    const texts = ['Who wrote the book?', 'the city paris was born in the city paris was born in', ''];
    const batch = await encodeTexts(bert, texts, { maxLength: 8, kind: 'bert' });
    expect([batch.count, batch.length]).toEqual([3, 8]);
    const who = await bert.encode(texts[0]!);
    expect(who).toEqual(['who', 'wrote', 'the', 'book', '?'].map((t) => bert.tokenToId(t)));
    expect(row(batch.ids, 0, 8)).toEqual([3, ...who, 4, 0]);
    expect(row(batch.mask, 0, 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    const long = await bert.encode(texts[1]!);
    expect(row(batch.ids, 1, 8)).toEqual([3, ...long.slice(0, 6), 4]);
    expect(row(batch.ids, 2, 8)).toEqual([3, 4, 0, 0, 0, 0, 0, 0]);
    expect(row(batch.mask, 2, 8)).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    const longest = await encodeTexts(bert, texts.slice(0, 1), { maxLength: 32, kind: 'bert', padTo: 'longest' });
    expect(longest.length).toBe(who.length + 2);
  });

  it("'t5' kind: … </s>; 'bert' on a tokenizer without [CLS] names what is missing", async () => {
    const t5 = Tokenizer.fromString(t5UnigramJson());
    const batch = await encodeTexts(t5, ['who wrote the book?', 'the book'], { maxLength: 6, kind: 't5' });
    const a = await t5.encode('who wrote the book?');
    expect(row(batch.ids, 0, 6)).toEqual([...a.slice(0, 5), 1]);
    const b = await t5.encode('the book');
    expect(row(batch.ids, 1, 6)).toEqual([...b, 1, ...new Array(5 - b.length).fill(0)]);
    await expect(encodeTexts(t5, ['x'], { maxLength: 6, kind: 'bert' })).rejects.toThrow(/has no cls token \(\[CLS\]\); pass clsId/);
    await expect(encodeTexts(t5, ['x'], { maxLength: 1, kind: 't5' })).rejects.toThrow(/maxLength must be an integer ≥ 2/);
  });
});

describe('loadTokenizer errors name the file', () => {
  it('missing, not JSON, not a tokenizer', () => {
    const missing = join(tmp, 'missing.json');
    expect(() => loadTokenizer(missing)).toThrow(new RegExp(`${missing}: cannot read tokenizer`));
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"version": "1.0",');
    expect(() => loadTokenizer(bad)).toThrow(new RegExp(`${bad}: tokenizer is not valid JSON`));
    const wrong = join(tmp, 'wrong.json');
    writeFileSync(wrong, '{"hello": 1}');
    expect(() => loadTokenizer(wrong)).toThrow(new RegExp(`${wrong}: not a valid tokenizer.json`));
  });

  it('loads the hand-made HF files from disk', async () => {
    const file = join(tmp, 't5.json');
    writeFileSync(file, t5UnigramJson());
    const t5 = loadTokenizer(file);
    expect(await t5.encode('the book')).toEqual([t5.tokenToId('▁the'), t5.tokenToId('▁book')]);
  });
});
