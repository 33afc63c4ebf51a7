import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ProgressListener } from '@fidkd/core';
import { ProgressReporter } from '@fidkd/core';
import { streamToFileAtomic } from './atomic.js';
import { DataFormatError } from './errors.js';
import type { Passage } from './types.js';

/** The header of `psgs_w100.tsv`. */
export const PASSAGES_TSV_HEADER = 'id\ttext\ttitle';

/** A row that could not be read as a passage. */
export interface MalformedRow {
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

/** Options of {@link streamPassages}. */
export interface StreamPassagesOptions {
  /** 'fail' (default): the first malformed row throws a DataFormatError with its line; 'skip': count and list them. */
  onMalformed?: 'fail' | 'skip';
  /** Progress in bytes of the file ('read-passages'). */
  onProgress?: ProgressListener;
  /** Keep at most this many malformed rows in `malformed` (all are counted). Default 1000. */
  maxMalformedListed?: number;
}

/** A passage with where its row sits in the file (used to build the byte-offset index). */
export interface LocatedPassage {
  passage: Passage;
  line: number;
  /** Byte offset of the row's first byte. */
  offset: number;
  /** Row length in bytes, without the line terminator. */
  length: number;
}

/**
 * Splits one TSV row as Python's `csv.reader(f, delimiter='\t')` does (DPR's reader): a field that starts with
 * `"` is quoted, `""` inside it is one `"`, text after the closing quote up to the tab is kept; a `"` inside an
 * unquoted field is literal. Returns a string describing the problem for an unterminated quote. Rows never span
 * lines here (DPR's passages hold no newlines); a quote left open at the end of the line is malformed.
 */
export function splitTsvRow(row: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  const n = row.length;
  for (;;) {
    if (row.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = row.indexOf('"', j);
        if (q === -1) return `unterminated quoted field starting at column ${i + 1}`;
        value += row.slice(j, q);
        if (row.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      const tab = row.indexOf('\t', j);
      const end = tab === -1 ? n : tab;
      value += row.slice(j, end);
      fields.push(value);
      if (tab === -1) return fields;
      i = tab + 1;
    } else {
      const tab = row.indexOf('\t', i);
      if (tab === -1) {
        fields.push(row.slice(i));
        return fields;
      }
      fields.push(row.slice(i, tab));
      i = tab + 1;
    }
  }
}

/** Which field of a row holds the id, the text and the title (from the header). */
export interface PassageColumns {
  id: number;
  text: number;
  title: number;
}

/** The columns of `psgs_w100.tsv` (`id\ttext\ttitle`). */
export const DPR_PASSAGE_COLUMNS: PassageColumns = { id: 0, text: 1, title: 2 };

/**
 * Reads the header row: the three columns id, text and title, in any order (`id\ttitle\ttext` is read as
 * such, not as DPR's order). Returns why it is not such a header otherwise.
 */
export function parsePassagesHeader(row: string): PassageColumns | string {
  const fields = splitTsvRow(row.replace(/^\uFEFF/, ''));
  const names = typeof fields === 'string' ? [] : fields;
  const at = (name: string): number => names.indexOf(name);
  if (names.length !== 3 || at('id') < 0 || at('text') < 0 || at('title') < 0) {
    return `expected a header naming the columns id, text and title (in any order; psgs_w100.tsv has "id<TAB>text<TAB>title"), found ${JSON.stringify(row.slice(0, 80))}`;
  }
  return { id: at('id'), text: at('text'), title: at('title') };
}

/** Parses one data row into a passage (columns as the header ordered them), or returns why it is malformed. */
export function parsePassageRow(row: string, columns: PassageColumns = DPR_PASSAGE_COLUMNS): Passage | string {
  const fields = splitTsvRow(row);
  if (typeof fields === 'string') return fields;
  if (fields.length !== 3) return `expected 3 tab-separated fields (id, text, title), found ${fields.length}`;
  const id = fields[columns.id]!;
  if (id.length === 0) return 'empty passage id';
  return { id, text: fields[columns.text]!, title: fields[columns.title]! };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one row's bytes; invalid UTF-8 is an error naming the file and line (never a silent U+FFFD). */
function decodeRow(file: string, line: number, bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new DataFormatError(file, `line ${line}`, 'invalid UTF-8 (the file must be UTF-8 encoded)');
  }
}

/** Quotes a field as DPR's file does when needed (tab, quote or newline inside, or a leading quote). */
function quoteField(value: string, always: boolean): string {
  if (/[\n\r]/.test(value)) throw new Error(`passages TSV: a field may not contain a newline: ${JSON.stringify(value.slice(0, 60))}`);
  if (always || value.includes('\t') || value.includes('"')) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

/** One TSV row (no newline) for a passage: text always quoted as in `psgs_w100.tsv`, title quoted when needed. */
export function formatPassageRow(p: Passage): string {
  if (p.id.includes('\t') || p.id.includes('"') || /[\n\r]/.test(p.id) || p.id.length === 0) {
    throw new Error(`passages TSV: invalid passage id ${JSON.stringify(p.id)}`);
  }
  return `${p.id}\t${quoteField(p.text, true)}\t${quoteField(p.title, false)}`;
}

/** Writes passages as a `psgs_w100.tsv`-style file (header, then one row per passage), atomically. */
export async function writePassagesTsv(file: string, passages: Iterable<Passage> | AsyncIterable<Passage>): Promise<void> {
  await streamToFileAtomic(file, async (write) => {
    const batch: string[] = [PASSAGES_TSV_HEADER];
    for await (const p of passages as AsyncIterable<Passage>) {
      batch.push(formatPassageRow(p));
      if (batch.length >= 4096) {
        await write(`${batch.join('\n')}\n`);
        batch.length = 0;
      }
    }
    if (batch.length > 0) await write(`${batch.join('\n')}\n`);
  });
}

/** Physical lines of a file with their byte offsets (LF terminated; a trailing CR is dropped). */
async function* readLines(
  file: string,
  progress: ProgressReporter | undefined,
): AsyncGenerator<{ line: number; offset: number; length: number; text: string }> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  let carry: Buffer | undefined;
  let carryOffset = 0;
  let line = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    progress?.tick(chunk.length);
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && buf[end - 1] === 13) end -= 1;
      line += 1;
      yield { line, offset: carryOffset + start, length: end - start, text: decodeRow(file, line, buf.subarray(start, end)) };
      start = nl + 1;
    }
    carryOffset += start;
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
  }
  if (carry && carry.length > 0) {
    let end = carry.length;
    if (carry[end - 1] === 13) end -= 1;
    yield { line: line + 1, offset: carryOffset, length: end, text: decodeRow(file, line + 1, carry.subarray(0, end)) };
  }
}

