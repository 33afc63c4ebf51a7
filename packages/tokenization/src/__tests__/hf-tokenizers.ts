/**
 * Tiny tokenizer.json files in the exact layout Hugging Face ships for BERT (WordPiece) and T5 (Unigram /
 * SentencePiece), written by hand so tests need no download.
 */

const added = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});

/** A T5-style tokenizer.json: Unigram model, Metaspace pre-tokenizer, `$A </s>` post-processor, pad 0 eos 1 unk 2. */
export function t5UnigramJson(): string {
  const pieces: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ['▁', -2.5],
    ['▁question', -3],
    [':', -3],
    ['▁title', -3],
    ['▁context', -3],
    ['▁the', -3.2],
    ['▁who', -3.5],
    ['▁wrote', -3.5],
    ['▁book', -3.6],
    ['▁paris', -4],
    ['▁born', -4],
    ['▁in', -3.4],
    ['▁was', -3.4],
  ];
  for (const c of 'abcdefghijklmnopqrstuvwxyz?.,') pieces.push([c, -6]);
  const eos = { SpecialToken: { id: '</s>', type_id: 0 } };
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '<pad>'), added(1, '</s>'), added(2, '<unk>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, eos],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, eos, { Sequence: { id: 'B', type_id: 0 } }, eos],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab: pieces, byte_fallback: false },
  });
}

/** A bert-base-uncased-style tokenizer.json: WordPiece, BertNormalizer, `[CLS] $A [SEP]`, [PAD]=0. */
export function bertWordPieceJson(): string {
  const tokens = ['[PAD]', '[unused0]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'who', 'wrote', 'book', 'paris', 'was',
    'born', 'in', 'city', '##s', '##ed', '?', '.', ',', 'a', 'b', 'c', 'd', 'e', 'i', 'n', 'o', 'p', 'r', 's', 't', 'w',
    '##a', '##b', '##c', '##d', '##e', '##i', '##n', '##o', '##p', '##r', '##s', '##t', '##w'];
  const vocab: Record<string, number> = {};
  for (const t of tokens) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(0, '[PAD]'), added(2, '[UNK]'), added(3, '[CLS]'), added(4, '[SEP]'), added(5, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [3], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [4], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}
