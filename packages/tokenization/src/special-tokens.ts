/**
 * How special-token ids are found. Each role is looked up by token string, first match wins, through
 * `tokenToId` (which sees the vocabulary and the added tokens of tokenizer.json):
 *
 * | role | candidates (in order) | who uses it |
 * | --- | --- | --- |
 * | pad | `[PAD]`, `<pad>` | padding of every batch (FiD/T5 and BERT both use id 0) |
 * | eos | `</s>`, `[SEP]` | end of a T5/FiD sequence (reader passages, answers) |
 * | unk | `[UNK]`, `<unk>` | unknown pieces |
 * | cls | `[CLS]`, `<s>` | start of a BERT sequence |
 * | sep | `[SEP]`, `</s>` | end of a BERT sequence |
 * | mask | `[MASK]`, `<mask>` | masked-LM pretraining |
 *
 * So our trained vocabulary (`[PAD]`=0, `</s>`=1, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`) serves the T5 reader
 * (pad 0, eos 1) and the BERT retriever (`[CLS]`/`[SEP]`) alike; an HF BERT tokenizer.json has no `</s>`, so its
 * eos falls back to `[SEP]`; an HF T5 tokenizer.json has no `[CLS]`, so `cls` falls back to `<s>` and is usually
 * absent. The encode functions accept explicit ids to override any of these.
 */
/** Ids of the special tokens a tokenizer has (undefined when it has none for that role). */
export interface SpecialTokenIds {
  pad?: number;
  eos?: number;
  unk?: number;
  cls?: number;
  sep?: number;
  mask?: number;
}

/** Token strings tried for each role, in order. */
export const SPECIAL_TOKEN_CANDIDATES: Readonly<Record<keyof SpecialTokenIds, readonly string[]>> = {
  pad: ['[PAD]', '<pad>'],
  eos: ['</s>', '[SEP]'],
  unk: ['[UNK]', '<unk>'],
  cls: ['[CLS]', '<s>'],
  sep: ['[SEP]', '</s>'],
  mask: ['[MASK]', '<mask>'],
};

/** Resolve every role of {@link SPECIAL_TOKEN_CANDIDATES} against a tokenizer (the native one, or WordPieceTokenizer). */
export function findSpecialTokenIds(native: { tokenToId(token: string): number | null | undefined }): SpecialTokenIds {
  const out: SpecialTokenIds = {};
  for (const role of Object.keys(SPECIAL_TOKEN_CANDIDATES) as (keyof SpecialTokenIds)[]) {
    for (const token of SPECIAL_TOKEN_CANDIDATES[role]) {
      const id = native.tokenToId(token);
      if (id !== null && id !== undefined) {
        out[role] = id;
        break;
      }
    }
  }
  return out;
}
