import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { streamToFileAtomic } from './atomic.js';
import { DataFormatError } from './errors.js';
import { jsonMessage, jsonSyntaxError, locate } from './json-errors.js';
import type { FidContext, FidExample } from './types.js';

/** File layout of a question file: one JSON array, or one JSON object per line. */
export type QuestionFileFormat = 'json' | 'jsonl';

/** Options of {@link readQuestions} / {@link writeQuestions}. */
export interface QuestionFileOptions {
  /** Default: `.jsonl` / `.ndjson` → jsonl; otherwise sniffed from the first character (`[` → json, `{` → jsonl). */
  format?: QuestionFileFormat;
}

type Where = string;

/** A score string in the decimal form DPR / FiD files write. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function fail(file: string, where: Where, detail: string): never {
  throw new DataFormatError(file, where, detail);
}

function asId(file: string, where: Where, field: string, v: unknown): string {
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return fail(file, where, `field "${field}": expected a non-empty string (or number) id, got ${JSON.stringify(v)}`);
}

function validateContext(file: string, where: Where, j: number, raw: unknown): FidContext {
  const at = `field "ctxs[${j}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, where, `${at}": expected an object`);
  const c = raw as Record<string, unknown>;
  const ctx: FidContext = {
    id: asId(file, where, `ctxs[${j}].id`, c.id),
    title: typeof c.title === 'string' ? c.title : fail(file, where, `${at}.title": expected a string`),
    text: typeof c.text === 'string' ? c.text : fail(file, where, `${at}.text": expected a string`),
  };
  if (c.score !== undefined && c.score !== null) {
    // DPR's retriever output writes scores as decimal strings ("80.38"); accept those, and finite numbers only
    // (no "", "0x10", "Infinity" or 1e999, which JSON.parse turns into Infinity).
    const s = typeof c.score === 'string' && DECIMAL.test(c.score) ? Number(c.score) : c.score;
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      fail(file, where, `${at}.score": expected a finite number (or a decimal string such as "80.38"), got ${typeof c.score === 'number' ? String(c.score) : JSON.stringify(c.score)}`);
    }
    ctx.score = s;
  }
  if (c.has_answer !== undefined && c.has_answer !== null) {
    if (typeof c.has_answer !== 'boolean') fail(file, where, `${at}.has_answer": expected a boolean`);
    ctx.has_answer = c.has_answer;
  }
  return ctx;
}

/**
 * Checks one record of a question file and returns it as a {@link FidExample} (ids as strings, scores as
 * numbers, missing `ctxs` as []). `where` names the record in errors ('record 3 (line 12)').
 */
export function validateExample(file: string, where: Where, raw: unknown): FidExample {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, where, 'expected a JSON object');
  const r = raw as Record<string, unknown>;
  const id = asId(file, where, 'id', r.id);
  const at = `${where} (id ${JSON.stringify(id)})`;
  if (typeof r.question !== 'string') fail(file, at, 'field "question": expected a string');
  if (!/\S/.test(r.question)) fail(file, at, 'field "question": is empty');
  if (!Array.isArray(r.answers) || !r.answers.every((a) => typeof a === 'string')) {
    fail(file, at, `field "answers": expected an array of strings, got ${JSON.stringify(r.answers)?.slice(0, 80)}`);
  }
  const ex: FidExample = { id, question: r.question, answers: r.answers as string[], ctxs: [] };
  if (r.target !== undefined && r.target !== null) {
    if (typeof r.target !== 'string') fail(file, at, 'field "target": expected a string');
    ex.target = r.target;
  }
  if (r.ctxs !== undefined && r.ctxs !== null) {
    if (!Array.isArray(r.ctxs)) fail(file, at, 'field "ctxs": expected an array');
    ex.ctxs = r.ctxs.map((c, j) => validateContext(file, at, j, c));
  }
  if (r.gold_passage_ids !== undefined) {
    if (!Array.isArray(r.gold_passage_ids)) fail(file, at, 'field "gold_passage_ids": expected an array of ids');
    ex.gold_passage_ids = r.gold_passage_ids.map((g, j) => asId(file, at, `gold_passage_ids[${j}]`, g));
  }
  return ex;
}

