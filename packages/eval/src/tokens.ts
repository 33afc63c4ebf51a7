import { pythonSplit } from './python-text.js';

/** A token sequence, or a string that is split on whitespace (Python `str.split()`), case kept. */
export type Tokens = string | readonly string[];

/** The tokens of `t`: arrays as given, strings split on whitespace. Normalise (e.g. lower-case) beforehand. */
export function toTokens(t: Tokens): readonly string[] {
  return typeof t === 'string' ? pythonSplit(t) : t;
}
