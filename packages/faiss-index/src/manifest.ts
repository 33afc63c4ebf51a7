import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassageIndexError } from './errors.js';

/** File names inside an index directory. */
export const MANIFEST_FILE = 'manifest.json';
export const FAISS_FILE = 'index.faiss';
export const IDS_FILE = 'ids.jsonl';
export const MANIFEST_FORMAT = 'fidkd-passage-index';
export const MANIFEST_VERSION = 1;

/** Search effort stored with an index (the values faiss itself holds in the index). */
export interface SearchParameters {
  /** HNSW: candidate list size at search time (faiss default 16; this package's default 128). */
  efSearch?: number;
  /** HNSW: candidate list size while adding vectors (faiss default 40); fixed once vectors are added. */
  efConstruction?: number;
  /** IVF: number of inverted lists visited per query (faiss default 1; this package's default min(16, nlist)). */
  nprobe?: number;
}

/** manifest.json of a saved PassageIndex. */
export interface IndexManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  /** Dimension of the passage / query vectors (indexing_dimension). */
  dimension: number;
  factory: string;
  metric: 'ip' | 'l2';
  /** Number of vectors (and ids). */
  count: number;
  searchParameters: SearchParameters;
  /** Inner product through an L2 index with one extra coordinate (DPR); `ipMaxSquaredNorm` is its φ. */
  ipViaL2: boolean;
  ipMaxSquaredNorm: number | null;
  /** Whether φ was given by the user (fixed) or taken from the first vectors added. */
  ipMaxNormFixed: boolean;
  /** sha256 of the trained, empty index (search effort zeroed): shards merge only when these agree. */
  trainedFingerprint: string | null;
  files: { faiss: string; ids: string };
}

/** Reads and checks `dir/manifest.json`, naming the directory and what is missing or wrong. */
export function readManifest(dir: string): IndexManifest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new PassageIndexError(`${dir}: not a PassageIndex directory: the directory does not exist`);
  }
  const expected = `${MANIFEST_FILE}, ${FAISS_FILE} and ${IDS_FILE}`;
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    throw new PassageIndexError(`${dir}: not a PassageIndex directory: ${MANIFEST_FILE} is missing (an index directory holds ${expected})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PassageIndexError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  const m = raw as Partial<IndexManifest>;
  if (typeof m !== 'object' || m === null || m.format !== MANIFEST_FORMAT) {
    throw new PassageIndexError(`${path}: not a PassageIndex manifest (expected "format": "${MANIFEST_FORMAT}")`);
  }
  if (m.formatVersion !== MANIFEST_VERSION) {
    throw new PassageIndexError(`${path}: formatVersion ${String(m.formatVersion)} is not supported (this version reads ${MANIFEST_VERSION})`);
  }
  const need = (ok: boolean, field: string, what: string): void => {
    if (!ok) throw new PassageIndexError(`${path}: field "${field}" must be ${what}`);
  };
  need(Number.isInteger(m.dimension) && m.dimension! > 0, 'dimension', 'a positive integer');
  need(typeof m.factory === 'string' && m.factory.length > 0, 'factory', 'a faiss factory string');
  need(m.metric === 'ip' || m.metric === 'l2', 'metric', '"ip" or "l2"');
  need(Number.isInteger(m.count) && m.count! >= 0, 'count', 'a non-negative integer');
  need(typeof m.searchParameters === 'object' && m.searchParameters !== null, 'searchParameters', 'an object');
  need(typeof m.ipViaL2 === 'boolean', 'ipViaL2', 'a boolean');
  need(m.ipMaxSquaredNorm === null || typeof m.ipMaxSquaredNorm === 'number', 'ipMaxSquaredNorm', 'a number or null');
  need(typeof m.files === 'object' && m.files !== null && typeof m.files.faiss === 'string' && typeof m.files.ids === 'string', 'files', '{ faiss, ids } file names');
  for (const f of [m.files!.faiss, m.files!.ids]) {
    // plain names only: a manifest may not point outside its directory (`../../etc/passwd`)
    if (f === '' || f === '.' || f === '..' || f.includes('/') || f.includes('\\') || f.includes('\0')) {
      throw new PassageIndexError(`${path}: field "files" names ${JSON.stringify(f)}; an index's files must be plain names inside ${dir}`);
    }
    if (!existsSync(join(dir, f))) {
      throw new PassageIndexError(`${dir}: not a complete PassageIndex directory: ${f} is missing (an index directory holds ${expected})`);
    }
  }
  return m as IndexManifest;
}
