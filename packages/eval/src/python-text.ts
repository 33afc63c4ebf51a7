/**
 * Python string semantics the official evaluation code relies on, reproduced exactly.
 *
 * - `str.split()` (no argument) splits on the characters for which `str.isspace()` is true: Unicode category
 *   Zs plus the bidi classes WS / B / S. That differs from JavaScript's `\s` (which has U+FEFF but lacks
 *   U+001C–U+001F and U+0085), so the set is spelled out (checked against CPython 3.11, Unicode 14).
 * - `string.punctuation`: the 32 ASCII punctuation characters only.
 */

/** Characters Python's `str.isspace()` accepts. */
export const PYTHON_WHITESPACE =
  '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007' +
  '\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

const WHITESPACE_RUN = new RegExp(`[${PYTHON_WHITESPACE}]+`, 'u');

/** Python's `str.split()` with no argument: split on whitespace runs, drop empty strings. */
export function pythonSplit(text: string): string[] {
  return text.split(WHITESPACE_RUN).filter((s) => s.length > 0);
}

/** Python's `string.punctuation`. */
export const PYTHON_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