/**
 * The passages of a TSV file as an async iterable (constant memory). Malformed rows either throw (default) or
 * are skipped, counted in `malformedCount` and listed (with line numbers) in `malformed`. Blank lines are
 * ignored. The first row is the header naming the columns id, text and title (any order; DPR's is `id\ttext\ttitle`).
 */
export class PassageStream implements AsyncIterable<Passage> {
  /** Malformed rows seen so far (at most `maxMalformedListed`). */
  readonly malformed: MalformedRow[] = [];
  /** Number of malformed rows seen so far. */
  malformedCount = 0;
  /** Number of passages yielded so far. */
  count = 0;
  /** The column order read from the header (known once iteration has started). */
  columns: PassageColumns = DPR_PASSAGE_COLUMNS;

  constructor(
    readonly file: string,
    private readonly options: StreamPassagesOptions = {},
  ) {}

  async *located(): AsyncGenerator<LocatedPassage> {
    const st = await stat(this.file).catch((err: NodeJS.ErrnoException) => {
      throw new DataFormatError(this.file, undefined, `cannot read passages TSV: ${err.code ?? err.message}`);
    });
    if (st.isDirectory()) throw new DataFormatError(this.file, undefined, 'is a directory, expected a passages TSV file');
    const progress = this.options.onProgress
      ? new ProgressReporter('read-passages', this.options.onProgress, st.size, 'bytes')
      : undefined;
    const skip = this.options.onMalformed === 'skip';
    const maxListed = this.options.maxMalformedListed ?? 1000;
    let sawHeader = false;
    for await (const l of readLines(this.file, progress)) {
      if (l.length === 0 || /^\s*$/.test(l.text)) continue;
      if (!sawHeader) {
        sawHeader = true;
        const columns = parsePassagesHeader(l.text);
        if (typeof columns === 'string') throw new DataFormatError(this.file, `line ${l.line}`, columns);
        this.columns = columns;
        continue;
      }
      const parsed = parsePassageRow(l.text, this.columns);
      if (typeof parsed === 'string') {
        if (!skip) throw new DataFormatError(this.file, `line ${l.line}`, `malformed passage row: ${parsed}`);
        this.malformedCount += 1;
        if (this.malformed.length < maxListed) this.malformed.push({ line: l.line, reason: parsed });
        continue;
      }
      this.count += 1;
      yield { passage: parsed, line: l.line, offset: l.offset, length: l.length };
    }
    if (!sawHeader) throw new DataFormatError(this.file, undefined, 'empty file: expected the header "id<TAB>text<TAB>title"');
    if (this.count === 0 && this.malformedCount === 0) throw new DataFormatError(this.file, 'line 2', 'no passage rows after the header (an empty collection)');
    progress?.end();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Passage> {
    for await (const r of this.located()) yield r.passage;
  }
}

/** The column order of a passages TSV, read from its header (the first non-blank line). */
export async function readPassagesColumns(file: string): Promise<PassageColumns> {
  for await (const l of readLines(file, undefined)) {
    if (l.length === 0 || /^\s*$/.test(l.text)) continue;
    const columns = parsePassagesHeader(l.text);
    if (typeof columns === 'string') throw new DataFormatError(file, `line ${l.line}`, columns);
    return columns;
  }
  throw new DataFormatError(file, undefined, 'empty file: expected the header "id<TAB>text<TAB>title"');
}

/** Streams the passages of a `psgs_w100.tsv`-style file. See {@link PassageStream}. */
export function streamPassages(file: string, options: StreamPassagesOptions = {}): PassageStream {
  return new PassageStream(file, options);
}

/** Reads a whole passages TSV into memory (small collections, e.g. the synthetic world). */
export async function loadPassages(file: string, options: StreamPassagesOptions = {}): Promise<Passage[]> {
  const out: Passage[] = [];
  for await (const p of streamPassages(file, options)) out.push(p);
  return out;
}