async function sniffFormat(file: string): Promise<QuestionFileFormat> {
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new DataFormatError(file, undefined, `cannot open question file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const first = buf.toString('utf8', 0, bytesRead).replace(/^\uFEFF/, '').trimStart()[0];
    if (first === '[') return 'json';
    if (first === '{') return 'jsonl';
    if (first === undefined) return 'json';
    throw new DataFormatError(file, 'line 1', `not a question file: expected a JSON array or JSON lines, found ${JSON.stringify(first)}`);
  } finally {
    await fh.close();
  }
}

/**
 * A streaming UTF-8 decoder that refuses invalid bytes (naming the file and the line reached) instead of
 * silently turning them into U+FFFD, ids included.
 */
function strictDecoder(file: string, lineNow: () => number): { write(chunk: Buffer): string; end(): string } {
  const d = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // the line of the first bad byte: `lineNow()` is the line the chunk starts on, newlines never occur inside a
  // multi-byte sequence, so each line's bytes are checked alone
  const badLine = (chunk: Buffer): number => {
    let line = lineNow();
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(chunk.subarray(start, nl < 0 ? chunk.length : nl));
      } catch {
        return line;
      }
      if (nl < 0) return line;
      line += 1;
      start = nl + 1;
    }
  };
  const run = (chunk: Buffer, f: () => string): string => {
    try {
      return f();
    } catch {
      return fail(file, `line ${badLine(chunk)}`, 'invalid UTF-8 (question files must be UTF-8 encoded)');
    }
  };
  return { write: (chunk) => run(chunk, () => d.decode(chunk, { stream: true })), end: () => run(Buffer.alloc(0), () => d.decode()) };
}

const NOT_A_LIST = 'expected a JSON list of questions ([{"id", "question", "answers", "ctxs"}, …]) or one question object per line (JSONL)';

/** A record longer than this is a runaway string (a stray quote) or a missing bracket, not a question. */
const MAX_RECORD_CHARS = 64 << 20;

async function* readJsonl(file: string): AsyncGenerator<FidExample> {
  let line = 0;
  const decoder = strictDecoder(file, () => line + 1);
  let rest = '';
  let record = 0;
  const handle = (raw0: string): FidExample | undefined => {
    line += 1;
    // a byte-order mark is accepted at the start of a JSONL file as of a JSON one
    const text = line === 1 ? raw0.replace(/^\uFEFF/, '') : raw0;
    if (text.trim() === '') return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      const e = jsonSyntaxError(text);
      const where = e === undefined ? `line ${line}` : `line ${line}, column ${e.position + 1}`;
      const why = e?.message ?? jsonMessage((err as Error).message);
      // a first line that is not a whole object: a JSON document that is neither a list nor JSON lines
      if (record === 0 && line === 1 && !/^\s*\{.*\}\s*$/.test(text)) fail(file, where, `${NOT_A_LIST} (line 1 is not a whole JSON object: ${why})`);
      fail(file, where, `invalid JSON: ${why}`);
    }
    // one object that is no question (`{"data": [...]}`): not a question file, rather than a question without an id
    if (record === 0 && raw !== null && typeof raw === 'object' && !Array.isArray(raw) && !('question' in raw) && !('id' in raw)) {
      fail(file, `line ${line}`, `${NOT_A_LIST} (found an object with the keys ${Object.keys(raw).slice(0, 8).map((k) => JSON.stringify(k)).join(', ') || 'none'})`);
    }
    return validateExample(file, `record ${record++} (line ${line})`, raw);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    rest += decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = rest.indexOf('\n', start);
      if (nl === -1) break;
      const ex = handle(rest.slice(start, nl));
      if (ex) yield ex;
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) {
    const ex = handle(rest);
    if (ex) yield ex;
  }
}

/**
 * Streams the objects of a top-level JSON array without parsing the whole file: a small scanner finds each
 * element's extent (tracking strings and nesting) and JSON.parse reads one element at a time. Syntax errors are
 * placed at their file line and column (JSON.parse's position inside the record, shifted to where the record
 * starts); a line break inside a string ends the scan at once, since JSON strings hold none: that is where a stray
 * quote turns the rest of a line into a string, not the end of the file.
 */
async function* readJsonArray(file: string): AsyncGenerator<FidExample> {
  let line = 1;
  let column = 0; // of the character just scanned
  const decoder = strictDecoder(file, () => line);
  let state = 'before' as 'before' | 'between' | 'inside' | 'done';
  let depth = 0;
  let inString = false;
  let escape = false;
  let startLine = 0;
  let startColumn = 0;
  let record = 0;
  let pieces: string[] = [];
  let pieceChars = 0;
  let expectComma = false;
  /** Fails at the first syntax error JSON.parse finds in a record's (possibly partial) text, or with `fallback`. */
  const syntaxError = (text: string, fallback: () => never): never => {
    // a text that only stops early (truncated) has no error of its own: the caller's fallback says why
    const e = jsonSyntaxError(text);
    if (e) {
      const p = locate(text, e.position, startLine, startColumn);
      fail(file, `line ${p.line}, column ${p.column} (record ${record})`, `invalid JSON: ${e.message}`);
    }
    return fallback();
  };
  const scan = (text: string): FidExample[] => {
    const out: FidExample[] = [];
    let elemStart = state === 'inside' ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 10) {
        line += 1;
        column = 0;
      } else column += 1;
      if (state === 'inside') {
        if (inString) {
          if (escape) escape = false;
          else if (ch === 92) escape = true;
          else if (ch === 34) inString = false;
          else if (ch < 32) {
            const partial = pieces.join('') + text.slice(elemStart, i);
            const where = ch === 10 ? `line ${line - 1}` : `line ${line}, column ${column}`;
            syntaxError(partial, () => fail(file, `${where} (record ${record})`, `invalid JSON: a string is not closed before the end of the line (a stray or unescaped '"'?)`));
          }
          continue;
        }
        if (ch === 34) inString = true;
        else if (ch === 123 || ch === 91) depth += 1;
        else if (ch === 125 || ch === 93) {
          depth -= 1;
          if (depth === 0) {
            pieces.push(text.slice(elemStart, i + 1));
            const elementText = pieces.join('');
            pieces = [];
            pieceChars = 0;
            let raw: unknown;
            try {
              raw = JSON.parse(elementText);
            } catch (err) {
              syntaxError(elementText, () => fail(file, `record ${record} (line ${startLine})`, `invalid JSON: ${jsonMessage((err as Error).message)}`));
            }
            out.push(validateExample(file, `record ${record} (line ${startLine})`, raw));
            record += 1;
            state = 'between';
            expectComma = true;
          }
        }
        continue;
      }
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13 || ch === 0xfeff) continue;
      if (state === 'before') {
        if (ch !== 91) {
          const what = ch === 123 ? 'found a JSON object ("{")' : `found ${JSON.stringify(text[i])}`;
          fail(file, `line ${line}, column ${column}`, `${NOT_A_LIST}; ${what}`);
        }
        state = 'between';
      } else if (state === 'between') {
        if (ch === 93) {
          // strict JSON, as JSON.parse of the whole file would be: no trailing comma before "]"
          if (!expectComma && record > 0) fail(file, `line ${line}`, 'trailing comma before "]" (not valid JSON)');
          state = 'done';
        }
        else if (ch === 44 && expectComma) expectComma = false;
        else if (ch === 123 && !expectComma) {
          state = 'inside';
          depth = 1;
          elemStart = i;
          startLine = line;
          startColumn = column;
        } else {
          fail(file, `record ${record} (line ${line}, column ${column})`, `expected ${expectComma ? '"," or "]"' : 'an object'} in the top-level array, found ${JSON.stringify(text[i])}`);
        }
      } else {
        fail(file, `line ${line}, column ${column}`, `unexpected ${JSON.stringify(text[i])} after the end of the top-level array`);
      }
    }
    if (state === 'inside') {
      pieces.push(text.slice(elemStart));
      pieceChars += text.length - elemStart;
      if (pieceChars > MAX_RECORD_CHARS) {
        syntaxError(pieces.join(''), () => fail(file, `record ${record} (line ${startLine})`, `longer than ${MAX_RECORD_CHARS >> 20} M characters: a string or bracket that is never closed?`));
      }
    }
    return out;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    yield* scan(decoder.write(chunk));
  }
  yield* scan(decoder.end());
  if (state === 'inside') {
    syntaxError(pieces.join(''), () => fail(file, `line ${line}`, `record ${record} is truncated (file ends inside it)`));
  }
  if (state !== 'done') fail(file, `line ${line}`, state === 'before' ? `${NOT_A_LIST}; the file is empty` : 'the top-level array is not closed ("]" missing)');
}

/**
 * Streams the questions of a FiD-format file (JSON array or JSONL), validating each record. Errors name the
 * file, the record index, its line and id, and the field.
 */
export async function* readQuestions(file: string, options: QuestionFileOptions = {}): AsyncGenerator<FidExample> {
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new DataFormatError(file, undefined, `cannot open question file: ${err.code ?? err.message}`);
  });
  if (st.isDirectory()) throw new DataFormatError(file, undefined, 'is a directory, expected a question file (JSON or JSONL)');
  const format = options.format ?? (await sniffFormat(file));
  const seen = new Set<string>();
  let i = 0;
  for await (const ex of format === 'jsonl' ? readJsonl(file) : readJsonArray(file)) {
    if (seen.has(ex.id)) throw new DataFormatError(file, `record ${i}`, `duplicate question id ${JSON.stringify(ex.id)}`);
    seen.add(ex.id);
    i += 1;
    yield ex;
  }
}

/** Reads a whole question file into memory. */
export async function loadQuestions(file: string, options: QuestionFileOptions = {}): Promise<FidExample[]> {
  const out: FidExample[] = [];
  for await (const ex of readQuestions(file, options)) out.push(ex);
  return out;
}

/** The record as written: FiD key order, optional fields only when set. */
function toRecord(ex: FidExample): Record<string, unknown> {
  const r: Record<string, unknown> = { id: ex.id, question: ex.question, answers: ex.answers };
  if (ex.target !== undefined) r.target = ex.target;
  r.ctxs = ex.ctxs.map((c) => {
    const o: Record<string, unknown> = { id: c.id, title: c.title, text: c.text };
    if (c.score !== undefined) o.score = c.score;
    if (c.has_answer !== undefined) o.has_answer = c.has_answer;
    return o;
  });
  if (ex.gold_passage_ids !== undefined) r.gold_passage_ids = ex.gold_passage_ids;
  return r;
}

/**
 * Writes questions atomically (temp file + rename): JSONL for `.jsonl`/`.ndjson` (or `format: 'jsonl'`), else a
 * JSON array with one record per line (still valid for `json.load`, and streamable).
 */
export async function writeQuestions(
  file: string,
  examples: Iterable<FidExample> | AsyncIterable<FidExample>,
  options: QuestionFileOptions = {},
): Promise<void> {
  const format = options.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'json');
  await streamToFileAtomic(file, async (write) => {
    let first = true;
    if (format === 'json') await write('[');
    for await (const ex of examples as AsyncIterable<FidExample>) {
      const line = JSON.stringify(toRecord(ex));
      if (format === 'json') await write(`${first ? '\n' : ',\n'}${line}`);
      else await write(`${line}\n`);
      first = false;
    }
    if (format === 'json') await write(first ? ']\n' : '\n]\n');
  });
}
